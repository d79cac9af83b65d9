// The rules stage, in two steps. First every detection is recorded as it comes, with its stream event, in one
// statement per batch: the live stream hears of a fault without waiting for its ticket (issue 10, publish →
// stream). Then each is decided (warranty, quote, priority, SLA) and handed to the ticket repository. Devices
// are spread over a few lanes, each applying its detections in order: a device's raise and clear stay in
// order, and a server database works on several devices at once. What arrives while a step is busy goes into
// its next statement or transaction together (issue 13, storms): one commit, one take of the stream's lock and
// of the day's ticket counter for the lot, instead of one each per detection.
import { catchError, concat, concatMap, connect, defer, filter, from, groupBy, merge, mergeMap, type Observable, type OperatorFunction } from 'rxjs'
import type { Logger } from 'pino'
import type { Catalog } from '../catalog/index.js'
import type { Clock } from '../clock.js'
import { conditionKey } from '../conditions.js'
import { claimDetection, type Detection } from '../detect/index.js'
import { DatabaseUnavailable, retryWithBackoff, type Database, type Queryable } from '../store/index.js'
import { detectionEvent, inStreamTransaction } from '../stream/index.js'
import type { DetectionOutcome, TicketRepository } from '../tickets/index.js'
import { draftRepairTicket, faultOf, type TicketDevice, type TicketPolicy } from '../rules/index.js'
import { batchWhileBusy } from './batch-while-busy.js'
import { recordDetections } from './record.js'

/**
 * Detections in one transaction at most: a storm's batch holds the day's ticket counter until it commits, and a
 * ticket opened by hand meanwhile waits that long.
 */
export const BATCH_MAX = 100
/** Detections recorded in one statement at most: one insert of rows, no lock held on anything but the stream. */
export const RECORD_MAX = 500

/** A recorded detection, to be acted on; its device as read when it was recorded (unread: recorded before a restart). */
interface ToAct {
  detection: Detection
  device?: TicketDevice
}

/** A device's lane: the same device always lands in the same one. */
function laneOf(deviceId: string, lanes: number): number {
  let hash = 0
  for (let i = 0; i < deviceId.length; i++) hash = (hash * 31 + deviceId.charCodeAt(i)) | 0
  return Math.abs(hash) % lanes
}

/** The positions of each device's items in the batch, in order. */
function indicesByDevice(batch: readonly ToAct[]): Iterable<number[]> {
  const byDevice = new Map<string, number[]>()
  for (const [i, { detection }] of batch.entries()) {
    const indices = byDevice.get(detection.deviceId)
    if (indices) indices.push(i)
    else byDevice.set(detection.deviceId, [i])
  }
  return byDevice.values()
}

/** A detection's identity, as fault_events' unique key: its condition's key, state and time. */
const detectionKey = (d: Detection) => `${conditionKey(d.deviceId, d.condition)}${d.state}${d.time}`
const duplicate: DetectionOutcome = { action: 'duplicate' }
const unknown: DetectionOutcome = { action: 'unknown_device' }
const isToAct = (r: ToAct | DetectionOutcome): r is ToAct => 'detection' in r

export interface RulesStageDeps {
  catalog: Catalog
  /** the batch's devices, read at once (one unknown is left out) */
  devices: (ids: string[]) => Promise<TicketDevice[]>
  /** where detections are recorded and acted on (connections apart from bulk writes) */
  db: Pick<Database, 'query' | 'transaction'>
  tickets: Pick<TicketRepository, 'applyDetection'>
  clock: Clock
  policy: TicketPolicy
  log: Logger
  /** told of each committed transaction: how many detections it applied */
  onCommitted?: (detections: number) => void
  /** batches applied at once, on different devices (the database's write concurrency) */
  lanes: number
  /** detections recorded before a restart and never acted on: acted on first (unactedDetections) */
  unacted?: readonly Detection[]
}

