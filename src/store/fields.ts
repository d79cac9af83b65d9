// Fields as the database can store them, in zod. Every request schema builds on these (the API's routes, the
// device registry's newDevice), so a field declared with them is refused with a 400 naming it, never stored
// altered nor failing in the database as a 500 (issue 8, item 12).
import { z } from 'zod'

/** NUL, or a UTF-16 surrogate without its pair: PostgreSQL text and jsonb strings are UTF-8 without NUL. */
const unstorable = /[\0\p{Cs}]/u

/** A string PostgreSQL can store as text or in jsonb; chain .trim(), .min() and .max() on it. */
export const storableText = z.string().refine((s) => !unstorable.test(s), 'must not contain NUL or a lone surrogate (not storable as UTF-8 text)')

/**
 * YYYY-MM-DD, a day that exists, 1900-01-01 to 9999-12-31. Four-digit years with no year 0000 (not an ISO
 * calendar year for this API); PostgreSQL's dates go further, but the warranty and due-date arithmetic runs on
 * JS Date, where Date.UTC reads years 0–99 as 1900–1999 and years past 9999 do not format as YYYY.
 */
export const isoDate = z.iso.date().refine((d) => d >= '1900-01-01', 'must be 1900-01-01 or later')

const LAST_INSTANT_MS = Date.parse('9999-12-31T23:59:59.999Z')
const INSTANT_RANGE = 'between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z'
/** From the epoch (epoch ms are never negative) to the end of year 9999: both backends encode these as timestamptz. */
const inInstantRange = (ms: number) => ms >= 0 && ms <= LAST_INSTANT_MS

/** An ISO-8601 date-time with its offset (Z or ±hh:mm), in the instant range. */
export const isoInstant = z.iso
  .datetime({ offset: true })
  // NaN is a format already refused: one issue for it, not two.
  .refine((s) => Number.isNaN(Date.parse(s)) || inInstantRange(Date.parse(s)), `must be ${INSTANT_RANGE}`)

/** A query parameter naming an instant: ISO-8601 as above, or epoch ms. */
export const instantParam = z.string().transform((s, ctx) => {
  const ms = /^\d{1,15}$/.test(s) ? Number(s) : isoInstant.safeParse(s).success ? Date.parse(s) : Number.NaN
  if (inInstantRange(ms)) return new Date(ms)
  ctx.addIssue({ code: 'custom', message: `an ISO-8601 date-time with offset, or epoch ms, ${INSTANT_RANGE}` })
  return z.NEVER
})

const INT64_MAX = 2n ** 63n - 1n
/** A bigserial id as text, 1 to 2^63-1: PostgreSQL's int8 reaches past JS's safe integers. */
export const int64Id = z.string().refine((s) => /^\d+$/.test(s) && BigInt(s) >= 1n && BigInt(s) <= INT64_MAX, `an integer from 1 to ${INT64_MAX}`)
