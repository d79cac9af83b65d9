// The rules stage: every detection is decided (warranty, quote, priority, SLA) and handed to the ticket
// repository. Devices are spread over a few lanes, each applying its detections in order: a device's raise
// and clear stay in order, and a server database works on several devices at once. What arrives while a lane
// is busy goes into its next transaction together (issue 13, storms): one commit, one take of the stream's
// lock and of the day's ticket counter for the lot, instead of one each per detection.
import { catchError, concatMap, defer, from, groupBy, mergeMap, type Observable, type OperatorFunction } from 'rxjs'
import type { Logger } from 'pino'
import type { Catalog } from '../catalog/index.js'
import type { Clock } from '../clock.js'
import { recordDetection, type Detection } from '../detect/index.js'
import { DatabaseUnavailable, retryWithBackoff, type Database, type Queryable } from '../store/index.js'
import { detectionEvent, inStreamTransaction, queueStreamEvent } from '../stream/index.js'
import type { DetectionOutcome, TicketRepository } from '../tickets/index.js'
import { draftRepairTicket, faultOf, type TicketDevice, type TicketPolicy } from '../rules/index.js'
import { batchWhileBusy } from './batch-while-busy.js'

/**
 * Detections in one transaction at most: a storm's batch holds the day's ticket counter until it commits, and a
 * ticket opened by hand meanwhile waits that long.
 */
export const BATCH_MAX = 100

/** A device's lane: the same device always lands in the same one. */
function laneOf(deviceId: string, lanes: number): number {
  let hash = 0
  for (let i = 0; i < deviceId.length; i++) hash = (hash * 31 + deviceId.charCodeAt(i)) | 0
  return Math.abs(hash) % lanes
}

/** The positions of each device's detections in the batch, in order. */
function indicesByDevice(batch: readonly Detection[]): Iterable<number[]> {
  const byDevice = new Map<string, number[]>()
  for (const [i, d] of batch.entries()) {
    const indices = byDevice.get(d.deviceId)
    if (indices) indices.push(i)
    else byDevice.set(d.deviceId, [i])
  }
  return byDevice.values()
}

export interface RulesStageDeps {
  catalog: Catalog
  /** the batch's devices, read at once (one unknown is left out) */
  devices: (ids: string[]) => Promise<TicketDevice[]>
  /** where detections are stored and acted on, a batch in one transaction (connections apart from bulk writes) */
  db: Pick<Database, 'transaction'>
  tickets: Pick<TicketRepository, 'applyDetection'>
  clock: Clock
  policy: TicketPolicy
  log: Logger
  /** told of each committed transaction: how many detections it applied */
  onCommitted?: (detections: number) => void
  /** batches applied at once, on different devices (the database's write concurrency) */
  lanes: number
}

export function repairTickets(deps: RulesStageDeps): OperatorFunction<Detection, DetectionOutcome> {
  const applyOne = async (tx: Queryable, d: Detection, device: TicketDevice): Promise<DetectionOutcome> => {
    const model = deps.catalog.get(device.model)
    if (!(await recordDetection(tx, d))) return { action: 'duplicate' }
    queueStreamEvent(tx, detectionEvent(d, device, model))
    return deps.tickets.applyDetection(tx, d, (repeatOf) => draftRepairTicket(faultOf(d), device, model, deps.clock.now(), deps.policy, repeatOf))
  }
  const applyBatch = async (batch: Detection[]): Promise<DetectionOutcome[]> => {
    // The batch's devices in one read, each once however many of its detections are its own.
    const found = new Map((await deps.devices([...new Set(batch.map((d) => d.deviceId))])).map((device) => [device.id, device]))
    const devices = batch.map((d) => found.get(d.deviceId))
    // Detections come from authenticated devices; one deleted meanwhile has nobody to repair for.
    const unknown: DetectionOutcome = { action: 'unknown_device' }
    if (devices.every((device) => !device)) return batch.map(() => unknown)
    // The detections' and the tickets' stream events are appended together, at the end (src/stream/outbox.ts).
    const outcomes = await inStreamTransaction(deps.db, async (tx) => {
      const outcomes: DetectionOutcome[] = batch.map(() => unknown)
      // Devices are applied side by side, each one's detections in order: their statements queue on the one
      // connection, which is then never idle while the rules decide a detection between two statements.
      const settled = await Promise.allSettled(
        [...indicesByDevice(batch)].map(async (indices) => {
          for (const i of indices) if (devices[i]) outcomes[i] = await applyOne(tx, batch[i]!, devices[i])
        }),
      )
      // Every statement has answered before the transaction ends, the first failure then fails it.
      const failed = settled.find((r) => r.status === 'rejected')
      if (failed) throw failed.reason
      return outcomes
    })
    deps.onCommitted?.(devices.filter(Boolean).length)
    return outcomes
  }
  /**
   * A batch is retried whole through an outage. Should it fail otherwise (one detection the database or a rule
   * refuses), each of its detections is applied on its own, so one bad detection never holds up the others.
   */
  const settle = (batch: Detection[]): Observable<DetectionOutcome> =>
    defer(() => applyBatch(batch)).pipe(
      retryWithBackoff(
        (err, attempt) => {
          if (attempt === 1) deps.log.warn({ err: err.message, detections: batch.length, deviceId: batch[0]!.deviceId }, 'rules stage: retrying detections')
        },
        (err) => batch.length === 1 || err instanceof DatabaseUnavailable,
      ),
      concatMap((outcomes) => outcomes),
      // Only a batch of several gets here: a single detection is retried until it is applied, as ever.
      catchError(() => from(batch).pipe(concatMap((d) => settle([d])))),
    )
  return (detections) =>
    detections.pipe(
      groupBy((d) => laneOf(d.deviceId, deps.lanes)),
      mergeMap((lane) => lane.pipe(batchWhileBusy(BATCH_MAX, settle))),
    )
}