export function repairTickets(deps: RulesStageDeps): OperatorFunction<Detection, DetectionOutcome> {
  const devicesOf = async (detections: readonly Detection[]) =>
    new Map((await deps.devices([...new Set(detections.map((d) => d.deviceId))])).map((device) => [device.id, device]))

  /** The record step: new detections go on to be acted on, each once however often it is seen. */
  const recordBatch = async (batch: Detection[]): Promise<(ToAct | DetectionOutcome)[]> => {
    const devices = await devicesOf(batch)
    const first = new Set<string>()
    const toRecord: Required<ToAct>[] = []
    const out = batch.map((detection): ToAct | DetectionOutcome => {
      const device = devices.get(detection.deviceId)
      // Detections come from authenticated devices; one deleted meanwhile has nobody to repair for.
      if (!device) return unknown
      const key = detectionKey(detection)
      if (first.has(key)) return duplicate
      first.add(key)
      const item = { detection, device }
      toRecord.push(item)
      return item
    })
    if (toRecord.length === 0) return out
    const recorded = await recordDetections(
      deps.db,
      toRecord.map(({ detection, device }) => ({ detection, event: detectionEvent(detection, device, deps.catalog.get(device.model)) })),
    )
    const stored = new Set<ToAct>(toRecord.filter((_, i) => recorded[i] !== undefined))
    return out.map((r) => (isToAct(r) && !stored.has(r) ? duplicate : r))
  }

  /** The act step: a batch's tickets in one transaction, its ticket events appended at the end (src/stream/outbox.ts). */
  const actBatch = async (batch: ToAct[]): Promise<DetectionOutcome[]> => {
    const unread = batch.filter((r) => !r.device).map((r) => r.detection)
    const read = unread.length > 0 ? await devicesOf(unread) : new Map<string, TicketDevice>()
    const devices = batch.map((r) => r.device ?? read.get(r.detection.deviceId))
    const applyOne = async (tx: Queryable, d: Detection, device: TicketDevice): Promise<DetectionOutcome> => {
      if (!(await claimDetection(tx, d))) return duplicate
      const model = deps.catalog.get(device.model)
      return deps.tickets.applyDetection(tx, d, (repeatOf) => draftRepairTicket(faultOf(d), device, model, deps.clock.now(), deps.policy, repeatOf))
    }
    const outcomes = await inStreamTransaction(deps.db, async (tx) => {
      const outcomes: DetectionOutcome[] = batch.map(() => unknown)
      // Devices are applied side by side, each one's detections in order: their statements queue on the one
      // connection, which is then never idle while the rules decide a detection between two statements.
      const settled = await Promise.allSettled(
        [...indicesByDevice(batch)].map(async (indices) => {
          for (const i of indices) if (devices[i]) outcomes[i] = await applyOne(tx, batch[i]!.detection, devices[i])
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
   * refuses), each of its items is worked on its own, so one bad detection never holds up the others.
   */
  const settled = <T, R>(step: string, work: (batch: T[]) => Promise<R[]>, deviceOf: (item: T) => string) => {
    const settle = (batch: T[]): Observable<R> =>
      defer(() => work(batch)).pipe(
        retryWithBackoff(
          (err, attempt) => {
            if (attempt === 1) deps.log.warn({ err: err.message, detections: batch.length, deviceId: deviceOf(batch[0]!) }, `rules stage: retrying to ${step}`)
          },
          (err) => batch.length === 1 || err instanceof DatabaseUnavailable,
        ),
        concatMap((results) => results),
        // Only a batch of several gets here: a single item is retried until it is done, as ever.
        catchError(() => from(batch).pipe(concatMap((item) => settle([item])))),
      )
    return settle
  }
  const record = settled('record detections', recordBatch, (d: Detection) => d.deviceId)
  const act = settled('act on detections', actBatch, (r: ToAct) => r.detection.deviceId)

  return (detections) =>
    detections.pipe(
      batchWhileBusy(RECORD_MAX, record),
      connect((recorded) =>
        merge(
          recorded.pipe(filter((r): r is DetectionOutcome => !isToAct(r))),
          concat(from((deps.unacted ?? []).map((detection): ToAct => ({ detection }))), recorded.pipe(filter(isToAct))).pipe(
            groupBy((r) => laneOf(r.detection.deviceId, deps.lanes)),
            mergeMap((lane) => lane.pipe(batchWhileBusy(BATCH_MAX, act))),
          ),
        ),
      ),
    )
}
