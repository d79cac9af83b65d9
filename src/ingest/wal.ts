// A write-ahead log of accepted messages: the promise behind a QoS 1 PUBACK.
//
// Entries are appended as JSON lines to a segment file; appends that arrive while an fsync is under way wait
// and share the next one (group commit), so a thousand devices cost one fsync, not a thousand. The writer
// releases entries once they are committed to the database; a sealed segment whose entries are all released
// is renamed `.released` (the newest one is kept, for its packet receipts: a resend after a restart is still
// recognised) and the one before it deleted. On start, whatever segments are left are read back and written
// again (the writes are idempotent).
//
// An entry is durable only once all its bytes are written and fsynced. A write that fails or stores part of
// its bytes (a full disk) leaves the file cut back to its last good length before anything else is written
// there, so a later entry is never glued to a fragment; the entries wait, unacknowledged, and the write is
// tried again every `retryMs` until it succeeds (README, Delivery guarantees).
import { mkdir, open, readdir, readFile, rename, unlink, type FileHandle } from 'node:fs/promises'
import path from 'node:path'
import type { IngestRecord } from './records.js'
import type { PacketReceipt } from './receive-times.js'

/** A segment file and how many of its entries are not yet in the database. */
export interface Segment {
  readonly file: string
  unreleased: number
  sealed: boolean
}

/** One line of the log: the records of one message, and for QoS 1 its packet receipt. */
export interface LogEntry {
  records: IngestRecord[]
  receipt?: PacketReceipt
}

export interface RecoveredEntry extends LogEntry {
  segment: Segment
}

export interface WalOptions {
  /** how long a failed write waits before it is tried again (default 1 s) */
  retryMs?: number
  /** the size past which the next append starts a new segment (default 16 MiB) */
  segmentBytes?: number
  /** opens a segment file for writing: node's open, or a stand-in (a test's disk that fills up) */
  openFile?: (file: string, flags: 'w') => Promise<FileHandle>
  /** every failed write attempt; `first` is true for the first of an episode */
  onWriteError?: (err: Error, first: boolean) => void
  /** the first good write after failed ones */
  onRecovered?: () => void
}

/** Why appends are not becoming durable, since when. */
export interface WalFailure {
  error: Error
  since: Date
}

const SEGMENT_BYTES = 16 * 1024 * 1024
const RETRY_MS = 1_000
const SEGMENT = '.wal'
const RELEASED = '.released'
const segmentName = (n: number) => `${String(n).padStart(12, '0')}${SEGMENT}`

interface PendingWrite {
  /** one JSON line; a run of them is written as one buffer (a buffer and a writev slot per message cost more) */
  line: string
  segment: Segment
  resolve: () => void
}

/** A line as written, new (an object) or from before receipts were logged (a bare array of records). */
function parseEntry(line: string): LogEntry {
  const parsed = JSON.parse(line) as LogEntry | IngestRecord[]
  return Array.isArray(parsed) ? { records: parsed } : parsed
}

/** The buffers that remain after the first `bytes` of them were written. */
function after(buffers: Buffer[], bytes: number): Buffer[] {
  let i = 0
  while (i < buffers.length && bytes >= buffers[i]!.length) bytes -= buffers[i++]!.length
  return i < buffers.length && bytes > 0 ? [buffers[i]!.subarray(bytes), ...buffers.slice(i + 1)] : buffers.slice(i)
}

/** The open file of the segment being written, and how much of it is known good. */
class SegmentFile {
  private size = 0
  /** bytes past `size` may be on disk: a failed or short write */
  private torn = false

  constructor(
    readonly segment: Segment,
    readonly handle: FileHandle,
  ) {}

  /** Writes every byte of the lines at the end of the good part, then fsyncs; throws if any of that fails. */
  async append(lines: Buffer[]): Promise<void> {
    if (this.torn) {
      await this.handle.truncate(this.size)
      this.torn = false
    }
    try {
      let position = this.size
      // writev may store fewer bytes than asked (a disk filling up): write the rest, or fail.
      for (let rest = lines; rest.length > 0;) {
        const { bytesWritten } = await this.handle.writev(rest, position)
        if (bytesWritten <= 0) throw new Error(`${this.segment.file}: write stored no bytes`)
        position += bytesWritten
        rest = after(rest, bytesWritten)
      }
      await this.handle.datasync()
      this.size = position
    } catch (err) {
      this.torn = true
      throw err
    }
  }
}

export class WriteAheadLog {
  private active: Segment
  private activeBytes = 0
  private written: SegmentFile | null = null
  private pending: PendingWrite[] = []
  private flushing: Promise<void> | null = null
  private readonly removals = new Set<Promise<void>>()
  /** renames and deletions of released segments, in release order */
  private releasing: Promise<void> = Promise.resolve()
  private failing: WalFailure | undefined

  private constructor(
    private readonly dir: string,
    private nextSegment: number,
    /** the released segment kept for its receipts */
    private keptReleased: string | undefined,
    private readonly options: WalOptions,
  ) {
    this.active = this.newSegment()
  }

