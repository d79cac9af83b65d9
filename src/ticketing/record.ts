// The rules stage's first step: detections stored (fault_events, src/detect) with their stream events
// (stream_events, src/stream) in one statement, so the live stream hears of a fault before its ticket is worked
// out (issue 10, publish → stream).
import { storeDetections, unactedAmong, type Detection } from '../detect/index.js'
import type { Queryable } from '../store/index.js'
import { withStreamEvents, type NewStreamEvent } from '../stream/index.js'

/** How a detection stands once recorded: new (its stream event appended now), or stored before and not yet acted on. */
export type Recorded = 'new' | 'unacted'

/**
 * Stores detections, each with its stream event, in one statement. Says of each whether it is new, stored before
 * and still to be acted on (a retry of a statement whose answer was lost, a redelivery not yet acted on: the act
 * step's claim makes either act once), or neither (undefined: already acted on). Only the new get an event.
 */
export async function recordDetections(
  db: Pick<Queryable, 'query'>,
  batch: readonly { detection: Detection; event: NewStreamEvent }[],
): Promise<(Recorded | undefined)[]> {
  const detections = batch.map((b) => b.detection)
  const events = batch.map((b) => b.event)
  const recorded: (Recorded | undefined)[] = batch.map(() => undefined)
  for (const n of await withStreamEvents(db, storeDetections(detections), events)) recorded[n - 1] = 'new'
  const others = detections.flatMap((_, i) => (recorded[i] === undefined ? [i] : []))
  if (others.length === 0) return recorded
  const unacted = await unactedAmong(
    db,
    others.map((i) => detections[i]!),
  )
  for (const j of unacted) recorded[others[j]!] = 'unacted'
  return recorded
}
