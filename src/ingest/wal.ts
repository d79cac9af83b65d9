// A write-ahead log of accepted messages: the promise behind a QoS 1 PUBACK.
//
// Entries are appended as JSON lines to a segment file; appends that arrive while an fsync is under way wait
// and share the next one (group commit), so a thousand devices cost one fsync, not a thousand. The writer
// releases entries once they are committed to the database; a sealed segment whose entries are all released
// is deleted. On start, whatever segments are left are read back and written again (the writes are idempotent).
import { mkdir, open, readdir, readFile, unlink, type FileHandle } from 'node:fs/promises'
import path from 'node:path'
import type { IngestRecord } from './records.js'

/** A segment file and how many of its entries are not yet in the database. */
export interface Segment {
  readonly file: string
  unreleased: number
  sealed: boolean
}

export interface RecoveredEntry {
  records: IngestRecord[]
  segment: Segment
}

const SEGMENT_BYTES = 16 * 1024 * 1024
const segmentName = (n: number) => `${String(n).padStart(12, '0')}.wal`

interface PendingWrite {
  line: Buffer
  segment: Segment
  resolve: () => void
  reject: (err: Error) => void
}

export class WriteAheadLog {
  private active: Segment
  private activeBytes = 0
  /** the segment whose file `handle` has open */
  private written: { segment: Segment; handle: FileHandle } | null = null
  private pending: PendingWrite[] = []
  private flushing: Promise<void> | null = null
  private readonly removals = new Set<Promise<void>>()

  private constructor(
    private readonly dir: string,
    private nextSegment: number,
  ) {
    this.active = this.newSegment()
  }

  /** Opens the log in dir and returns what earlier runs accepted but did not release, oldest first. */
  static async open(dir: string): Promise<{ wal: WriteAheadLog; recovered: RecoveredEntry[]; tornLines: number }> {
    await mkdir(dir, { recursive: true })
    const files = (await readdir(dir)).filter((f) => f.endsWith('.wal')).sort()
    const recovered: RecoveredEntry[] = []
    let tornLines = 0
    for (const name of files) {
      const segment: Segment = { file: path.join(dir, name), unreleased: 0, sealed: true }
      for (const line of (await readFile(segment.file, 'utf8')).split('\n')) {
        if (line === '') continue
        try {
          recovered.push({ records: JSON.parse(line) as IngestRecord[], segment })
          segment.unreleased++
        } catch {
          // A line cut short by a crash mid-write: it was never fsynced, so never acknowledged.
          tornLines++
        }
      }
      if (segment.unreleased === 0) await unlink(segment.file)
    }
    const last = files.at(-1)
    return { wal: new WriteAheadLog(dir, last ? Number.parseInt(last, 10) + 1 : 0), recovered, tornLines }
  }

  /** Appends one entry; `durable` settles once it is on disk. */
  append(records: IngestRecord[]): { segment: Segment; durable: Promise<void> } {
    if (this.activeBytes >= SEGMENT_BYTES) {
      this.seal(this.active)
      this.active = this.newSegment()
      this.activeBytes = 0
    }
    const line = Buffer.from(JSON.stringify(records) + '\n')
    const segment = this.active
    segment.unreleased++
    this.activeBytes += line.length
    const durable = new Promise<void>((resolve, reject) => this.pending.push({ line, segment, resolve, reject }))
    this.flushing ??= this.flushLoop()
    return { segment, durable }
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

  private remove(segment: Segment): void {
    // A segment with no file yet (nothing flushed to it) has nothing to remove.
    const removal = unlink(segment.file).catch(() => {})
    this.removals.add(removal)
    void removal.then(() => this.removals.delete(removal))
  }

  private async flushLoop(): Promise<void> {
    while (this.pending.length > 0) {
      const group = this.pending
      this.pending = []
      try {
        // A group spans at most a rotation: write each segment's run to its own file.
        for (let from = 0; from < group.length; ) {
          const segment = group[from]!.segment
          let to = from
          while (to < group.length && group[to]!.segment === segment) to++
          const handle = await this.handleFor(segment)
          await handle.writev(group.slice(from, to).map((w) => w.line))
          await handle.datasync()
          from = to
        }
        for (const w of group) w.resolve()
      } catch (err) {
        for (const w of group) w.reject(err as Error)
      }
    }
    this.flushing = null
  }

  private async handleFor(segment: Segment): Promise<FileHandle> {
    if (this.written?.segment === segment) return this.written.handle
    await this.written?.handle.close()
    this.written = { segment, handle: await open(segment.file, 'a') }
    // The new file's directory entry must survive a power cut too, not only its contents.
    const dir = await open(this.dir, 'r')
    await dir.sync().finally(() => dir.close())
    return this.written.handle
  }
}
