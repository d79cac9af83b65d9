// The live stream's cases (issue 10), on one Faultline child each:
//  - latency: faults from devices of their own at a steady rate, each timed from its publish until its
//    `detection.raised` and its `ticket.opened` frame reach a /ws/faults client, while telemetry from other
//    devices is offered at a fixed rate;
//  - stall: the same telemetry for the same time twice, first with one healthy client, then with a second client
//    that stops reading its socket for the stall: Faultline's ingest throughput must not notice it, and the
//    stalled client, resuming from its last id, must end with every event the healthy one got (no hole).
import type { ChildFaultline } from '../test/support/child-faultline.js'
import { underTelemetry, type BackgroundTelemetry } from './generator.js'
import { metrics } from './metrics.js'
import { StreamClient } from './stream-client.js'
import { faultDevices, publishFaults } from './tickets.js'

const now = () => performance.timeOrigin + performance.now()
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export interface LatencyResult {
  faults: number
  /** publish → detection.raised frame, ms, one per fault seen */
  raisedMs: number[]
  /** publish → ticket.opened frame, ms */
  openedMs: number[]
  /** publish → the detection's `at` (the fault carries no ts: Faultline's receive time, its clock on this machine), ms */
  receivedMs: number[]
  /** telemetry the generator offered and Faultline wrote meanwhile, msg/s */
  offeredMsgsPerS: number
  writtenMsgsPerS: number
}

export async function latencyRun(
  fl: ChildFaultline,
  o: BackgroundTelemetry & { faults: number; faultRate: number; token: string; timeoutMs: number },
): Promise<LatencyResult> {
  const devices = await faultDevices(fl, 'sl', o.faults)
  const index = new Map(devices.ids.map((id, i) => [id, i]))
  const raisedAt = new Array<number>(o.faults).fill(NaN)
  const openedAt = new Array<number>(o.faults).fill(NaN)
  const happenedAt = new Array<number>(o.faults).fill(NaN)
  let opened = 0
  const client = new StreamClient({ httpPort: fl.httpPort, token: o.token })
  client.onEvent = (e) => {
    const i = index.get(e.deviceId)
    if (i === undefined) return
    if (e.type === 'detection.raised' && Number.isNaN(raisedAt[i]!)) {
      raisedAt[i] = e.receivedAt
      happenedAt[i] = Date.parse(e.at)
    }
    if (e.type === 'ticket.opened' && Number.isNaN(openedAt[i]!)) {
      openedAt[i] = e.receivedAt
      opened++
    }
  }
  await client.connect()
  try {
    const { result: publishedAt, ...rates } = await underTelemetry(fl, o, 'slt', async () => {
      const { publishedAt, last } = await publishFaults(devices, o.faultRate)
      while (opened < o.faults && now() - last < o.timeoutMs) await sleep(20)
      return publishedAt
    })
    if (devices.errors.length) throw new Error(`connection errors: ${devices.errors.slice(0, 3).join('; ')}`)
    const since = (at: number[]) => at.flatMap((t, i) => (Number.isNaN(t) ? [] : [t - publishedAt[i]!]))
    return { faults: o.faults, raisedMs: since(raisedAt), openedMs: since(openedAt), receivedMs: since(happenedAt), ...rates }
  } finally {
    client.close()
    await Promise.all(devices.conns.map((c) => c.close()))
  }
}

export interface StallPhase {
  /** Faultline's telemetry throughput during the phase, msg/s (and what was offered) */
  writtenMsgsPerS: number
  offeredMsgsPerS: number
  /** events the healthy client got during the phase */
  events: number
}

export interface StallResult {
  without: StallPhase
  with: StallPhase
  stallS: number
  /** the stalled client: events it should hold (the healthy client's, from its first id on), missing and extra ones */
  expected: number
  missing: number
  extra: number
  duplicates: number
  /** gap frames Faultline sent meanwhile (faultline_stream_gaps_total): the stalled client overflowed its buffer */
  gaps: number
  reconnects: number
  /** from the end of the stall until the stalled client's resume had sent the backfill (caught_up), s */
  catchUpS: number
}

/** Lead-in and tail around the stall, the same in both phases: faults flow before it starts and after it ends. */
export function stallPhase(stallS: number) {
  const leadS = Math.min(2, stallS)
  return { leadS, phaseS: leadS + stallS + Math.min(3, stallS) }
}

export async function stallRun(
  fl: ChildFaultline,
  o: BackgroundTelemetry & { stallS: number; faultRate: number; token: string; timeoutMs: number },
): Promise<StallResult> {
  const { leadS, phaseS } = stallPhase(o.stallS)
  const faultsPerPhase = Math.max(1, Math.round(o.faultRate * phaseS))
  const healthy = new StreamClient({ httpPort: fl.httpPort, token: o.token })
  await healthy.connect()
  const phase = async (name: string, during: (faultsDone: Promise<unknown>) => Promise<void>): Promise<StallPhase> => {
    const devices = await faultDevices(fl, name, faultsPerPhase)
    try {
      const before = healthy.events.length
      const { writtenMsgsPerS, offeredMsgsPerS } = await underTelemetry(fl, o, `${name}t`, async () => {
        const faults = publishFaults(devices, faultsPerPhase / phaseS)
        await during(faults)
        await faults
      })
      return { writtenMsgsPerS, offeredMsgsPerS, events: healthy.events.length - before }
    } finally {
      await Promise.all(devices.conns.map((c) => c.close()))
    }
  }
  let stalled: StreamClient | undefined
  try {
    const without = await phase('sa', async () => {})
    await quiet(healthy)
    stalled = new StreamClient({ httpPort: fl.httpPort, token: o.token, after: healthy.lastId })
    await stalled.connect()
    const firstId = healthy.lastId + 1
    let catchUpS = NaN
    const gaps0 = await serverGaps(fl)
    const withStall = await phase('sb', async () => {
      await sleep(leadS * 1000)
      stalled!.pause()
      await sleep(o.stallS * 1000)
      // Back after the stall, as a client that slept does: whatever its socket holds unread is dropped, and it
      // resumes from storage after the last id it holds (the contract's catch-up), while the faults go on.
      const back = now()
      await stalled!.reconnect()
      if (stalled!.failure) throw stalled!.failure
      catchUpS = (now() - back) / 1000
    })
    const gaps = (await serverGaps(fl)) - gaps0
    await quiet(healthy)
    await stalled.holds(healthy.lastId, o.timeoutMs)
    const expectedIds = [...healthy.arrivals.keys()].filter((id) => id >= firstId)
    const held = new Set(stalled.arrivals.keys())
    const missing = expectedIds.filter((id) => !held.has(id)).length
    const expected = new Set(expectedIds)
    return {
      without,
      with: withStall,
      stallS: o.stallS,
      expected: expectedIds.length,
      missing,
      extra: [...held].filter((id) => !expected.has(id)).length,
      duplicates: stalled.duplicates,
      gaps,
      reconnects: stalled.reconnects,
      catchUpS,
    }
  } finally {
    stalled?.close()
    healthy.close()
  }
}

const serverGaps = async (fl: ChildFaultline) => (await metrics(fl.httpPort))['faultline_stream_gaps_total'] ?? 0

/** Until the client has had no event for a second: the tickets behind the last faults are out. */
async function quiet(client: StreamClient) {
  let seen = -1
  while (seen !== client.events.length) {
    seen = client.events.length
    await sleep(1_000)
  }
}
