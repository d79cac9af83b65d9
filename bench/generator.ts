// The parent's side of the load generator (bench/load.ts, forked so it shares no event loop with Faultline or
// with the orchestrator): start it, wait for its reports, close it.
import { fork } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ChildFaultline } from '../test/support/child-faultline.js'
import type { LoadConfig, LoadReport } from './load.js'
import { metrics } from './metrics.js'
import { pool } from './tickets.js'

const here = path.dirname(fileURLToPath(import.meta.url))

export interface Generator {
  /** connects every device of `config`, resolves once all have their CONNACK */
  connect(config: LoadConfig): Promise<void>
  /** starts publishing; resolves with the generator's timings once it is done (a backlog) or stopped (an offered rate) */
  go(timeoutMs?: number): Promise<Extract<LoadReport, { type: 'sent' }>>
  /** an offered rate: stop publishing (go() then resolves) */
  stop(): void
  /** the connection errors it reported */
  readonly errors: string[]
  close(): Promise<void>
}

export function startGenerator(): Generator {
  const child = fork(path.join(here, 'load.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const waiters = new Map<string, (m: LoadReport) => void>()
  const errors: string[] = []
  child.on('message', (m: LoadReport) => {
    if (m.type === 'error') errors.push(m.message)
    waiters.get(m.type)?.(m)
  })
  const next = <T extends LoadReport['type']>(type: T, timeoutMs: number) =>
    new Promise<Extract<LoadReport, { type: T }>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`load generator: no '${type}' in ${timeoutMs} ms ${errors.slice(0, 3).join('; ')}`)), timeoutMs)
      waiters.set(type, (m) => {
        clearTimeout(timer)
        resolve(m as Extract<LoadReport, { type: T }>)
      })
    })
  return {
    errors,
    async connect(config) {
      const connected = next('connected', 60_000)
      child.send({ cmd: 'start', config })
      await connected
    },
    go(timeoutMs = 600_000) {
      const sent = next('sent', timeoutMs)
      child.send({ cmd: 'go' })
      return sent
    },
    stop() {
      child.send({ cmd: 'stop' })
    },
    async close() {
      const closed = next('closed', 10_000).catch(() => undefined)
      if (child.connected) child.send({ cmd: 'close' })
      await closed
      child.kill()
    },
  }
}

/** Telemetry at an offered rate from devices of its own (`${prefix}-0000`...), registered and connected beforehand. */
export interface OfferedTelemetry {
  /** starts publishing; the returned stop() ends it and says what was sent */
  run(): { stop(): Promise<{ messages: number; seconds: number; behind: number }> }
  close(): Promise<void>
}

export async function offeredTelemetry(fl: ChildFaultline, o: { prefix: string; connections: number; ratePerS: number }): Promise<OfferedTelemetry> {
  if (o.ratePerS / o.connections > 1_000) throw new Error(`offered telemetry: at most 1,000 msg/s a connection (${o.ratePerS} over ${o.connections})`)
  const ids = Array.from({ length: o.connections }, (_, i) => `${o.prefix}-${String(i).padStart(4, '0')}`)
  const tokens = await pool(ids, 16, (id) => fl.registerDevice(id, { serial: `BENCH-${id}` }))
  const load = startGenerator()
  await load.connect({
    port: fl.mqttPort,
    devices: ids.map((id, i) => ({ id, token: tokens[i]! })),
    qos: 0,
    perConnection: Number.MAX_SAFE_INTEGER,
    ratePerS: o.ratePerS,
    window: 1,
    batch: 1,
  })
  return {
    run() {
      const sent = load.go()
      return {
        async stop() {
          load.stop()
          const s = await sent
          return { messages: s.messages, seconds: (s.lastWrittenAt - s.firstPublishAt) / 1000, behind: s.behindAtStop ?? 0 }
        },
      }
    },
    close: () => load.close(),
  }
}

/** Telemetry offered beside a case's own traffic. */
export interface BackgroundTelemetry {
  /** msg/s in all, over `connections` devices of its own */
  telemetryRate: number
  connections: number
}

const ROWS_PER_MESSAGE = 3
/**
 * How long telemetry runs before `during` starts: a case measures Faultline under a steady load, not the start-up
 * of 100 connections flooding at once (their first second is a transient of its own, read as seconds of latency).
 */
export const WARM_UP_MS = 2_000
const now = () => performance.timeOrigin + performance.now()
const rowsWritten = async (fl: ChildFaultline) => (await metrics(fl.httpPort))['faultline_rows_written_total'] ?? 0

/**
 * Telemetry offered while `during` runs (which starts after WARM_UP_MS of it): what was offered, and what Faultline wrote (all rows ÷ 3) from the first
 * publish until it has written every row offered (or wrote nothing more for 2 s), msg/s. Timed to the last row, not
 * to the end of `during`: Faultline may be seconds behind, and a short window would count its lag as lost throughput.
 */
export async function underTelemetry<T>(fl: ChildFaultline, load: BackgroundTelemetry, prefix: string, during: () => Promise<T>) {
  const telemetry = await offeredTelemetry(fl, { prefix, connections: load.connections, ratePerS: load.telemetryRate })
  try {
    const rows0 = await rowsWritten(fl)
    const t0 = now()
    const run = telemetry.run()
    await new Promise((r) => setTimeout(r, WARM_UP_MS))
    const result = await during()
    const sent = await run.stop()
    let rows = (await rowsWritten(fl)) - rows0
    let movedAt = now()
    while (rows < sent.messages * ROWS_PER_MESSAGE && now() - movedAt < 2_000) {
      await new Promise((r) => setTimeout(r, 100))
      const latest = (await rowsWritten(fl)) - rows0
      if (latest > rows) movedAt = now()
      rows = latest
    }
    const seconds = (movedAt - t0) / 1000
    return { result, offeredMsgsPerS: sent.messages / sent.seconds, writtenMsgsPerS: rows / ROWS_PER_MESSAGE / seconds }
  } finally {
    await telemetry.close()
  }
}
