// Fault → ticket latency, the reason Faultline exists: devices publish `{"type":"fault","code":"E1"}` on
// devices/<id>/events at QoS 1, and we time, per fault, from its PUBACK until its repair ticket shows in
// GET /api/tickets. Used by bench/run.ts (the "tickets" cases); runs in the orchestrator process, which
// at these rates (tens to a thousand messages a second) has time to spare.
//
// Visibility is found by polling the ticket list (newest first, 25 a page, paging back only as far as the
// oldest ticket not yet seen) every 10 ms (by default); a ticket counts as visible when the response that first
// holds it arrives, so a figure carries up to one poll round (10 ms + the request) on top.
import type { ChildFaultline } from '../test/support/child-faultline.js'
import { connectRaw, publishPacket, PUBACK, type RawConnection } from './mqtt-raw.js'

export interface TicketRunOptions {
  /** device ids are `${prefix}-0000`, ... */
  prefix: string
  devices: number
  /** faults a second, spread evenly (one per device) */
  ratePerS: number
  /** give up waiting for tickets after this long past the last publish */
  timeoutMs: number
  /** pause between poll rounds (default 10 ms); every poll is work for Faultline too */
  pollIntervalMs?: number
}

export interface TicketRunResult {
  devices: number
  /** PUBACKs received */
  acked: number
  /** tickets seen for these devices */
  tickets: number
  /** tickets of these devices whose warranty decision is in_warranty (a sanity check: purchased a month ago) */
  inWarranty: number
  /** s from the first publish to the last publish */
  publishSpanS: number
  /** PUBACK → ticket visible in the list, ms, one per ticket; negative when the ticket showed before the PUBACK */
  latencies: number[]
  /** publish → ticket visible in the list, ms, one per ticket */
  fromPublishMs: number[]
  /** publish → PUBACK, ms */
  pubackMs: number[]
  /** PUBACK → the ticket's createdAt (Faultline's clock, the same machine; ms resolution), ms */
  createdMs: number[]
  /** ticket's createdAt → visible in the list, ms */
  visibleAfterCreateMs: number[]
  /** s from the first publish until every ticket was visible (NaN if some never were) */
  allVisibleS: number
  /** a poll round (the list requests of one poll), ms, one per poll */
  pollMs: number[]
}

const now = () => performance.timeOrigin + performance.now()
/** How long an id may be missing below seen ones before the poller takes it for never committed. */
const HOLE_MS = 5_000
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Runs `fn` over `items`, `concurrency` at a time. */
export async function pool<T, R>(items: T[], concurrency: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length)
  let next = 0
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++
        out[i] = await fn(items[i]!, i)
      }
    }),
  )
  return out
}

/** Devices of model BCD-516WDVL, each registered and connected over MQTT, ready to publish one fault each. */
export interface FaultDevices {
  ids: string[]
  conns: RawConnection[]
  /** connection errors reported meanwhile */
  errors: string[]
}

