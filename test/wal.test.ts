// The write-ahead log on its own, in a temporary directory: what it promises a QoS 1 PUBACK and a restart.
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { TelemetryRecord } from '../src/ingest/records.js'
import { WriteAheadLog } from '../src/ingest/wal.js'

const record = (i: number): TelemetryRecord => ({ kind: 'telemetry', deviceId: 'wal-1', time: 1_700_000_000_000 + i, receivedAt: 1_700_000_000_000 + i, metrics: { temp: i } })
const walFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.wal')).sort()
const valuesOf = (recovered: { records: TelemetryRecord[] }[]) => recovered.map((e) => e.records.map((r) => r.metrics.temp))

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
    expect(JSON.parse(readFileSync(path.join(dir, file!), 'utf8').trimEnd())).toEqual([record(1), record(2)])
    await wal.close()
  })

  it('group-commits concurrent appends: all of them resolve, each is one line', async () => {
    const { wal } = await WriteAheadLog.open(dir)
    await Promise.all(Array.from({ length: 200 }, (_, i) => wal.append([record(i)]).durable))
    await wal.close()
    const lines = walFiles(dir).flatMap((f) => readFileSync(path.join(dir, f), 'utf8').split('\n').filter(Boolean))
    expect(lines.map((l) => (JSON.parse(l) as TelemetryRecord[])[0]!.metrics.temp)).toEqual(Array.from({ length: 200 }, (_, i) => i))
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
})
