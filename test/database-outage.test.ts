// The gateway rides out a database outage of any length (issue 8, items 7 and 8): the PostgreSQL server stopped
// hard, its backends terminated, or the whole server frozen. Faultline runs as a child process, so an exit is
// seen; devices publish real QoS 1 streams over TCP; what was acknowledged is read back from the database.
import { mkdtempSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { MqttClient } from 'mqtt'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { READINESS_TIMEOUT_MS } from '../src/api/operations.js'
import { openServerDatabase } from '../src/store/server/index.js'
import { spawnFaultline, type ChildFaultline } from './support/child-faultline.js'
import { backends, eventually } from './support/faultline.js'
import { metricValue } from './support/metrics.js'
import { connectDevice, tcpUrl } from './support/mqtt.js'
import { throwawayCluster, type ThrowawayCluster } from './support/postgres.js'

const hasServer = backends().includes('server')

/** A device publishing QoS 1 telemetry one message at a time, each after the last one's PUBACK. */
interface Stream {
  deviceId: string
  /** the seq of every message PUBACKed so far */
  acked: number[]
  /** stops publishing; resolves once the message in flight is acknowledged, rejects if a publish failed */
  stop(): Promise<void>
}

const pace = () => new Promise((resolve) => setTimeout(resolve, 20)) // load shaping (~50 msg/s), not pipeline timing

/** `width` metrics a message besides `temp`: wider messages make longer writes, so more of them are in flight. */
function stream(client: MqttClient, deviceId: string, t0: number, width = 0): Stream {
  const extra = Object.fromEntries(Array.from({ length: width }, (_, k) => [`m${k}`, k]))
  const acked: number[] = []
  let running = true
  // Settles with the publish that failed, if one did (the connection lost as Faultline exits): stop() reports it.
  const done = (async () => {
    for (let seq = 0; running; seq++) {
      await client.publishAsync(`devices/${deviceId}/telemetry`, JSON.stringify({ ts: t0 + seq * 10, seq, metrics: { temp: seq, ...extra } }), { qos: 1 })
      acked.push(seq)
      await pace()
    }
  })().then(
    () => undefined,
    (err: Error) => err,
  )
  return {
    deviceId,
    acked,
    stop: async () => {
      running = false
      const failed = await done
      if (failed) throw new Error(`${deviceId}: a publish failed: ${failed.message}`)
    },
  }
}

/** Every stored value of a device's `temp`, read straight from the database. */
async function storedSeqs(url: string, deviceId: string): Promise<number[]> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const { rows } = await client.query<{ value: number }>(`SELECT value FROM telemetry WHERE device_id = $1 AND metric = 'temp' ORDER BY value`, [deviceId])
    return rows.map((r) => r.value)
  } finally {
    await client.end()
  }
}

/** /readyz, with how long it took to answer. */
async function readyz(fl: ChildFaultline): Promise<{ status: number; body: Record<string, string>; ms: number }> {
  const started = Date.now()
  const res = await fetch(`http://127.0.0.1:${fl.httpPort}/readyz`)
  return { status: res.status, body: (await res.json()) as Record<string, string>, ms: Date.now() - started }
}

/** Readiness answers within its bound (plus the loaded CI machine's slack), and what it says. */
async function readyzInBound(fl: ChildFaultline) {
  const answer = await readyz(fl)
  expect(answer.ms).toBeLessThan(READINESS_TIMEOUT_MS + 1_500)
  return answer
}

const baseTime = () => Math.floor(Date.now() / 1000) * 1000 - 20 * 60_000

/** Faultline on the cluster with devices streaming to it; `close` stops the streams and then the process. */
async function gatewayUnderLoad(cluster: ThrowawayCluster, deviceIds: string[]) {
  const fl = await spawnFaultline({ FAULTLINE_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'faultline-outage-')), DATABASE_URL: cluster.url })
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined
  void fl.exited.then((e) => (exit = e))
  const clients = new Map<string, MqttClient>()
  try {
    for (const id of deviceIds) clients.set(id, await connectDevice(tcpUrl(fl.mqttPort), id, await fl.registerDevice(id)))
  } catch (err) {
    fl.process.kill('SIGKILL')
    throw err
  }
  const t0 = baseTime()
  /** Fails, saying how the process ended and the errors it logged, should it have exited. */
  const expectAlive = () => {
    if (!exit) return
    const errors = fl.logs.filter((l) => (l.level as number) >= 50).map((l) => `${String(l.msg)} ${JSON.stringify(l.err ?? '')}`)
    throw new Error(`Faultline exited (${exit.code ?? exit.signal}): ${errors.join('; ').slice(0, 2_000)}`)
  }
  return {
    fl,
    clients,
    expectAlive,
    /** eventually(check), failing at once should the process exit meanwhile (a check that throws may be its shutdown) */
    until: <T>(check: () => Promise<T | undefined>, timeoutMs?: number) =>
      eventually(async () => {
        expectAlive()
        try {
          return await check()
        } catch (err) {
          await Promise.race([fl.exited, new Promise((resolve) => setTimeout(resolve, 5_000))])
          expectAlive()
          throw err
        }
      }, timeoutMs),
    start: (ids: string[], width?: number) => ids.map((id) => stream(clients.get(id)!, id, t0, width)),
    /** every acknowledged message of each stream stored, each once */
    expectStored: async (streams: Stream[]) => {
      for (const s of streams) {
        const stored = await eventually(async () => {
          expectAlive()
          const seqs = await storedSeqs(cluster.url, s.deviceId)
          return seqs.length >= s.acked.length ? seqs : undefined
        }, 60_000)
        expect(stored).toEqual([...s.acked].sort((a, b) => a - b))
      }
    },
    close: async () => {
      for (const c of clients.values()) c.end(true)
      const code = await fl.stop()
      expect(code, 'a graceful stop after the outage').toEqual({ code: 0, signal: null })
    },
  }
}