  /**
   * Opens the log in dir and returns what earlier runs accepted but did not release, oldest first, and the
   * packet receipts of recent entries, released or not, oldest first.
   */
  static async open(
    dir: string,
    options: WalOptions = {},
  ): Promise<{ wal: WriteAheadLog; recovered: RecoveredEntry[]; receipts: PacketReceipt[]; tornLines: number }> {
    await mkdir(dir, { recursive: true })
    const names = (await readdir(dir)).filter((f) => f.endsWith(SEGMENT) || f.endsWith(RELEASED)).sort()
    const recovered: RecoveredEntry[] = []
    const receipts: PacketReceipt[] = []
    let tornLines = 0
    const released = names.filter((f) => f.endsWith(RELEASED))
    for (const name of released.slice(0, -1)) await unlink(path.join(dir, name))
    const keptReleased = released.at(-1)
    for (const name of names.filter((f) => f === keptReleased || f.endsWith(SEGMENT))) {
      const segment: Segment = { file: path.join(dir, name), unreleased: 0, sealed: true }
      for (const line of (await readFile(segment.file, 'utf8')).split('\n')) {
        if (line === '') continue
        let entry: LogEntry
        try {
          entry = parseEntry(line)
        } catch {
          // A line cut short by a crash mid-write: it was never fsynced, so never acknowledged.
          tornLines++
          continue
        }
        if (entry.receipt) receipts.push(entry.receipt)
        if (name === keptReleased) continue
        recovered.push({ ...entry, segment })
        segment.unreleased++
      }
      if (name !== keptReleased && segment.unreleased === 0) await unlink(segment.file)
    }
    const last = names.at(-1)
    const wal = new WriteAheadLog(dir, last ? Number.parseInt(last, 10) + 1 : 0, keptReleased && path.join(dir, keptReleased), options)
    return { wal, recovered, receipts, tornLines }
  }

  /** Appends one entry; `durable` settles once it is on disk, however long the disk refuses it. */
  append(records: IngestRecord[], receipt?: PacketReceipt): { segment: Segment; durable: Promise<void> } {
    if (this.activeBytes >= (this.options.segmentBytes ?? SEGMENT_BYTES)) {
      this.seal(this.active)
      this.active = this.newSegment()
      this.activeBytes = 0
    }
    // The line is the object {records, receipt?} written out by hand: no wrapper object per message.
    const line = `{"records":${JSON.stringify(records)}${receipt ? `,"receipt":${JSON.stringify(receipt)}` : ''}}\n`
    const segment = this.active
    segment.unreleased++
    // Characters, not bytes (the same for the ASCII most lines are): the size is where a segment ends, not a limit.
    this.activeBytes += line.length
    const durable = new Promise<void>((resolve) => this.pending.push({ line, segment, resolve }))
    this.flushing ??= this.flushLoop()
    return { segment, durable }
  }

  /** Why appends are not becoming durable, or undefined while writes succeed. */
  get failure(): WalFailure | undefined {
    return this.failing
  }

  /** The database has the entry: once a sealed segment has nothing unreleased, its file goes. */
  release(segment: Segment): void {
    segment.unreleased -= 1
    if (segment.sealed && segment.unreleased === 0) this.remove(segment)
  }

  /** Waits for what was appended to be on disk, then closes; the last segment goes too when all is released. */
  async close(): Promise<void> {
    await this.flushing
    await this.written?.handle.close()
    this.written = null
    this.seal(this.active)
    await Promise.all(this.removals)
  }

  private newSegment(): Segment {
    return { file: path.join(this.dir, segmentName(this.nextSegment++)), unreleased: 0, sealed: false }
  }

  private seal(segment: Segment): void {
    segment.sealed = true
    if (segment.unreleased === 0) this.remove(segment)
  }

  /** Keeps the newest released segment (its receipts) under another name, and deletes the one kept before. */
  private remove(segment: Segment): void {
    const kept = segment.file.slice(0, -SEGMENT.length) + RELEASED
    const removal = (this.releasing = this.releasing.then(async () => {
      try {
        await rename(segment.file, kept)
      } catch {
        return // a segment with no file yet (nothing flushed to it) has nothing to keep
      }
      const before = this.keptReleased
      this.keptReleased = kept
      if (before) await unlink(before).catch(() => {})
    }))
    this.removals.add(removal)
    void removal.then(() => this.removals.delete(removal))
  }

  private async flushLoop(): Promise<void> {
    while (this.pending.length > 0) {
      try {
        await this.writePending()
        if (this.failing) {
          this.failing = undefined
          this.options.onRecovered?.()
        }
      } catch (err) {
        const first = !this.failing
        this.failing ??= { error: err as Error, since: new Date() }
        this.failing.error = err as Error
        this.options.onWriteError?.(err as Error, first)
        // The entries stay pending, unacknowledged, until a retry finds room.
        await new Promise((resolve) => setTimeout(resolve, this.options.retryMs ?? RETRY_MS))
      }
    }
    this.flushing = null
  }

  /** Writes what is pending, one segment's run at a time: each run is durable once it is fsynced. */
  private async writePending(): Promise<void> {
    while (this.pending.length > 0) {
      const segment = this.pending[0]!.segment
      let to = 1
      while (to < this.pending.length && this.pending[to]!.segment === segment) to++
      const run = this.pending.splice(0, to)
      try {
        await (await this.fileFor(segment)).append([Buffer.from(run.map((w) => w.line).join(''))])
      } catch (err) {
        this.pending = run.concat(this.pending)
        throw err
      }
      for (const w of run) w.resolve()
    }
  }

  private async fileFor(segment: Segment): Promise<SegmentFile> {
    if (this.written?.segment === segment) return this.written
    await this.written?.handle.close()
    this.written = null
    // Positioned writes, not O_APPEND: a torn tail is cut back and written over, never appended to.
    const handle = await (this.options.openFile ?? open)(segment.file, 'w')
    try {
      // The new file's directory entry must survive a power cut too, not only its contents.
      const dir = await open(this.dir, 'r')
      await dir.sync().finally(() => dir.close())
    } catch (err) {
      await handle.close()
      throw err
    }
    this.written = new SegmentFile(segment, handle)
    return this.written
  }
}
