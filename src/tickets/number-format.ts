// Ticket numbers: the one place their format lives (issue 12). A template of literal text and fields:
//   {yyyy} {MM} {dd} or {yyyyMMdd}: the day the ticket opened, in FAULTLINE_TIME_ZONE
//   {seq:N}: that day's sequence number, at least N digits, wider once it outgrows them (last in the template)
// The default follows document 002 (二.1: 工单编号如 "SR20240501001"): SR20261202001 … SR20261202999, SR202612021000.
// Numbers already issued keep the format they were issued in; lookups find them as they were written.
import { z } from 'zod'

export const defaultTicketNumber = 'SR{yyyyMMdd}{seq:3}'

/**
 * Any number Faultline issues, in any template: a letter first (so a number is never taken for a numeric id),
 * then letters, digits, "_" and "-". SR20240501001 and the earlier SR20261123-0001 are both of this shape.
 */
export const ticketNumberPattern = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/

type Part = { literal: string } | { date: 'yyyy' | 'MM' | 'dd' | 'yyyyMMdd' } | { seq: number }

const field = /\{(yyyyMMdd|yyyy|MM|dd|seq:([1-9]))\}/g

/** The template's parts, or what is wrong with it. */
function parse(template: string): Part[] | string {
  const parts: Part[] = []
  let at = 0
  for (const m of template.matchAll(field)) {
    if (m.index > at) parts.push({ literal: template.slice(at, m.index) })
    parts.push(m[2] ? { seq: Number(m[2]) } : { date: m[1] as 'yyyy' | 'MM' | 'dd' | 'yyyyMMdd' })
    at = m.index + m[0].length
  }
  if (at < template.length) parts.push({ literal: template.slice(at) })
  const literals = parts.flatMap((p) => ('literal' in p ? [p.literal] : []))
  const dates = new Set(parts.flatMap((p) => ('date' in p ? [p.date] : [])))
  if (!('literal' in parts[0]! && /^[A-Za-z]/.test(parts[0].literal))) return 'must start with a letter (a number is never a numeric id)'
  if (literals.some((l) => !/^[A-Za-z0-9_-]+$/.test(l)))
    return 'literal text may hold only letters, digits, "_" and "-" (fields are {yyyy} {MM} {dd} {yyyyMMdd} {seq:N})'
  // The sequence restarts every day: the day is in the number, and the sequence, which widens, is last, so two
  // days or two sequence numbers never write the same number.
  if (!dates.has('yyyyMMdd') && !(dates.has('yyyy') && dates.has('MM') && dates.has('dd'))) return 'must hold the day: {yyyyMMdd}, or {yyyy}, {MM} and {dd}'
  if (parts.filter((p) => 'seq' in p).length !== 1 || !('seq' in parts.at(-1)!)) return 'must end with the sequence, {seq:N} (N digits at least), once'
  if (template.replace(field, '').length + 8 + 9 > 64) return 'too long: a number is at most 64 characters'
  return parts
}

/** FAULTLINE_TICKET_NUMBER: a template as above. */
export const ticketNumberTemplate = z.string().superRefine((template, ctx) => {
  const parsed = parse(template)
  if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: `${parsed}, e.g. ${defaultTicketNumber}` })
})

/** Writes the number of a day's `seq`th ticket; `day` is YYYY-MM-DD. */
export function ticketNumberFormat(template: string): (day: string, seq: number) => string {
  const parts = parse(template)
  if (typeof parts === 'string') throw new RangeError(`ticket number template ${template}: ${parts}`)
  return (day, seq) => {
    const [yyyy, MM, dd] = day.split('-') as [string, string, string]
    const dates = { yyyy, MM, dd, yyyyMMdd: `${yyyy}${MM}${dd}` }
    return parts.map((p) => ('literal' in p ? p.literal : 'date' in p ? dates[p.date] : String(seq).padStart(p.seq, '0'))).join('')
  }
}