describe.skipIf(!hasServer)('a database outage on the server backend, Faultline in its own process', () => {
  let cluster: ThrowawayCluster
  beforeAll(async () => {
    cluster = await throwawayCluster()
  })
  afterAll(() => cluster?.destroy())

  it('rides out the server stopped hard for 20 s mid QoS 1 stream: stays up, stores every acknowledged message once, and opens the ticket for a fault raised meanwhile', async () => {
    const gw = await gatewayUnderLoad(cluster, ['out-1', 'out-2', 'out-3', 'out-quiet'])
    try {
      const streams = gw.start(['out-1', 'out-2', 'out-3'], 30)
      await gw.until(async () => ((await metricValue(gw.fl.httpPort, 'faultline_rows_written_total')) >= 30 ? true : undefined))

      cluster.stop()
      const stoppedAt = Date.now()
      // The writer has met the outage, transactions in flight included.
      await gw.until(async () => ((await metricValue(gw.fl.httpPort, 'faultline_write_retries_total')) > 0 ? true : undefined))
      // Raised, and heard from a device that says nothing else, while the database is gone: both acknowledged from the log.
      await gw.clients.get('out-1')!.publishAsync('devices/out-1/events', JSON.stringify({ type: 'fault', code: 'E1' }), { qos: 1 })
      await gw.clients.get('out-quiet')!.publishAsync('devices/out-quiet/status', JSON.stringify({ online: true }), { qos: 1 })
      const down = await readyzInBound(gw.fl)
      expect(down.status).toBe(503)
      expect(down.body).toMatchObject({ status: 'not_ready', broker: 'ok', database: expect.stringMatching(/^unreachable: .*ECONNREFUSED/) })
      // An API request that needs the database says so at once, and what is wrong.
      const devices = await gw.fl.api('GET', '/api/devices/out-1')
      expect(devices.status).toBe(503)
      expect(devices.body).toMatchObject({ error: 'database_unavailable', message: expect.stringMatching(/ECONNREFUSED/) })
      const ackedBefore = streams.map((s) => s.acked.length)

      // The outage itself: the length is the point of the test, not a wait for the pipeline.
      await new Promise((resolve) => setTimeout(resolve, 20_000 - (Date.now() - stoppedAt)))
      gw.expectAlive()
      // Still acknowledging throughout, from the write-ahead log.
      streams.forEach((s, i) => expect(s.acked.length).toBeGreaterThan(ackedBefore[i]! + 10))

      cluster.start()
      await gw.until(async () => ((await readyz(gw.fl)).status === 200 ? true : undefined), 30_000)
      await Promise.all(streams.map((s) => s.stop()))

      await gw.expectStored(streams)
      const tickets = await gw.until(async () => {
        const t = (await gw.fl.api('GET', '/api/tickets?deviceId=out-1')).body.tickets
        return t.length > 0 ? t : undefined
      }, 30_000)
      expect(tickets).toMatchObject([{ code: 'E1', status: 'open' }])
      // Its last-seen time, whose update failed during the outage, is written once the database is back.
      await gw.until(async () => ((await gw.fl.api('GET', '/api/devices/out-quiet')).body.lastSeenAt ? true : undefined))
      gw.expectAlive()
      await gw.close()
    } finally {
      gw.fl.process.kill('SIGKILL')
      cluster.start()
    }
  }, 180_000)

  it('survives its connections being terminated under load (pg_terminate_backend), and stores every acknowledged message once', async () => {
    const gw = await gatewayUnderLoad(cluster, ['term-1', 'term-2', 'term-3'])
    const admin = new pg.Client({ connectionString: cluster.url })
    await admin.connect()
    try {
      const streams = gw.start(['term-1', 'term-2', 'term-3'], 100)
      const metric = (name: string) => metricValue(gw.fl.httpPort, name)
      // Each round cuts every connection Faultline has, then waits for writing to resume; rounds go on until
      // writes were cut in flight (each one a retry), the case that used to end the process.
      const retriesBefore = await metric('faultline_write_retries_total')
      for (let round = 0; round < 60 && (await metric('faultline_write_retries_total')) < retriesBefore + 3; round++) {
        const before = await metric('faultline_rows_written_total')
        await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`)
        await gw.until(async () => ((await metric('faultline_rows_written_total')) > before + 200 ? true : undefined), 30_000)
      }
      expect(await metric('faultline_write_retries_total')).toBeGreaterThanOrEqual(retriesBefore + 3)
      await Promise.all(streams.map((s) => s.stop()))
      gw.expectAlive()
      await gw.expectStored(streams)
      expect((await readyzInBound(gw.fl)).status).toBe(200)
      await gw.close()
    } finally {
      await admin.end()
      gw.fl.process.kill('SIGKILL')
    }
  }, 120_000)

  it('answers readiness within its bound while the server is frozen (SIGSTOP), saying so, keeps the API bounded, and recovers on SIGCONT', async () => {
    const gw = await gatewayUnderLoad(cluster, ['frz-1', 'frz-2'])
    try {
      const streams = gw.start(['frz-1', 'frz-2'])
      await gw.until(async () => ((await metricValue(gw.fl.httpPort, 'faultline_rows_written_total')) >= 20 ? true : undefined))
      cluster.freeze()
      let request: Promise<{ status: number; body: unknown }>
      try {
        // Several pollers at once (load balancers, monitoring): each answer in bound and saying what is wrong.
        const answers = await Promise.all(Array.from({ length: 8 }, () => readyzInBound(gw.fl)))
        for (const a of answers) {
          expect(a.status).toBe(503)
          expect(a.body).toMatchObject({ status: 'not_ready', broker: 'ok', database: expect.stringMatching(/^(no answer within \d+ ms|unreachable: .+)$/) })
        }
        // The probes share one query, so they hold no pool connection the frozen server keeps: an API request
        // waits for the server (or, at most, its bounded wait for a connection), and never fails as a 500.
        request = gw.fl.api('GET', '/api/devices/frz-1')
        await new Promise((resolve) => setTimeout(resolve, 6_000)) // the freeze outlasts the pool's connection wait
      } finally {
        cluster.thaw()
      }
      const answer = await request
      if (answer.status === 503) expect(answer.body).toMatchObject({ error: 'database_unavailable' })
      else expect(answer.status).toBe(200)
      await gw.until(async () => ((await readyzInBound(gw.fl)).status === 200 ? true : undefined), 30_000)
      await Promise.all(streams.map((s) => s.stop()))
      gw.expectAlive()
      await gw.expectStored(streams)
      await gw.close()
    } finally {
      gw.fl.process.kill('SIGKILL')
    }
  }, 120_000)
})

describe.skipIf(!hasServer)('the server backend against a frozen server', () => {
  let cluster: ThrowawayCluster
  beforeAll(async () => {
    cluster = await throwawayCluster()
  })
  afterAll(() => cluster?.destroy())

  it('gives up on a transaction the server stopped answering, drops that connection, and works again once it answers', async () => {
    const timeouts = { connectMs: 1_000, statementMs: 5_000, queryMs: 1_000 }
    const db = await openServerDatabase(cluster.url, () => {}, timeouts)
    try {
      await db.exec('CREATE TABLE IF NOT EXISTS t (v int)')
      // Every pooled connection open and idle, so the frozen server already holds each of them.
      await Promise.all(Array.from({ length: 8 }, () => db.transaction((tx) => tx.query('SELECT pg_sleep(0.05)'))))
      cluster.freeze()
      // Should a wait not be bounded, the thaw still comes, and the test fails on its bounds instead of hanging.
      const thawAnyway = setTimeout(() => cluster.thaw(), 8_000)
      try {
        const started = Date.now()
        // More transactions than the pool has connections: each fails in bound, none waits for the thaw.
        const outcomes = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => db.transaction((tx) => tx.query('INSERT INTO t VALUES ($1)', [i]))))
        expect(Date.now() - started).toBeLessThan(timeouts.queryMs + timeouts.connectMs + 2_000)
        for (const o of outcomes) {
          expect(o.status).toBe('rejected')
          expect((o as PromiseRejectedResult).reason).toMatchObject({ name: 'DatabaseUnavailable' })
        }
        await expect(db.ping()).rejects.toMatchObject({ name: 'DatabaseUnavailable' })
      } finally {
        clearTimeout(thawAnyway)
        cluster.thaw()
      }
      // The timed-out connections were dropped, not handed out again with a stale answer pending.
      await Promise.all(Array.from({ length: 12 }, (_, i) => db.transaction((tx) => tx.query('INSERT INTO t VALUES ($1)', [100 + i]))))
      // Those given up on were never committed; the ones after the thaw all were.
      const { rows } = await db.query<{ v: number }>('SELECT v FROM t ORDER BY v')
      expect(rows.map((r) => r.v)).toEqual(Array.from({ length: 12 }, (_, i) => 100 + i))
      await db.ping()
    } finally {
      await db.close()
    }
  }, 60_000)
})