export async function faultDevices(fl: ChildFaultline, prefix: string, count: number): Promise<FaultDevices> {
  const ids = Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(4, '0')}`)
  // Bought a month ago: well inside any warranty, so the ticket goes through the full warranty decision.
  const purchasedAt = new Date(Date.now() - 30 * 86_400_000).toISOString().slice(0, 10)
  const tokens = await pool(ids, 16, (id) => fl.registerDevice(id, { serial: `BENCH-${id}`, purchasedAt }))
  const errors: string[] = []
  const conns = await pool(ids, 50, (id, i) => connectRaw(fl.mqttPort, id, tokens[i]!, (m) => errors.push(m)))
  return { ids, conns, errors }
}

const FAULT = JSON.stringify({ type: 'fault', code: 'E1' })

/**
 * One fault per device at QoS 1, `ratePerS` a second on schedule: every due publish goes out at each turn (a
 * 1,000/s storm cannot sleep 1 ms each). Resolves with each device's publish time and the span's ends.
 */
export async function publishFaults(d: FaultDevices, ratePerS: number): Promise<{ publishedAt: number[]; start: number; last: number }> {
  const publishedAt = new Array<number>(d.ids.length).fill(NaN)
  const interval = 1000 / ratePerS
  const start = now()
  for (let i = 0; i < d.ids.length;) {
    const due = Math.min(d.ids.length, Math.floor((now() - start) / interval) + 1)
    for (; i < due; i++) {
      publishedAt[i] = now()
      d.conns[i]!.socket.write(publishPacket(Buffer.from(`devices/${d.ids[i]}/events`), FAULT, 1, 1))
    }
    if (i < d.ids.length) await sleep(Math.max(0, start + i * interval - now()))
  }
  return { publishedAt, start, last: now() }
}

export async function ticketRun(fl: ChildFaultline, o: TicketRunOptions): Promise<TicketRunResult> {
  const devices = await faultDevices(fl, o.prefix, o.devices)
  const { ids, conns, errors } = devices
  const index = new Map(ids.map((id, i) => [id, i]))
  const ackedAt = new Array<number>(o.devices).fill(NaN)
  const seenAt = new Array<number>(o.devices).fill(NaN)
  const createdAt = new Array<number>(o.devices).fill(NaN)
  let acked = 0
  let seen = 0
  let inWarranty = 0
  conns.forEach((conn, i) => {
    conn.onPacket = (type) => {
      if (type === PUBACK && Number.isNaN(ackedAt[i]!)) {
        ackedAt[i] = now()
        acked++
      }
    }
  })

  // The poller: new tickets since the previous poll, newest first, every kind (so ids run without holes but
  // for numbers a rolled-back insert drew). Tickets commit out of id order (the rules stage has several lanes):
  // each poll pages back to the oldest id not yet seen, not to the newest, or a late commit would never be seen.
  // An id still missing after HOLE_MS while newer ones are seen was never committed.
  const pollMs: number[] = []
  const newestBefore = await fl.api('GET', '/api/tickets?limit=1')
  let floor: number = newestBefore.body.tickets?.[0]?.id ?? 0
  const seenIds = new Set<number>()
  const missingSince = new Map<number, number>()
  let polling = true
  const poller = (async () => {
    while (polling) {
      const t0 = now()
      let cursor: number | undefined
      let newest = floor
      for (;;) {
        const res = await fl.api('GET', `/api/tickets?limit=25${cursor ? `&cursor=${cursor}` : ''}`)
        const at = now()
        if (res.status !== 200) throw new Error(`GET /api/tickets: ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`)
        const page = res.body.tickets as { id: number; deviceId: string; createdAt: string; warranty: { decision: string } }[]
        for (const t of page) {
          newest = Math.max(newest, t.id)
          seenIds.add(t.id)
          const i = index.get(t.deviceId)
          if (i === undefined || !Number.isNaN(seenAt[i]!)) continue
          seenAt[i] = at
          createdAt[i] = Date.parse(t.createdAt)
          if (t.warranty?.decision === 'in_warranty') inWarranty++
          seen++
        }
        if (!res.body.next || page.length === 0 || page.at(-1)!.id <= floor) break
        cursor = res.body.next
      }
      for (let id = floor + 1; id < newest; id++) if (!seenIds.has(id) && !missingSince.has(id)) missingSince.set(id, t0)
      while (floor < newest && (seenIds.has(floor + 1) || t0 - (missingSince.get(floor + 1) ?? t0) > HOLE_MS)) {
        seenIds.delete(floor + 1)
        missingSince.delete(floor + 1)
        floor++
      }
      pollMs.push(now() - t0)
      if (seen === o.devices) break
      await sleep(o.pollIntervalMs ?? 10)
    }
  })()

  const { publishedAt, start, last: lastPublish } = await publishFaults(devices, o.ratePerS)

  // Wait for every ticket (or the timeout), then stop polling.
  while (seen < o.devices && now() - lastPublish < o.timeoutMs) await sleep(20)
  polling = false
  await poller
  await Promise.all(conns.map((c) => c.close()))
  if (errors.length) throw new Error(`connection errors: ${errors.slice(0, 3).join('; ')}`)

  const latencies: number[] = []
  const fromPublishMs: number[] = []
  const pubackMs: number[] = []
  const createdMs: number[] = []
  const visibleAfterCreateMs: number[] = []
  for (let i = 0; i < o.devices; i++) {
    if (!Number.isNaN(ackedAt[i]!)) pubackMs.push(ackedAt[i]! - publishedAt[i]!)
    if (Number.isNaN(seenAt[i]!)) continue
    // A ticket may show before its PUBACK arrives: the detectors see a record once admitted, and do not wait
    // for the write-ahead log's fsync that the PUBACK waits for.
    const from = Number.isNaN(ackedAt[i]!) ? publishedAt[i]! : ackedAt[i]!
    latencies.push(seenAt[i]! - from)
    fromPublishMs.push(seenAt[i]! - publishedAt[i]!)
    createdMs.push(createdAt[i]! - from)
    visibleAfterCreateMs.push(seenAt[i]! - createdAt[i]!)
  }
  return {
    devices: o.devices,
    acked,
    tickets: seen,
    inWarranty,
    publishSpanS: (lastPublish - start) / 1000,
    latencies,
    fromPublishMs,
    pubackMs,
    createdMs,
    visibleAfterCreateMs,
    allVisibleS: seen === o.devices ? (Math.max(...seenAt) - start) / 1000 : NaN,
    pollMs,
  }
}
