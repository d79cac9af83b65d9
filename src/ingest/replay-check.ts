// A record read back from the write-ahead log passes the same bounds decode applies before it goes near the
// database: a log written by an earlier version (or by hand) must not make a start that never finishes.
import { jsonBoundsProblem } from './json-bounds.js'
import { MAX_DATE_MS, type IngestRecord } from './records.js'

const kinds = new Set<unknown>(['telemetry', 'event', 'status', 'dead_letter'])

/** Why a replayed record cannot be written, as `[cause, detail]`; undefined when it can. */
export function replayProblem(record: IngestRecord): [cause: string, detail: string] | undefined {
  if (typeof record !== 'object' || record === null || !kinds.has(record.kind)) return ['schema', 'not a record']
  if (!(Math.abs(record.time) <= MAX_DATE_MS)) return ['timestamp', `${record.time} is not a time a Date holds`]
  // Status details are checked as the payload they came from, so a payload decode accepted is accepted here.
  const problem = jsonBoundsProblem(record.kind === 'status' ? record.details : record)
  return problem === undefined ? undefined : ['schema', problem]
}
