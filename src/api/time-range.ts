// A time range in a query string, as every read of stored device data takes it: `from`/`to`, ISO-8601 or epoch ms,
// the last 24 h by default.
import { HttpError } from './errors.js'

const DEFAULT_SPAN_MS = 24 * 3600_000

/** The range a query asks for; a reversed one is a 400, not an empty answer. */
export function timeRange(q: { from?: Date; to?: Date }): { from: Date; to: Date } {
  const to = q.to ?? new Date()
  const from = q.from ?? new Date(to.getTime() - DEFAULT_SPAN_MS)
  if (from > to) throw new HttpError(400, 'bad_request', 'querystring.from: must not be after to')
  return { from, to }
}
