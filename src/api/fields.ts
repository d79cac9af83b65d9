// Request fields the routes share, besides the storable ones every schema builds on (src/store/fields.ts).
import { z } from 'zod'

/** `limit=`: how many rows one answer holds. */
export const pageLimit = (max: number, byDefault: number) => z.coerce.number().int().min(1).max(max).default(byDefault)
