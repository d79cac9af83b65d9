// A usage counter as a device reports it (running hours, compressor starts, wash cycles, ...), turned into a
// running total Faultline can trust. Pure: the caller passes the stored counter and the new reading, and stores
// what comes back.
//
// The rules, and why:
// - A negative or non-finite reading (or time) is ignored: no counter reports that.
// - The first reading is taken as it is: counters count from 0 at installation, so its value is the usage so far.
// - A reading at or before the last accepted one, in device time, is ignored: a late or duplicate message says
//   nothing new, and accepting it could move the counter backwards.
// - An increase is trusted only if the counter could have counted it in the time elapsed: at most `maxPerHour`
//   units per hour (an hours counter cannot run faster than the clock), plus `slack` units for counters that
//   report in whole steps (100 at 10:59, 101 at 11:00). A larger jump is ignored and held as `pending`.
//   If the next reading carries on plausibly from the held one, the counter really moved (e.g. a replacement
//   controller that came with hours on it): counting continues from there, without the jump itself.
// - A small step back (within 10 % of the last value, or `slack` units) is a glitch, not a reset: e.g. a
//   controller that lost its last unsaved hours on a power cut. The total stays, and counting resumes once the
//   counter passes its earlier value. Treating it as a reset would add the whole reading again.
// - A larger step back is a reset (a replaced or cleared controller starting again from about 0): the total keeps
//   what was counted and adds the new reading, which the new controller counted since it started — but only if
//   that is plausible for the time since the last reading; otherwise the new controller's count is not this
//   device's usage, and counting continues from it without adding it.
// So the total never goes down and never grows faster than the plan's counter could.

export interface UsageCounter {
  /** running total across counter resets, in the counter's units */
  total: number
  /** the raw reading last accepted, and its device time (epoch ms) */
  lastRaw: number
  lastAt: number
  /** the first accepted reading's total and time, for the usage rate */
  sinceTotal: number
  sinceAt: number
  /** resets and confirmed jumps seen, i.e. breaks in the raw counter */
  resets: number
  /** a jump too large to trust, held until the next reading confirms or dismisses it; store it with the rest */
  pending?: Reading
}

export type Reading = { raw: number; at: number }

export type AccumulateOutcome = 'first' | 'advanced' | 'unchanged' | 'reset' | 'ignored_late' | 'ignored_implausible'

export interface UsageLimits {
  /** the fastest the counter can count, in units per hour of device time */
  maxPerHour?: number
  /** units allowed on top, for counters that step in whole units; 1 unless given */
  slack?: number
}

const HOUR_MS = 3_600_000
/** Without a known limit: one unit a second, which rejects garbage (a wrapped 32-bit value) but little else. */
const DEFAULT_MAX_PER_HOUR = 3600
const DEFAULT_SLACK = 1
/** A step back within this fraction of the last value is a glitch, not a reset. */
const GLITCH_FRACTION = 0.1

/**
 * Limits for a counter, by its metric name: an hours counter (run_hours, runtime_h, operating_hours, ...)
 * counts at most 1 per hour; anything else gets the generic ceiling, {@link DEFAULT_MAX_PER_HOUR}.
 */
export function usageLimitsFor(counter: string): Required<UsageLimits> {
  const hours = /hour|(^|[_.])(hrs?|h)$/i.test(counter)
  return { maxPerHour: hours ? 1 : DEFAULT_MAX_PER_HOUR, slack: DEFAULT_SLACK }
}

export function accumulate(counter: UsageCounter, reading: Reading, limits?: UsageLimits): { counter: UsageCounter; outcome: AccumulateOutcome }
export function accumulate(
  counter: UsageCounter | undefined,
  reading: Reading,
  limits?: UsageLimits,
): { counter: UsageCounter | undefined; outcome: AccumulateOutcome }
export function accumulate(
  counter: UsageCounter | undefined,
  reading: Reading,
  limits: UsageLimits = {},
): { counter: UsageCounter | undefined; outcome: AccumulateOutcome } {
  const { raw, at } = reading
  if (!Number.isFinite(raw) || raw < 0 || !Number.isFinite(at)) return { counter, outcome: 'ignored_implausible' }
  if (counter === undefined) {
    return { counter: { total: raw, lastRaw: raw, lastAt: at, sinceTotal: raw, sinceAt: at, resets: 0 }, outcome: 'first' }
  }
  if (at <= counter.lastAt) return { counter, outcome: 'ignored_late' }

  const maxPerHour = limits.maxPerHour ?? DEFAULT_MAX_PER_HOUR
  const slack = limits.slack ?? DEFAULT_SLACK
  /** the most the counter can have counted in `ms` */
  const allowance = (ms: number) => (maxPerHour * ms) / HOUR_MS + slack
  const { pending: _dropped, ...base } = counter
  const accept = (added: number, resets = counter.resets): UsageCounter => ({ ...base, total: counter.total + added, lastRaw: raw, lastAt: at, resets })

  if (raw >= counter.lastRaw) {
    const increase = raw - counter.lastRaw
    if (increase <= allowance(at - counter.lastAt)) return { counter: accept(increase), outcome: increase > 0 ? 'advanced' : 'unchanged' }
    const held = counter.pending
    if (held !== undefined && at > held.at && raw >= held.raw && raw - held.raw <= allowance(at - held.at)) {
      // The jump held last time is confirmed: count on from it, but not the jump itself.
      return { counter: accept(raw - held.raw, counter.resets + 1), outcome: 'reset' }
    }
    return { counter: { ...counter, pending: { raw, at } }, outcome: 'ignored_implausible' }
  }

  if (counter.lastRaw - raw <= Math.max(slack, counter.lastRaw * GLITCH_FRACTION)) {
    // A glitch: keep the higher value as the baseline, so nothing is counted twice.
    return { counter: { ...counter, lastAt: at }, outcome: 'unchanged' }
  }
  const counted = raw <= allowance(at - counter.lastAt) ? raw : 0
  return { counter: accept(counted, counter.resets + 1), outcome: 'reset' }
}

/**
 * Average usage in units per ms since the first accepted reading, or undefined until there is at least an hour
 * of readings and some usage in it.
 */
export function usageRate(counter: UsageCounter): number | undefined {
  const span = counter.lastAt - counter.sinceAt
  const used = counter.total - counter.sinceTotal
  if (span < HOUR_MS || !(used > 0)) return undefined
  return used / span
}
