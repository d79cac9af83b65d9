// End-to-end benchmark: MQTT publish → validate → write-ahead log → batched writer → database, measured from
// the first publish until every row is committed (faultline_rows_written_total on GET /metrics), then checked
// against the rows actually in the database; each figure beside the ceiling of the same piece measured in this
// run (bench/ceilings.ts); fault → ticket and fault → live stream latencies, idle and under telemetry; a stalled
// stream client. `npm run bench` (-- --help for the options; -- --quick for a small run of every case).
//
// Faultline runs as a child process, as in production (node --import tsx src/main.ts), with bench/probe.ts
// preloaded to report its event-loop delay, RSS and CPU. The load generator (bench/load.ts) is another child:
// raw-socket MQTT connections publishing ~120-byte, 3-metric telemetry, pipelined. This process only
// orchestrates, polls /metrics, measures MQTT PINGREQ round trips on a connection of its own and reads the stream.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { CHILD_API_TOKEN, spawnFaultline, type ChildFaultline } from '../test/support/child-faultline.js'
import { bareBrokerCeiling, copyCeiling, telemetryRecords, writerCeiling } from './ceilings.js'
import { connectionsRun, describeConnections, withRaisedFileLimit } from './connections.js'
import { startGenerator, underTelemetry } from './generator.js'
import { metrics } from './metrics.js'
import { connectRaw, PINGRESP } from './mqtt-raw.js'
import { parseOptions, root, type Backend } from './options.js'
import type { ProbeReport } from './probe.js'
import {
  describeTickets,
  fmt,
  percentile,
  render,
  type CeilingCase,
  type ConnectionsCase,
  type IngestCase,
  type LatencyCase,
  type Results,
  type RunResult,
  type StallCase,
  type StreamCase,
  type TicketCase,
} from './report.js'
import { latencyRun, stallRun } from './stream.js'
import { ticketRun } from './tickets.js'

const ROWS_PER_MESSAGE = 3
const O = parseOptions()
const S = O.sizes

const log = (line: string) => process.stdout.write(`${line}\n`)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

// ---- Faultline as a child ---------------------------------------------------------------------------------------
/** test/support/child-faultline.ts's child, with bench/probe.ts preloaded and asked over IPC. */
interface Child extends ChildFaultline {
  probe(cmd: 'reset' | 'report'): Promise<ProbeReport | undefined>
}

async function startFaultlineChild(settings: Record<string, string>): Promise<Child> {
  const profile = O.profile ? ['--cpu-prof', `--cpu-prof-dir=${O.profile}`] : []
  // BENCH_NODE_ARGS: extra node flags for the Faultline child (experiments: --max-old-space-size=..., --import ...)
  const extra = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []
  const fl = await spawnFaultline(settings, {
    timeoutMs: 90_000,
    cwd: O.faultlineDir,
    ipc: true,
    // With its soft file limit raised to the hard one: the connections case holds one descriptor per device.
    // --max-semi-space-size as `npm start` and the Dockerfile run it (README, Performance).
    command: withRaisedFileLimit([
      process.execPath,
      '--max-semi-space-size=64',
      ...profile,
      ...extra,
      '--import',
      'tsx',
      '--import',
      path.join(root, 'bench/probe.ts'),
      'src/main.ts',
    ]),
  })
  let probeWaiter: ((r: ProbeReport) => void) | undefined
  fl.process.on('message', (m: ProbeReport) => {
    if (m?.type === 'probe') probeWaiter?.(m)
  })
  return Object.assign(fl, {
    async probe(cmd: 'reset' | 'report') {
      if (cmd === 'reset') {
        fl.process.send({ probe: 'reset' })
        return undefined
      }
      const report = new Promise<ProbeReport>((resolve) => (probeWaiter = resolve))
      fl.process.send({ probe: 'report' })
      return Promise.race([report, sleep(5_000).then(() => undefined)])
    },
  })
}

interface Started {
  fl: Child
  /** the server database it runs on (undefined: embedded) */
  url: string | undefined
  dataDir: string
}

/**
 * The Faultline children of one backend's cases: a fresh one (fresh database or data dir) for every run, so no run
 * inherits another's state; with --quick, one for every case of the backend, since starting a child (tsx, the
 * engine, migrations) would be most of a quick run. Device ids differ between cases, so they can share one.
 */
