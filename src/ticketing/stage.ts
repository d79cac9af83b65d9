// The rules stage: every detection is decided (warranty, quote, priority, SLA) and handed to the ticket
// repository. Devices are spread over a few lanes, each applying its detections one at a time: a device's raise
// and clear stay in order, and a server database works on several devices at once.
import { concatMap, defer, groupBy, mergeMap, type OperatorFunction } from 'rxjs'
import type { Logger } from 'pino'
import type { Catalog } from '../catalog/index.js'
import type { Clock } from '../clock.js'
import { recordDetection, type Detection } from '../detect/index.js'
import { retryWithBackoff, type Database } from '../store/index.js'
import { detectionEvent, inStreamTransaction, queueStreamEvent } from '../stream/index.js'
import type { DetectionOutcome, TicketRepository } from '../tickets/index.js'
import { draftRepairTicket, faultOf, type TicketDevice, type TicketPolicy } from '../rules/index.js'

/** A device's lane: the same device always lands in the same one. */
function laneOf(deviceId: string, lanes: number): number {
  let hash = 0
  for (let i = 0; i < deviceId.length; i++) hash = (hash * 31 + deviceId.charCodeAt(i)) | 0
  return Math.abs(hash) % lanes
}

export interface RulesStageDeps {
  catalog: Catalog
  device: (id: string) => Promise<TicketDevice | undefined>
  /** where a detection is stored and acted on, in one transaction */
  db: Pick<Database, 'transaction'>
  tickets: Pick<TicketRepository, 'applyDetection'>
  clock: Clock
  policy: TicketPolicy
  log: Logger
  /** detections applied at once, on different devices (the database's write concurrency) */
  lanes: number
}

export function repairTickets(deps: RulesStageDeps): OperatorFunction<Detection, DetectionOutcome> {
  const apply = async (d: Detection): Promise<DetectionOutcome> => {
    const device = await deps.device(d.deviceId)
    // Detections come from authenticated devices; one deleted meanwhile has nobody to repair for.
    if (!device) return { action: 'unknown_device' }
    const model = deps.catalog.get(device.model)
    // The detection's and the ticket's stream events are appended together, at the end (src/stream/outbox.ts).
    return inStreamTransaction(deps.db, async (tx) => {
      if (!(await recordDetection(tx, d))) return { action: 'duplicate' }
      queueStreamEvent(tx, detectionEvent(d, device, model))
      return deps.tickets.applyDetection(tx, d, (repeatOf) => draftRepairTicket(faultOf(d), device, model, deps.clock.now(), deps.policy, repeatOf))
    })
  }
  return (detections) =>
    detections.pipe(
      groupBy((d) => laneOf(d.deviceId, deps.lanes)),
      mergeMap((lane) =>
        lane.pipe(
          concatMap((d) =>
            defer(() => apply(d)).pipe(
              retryWithBackoff((err, attempt) => {
                if (attempt === 1) deps.log.warn({ err: err.message, deviceId: d.deviceId, condition: d.condition }, 'rules stage: retrying a detection')
              }),
            ),
          ),
        ),
      ),
    )
}
