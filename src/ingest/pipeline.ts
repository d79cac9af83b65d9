// Accepted records, from admission to the database: write-ahead log → RxJS pipeline → batched, retried writes.
//
// Admission is bounded by rows not yet in the database. When that queue is full, accept() waits, the broker
// stops reading from the client that sent the message, and TCP pushes back on the device: nothing is dropped.
// Events and status have a lane of their own there (admission.ts): faults before telemetry.
import { defer, lastValueFrom, map, mergeMap, Subject, tap, type Observable } from 'rxjs'
import type { Logger } from 'pino'
import { retryWithBackoff, type Database } from '../store/index.js'
import type { Metrics } from '../metrics.js'
import { Admission, type AdmissionLane } from './admission.js'
import { batchByRows } from './batch-by-rows.js'
import type { PacketReceipt } from './receive-times.js'
import { refusedRecord, rowCount, type IngestRecord } from './records.js'
import { refusesData } from './refusal.js'
import { replayProblem } from './replay-check.js'
import { WriteAheadLog, type Segment } from './wal.js'
import { writeRecords } from './write-records.js'

interface Entry {
  records: IngestRecord[]
  rows: number
  /** the lane its rows were admitted in, given back there once written */
  lane: AdmissionLane
  segment: Segment
  durable: Promise<void>
}

const rowsOf = (records: IngestRecord[]) => records.reduce((n, r) => n + rowCount(r), 0)

export interface PipelineOptions {
  walDir: string
  queueRows: number
  batchRows?: number
  flushMs: number
}

export class IngestPipeline {
  private readonly entries = new Subject<Entry>()
  private readonly acceptedRecords = new Subject<IngestRecord>()
  private readonly written: Promise<void>
  private readonly admission: Admission
  private closed = false
  /** when the writer last committed, or rows began to wait in an empty queue: what a stall is measured from */
  private lastProgressAt = Date.now()
  private onAllAdmitted?: () => void
  /** callers of settled(), told once the queue is empty */
  private onSettled: (() => void)[] = []

  /** Every record once admitted, in admission order: what the detectors and the live feed watch. */
  readonly accepted$: Observable<IngestRecord> = this.acceptedRecords.asObservable()

