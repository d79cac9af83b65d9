// The write-ahead log on its own, in a temporary directory: what it promises a QoS 1 PUBACK and a restart.
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { open, type FileHandle } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { TelemetryRecord } from '../src/ingest/index.js'
import { WriteAheadLog, type WalOptions } from '../src/ingest/wal.js'

const record = (i: number): TelemetryRecord => ({
  kind: 'telemetry',
  deviceId: 'wal-1',
  time: 1_700_000_000_000 + i,
  receivedAt: 1_700_000_000_000 + i,
  metrics: { temp: i },
})
const walFiles = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.wal'))
    .sort()
const valuesOf = (recovered: { records: TelemetryRecord[] }[]) => recovered.map((e) => e.records.map((r) => r.metrics.temp))
const receipt = (messageId: number) => ({ deviceId: 'wal-1', messageId, receivedAt: 1_700_000_000_000 + messageId })

/**
 * A stand-in disk under the log's segment files. `halve`: each write call stores half of what it is asked (writev
 * may return fewer bytes than asked). `room`: bytes left; a write stores at most that many and one with no room left
 * fails with ENOSPC, as on a disk filling up. `undefined` room: the space is back.
 */
function standInDisk() {
  const disk = { halve: false, room: undefined as number | undefined, shortWrites: 0, errors: [] as Error[], recoveries: 0 }
  let onError = () => {}
  const writev = (handle: FileHandle) => async (buffers: Buffer[], position: number) => {
    if (disk.room === 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })
    const bytes = Buffer.concat(buffers)
    let n = disk.halve ? Math.ceil(bytes.length / 2) : bytes.length
    if (disk.room !== undefined) disk.room -= n = Math.min(n, disk.room)
    if (n < bytes.length) disk.shortWrites++
    return handle.writev([bytes.subarray(0, n)], position)
  }
  const options: WalOptions = {
    retryMs: 5,
    openFile: async (file, flags) => {
      const handle = await open(file, flags)
      return new Proxy(handle, {
        get: (target, prop) => {
          if (prop === 'writev') return writev(target)
          const value: unknown = Reflect.get(target, prop, target)
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value
        },
      })
    },
    onWriteError: (err) => {
      disk.errors.push(err)
      onError()
    },
    onRecovered: () => disk.recoveries++,
  }
  /** Resolves once at least n write attempts have failed. */
  const failures = (n: number) =>
    new Promise<void>((resolve) => {
      onError = () => void (disk.errors.length >= n && resolve())
      onError()
    })
  return { disk, options, failures }
}

