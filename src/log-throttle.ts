// A source refused over and over (a fuzzer, a device looping with a bad token or sending garbage) gets one log
// line per interval, carrying the count of lines it did not get: refused logins (src/broker) and dead letters
// (src/ingest/receive.ts) alike; every refusal is still counted in metrics (issue 8, item 5).

/** Beyond this many sources the oldest is forgotten: a fuzzer with many addresses cannot grow the map. */
const SOURCES_LIMIT = 10_000

export class LogThrottle {
  private readonly bySource = new Map<string, { at: number; suppressed: number }>()

  constructor(private readonly intervalMs: number) {}

  /** Undefined when this source's line is to be left out; otherwise how many were left out since its last one. */
  admit(source: string, now: number): number | undefined {
    const last = this.bySource.get(source)
    if (last && now - last.at < this.intervalMs) {
      last.suppressed++
      return undefined
    }
    this.bySource.delete(source)
    this.bySource.set(source, { at: now, suppressed: 0 })
    if (this.bySource.size > SOURCES_LIMIT) this.bySource.delete(this.bySource.keys().next().value!)
    return last?.suppressed ?? 0
  }
}

/** A value from a client, as much of it as a log line needs. */
export function truncated(value: string | undefined, max = 64): string | undefined {
  return value !== undefined && value.length > max ? `${value.slice(0, max)}… (${value.length} characters)` : value
}
