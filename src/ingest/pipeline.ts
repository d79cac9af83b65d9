// Accepted records, from admission to the database: write-ahead log → RxJS pipeline → batched, retried writes.
//
// Admission is bounded by rows not yet in the database. When that queue is full, accept() waits, the broker
// stops reading from the client that sent the message, and TCP pushes back on the device: nothing is dropped.
import { defer, lastValueFrom, map, mergeMap, Subject, tap, type Observable } from 'rxjs'
import type { Logger } from 'pino'
import { retryWithBackoff, type Database } from '../store/index.js'
import type { Metrics } from '../metrics.js'
import { batchByRows } from './batch-by-rows.js'
import { deadLetter, rowCount, type DeadLetterRecord, type IngestRecord } from './records.js'
import type { PacketReceipt } from './receive-times.js'
import { WriteAheadLog, type Segment } from './wal.js'
import { writeRecords } from './write-records.js'

interface Entry {
  records: IngestRecord[]
  rows: number
  segment: Segment
  durable: Promise<void>
}

/** SQLSTATE classes 22 (data exception) and 23 (integrity constraint): the data is wrong, not the database. */
const refusesData = (err: unknown) => typeof (err as { code?: unknown }).code === 'string' && /^2[23]/.test((err as { code: string }).code)

/** The topic segment a record of each kind arrived on (decode.ts's channelOf goes the other way, topic to channel). */
const topicSegmentOf = { telemetry: 'telemetry', event: 'events', status: 'status', dead_letter: 'dead-letter' } as const

const storageRefused = (record: IngestRecord, err: Error): DeadLetterRecord =>
  deadLetter({
    deviceId: record.deviceId,
    topic: `devices/${record.deviceId}/${topicSegmentOf[record.kind]}`,
    reason: `storage_refused: ${err.message}`,
    payloadHead: JSON.stringify(record).slice(0, 256),
    time: record.time,
  })

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
  private queuedRows = 0
  /** messages waiting for room, oldest first from `waitingHead` (a shift() per admission would be O(n)) */
  private waiting: { rows: number; admit: () => void }[] = []
  private waitingHead = 0
  private closed = false
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
      const rows = rowsOf(records)
      pipeline.queuedRows += rows
      pipeline.enqueue({ records, rows, segment, durable: Promise.resolve() })
    }
    return pipeline
  }

  /**
   * Admits records. Resolves once they are queued, or with `durable` once they are also on disk:
   * the point where a QoS 1 PUBACK may go out.
   */
  async accept(records: IngestRecord[], durable: boolean, receipt?: PacketReceipt): Promise<void> {
    if (this.closed) throw new Error('ingest is shut down')
    const rows = rowsOf(records)
    if (this.waitingCount > 0 || !this.fits(rows)) {
      this.metrics.backpressureWaits.inc()
      await new Promise<void>((admit) => this.waiting.push({ rows, admit }))
    } else {
      this.queuedRows += rows
    }
    const appended = this.wal.append(records, receipt)
    this.enqueue({ records, rows, segment: appended.segment, durable: appended.durable })
    for (const record of records) this.acceptedRecords.next(record)
    if (durable) await appended.durable
  }

  /** 'ok', or why the write-ahead log cannot take entries (then no QoS 1 message is acknowledged). */
  walStatus(): string {
    const failure = this.wal.failure
    return failure ? `writes failing since ${failure.since.toISOString()}: ${failure.error.message}` : 'ok'
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
    return this.waiting.length - this.waitingHead
  }

  /** A message larger than the whole queue still fits an empty queue, or it would never be admitted. */
  private fits(rows: number): boolean {
    return this.queuedRows === 0 || this.queuedRows + rows <= this.options.queueRows
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
            defer(() => this.write(batch)).pipe(
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

  /**
   * One transaction for the batch. Should the database refuse the data itself (not an outage: a value it
   * cannot store), retrying would block the queue forever: write the entries one by one instead, and store
   * each refused one as a dead letter saying why.
   */
  private async write(batch: Entry[]): Promise<void> {
    try {
      await this.db.transaction((tx) => writeRecords(tx, batch.flatMap((e) => e.records)))
    } catch (err) {
      if (!refusesData(err)) throw err
      for (const e of batch) {
        await this.db.transaction((tx) => writeRecords(tx, e.records)).catch(async (refusal: unknown) => {
          if (!refusesData(refusal)) throw refusal
          this.log.error({ err: (refusal as Error).message }, 'the database refused a record: stored as a dead letter')
          this.metrics.deadLetters.inc({ reason: 'storage_refused' })
          await this.db.transaction((tx) => writeRecords(tx, e.records.map((r) => storageRefused(r, refusal as Error))))
        })
      }
    }
  }

  private onWritten(batch: Entry[]) {
    const rows = batch.reduce((n, e) => n + e.rows, 0)
    this.queuedRows -= rows
    this.metrics.rowsWritten.inc(rows)
    // Admit waiting messages in arrival order while they fit.
    while (this.waitingCount > 0 && this.fits(this.waiting[this.waitingHead]!.rows)) {
      const next = this.waiting[this.waitingHead++]!
      this.queuedRows += next.rows
      next.admit()
    }
    // Drop the admitted ones now and then, so the list does not keep them all.
    if (this.waitingCount === 0 || (this.waitingHead > 1024 && this.waitingHead * 2 > this.waiting.length)) {
      this.waiting = this.waiting.slice(this.waitingHead)
      this.waitingHead = 0
    }
    this.metrics.queueRows.set(this.queuedRows)
    if (this.waitingCount === 0) this.onAllAdmitted?.()
    if (this.queuedRows === 0) for (const settle of this.onSettled.splice(0)) settle()
  }
}
