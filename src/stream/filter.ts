// The query of GET /ws/faults: where a client starts, and which events it wants. The filter is one table of
// clauses, each with its SQL and its test of a live event, so the backfill and the live tail cannot disagree.
import { z } from 'zod'
import { severity, type Severity } from '../catalog/index.js'
import { priorities } from '../rules/index.js'
import { instantParam, storableText } from '../store/index.js'
import { streamEventTypes, type StreamEvent } from './envelope.js'

const name = storableText.trim().min(1).max(200)
/** `types=detection.raised,ticket.opened` */
const typeList = z
  .string()
  .transform((s) => s.split(',').map((v) => v.trim()))
  .pipe(z.array(z.enum(streamEventTypes)).min(1))
/** `minSeverity=major`: that severity and the worse ones; `minPriority=P2`: P1 and P2. */
const atLeast = <const T extends readonly [string, ...string[]]>(worstFirst: T) =>
  z.enum(worstFirst).transform((least) => worstFirst.slice(0, worstFirst.indexOf(least) + 1))

/** Unknown parameters are refused (strict): a misspelt filter would otherwise send everything. */
export const streamQuery = z
  .strictObject({
    /** the API token, for clients that cannot set a header; checked before the query (src/api/stream.ts) */
    token: z.string().optional(),
    after: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional().describe('resume: every event with a greater id, then live'),
    since: instantParam.optional().describe('backfill the events that happened at or after this instant, then live'),
    last: z.coerce.number().int().min(1).max(10_000).optional().describe('backfill the last n events, then live'),
    // the catalog lists severities worst first
    minSeverity: atLeast(severity.options as [Severity, ...Severity[]]).optional(),
    minPriority: atLeast(priorities).optional(),
    device: name.optional(),
    model: name.optional(),
    region: name.optional(),
    site: name.optional(),
    types: typeList.optional(),
  })
  .refine((q) => [q.after, q.since, q.last].filter((v) => v !== undefined).length <= 1, 'after, since and last are alternatives: give at most one')
export type StreamQuery = z.output<typeof streamQuery>
export type StreamFilter = Omit<StreamQuery, 'token' | 'after' | 'last'>

interface Clause {
  /** the condition, `$` standing for its parameter */
  sql: string
  param: unknown
  matches: (e: StreamEvent) => boolean
}

const oneOf = (allowed: readonly string[]) => (value: string | null) => value !== null && allowed.includes(value)

function clauses(f: StreamFilter): Clause[] {
  const all: (Clause | false)[] = [
    f.device !== undefined && { sql: 'device_id = $', param: f.device, matches: (e) => e.deviceId === f.device },
    f.model !== undefined && { sql: 'model = $', param: f.model, matches: (e) => e.model === f.model },
    f.region !== undefined && { sql: 'region = $', param: f.region, matches: (e) => e.region === f.region },
    f.site !== undefined && { sql: 'site = $', param: f.site, matches: (e) => e.site === f.site },
    f.types !== undefined && { sql: 'type = ANY($::text[])', param: f.types, matches: (e) => oneOf(f.types!)(e.type) },
    f.minSeverity !== undefined && { sql: 'severity = ANY($::text[])', param: f.minSeverity, matches: (e) => oneOf(f.minSeverity!)(e.severity) },
    f.minPriority !== undefined && { sql: 'priority = ANY($::text[])', param: f.minPriority, matches: (e) => oneOf(f.minPriority!)(e.priority) },
    f.since !== undefined && { sql: 'at >= $', param: f.since, matches: (e) => Date.parse(e.at) >= f.since!.getTime() },
  ]
  return all.filter((c) => c !== false)
}

export interface CompiledFilter {
  /** the filter as a WHERE condition whose parameters start at $`first` ('true' for none) */
  where(first: number): { sql: string; params: unknown[] }
  matches(e: StreamEvent): boolean
}

export function compileFilter(f: StreamFilter): CompiledFilter {
  const list = clauses(f)
  return {
    where: (first) => ({
      sql: list.length === 0 ? 'true' : list.map((c, i) => c.sql.replace('$', `$${first + i}`)).join(' AND '),
      params: list.map((c) => c.param),
    }),
    matches: (e) => list.every((c) => c.matches(e)),
  }
}
