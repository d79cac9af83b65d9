// One terminal line per stream event, coloured by how urgent it is:
//   12:03:04 #42 ticket.opened P2 SR20261202-0007 fridge-001 BCD-516WDVL east  Condenser fan motor fault E1 (in_warranty, free)
// A type this version does not know still gets a line, from the envelope's fields (the contract: new kinds of ticket
// history are new types, never a new envelope).
import type pc from 'picocolors'
import { faultCondition } from '../conditions.js'
import type { StreamEvent } from '../stream/index.js'

/** picocolors' formatters, on or off (createColors) */
export type Colors = ReturnType<typeof pc.createColors>

type Ticket = NonNullable<StreamEvent['ticket']>
type Detection = NonNullable<StreamEvent['detection']>

/** Worst first: the colour of priority P1..P4, or of a detection's severity critical..info. */
const urgency = (c: Colors) => [(s: string) => c.bold(c.red(s)), c.red, c.yellow, c.dim]
const levelOf = (e: StreamEvent): number | undefined => {
  if (e.priority) return Number(e.priority.slice(1)) - 1
  const severity = e.severity && ['critical', 'major', 'minor', 'info'].indexOf(e.severity)
  return typeof severity === 'number' && severity >= 0 ? severity : undefined
}

/** Text from the wire, made safe for a terminal: no escape sequences or line breaks from a note or a name. */
// eslint-disable-next-line no-control-regex -- control characters are what it removes
const printable = (s: string) => s.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ')

const faultPrefix = faultCondition('')
/** E1 for a fault code's ticket; nothing for the other conditions, whose title says it all. */
const codeOf = (condition: string) => (condition.startsWith(faultPrefix) ? ` ${condition.slice(faultPrefix.length)}` : '')

function ticketDetail(type: string, t: Ticket): string {
  const what = `${t.title}${codeOf(t.condition)}`
  const note = t.note ? `: ${t.note}` : ''
  switch (type) {
    case 'ticket.opened':
    case 'maintenance.opened':
      return `${what} (${t.warranty}, ${t.billing}${t.quoteTotal === null ? '' : `, quote ${t.quoteTotal.toFixed(2)}`})${note}`
    case 'ticket.occurrence':
      return `${what} ×${t.occurrences}${note}`
    case 'ticket.transitioned':
      return `${what} → ${t.status}${t.technician && t.status === 'assigned' ? ` (${t.technician})` : ''} by ${t.by}${note}`
    default:
      return `${what} ${t.action} by ${t.by}${note}`
  }
}

function detectionDetail(type: string, d: Detection): string {
  const what = `${d.title}${d.code ? ` ${d.code}` : ''}`
  const reading = d.value === null ? '' : ` ${d.value}${d.limit === null ? '' : ` (limit ${d.limit})`}`
  return type === 'detection.cleared' ? `${what} cleared` : `${what}${reading}`
}

/** The clock time of `at` in the local time zone, with the date too when it is not today's. */
function when(at: string, now: Date): string {
  const date = new Date(at)
  const day = (d: Date) => d.toLocaleDateString('sv-SE') // YYYY-MM-DD
  const time = date.toLocaleTimeString('en-GB', { hour12: false })
  return day(date) === day(now) ? time : `${day(date)} ${time}`
}

export function formatEvent(e: StreamEvent, c: Colors, now = new Date()): string {
  const level = levelOf(e)
  const paint = e.type === 'detection.cleared' ? c.green : level === undefined ? (s: string) => s : urgency(c)[level]!
  const detail = e.ticket ? ticketDetail(e.type, e.ticket) : e.detection ? detectionDetail(e.type, e.detection) : ''
  const head = [
    c.dim(when(e.at, now)),
    c.dim(`#${e.id}`),
    printable(e.type),
    paint(e.priority ?? e.severity ?? '-'),
    ...(e.ticket ? [printable(e.ticket.number)] : []),
    printable(e.deviceId),
    printable(e.model),
    printable(e.region ?? '-'),
  ]
  return detail ? `${head.join(' ')}  ${paint(printable(detail))}` : head.join(' ')
}