describe('WriteAheadLog', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'faultline-wal-'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('resolves durable once the appended entry is in the segment file', async () => {
    const { wal, recovered, tornLines } = await WriteAheadLog.open(dir)
    expect(recovered).toEqual([])
    expect(tornLines).toBe(0)
    const { durable } = wal.append([record(1), record(2)])
    await durable
    const [file] = walFiles(dir)
    expect(file).toBeDefined()
    // On disk by the time durable settles, before close(): the line a restart would read back.
    expect(JSON.parse(readFileSync(path.join(dir, file!), 'utf8').trimEnd())).toEqual({ records: [record(1), record(2)] })
    await wal.close()
  })

  it('group-commits concurrent appends: all of them resolve, each is one line', async () => {
    const { wal } = await WriteAheadLog.open(dir)
    await Promise.all(Array.from({ length: 200 }, (_, i) => wal.append([record(i)]).durable))
    await wal.close()
    const lines = walFiles(dir).flatMap((f) => readFileSync(path.join(dir, f), 'utf8').split('\n').filter(Boolean))
    expect(lines.map((l) => (JSON.parse(l) as { records: TelemetryRecord[] }).records[0]!.metrics.temp)).toEqual(Array.from({ length: 200 }, (_, i) => i))
  })

  it('returns unreleased entries in append order after a reopen', async () => {
    const first = await WriteAheadLog.open(dir)
    for (let i = 0; i < 5; i++) await first.wal.append([record(i)]).durable
    await first.wal.close()

    const second = await WriteAheadLog.open(dir)
    expect(valuesOf(second.recovered as { records: TelemetryRecord[] }[])).toEqual([[0], [1], [2], [3], [4]])
    // A later run's entries come after the recovered ones on the next reopen.
    await second.wal.append([record(5)]).durable
    await second.wal.close()
    const third = await WriteAheadLog.open(dir)
    expect(valuesOf(third.recovered as { records: TelemetryRecord[] }[])).toEqual([[0], [1], [2], [3], [4], [5]])
    await third.wal.close()
  })

  it('does not replay a segment whose entries were all released', async () => {
    const first = await WriteAheadLog.open(dir)
    for (let i = 0; i < 3; i++) await first.wal.append([record(i)]).durable
    await first.wal.close()

    const second = await WriteAheadLog.open(dir)
    expect(second.recovered).toHaveLength(3)
    for (const { segment } of second.recovered) second.wal.release(segment)
    await second.wal.append([record(3)]).durable
    await second.wal.close()

    const third = await WriteAheadLog.open(dir)
    expect(valuesOf(third.recovered as { records: TelemetryRecord[] }[])).toEqual([[3]])
    await third.wal.close()
  })

  it('returns every unreleased entry after a crash, in order, when released ones share their segment', async () => {
    // The process dies (no close()) after the database has taken entries 0 and 1 but not 2 and 3.
    const first = await WriteAheadLog.open(dir)
    const appended = []
    for (let i = 0; i < 4; i++) {
      const a = first.wal.append([record(i)])
      await a.durable
      appended.push(a)
    }
    first.wal.release(appended[0]!.segment)
    first.wal.release(appended[1]!.segment)

    // Releases are counted per segment, not logged: the whole segment comes back, and the replay relies on
    // every write being idempotent (natural keys, and an id on dead letters).
    const second = await WriteAheadLog.open(dir)
    expect(valuesOf(second.recovered as { records: TelemetryRecord[] }[])).toEqual([[0], [1], [2], [3]])
    await second.wal.close()
    await first.wal.close()
  })

  it('skips a torn last line (a crash mid-write) and counts it in tornLines', async () => {
    const first = await WriteAheadLog.open(dir)
    await first.wal.append([record(1)]).durable
    await first.wal.append([record(2)]).durable
    await first.wal.close()
    const [file] = walFiles(dir)
    appendFileSync(path.join(dir, file!), '[{"kind":"telemetry","deviceId":"wal-1","ti')

    const second = await WriteAheadLog.open(dir)
    expect(second.tornLines).toBe(1)
    expect(valuesOf(second.recovered as { records: TelemetryRecord[] }[])).toEqual([[1], [2]])
    await second.wal.close()
  })

  it('deletes a segment that holds only a torn line when it is opened', async () => {
    appendFileSync(path.join(dir, '000000000000.wal'), '[{"kind":"tele')
    const { wal, recovered, tornLines } = await WriteAheadLog.open(dir)
    expect(tornLines).toBe(1)
    expect(recovered).toEqual([])
    expect(walFiles(dir)).toEqual([])
    await wal.close()
  })

  it('leaves no segment file once close() has resolved, when everything was released', async () => {
    // close() is the point a process may exit: the released segment must be gone by then, not "soon".
    // Several rounds, because a deletion left running in the background only sometimes loses the race.
    for (let round = 0; round < 20; round++) {
      const roundDir = mkdtempSync(path.join(dir, 'round-'))
      const { wal } = await WriteAheadLog.open(roundDir)
      const appended = await Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          const a = wal.append([record(i)])
          await a.durable
          return a
        }),
      )
      expect(walFiles(roundDir)).toHaveLength(1)
      for (const a of appended) wal.release(a.segment)
      await wal.close()
      expect(walFiles(roundDir), `round ${round}`).toEqual([])
    }
  })

  it('deletes recovered segments once every entry in them is released, without waiting for close()', async () => {
    const first = await WriteAheadLog.open(dir)
    for (let i = 0; i < 3; i++) await first.wal.append([record(i)]).durable
    await first.wal.close()
    expect(walFiles(dir)).toHaveLength(1)

    const second = await WriteAheadLog.open(dir)
    expect(second.recovered).toHaveLength(3)
    for (const { segment } of second.recovered) second.wal.release(segment)
    await expect.poll(() => walFiles(dir), { timeout: 5_000 }).toEqual([])
    await second.wal.close()
  })

  it('keeps the segment of an unreleased entry through close() and a reopen', async () => {
    const { wal } = await WriteAheadLog.open(dir)
    const a = wal.append([record(1)])
    const b = wal.append([record(2)])
    await Promise.all([a.durable, b.durable])
    wal.release(a.segment)
    await wal.close()
    expect(walFiles(dir)).toHaveLength(1)
  })

  it('writes the rest of a short write: every entry comes back whole', async () => {
    const { disk, options } = standInDisk()
    disk.halve = true
    const { wal } = await WriteAheadLog.open(dir, options)
    await Promise.all(Array.from({ length: 50 }, (_, i) => wal.append([record(i)]).durable))
    expect(disk.shortWrites).toBeGreaterThan(0)
    const reopened = await WriteAheadLog.open(dir)
    expect(reopened.tornLines).toBe(0)
    expect(valuesOf(reopened.recovered as { records: TelemetryRecord[] }[])).toEqual(Array.from({ length: 50 }, (_, i) => [i]))
    await Promise.all([wal.close(), reopened.wal.close()])
  })

  it('on a full disk: no ack for a partly written entry, the torn tail cut off, and every entry whole once space returns', async () => {
    const { disk, options, failures } = standInDisk()
    const { wal } = await WriteAheadLog.open(dir, options)
    await wal.append([record(1)]).durable
    const [file] = walFiles(dir)
    const good = readFileSync(path.join(dir, file!), 'utf8')

    // The disk has room for 10 more bytes: entry 2 is written in part, then the disk refuses the rest.
    disk.room = 10
    let acked = false
    const second = wal.append([record(2)])
    void second.durable.then(() => (acked = true))
    await failures(2)
    expect(acked).toBe(false)
    expect(wal.failure?.error.message).toMatch(/ENOSPC/)
    expect((disk.errors[0] as NodeJS.ErrnoException).code).toBe('ENOSPC')
    // A retry cut the fragment off before writing again: nothing can be glued to it.
    expect(readFileSync(path.join(dir, file!), 'utf8')).toBe(good)
    const third = wal.append([record(3)])
    await failures(4)
    expect(acked).toBe(false)

    disk.room = undefined
    await Promise.all([second.durable, third.durable])
    expect(wal.failure).toBeUndefined()
    expect(disk.recoveries).toBe(1)
    await wal.append([record(4)]).durable
    // A crash now (no close): every acknowledged entry is replayed, whole and once.
    const reopened = await WriteAheadLog.open(dir)
    expect(reopened.tornLines).toBe(0)
    expect(valuesOf(reopened.recovered as { records: TelemetryRecord[] }[])).toEqual([[1], [2], [3], [4]])
    await Promise.all([wal.close(), reopened.wal.close()])
  })

  it('replays the receipts of QoS 1 entries, and keeps those of the newest released segment after its data is gone', async () => {
    // One entry per segment: each release deletes a whole segment.
    const { wal } = await WriteAheadLog.open(dir, { segmentBytes: 1 })
    const appended = []
    for (let i = 1; i <= 4; i++) {
      const a = wal.append([record(i)], receipt(i))
      await a.durable
      appended.push(a)
    }
    wal.append([record(5)]) // QoS 0: no receipt
    for (const a of appended.slice(0, 3)) wal.release(a.segment)
    await wal.close()

    const reopened = await WriteAheadLog.open(dir)
    // Entries 1-3 are in the database: not replayed, but the newest released segment's receipt (3) is kept, so
    // a resend of message 3 whose PUBACK was lost is still recognised; 1 and 2 are forgotten.
    expect(valuesOf(reopened.recovered as { records: TelemetryRecord[] }[])).toEqual([[4], [5]])
    expect(reopened.receipts).toEqual([receipt(3), receipt(4)])
    expect(readdirSync(dir).filter((f) => f.endsWith('.released'))).toHaveLength(1)
    await reopened.wal.close()
  })

  it('replays a line written before entries carried receipts (a bare array of records)', async () => {
    appendFileSync(path.join(dir, '000000000000.wal'), JSON.stringify([record(1), record(2)]) + '\n')
    const { wal, recovered, receipts } = await WriteAheadLog.open(dir)
    expect(valuesOf(recovered as { records: TelemetryRecord[] }[])).toEqual([[1, 2]])
    expect(receipts).toEqual([])
    await wal.close()
  })
})
