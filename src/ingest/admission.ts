// Admission, bounded by rows not yet in the database, in two lanes (issue 13, faults before telemetry): fault
// events and status reports have room of their own, so under a flood of telemetry they never wait behind it.
// Whoever floods still meets backpressure in the lane it floods; the broker reads one message of a connection
// at a time, and each lane admits in arrival order, so one device cannot starve the others of its lane.
import type { IngestRecord } from './records.js'

/** The share of the queue's rows that events and status may hold on top of it. */
const PRIORITY_SHARE = 0.1

/** One lane: the rows it holds until they are written, and the messages waiting for room, oldest first. */
export class AdmissionLane {
  queuedRows = 0
  /** from `head` on (a shift() per admission would be O(n)) */
  private waiting: { rows: number; admit: () => void }[] = []
  private head = 0

  constructor(readonly limitRows: number) {}

  get waitingCount(): number {
    return this.waiting.length - this.head
  }

  /** Takes room at once when nobody waits and it fits; otherwise resolves once the message is admitted. */
  take(rows: number): Promise<void> | undefined {
    if (this.waitingCount === 0 && this.fits(rows)) {
      this.queuedRows += rows
      return undefined
    }
    return new Promise<void>((admit) => this.waiting.push({ rows, admit }))
  }

  /** Rows leave the lane (written, or never queued): waiting messages are admitted in arrival order while they fit. */
  giveBack(rows: number): void {
    this.queuedRows -= rows
    while (this.waitingCount > 0 && this.fits(this.waiting[this.head]!.rows)) {
      const next = this.waiting[this.head++]!
      this.queuedRows += next.rows
      next.admit()
    }
    // Drop the admitted ones now and then, so the list does not keep them all.
    if (this.waitingCount === 0 || (this.head > 1024 && this.head * 2 > this.waiting.length)) {
      this.waiting = this.waiting.slice(this.head)
      this.head = 0
    }
  }

  /** A message larger than the whole lane still fits an empty lane, or it would never be admitted. */
  private fits(rows: number): boolean {
    return this.queuedRows === 0 || this.queuedRows + rows <= this.limitRows
  }
}

export class Admission {
  readonly bulk: AdmissionLane
  readonly priority: AdmissionLane

  constructor(queueRows: number) {
    this.bulk = new AdmissionLane(queueRows)
    this.priority = new AdmissionLane(Math.max(1, Math.ceil(queueRows * PRIORITY_SHARE)))
  }

  /** Events and status go first; telemetry and dead letters are the bulk. */
  laneOf(records: readonly IngestRecord[]): AdmissionLane {
    return records.some((r) => r.kind === 'event' || r.kind === 'status') ? this.priority : this.bulk
  }

  get queuedRows(): number {
    return this.bulk.queuedRows + this.priority.queuedRows
  }

  get waitingCount(): number {
    return this.bulk.waitingCount + this.priority.waitingCount
  }
}
