// Durations as people write them in configuration ("30m", "4h", "1h30m", "7d") or as plain milliseconds.
import { z } from 'zod'

const unitMs = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const
const part = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g
const whole = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/

/** Parses "90s", "30m", "1h30m", "7d"; undefined if the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  if (!whole.test(text)) return undefined
  let ms = 0
  for (const [, amount, unit] of text.matchAll(part)) ms += Number(amount) * unitMs[unit as keyof typeof unitMs]
  return Math.round(ms)
}

/** A positive duration in milliseconds, written as text ("30m") or as a number of milliseconds. */
export const duration = z.union([z.number().int().positive(), z.string()]).transform((value, ctx) => {
  const ms = typeof value === 'number' ? value : parseDuration(value.trim())
  if (ms === undefined || ms <= 0) {
    ctx.addIssue({ code: 'custom', message: `expected a positive duration such as "90s", "30m", "4h" or "7d"; got ${JSON.stringify(value)}` })
    return z.NEVER
  }
  return ms
})

/** The shortest exact text for a duration: 1_800_000 → "30m", 5_400_000 → "1h30m". */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s'
  let rest = ms
  let text = ''
  for (const unit of ['d', 'h', 'm', 's', 'ms'] as const) {
    const amount = Math.floor(rest / unitMs[unit])
    if (amount > 0) text += `${amount}${unit}`
    rest -= amount * unitMs[unit]
  }
  return text
}