  private constructor(
    private readonly db: Database,
    private readonly wal: WriteAheadLog,
    /** the packet receipts of recent QoS 1 entries an earlier run logged, oldest first */
    readonly loggedReceipts: readonly PacketReceipt[],
    private readonly options: PipelineOptions,
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {
    this.admission = new Admission(options.queueRows)
    this.written = lastValueFrom(this.entries.pipe(this.storeBatches()), { defaultValue: undefined })
  }

  /** Opens the write-ahead log, queues what an earlier run left in it, and starts the writer. */
  static async start(db: Database, options: PipelineOptions, log: Logger, metrics: Metrics): Promise<IngestPipeline> {
    const { wal, recovered, receipts, tornLines } = await WriteAheadLog.open(options.walDir, {
      // Once per episode at error, not once per attempt: a full disk would otherwise flood the log it shares.
      onWriteError: (err, first) => {
        metrics.walWriteErrors.inc()
        metrics.walHealthy.set(0)
        if (first) log.error({ err: err.message }, 'write-ahead log write failed; holding acknowledgements and retrying')
      },
      onRecovered: () => {
        metrics.walHealthy.set(1)
        log.info('write-ahead log writes succeed again; acknowledgements resume')
      },
    })
    metrics.walHealthy.set(1)
    const pipeline = new IngestPipeline(db, wal, receipts, options, log, metrics)
    if (recovered.length > 0 || tornLines > 0) {
      log.info({ entries: recovered.length, tornLines }, 'replaying the write-ahead log')
    }
    for (const { records, segment } of recovered) {
      const checked = records.map((r) => pipeline.replayable(r))
      const rows = rowsOf(checked)
      const lane = pipeline.admission.laneOf(checked)
      lane.queuedRows += rows
      pipeline.enqueue({ records: checked, rows, lane, segment, durable: Promise.resolve() })
    }
    return pipeline
  }

  /** A replayed record as it is, or as the dead letter saying why it cannot be written (the same one on every replay). */
  private replayable(record: IngestRecord): IngestRecord {
    const problem = replayProblem(record)
    if (!problem) return record
    this.metrics.deadLetters.inc({ reason: problem[0] })
    this.log.error({ reason: problem.join(': ') }, 'a record in the write-ahead log is refused: stored as a dead letter')
    return refusedRecord(record, problem[0], `${problem[1]} (replaying the write-ahead log)`)
  }

  /**
   * Admits records. Resolves once they are queued, or with `durable` once they are also on disk:
   * the point where a QoS 1 PUBACK may go out.
   */
  async accept(records: IngestRecord[], durable: boolean, receipt?: PacketReceipt): Promise<void> {
    if (this.closed) throw new Error('ingest is shut down')
    const rows = rowsOf(records)
    const lane = this.admission.laneOf(records)
    const wasEmpty = this.queuedRows === 0
    const room = lane.take(rows)
    if (room) {
      this.metrics.backpressureWaits.inc()
      await room
    } else if (wasEmpty) this.progressed()
    let appended: ReturnType<WriteAheadLog['append']>
    try {
      appended = this.wal.append(records, receipt)
      this.enqueue({ records, rows, lane, segment: appended.segment, durable: appended.durable })
    } catch (err) {
      // Room taken for a message that never reached the queue goes back, or each such message shrinks it for good.
      this.giveBack(lane, rows)
      throw err
    }
    for (const record of records) this.acceptedRecords.next(record)
    if (durable) await appended.durable
  }

  /** 'ok', or why the write-ahead log cannot take entries (then no QoS 1 message is acknowledged). */
  walStatus(): string {
    const failure = this.wal.failure
    return failure ? `writes failing since ${failure.since.toISOString()}: ${failure.error.message}` : 'ok'
  }

  /** Readiness of the writer: 'ok', or how long rows have waited with nothing committed (a writer stuck for good fails /readyz). */
  progress(stallMs: number, now = Date.now()): string {
    const idleMs = now - this.lastProgressAt
    if (this.queuedRows === 0 || idleMs < stallMs) return 'ok'
    return `no progress for ${Math.floor(idleMs / 1000)} s, ${this.queuedRows} rows waiting`
  }

  /** Resolves once everything admitted so far (the replayed log included) is in the database. */
  async settled(): Promise<void> {
    if (this.queuedRows > 0) await new Promise<void>((resolve) => this.onSettled.push(resolve))
  }

  /** Stops admitting, writes everything admitted, closes the log. Waits as long as the database is unreachable. */
  async close(): Promise<void> {
    this.closed = true
    // Messages already waiting for room were accepted from their clients: they go in before the stream ends.
    if (this.waitingCount > 0) await new Promise<void>((resolve) => (this.onAllAdmitted = resolve))
    this.entries.complete()
    this.acceptedRecords.complete()
    await this.written
    await this.wal.close()
  }

  private get waitingCount(): number {
    return this.admission.waitingCount
  }

  private get queuedRows(): number {
    return this.admission.queuedRows
  }

  /** Queues an entry whose rows are already counted in queuedRows. */
  private enqueue(entry: Entry) {
    this.metrics.queueRows.set(this.queuedRows)
    this.entries.next(entry)
  }

  private storeBatches() {
    const concurrency = this.db.writeConcurrency
    return (entries: Observable<Entry>) =>
      entries.pipe(
        batchByRows((e: Entry) => e.rows, this.options.batchRows ?? this.db.batchRows, this.options.flushMs),
        mergeMap(
          (batch) =>
            defer(() => this.timed(batch)).pipe(
              retryWithBackoff((err, attempt) => {
                this.metrics.writeRetries.inc()
                if (attempt === 1) this.log.warn({ err: err.message }, 'database write failed; retrying with backoff, holding the batch')
              }),
              map(() => batch),
            ),
          concurrency,
        ),
        mergeMap(async (batch) => {
          // Release a log entry only once it is both on disk and in the database, so no file outlives its data.
          await Promise.allSettled(batch.map((e) => e.durable))
          for (const e of batch) this.wal.release(e.segment)
          this.onWritten(batch)
        }),
        tap({ error: (err) => this.log.error({ err }, 'writer stopped') }),
      )
  }

  /** Writes a batch, timing the attempt that commits (a failed one is a retry, counted apart). */
  private async timed(batch: Entry[]): Promise<void> {
    const endTimer = this.metrics.writeBatchSeconds.startTimer()
    await this.write(batch)
    endTimer()
  }

  /**
   * One transaction for the batch. Should the database refuse the data itself (not an outage: a value it
   * cannot store), retrying would block the queue forever: write the entries one by one instead, and store
   * each refused one as a dead letter saying why.
   */
  private async write(batch: Entry[]): Promise<void> {
    try {
      await this.db.transaction((tx) =>
        writeRecords(
          tx,
          batch.flatMap((e) => e.records),
        ),
      )
    } catch (err) {
      if (!refusesData(err)) throw err
      for (const record of batch.flatMap((e) => e.records)) await this.writeOrRefuse(record)
    }
  }

  /** One record on its own: stored, or replaced by the dead letter naming what the database refused. */
  private async writeOrRefuse(record: IngestRecord): Promise<void> {
    try {
      await this.db.transaction((tx) => writeRecords(tx, [record]))
    } catch (err) {
      if (!refusesData(err)) throw err
      this.log.error({ err: (err as Error).message }, 'the database refused a record: stored as a dead letter')
      this.metrics.deadLetters.inc({ reason: 'storage_refused' })
      await this.db.transaction((tx) => writeRecords(tx, [refusedRecord(record, 'storage_refused', (err as Error).message)]))
    }
  }

  private onWritten(batch: Entry[]) {
    const rows = batch.reduce((n, e) => n + e.rows, 0)
    this.metrics.rowsWritten.inc(rows)
    this.metrics.writeBatchRows.observe(rows)
    this.progressed()
    for (const e of batch) this.giveBack(e.lane, e.rows)
  }

  private progressed() {
    this.lastProgressAt = Date.now()
    this.metrics.writerProgressAt.set(this.lastProgressAt / 1000)
  }

  /** Rows leave the queue (written, or never queued), and waiting messages of their lane come in. */
  private giveBack(lane: AdmissionLane, rows: number) {
    lane.giveBack(rows)
    this.metrics.queueRows.set(this.queuedRows)
    if (this.waitingCount === 0) this.onAllAdmitted?.()
    if (this.queuedRows === 0) for (const settle of this.onSettled.splice(0)) settle()
  }
}