class Faultlines {
  private shared?: Promise<Started>
  constructor(private readonly server: ServerDb | undefined) {}

  async use<T>(fn: (fl: Child, url: string | undefined) => Promise<T>): Promise<T> {
    if (O.quick) {
      this.shared ??= this.start()
      const { fl, url } = await this.shared
      return fn(fl, url)
    }
    const started = await this.start()
    try {
      return await fn(started.fl, started.url)
    } finally {
      await this.stop(started)
    }
  }

  async close() {
    const shared = await this.shared?.catch(() => undefined)
    if (shared) await this.stop(shared)
  }

  private async start(): Promise<Started> {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'faultline-bench-'))
    try {
      const url = this.server ? await this.server.fresh() : undefined
      const fl = await startFaultlineChild({ FAULTLINE_DATA_DIR: dataDir, ...(url ? { DATABASE_URL: url } : {}) })
      return { fl, url, dataDir }
    } catch (err) {
      rmSync(dataDir, { recursive: true, force: true })
      throw err
    }
  }

  private async stop({ fl, dataDir }: Started) {
    await fl.stop()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

// ---- MQTT PINGREQ round trips from a connection of our own ------------------------------------------------------
async function startPinger(port: number, id: string, token: string) {
  const conn = await connectRaw(port, id, token)
  const rtts: number[] = []
  let running = true
  const loop = (async () => {
    while (running) {
      const t0 = performance.now()
      await new Promise<void>((resolve) => {
        conn.onPacket = (type) => type === PINGRESP && resolve()
        conn.socket.write(Buffer.from([0xc0, 0x00]))
      })
      rtts.push(performance.now() - t0)
      await sleep(20)
    }
  })()
  return {
    async stop() {
      running = false
      await Promise.race([loop, sleep(5_000)])
      conn.socket.destroy()
      return rtts
    },
  }
}

// ---- one ingest run ----------------------------------------------------------------------------------------------
async function ingestRun(fl: Child, backend: Backend, qos: 0 | 1, prefix: string, countRows: () => Promise<number>): Promise<RunResult> {
  const load = startGenerator()
  try {
    const ids = Array.from({ length: S.connections + 1 }, (_, i) => `${prefix}-${String(i).padStart(4, '0')}`)
    const tokens = await Promise.all(ids.map((id) => fl.registerDevice(id, { serial: `BENCH-${id}` })))
    const perConnection = Math.floor(S[`${backend}-messages`] / S.connections)
    const messages = perConnection * S.connections
    const expectedRows = messages * ROWS_PER_MESSAGE
    const rowsBefore = await countRows()
    await load.connect({
      port: fl.mqttPort,
      devices: ids.slice(1).map((id, i) => ({ id, token: tokens[i + 1]! })),
      qos,
      perConnection,
      window: S.window,
      batch: 32,
    })
    const pinger = await startPinger(fl.mqttPort, ids[0]!, tokens[0]!)
    const baseline = (await metrics(fl.httpPort))['faultline_rows_written_total'] ?? 0
    const loadAvg = os.loadavg()[0]!
    await fl.probe('reset')
    const sent = load.go()

    // Poll until every row is committed; give up when nothing moves for 30 s.
    let doneAt = 0
    let lastRows = -1
    let lastMoveAt = Date.now()
    let maxQueueRows = 0
    let m: Record<string, number> = {}
    for (;;) {
      await sleep(25)
      m = await metrics(fl.httpPort)
      const rows = (m['faultline_rows_written_total'] ?? 0) - baseline
      maxQueueRows = Math.max(maxQueueRows, m['faultline_write_queue_rows'] ?? 0)
      if (rows >= expectedRows) {
        doneAt = Date.now()
        break
      }
      if (rows !== lastRows) {
        lastRows = rows
        lastMoveAt = Date.now()
      } else if (Date.now() - lastMoveAt > 30_000) {
        throw new Error(`stalled at ${rows} of ${expectedRows} rows; load errors: ${load.errors.slice(0, 3).join('; ')}`)
      }
    }
    const probe = await fl.probe('report')
    const rtts = await pinger.stop()
    const s = await sent
    const seconds = (doneAt - s.firstPublishAt) / 1000
    const acceptedAt = s.allAckedAt ?? s.lastWrittenAt
    const rowsInDb = (await countRows()) - rowsBefore
    return {
      msgsPerS: messages / seconds,
      rowsPerS: expectedRows / seconds,
      acceptMsgsPerS: messages / ((acceptedAt - s.firstPublishAt) / 1000),
      seconds,
      eldP99: probe?.eld.p99 ?? NaN,
      eldMax: probe?.eld.max ?? NaN,
      pingP50: percentile(rtts, 50),
      pingP99: percentile(rtts, 99),
      rssPeakMb: probe?.rssPeakMb ?? NaN,
      cpuCores: probe?.cpuCores ?? NaN,
      cpuUsPerMsg: probe ? (probe.cpuCores * probe.windowMs * 1000) / messages : NaN,
      loadAvg,
      rowsInDb,
      expectedRows,
      maxQueueRows,
      backpressureWaits: m['faultline_backpressure_waits_total'] ?? 0,
      warnings: fl.warnings,
    }
  } finally {
    await load.close()
  }
}

// ---- databases ---------------------------------------------------------------------------------------------------
/** Rows in the telemetry table, through the API: per device, one 1-day bucket per metric with its count. */
function embeddedRowCounter(fl: Child, prefix: string) {
  return async () => {
    let total = 0
    for (let i = 1; i <= S.connections; i++) {
      const res = await fl.api('GET', `/api/devices/${prefix}-${String(i).padStart(4, '0')}/telemetry?bucket=1d&limit=1000`)
      for (const p of (res.body.points ?? []) as { count: number }[]) total += p.count
    }
    return total
  }
}

interface ServerDb {
  note: string
  /** a fresh database per run where we may create one, else the given one (rows counted as a difference) */
  fresh(): Promise<string>
  /** drops the databases fresh() created and stops a cluster of our own */
  cleanup(): Promise<void>
}

async function serverDatabase(): Promise<ServerDb | string> {
  const given = process.env.FAULTLINE_BENCH_DATABASE_URL
  let adminUrl: string
  let note: string
  let destroy = async () => {}
  if (given) {
    adminUrl = given
    note = 'the cluster FAULTLINE_BENCH_DATABASE_URL names (its own settings)'
  } else {
    const pgRoot = '/usr/lib/postgresql'
    if (!existsSync(pgRoot)) return 'PostgreSQL binaries not found under /usr/lib/postgresql and FAULTLINE_BENCH_DATABASE_URL is not set'
    const { throwawayCluster } = await import('../test/support/postgres.js')
    const cluster = await throwawayCluster()
    adminUrl = cluster.url
    destroy = async () => cluster.destroy()
    const version = execFileSync('ls', [pgRoot]).toString().trim().split('\n').sort().at(-1)
    note = `throwaway PostgreSQL ${version} cluster (test/support/postgres.ts: fsync=off, default settings otherwise)`
  }
  const admin = async <T>(fn: (c: pg.Client) => Promise<T>) => {
    const c = new pg.Client({ connectionString: adminUrl })
    await c.connect()
    try {
      return await fn(c)
    } finally {
      await c.end()
    }
  }
  const created: string[] = []
  return {
    note,
    fresh: () =>
      admin(async (c) => {
        const name = `faultline_bench_${process.pid}_${created.length}`
        try {
          await c.query(`CREATE DATABASE ${name}`)
        } catch {
          return adminUrl // no CREATEDB right: use the given database; rows are counted as a difference
        }
        created.push(name)
        const url = new URL(adminUrl)
        url.pathname = `/${name}`
        return url.toString()
      }),
    async cleanup() {
      // A shared cluster keeps nothing of ours; a cluster of our own goes as a whole.
      if (given)
        await admin(async (c) => {
          for (const name of created) await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
        })
      await destroy()
    },
  }
}

function serverRowCounter(url: string, prefix: string) {
  return async () => {
    const c = new pg.Client({ connectionString: url })
    await c.connect()
    try {
      const { rows } = await c.query<{ n: string }>(`SELECT count(*) AS n FROM telemetry WHERE device_id LIKE $1`, [`${prefix}-%`])
      return Number(rows[0]!.n)
    } finally {
      await c.end()
    }
  }
}

// ---- the cases ---------------------------------------------------------------------------------------------------
/** Runs `once` up to `runs` times into `c`, logging each; a failure ends the case with its message. */
async function repeat<R>(c: { name: string; runs: R[]; failed?: string }, runs: number, once: () => Promise<R>, describe: (r: R) => string) {
  for (let r = 0; r < runs; r++) {
    try {
      const result = await once()
      c.runs.push(result)
      log(`  ${c.name} run ${r + 1}: ${describe(result)}`)
    } catch (err) {
      c.failed = (err as Error).message
      log(`  ${c.name} run ${r + 1} failed: ${c.failed}`)
      return
    }
  }
}

/** What the pieces allow, this run: the bare broker once per QoS; the database of each backend measured. */
async function ceilingCases(backends: Backend[], server: ServerDb | string | undefined): Promise<CeilingCase[]> {
  const cases: CeilingCase[] = []
  const broker = { connections: S.connections, messages: S['ceiling-messages'], window: S.window }
  for (const qos of O.qos) {
    const c: CeilingCase = { key: `aedes${qos}`, name: `bare aedes, QoS ${qos}`, unit: 'msg/s', runs: [] }
    cases.push(c)
    await repeat(
      c,
      S.runs,
      () => bareBrokerCeiling({ ...broker, qos }),
      (r) => `${fmt(r)} msg/s`,
    )
  }
  const devices = Array.from({ length: S.connections }, (_, i) => `bench-${String(i + 1).padStart(4, '0')}`)
  if (backends.includes('server')) {
    const records = telemetryRecords(devices, S['server-messages'])
    const copy: CeilingCase = { key: 'copy', name: 'PostgreSQL COPY ×4', unit: 'rows/s', runs: [] }
    const statement: CeilingCase = { key: 'serverStatement', name: "PostgreSQL, Faultline's INSERT ×4", unit: 'rows/s', runs: [] }
    cases.push(copy, statement)
    if (typeof server === 'string') copy.skipped = statement.skipped = server
    else {
      await repeat(
        copy,
        S.runs,
        async () => copyCeiling(await server!.fresh(), records),
        (r) => `${fmt(r)} rows/s`,
      )
      await repeat(
        statement,
        S.runs,
        async () => writerCeiling(await server!.fresh(), records),
        (r) => `${fmt(r)} rows/s`,
      )
    }
  }
  if (backends.includes('embedded')) {
    const c: CeilingCase = { key: 'pglite', name: 'PGlite alone', unit: 'rows/s', runs: [] }
    cases.push(c)
    const records = telemetryRecords(devices, S['embedded-messages'])
    await repeat(
      c,
      S.runs,
      () => writerCeiling(undefined, records),
      (r) => `${fmt(r)} rows/s`,
    )
  }
  return cases
}

async function ingestCases(backend: Backend, faultlines: Faultlines): Promise<IngestCase[]> {
  const cases: IngestCase[] = []
  for (const qos of O.qos) {
    const c: IngestCase = { name: `${backend} QoS ${qos}`, backend, qos, runs: [] }
    cases.push(c)
    const prefix = `bench${qos}`
    await repeat(
      c,
      S.runs,
      () =>
        // The embedded database is only reachable through Faultline: count through its API.
        faultlines.use((fl, url) => ingestRun(fl, backend, qos, prefix, url ? serverRowCounter(url, prefix) : embeddedRowCounter(fl, prefix))),
      (r) =>
        `${fmt(r.msgsPerS)} msg/s, ${fmt(r.rowsPerS)} rows/s in ${r.seconds.toFixed(1)} s; ` +
        `accepted ${fmt(r.acceptMsgsPerS)} msg/s; event-loop p99 ${r.eldP99.toFixed(1)} ms, ping p99 ${r.pingP99.toFixed(1)} ms; ` +
        `RSS ${r.rssPeakMb.toFixed(0)} MB; ${r.cpuCores.toFixed(2)} cores; rows in db ${r.rowsInDb}/${r.expectedRows}`,
    )
  }
  return cases
}

/** One Faultline per run: the paced faults idle, the same under background telemetry, then the storm from as many other devices. */
async function ticketCases(backend: Backend, faultlines: Faultlines): Promise<TicketCase[]> {
  const paced = { devices: S['ticket-devices'], ratePerS: S['ticket-rate'], timeoutMs: 30_000 }
  const background = { telemetryRate: S['background-rate'], connections: S.connections }
  const idle: TicketCase = { name: `${backend}, ${fmt(paced.devices)} faults at ${paced.ratePerS}/s`, backend, kind: 'paced', runs: [], warnings: [] }
  const loaded: TicketCase = {
    ...idle,
    name: `${idle.name}, ${fmt(background.telemetryRate)} msg/s of telemetry offered`,
    kind: 'loaded',
    runs: [],
    background: [],
  }
  const storm: TicketCase = { name: `${backend}, storm: ${fmt(S['storm-devices'])} faults in ~1 s`, backend, kind: 'storm', runs: [], warnings: [] }
  const cases = [idle, loaded, storm]
  for (let r = 0; r < S['ticket-runs']; r++) {
    let current = idle
    try {
      await faultlines.use(async (fl) => {
        try {
          const p = await ticketRun(fl, { prefix: `tk${r}`, ...paced })
          idle.runs.push(p)
          log(`  ${idle.name} run ${r + 1}: ${describeTickets(p)}`)
          current = loaded
          const l = await underTelemetry(fl, background, `tb${r}`, () => ticketRun(fl, { prefix: `tl${r}`, ...paced }))
          loaded.runs.push(l.result)
          loaded.background!.push({ offered: l.offeredMsgsPerS, written: l.writtenMsgsPerS })
          log(
            `  ${loaded.name} run ${r + 1}: ${describeTickets(l.result)}; telemetry offered ${fmt(l.offeredMsgsPerS)}, written ${fmt(l.writtenMsgsPerS)} msg/s`,
          )
          current = storm
          const s = await ticketRun(fl, {
            prefix: `st${r}`,
            devices: S['storm-devices'],
            ratePerS: S['storm-devices'],
            timeoutMs: 60_000,
            pollIntervalMs: S['storm-poll-ms'],
          })
          storm.runs.push(s)
          log(`  ${storm.name} run ${r + 1}: ${describeTickets(s)}`)
        } finally {
          for (const w of fl.warnings) if (!idle.warnings.includes(w)) idle.warnings.push(w)
        }
      })
    } catch (err) {
      current.failed = (err as Error).message
      log(`  ${current.name} run ${r + 1} failed: ${current.failed}`)
      break
    }
  }
  return cases
}

/** The live stream, one run each on one Faultline: latency under telemetry, then a stalled client. */
async function streamCases(backend: Backend, faultlines: Faultlines): Promise<StreamCase[]> {
  const background = { telemetryRate: S['background-rate'], connections: S.connections, token: CHILD_API_TOKEN, timeoutMs: 60_000 }
  const latency: LatencyCase = {
    kind: 'latency',
    name: `${backend}, ${fmt(S['stream-faults'])} faults at ${S['stream-fault-rate']}/s, ${fmt(background.telemetryRate)} msg/s of telemetry offered`,
    backend,
    runs: [],
  }
  const stall: StallCase = {
    kind: 'stall',
    name: `${backend}, a client stalled ${S['stall-s']} s, ${fmt(background.telemetryRate)} msg/s of telemetry and ${S['stall-fault-rate']} faults/s offered`,
    backend,
    runs: [],
  }
  const ms = (xs: number[]) => `p50 ${percentile(xs, 50).toFixed(0)} / p99 ${percentile(xs, 99).toFixed(0)} / max ${Math.max(...xs).toFixed(0)} ms`
  await faultlines
    .use(async (fl) => {
      await repeat(
        latency,
        1,
        () => latencyRun(fl, { ...background, faults: S['stream-faults'], faultRate: S['stream-fault-rate'] }),
        (r) =>
          `${r.raisedMs.length}/${r.faults} detection.raised ${ms(r.raisedMs)}; ${r.openedMs.length}/${r.faults} ticket.opened ${ms(r.openedMs)}; ` +
          `publish → received ${ms(r.receivedMs)}; telemetry offered ${fmt(r.offeredMsgsPerS)}, written ${fmt(r.writtenMsgsPerS)} msg/s`,
      )
      await repeat(
        stall,
        1,
        () => stallRun(fl, { ...background, stallS: S['stall-s'], faultRate: S['stall-fault-rate'] }),
        (r) =>
          `written ${fmt(r.without.writtenMsgsPerS)} msg/s without, ${fmt(r.with.writtenMsgsPerS)} with the stalled client; ` +
          `it holds ${r.expected - r.missing}/${r.expected} events (${r.extra} extra, ${r.duplicates} twice) after ${r.gaps} gap(s) and ${r.reconnects} reconnect(s), caught up ${r.catchUpS.toFixed(1)} s after reconnecting`,
      )
    })
    .catch((err: Error) => (latency.failed ??= err.message)) // Faultline did not start or stop
  return [latency, stall]
}

/** Many devices connected at once, one run on a Faultline of its own. */
async function connectionsCase(backend: Backend, faultlines: Faultlines): Promise<ConnectionsCase> {
  const c: ConnectionsCase = { name: `${backend}, ${fmt(S['connect-devices'])} devices publishing every 10 s`, backend, runs: [] }
  await repeat(
    c,
    1,
    () => faultlines.use((fl) => connectionsRun(fl, { devices: S['connect-devices'], everyMs: 10_000, apiS: S['connect-api-s'] })),
    describeConnections,
  )
  return c
}

// ---- main --------------------------------------------------------------------------------------------------------
async function main() {
  const started = Date.now()
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU'
  log(
    `Faultline benchmark${O.quick ? ' (--quick)' : ''}: ${os.cpus().length} × ${cpu}, Node ${process.version}, ${S.runs} run(s) per case, ${S.connections} connections`,
  )
  const results: Results = { ceilings: [], ingest: [], tickets: [], stream: [], connections: [] }
  let serverNote = ''
  const server = O.backends.includes('server') ? await serverDatabase() : undefined
  try {
    if (typeof server === 'string') log(`server backend skipped: ${server}`)
    else if (server) serverNote = server.note
    if (O.cases.includes('ingest')) results.ceilings = await ceilingCases(O.backends, server)
    for (const backend of O.backends) {
      const db = backend === 'server' ? server : undefined
      if (typeof db === 'string') {
        if (O.cases.includes('ingest')) for (const qos of O.qos) results.ingest.push({ name: `server QoS ${qos}`, backend, qos, runs: [], skipped: db })
        if (O.cases.includes('tickets')) results.tickets.push({ name: 'server', backend, kind: 'paced', runs: [], warnings: [], skipped: db })
        if (O.cases.includes('stream')) results.stream.push({ name: 'server', backend, kind: 'latency', runs: [], skipped: db })
        if (O.cases.includes('connections')) results.connections.push({ name: 'server', backend, runs: [], skipped: db })
        continue
      }
      const faultlines = new Faultlines(db)
      try {
        if (O.cases.includes('ingest')) results.ingest.push(...(await ingestCases(backend, faultlines)))
        if (O.cases.includes('tickets')) results.tickets.push(...(await ticketCases(backend, faultlines)))
        if (O.cases.includes('stream')) results.stream.push(...(await streamCases(backend, faultlines)))
        if (O.cases.includes('connections')) results.connections.push(await connectionsCase(backend, faultlines))
      } finally {
        await faultlines.close()
      }
    }
  } finally {
    if (typeof server === 'object') await server.cleanup()
  }
  const report = render(results, { cpu, serverNote, minutes: (Date.now() - started) / 60_000, options: O })
  log('')
  log(report)
  if (O.out) {
    mkdirSync(path.dirname(O.out), { recursive: true })
    writeFileSync(O.out, report)
    log(`written to ${path.relative(process.cwd(), O.out)}`)
  }
  // No thresholds: a target missed is a finding in the report, a case that crashed is a failure.
  const failed = [...results.ceilings, ...results.ingest, ...results.tickets, ...results.stream, ...results.connections].filter((c) => c.failed)
  if (failed.length > 0) {
    log(`bench: ${failed.length} case(s) failed: ${failed.map((c) => c.name).join('; ')}`)
    process.exitCode = 1
  }
}

await main()
