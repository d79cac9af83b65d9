// End-to-end ingest benchmark: MQTT publish → validate → write-ahead log → batched writer → database, measured from
// the first publish until every row is committed (faultline_rows_written_total on GET /metrics), then checked
// against the rows actually in the database. `npm run bench` (-- --help for the options).
//
// Faultline runs as a child process, as in production (node --import tsx src/main.ts), with bench/probe.ts
// preloaded to report its event-loop delay, RSS and CPU. The load generator (bench/load.ts) is another child:
// 100 raw-socket MQTT connections publishing ~120-byte, 3-metric telemetry, pipelined. This process only
// orchestrates, polls /metrics and measures MQTT PINGREQ round trips on a connection of its own.
import { execFileSync, fork } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { spawnFaultline, type ChildFaultline } from '../test/support/child-faultline.js'
import type { LoadConfig, LoadReport } from './load.js'
import { connectRaw, PINGRESP } from './mqtt-raw.js'
import type { ProbeReport } from './probe.js'
import { ticketRun, type TicketRunResult } from './tickets.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const ROWS_PER_MESSAGE = 3

// ---- options ----------------------------------------------------------------------------------------------------
const HELP = `npm run bench -- [options]
  --runs N                 runs per case, the median is reported (default 3)
  --backends LIST          embedded,server (default both; server needs PostgreSQL binaries or FAULTLINE_BENCH_DATABASE_URL)
  --qos LIST               0,1 (default both)
  --connections N          publishing connections (default 100)
  --embedded-messages N    messages per embedded run (default 120000)
  --server-messages N      messages per server run (default 200000)
  --window N               QoS 1 publishes in flight per connection (default 64)
  --out FILE               results file (default bench/results/latest.md; "-" for none)
  --profile DIR            write a V8 CPU profile of each Faultline run into DIR (--cpu-prof)
  --faultline-dir DIR      run the Faultline found there (a checkout of another commit) instead of this one
  --cases LIST             ingest,tickets (default both)
  --ticket-runs N          runs of the tickets cases per backend (default: --runs)
  --ticket-devices N       devices raising one fault each in the paced tickets case (default 200)
  --ticket-rate N          faults a second in the paced tickets case (default 20)
  --storm-devices N        devices raising one fault each within ~1 s in the storm case (default 1000)
  --storm-poll-ms N        pause between ticket-list polls in the storm case (default 10; polls load Faultline too)
`
const { values: flags } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    backends: { type: 'string', default: 'embedded,server' },
    qos: { type: 'string', default: '0,1' },
    connections: { type: 'string', default: '100' },
    'embedded-messages': { type: 'string', default: '120000' },
    'server-messages': { type: 'string', default: '200000' },
    window: { type: 'string', default: '64' },
    profile: { type: 'string' },
    'faultline-dir': { type: 'string' },
    cases: { type: 'string', default: 'ingest,tickets' },
    'ticket-runs': { type: 'string' },
    'ticket-devices': { type: 'string', default: '200' },
    'ticket-rate': { type: 'string', default: '20' },
    'storm-devices': { type: 'string', default: '1000' },
    'storm-poll-ms': { type: 'string', default: '10' },
    out: { type: 'string', default: path.join(root, 'bench/results/latest.md') },
    help: { type: 'boolean', short: 'h' },
  },
})
if (flags.help) {
  process.stdout.write(HELP)
  process.exit(0)
}
const int = (name: keyof typeof flags, min = 1) => {
  const n = Number(flags[name])
  if (!Number.isInteger(n) || n < min) {
    process.stderr.write(`bench: --${name}: expected an integer ≥ ${min}, got ${JSON.stringify(flags[name])}\n`)
    process.exit(2)
  }
  return n
}
const RUNS = int('runs')
const FAULTLINE_DIR = path.resolve(flags['faultline-dir'] ?? root)
const CONNECTIONS = int('connections')
const WINDOW = int('window')
const MESSAGES = { embedded: int('embedded-messages', CONNECTIONS), server: int('server-messages', CONNECTIONS) }
const BACKENDS = flags.backends!.split(',').map((b) => b.trim()) as ('embedded' | 'server')[]
const QOS = flags.qos!.split(',').map((q) => Number(q.trim())) as (0 | 1)[]
const CASES = flags.cases!.split(',').map((c) => c.trim()) as ('ingest' | 'tickets')[]
if (BACKENDS.some((b) => b !== 'embedded' && b !== 'server') || QOS.some((q) => q !== 0 && q !== 1) || CASES.some((c) => c !== 'ingest' && c !== 'tickets')) {
  process.stderr.write('bench: --backends takes embedded,server, --qos takes 0,1 and --cases takes ingest,tickets\n')
  process.exit(2)
}
if (flags['ticket-runs'] === undefined) flags['ticket-runs'] = String(RUNS)
const TICKETS = {
  runs: int('ticket-runs'),
  devices: int('ticket-devices'),
  rate: int('ticket-rate'),
  storm: int('storm-devices'),
  stormPollMs: int('storm-poll-ms'),
}

/** ceilings.md figures, to put ours against (see that file for how they were measured). */
const CEILINGS = {
  embedded: { rowsPerS: 67_500, label: 'PGlite ~65–70k rows/s' },
  server0: { msgsPerS: 85_000, label: 'e2e est. ~85k msg/s QoS 0' },
  server1: { msgsPerS: 70_000, label: 'e2e est. ~70k msg/s QoS 1 / same-machine load' },
} as const

const log = (line: string) => process.stdout.write(`${line}\n`)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

// ---- Faultline as a child ---------------------------------------------------------------------------------------
/** test/support/child-faultline.ts's child, with bench/probe.ts preloaded and asked over IPC. */
interface Child extends ChildFaultline {
  probe(cmd: 'reset' | 'report'): Promise<ProbeReport | undefined>
}

async function startFaultlineChild(settings: Record<string, string>): Promise<Child> {
  const profile = flags.profile ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(flags.profile)}`] : []
  // BENCH_NODE_ARGS: extra node flags for the Faultline child (experiments: --max-old-space-size=..., --import ...)
  const extra = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []
  const fl = await spawnFaultline(settings, {
    timeoutMs: 90_000,
    nodeArgs: [...profile, ...extra],
    imports: [path.join(root, 'bench/probe.ts')],
    ipc: true,
    cwd: FAULTLINE_DIR,
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

async function metrics(httpPort: number): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text()
  const out: Record<string, number> = {}
  for (const line of text.split('\n')) {
    const m = /^(faultline_[a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line)
    if (m) out[m[1]! + (m[2] ?? '')] = (out[m[1]! + (m[2] ?? '')] ?? 0) + Number(m[3])
  }
  return out
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

const percentile = (xs: number[], p: number) => {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!
}
const median = (xs: number[]) => {
  const v = xs.filter((x) => Number.isFinite(x))
  return v.length ? percentile(v, 50) : NaN
}

// ---- the load generator ------------------------------------------------------------------------------------------
function startLoad() {
  const child = fork(path.join(root, 'bench/load.ts'), [], { cwd: root, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const waiters = new Map<string, (m: LoadReport) => void>()
  const errors: string[] = []
  child.on('message', (m: LoadReport) => {
    if (m.type === 'error') errors.push(m.message)
    waiters.get(m.type)?.(m)
  })
  const next = <T extends LoadReport['type']>(type: T, timeoutMs: number) =>
    new Promise<Extract<LoadReport, { type: T }>>((resolve, reject) => {
      waiters.set(type, resolve as (m: LoadReport) => void)
      setTimeout(() => reject(new Error(`load generator: no '${type}' in ${timeoutMs} ms ${errors.slice(0, 3).join('; ')}`)), timeoutMs).unref()
    })
  return { child, errors, next }
}

// ---- one run -----------------------------------------------------------------------------------------------------
interface RunResult {
  msgsPerS: number
  rowsPerS: number
  /** rate the load generator got its messages accepted (QoS 0: written to the socket; QoS 1: PUBACKed) */
  acceptMsgsPerS: number
  seconds: number
  eldP99: number
  eldMax: number
  pingP50: number
  pingP99: number
  rssPeakMb: number
  cpuCores: number
  rowsInDb: number
  expectedRows: number
  maxQueueRows: number
  backpressureWaits: number
  warnings: string[]
}

async function runOnce(
  backend: 'embedded' | 'server',
  qos: 0 | 1,
  databaseUrl: string | undefined,
  countRows: () => Promise<number>,
  onChild?: (fl: Child) => void,
): Promise<RunResult> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'faultline-bench-'))
  const fl = await startFaultlineChild({ FAULTLINE_DATA_DIR: dataDir, ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) })
  onChild?.(fl)
  const load = startLoad()
  try {
    const ids = Array.from({ length: CONNECTIONS + 1 }, (_, i) => `bench-${String(i).padStart(4, '0')}`)
    const tokens = await Promise.all(ids.map((id) => fl.registerDevice(id, { serial: `BENCH-${id}` })))
    const perConnection = Math.floor(MESSAGES[backend] / CONNECTIONS)
    const messages = perConnection * CONNECTIONS
    const expectedRows = messages * ROWS_PER_MESSAGE
    const rowsBefore = await countRows()
    const config: LoadConfig = {
      port: fl.mqttPort,
      devices: ids.slice(1).map((id, i) => ({ id, token: tokens[i + 1]! })),
      qos,
      perConnection,
      window: WINDOW,
      batch: 32,
    }
    const connected = load.next('connected', 30_000)
    load.child.send({ cmd: 'start', config })
    await connected
    const pinger = await startPinger(fl.mqttPort, ids[0]!, tokens[0]!)
    const baseline = (await metrics(fl.httpPort))['faultline_rows_written_total'] ?? 0
    await fl.probe('reset')
    const sent = load.next('sent', 600_000)
    load.child.send({ cmd: 'go' })

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
      rowsInDb,
      expectedRows,
      maxQueueRows,
      backpressureWaits: m['faultline_backpressure_waits_total'] ?? 0,
      warnings: fl.warnings,
    }
  } finally {
    const closed = load.next('closed', 10_000).catch(() => undefined)
    if (load.child.connected) load.child.send({ cmd: 'close' })
    await closed
    load.child.kill()
    await fl.stop()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

// ---- databases ---------------------------------------------------------------------------------------------------
/** Rows in the telemetry table, through the API: per device, one 1-day bucket per metric with its count. */
function embeddedRowCounter(getChild: () => Child | undefined) {
  return async () => {
    const fl = getChild()
    if (!fl) return 0
    let total = 0
    for (let i = 1; i <= CONNECTIONS; i++) {
      const res = await fl.api('GET', `/api/devices/bench-${String(i).padStart(4, '0')}/telemetry?bucket=1d&limit=1000`)
      for (const p of res.body.points as { count: number }[]) total += p.count
    }
    return total
  }
}

interface ServerDb {
  note: string
  /** a fresh database per run where we may create one, else the given one (rows counted as a difference) */
  fresh(): Promise<string>
  cleanup(): Promise<void>
}

async function serverDatabase(): Promise<ServerDb | string> {
  const given = process.env.FAULTLINE_BENCH_DATABASE_URL
  let adminUrl: string
  let note: string
  let destroy = async () => {}
  if (given) {
    adminUrl = given
    note = 'FAULTLINE_BENCH_DATABASE_URL'
  } else {
    const root = '/usr/lib/postgresql'
    if (!existsSync(root)) return 'PostgreSQL binaries not found under /usr/lib/postgresql and FAULTLINE_BENCH_DATABASE_URL is not set'
    const { throwawayCluster } = await import('../test/support/postgres.js')
    const cluster = await throwawayCluster()
    adminUrl = cluster.url
    destroy = async () => cluster.destroy()
    const version = execFileSync('ls', [root]).toString().trim().split('\n').sort().at(-1)
    note = `throwaway PostgreSQL ${version} cluster (test/support/postgres.ts: fsync=off, default settings otherwise)`
  }
  let n = 0
  return {
    note,
    async fresh() {
      const admin = new pg.Client({ connectionString: adminUrl })
      await admin.connect()
      try {
        const name = `faultline_bench_${process.pid}_${n++}`
        await admin.query(`CREATE DATABASE ${name}`)
        const url = new URL(adminUrl)
        url.pathname = `/${name}`
        return url.toString()
      } catch {
        return adminUrl // no CREATEDB right: use the given database; rows are counted as a difference
      } finally {
        await admin.end()
      }
    },
    cleanup: destroy,
  }
}

async function serverRowCounter(url: string) {
  return async () => {
    const c = new pg.Client({ connectionString: url })
    await c.connect()
    try {
      const { rows } = await c.query<{ n: string }>(`SELECT count(*) AS n FROM telemetry WHERE device_id LIKE 'bench-%'`)
      return Number(rows[0]!.n)
    } catch {
      return 0 // before the first start: no table yet
    } finally {
      await c.end()
    }
  }
}

// ---- main --------------------------------------------------------------------------------------------------------
interface CaseResult {
  name: string
  backend: 'embedded' | 'server'
  qos: 0 | 1
  runs: RunResult[]
  skipped?: string
  failed?: string
}

interface TicketCase {
  name: string
  backend: 'embedded' | 'server'
  kind: 'paced' | 'storm'
  runs: TicketRunResult[]
  warnings: string[]
  skipped?: string
  failed?: string
}

/** One Faultline per run: the paced faults first, then the storm from as many other devices. */
async function ticketCases(backend: 'embedded' | 'server', server: ServerDb | undefined): Promise<TicketCase[]> {
  const paced: TicketCase = { name: `${backend}, ${fmt(TICKETS.devices)} faults at ${TICKETS.rate}/s`, backend, kind: 'paced', runs: [], warnings: [] }
  const storm: TicketCase = { name: `${backend}, storm: ${fmt(TICKETS.storm)} faults in ~1 s`, backend, kind: 'storm', runs: [], warnings: [] }
  for (let r = 0; r < TICKETS.runs; r++) {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'faultline-bench-'))
    let fl: Child | undefined
    let current = paced
    try {
      const url = server ? await server.fresh() : undefined
      fl = await startFaultlineChild({ FAULTLINE_DATA_DIR: dataDir, ...(url ? { DATABASE_URL: url } : {}) })
      const p = await ticketRun(fl, { prefix: 'tk', devices: TICKETS.devices, ratePerS: TICKETS.rate, timeoutMs: 30_000 })
      paced.runs.push(p)
      log(`  ${paced.name} run ${r + 1}: ${describeTickets(p)}`)
      current = storm
      const s = await ticketRun(fl, { prefix: 'st', devices: TICKETS.storm, ratePerS: TICKETS.storm, timeoutMs: 60_000, pollIntervalMs: TICKETS.stormPollMs })
      storm.runs.push(s)
      log(`  ${storm.name} run ${r + 1}: ${describeTickets(s)}`)
    } catch (err) {
      current.failed = (err as Error).message
      log(`  ${current.name} run ${r + 1} failed: ${current.failed}`)
      break
    } finally {
      for (const w of fl?.warnings ?? []) if (!paced.warnings.includes(w)) paced.warnings.push(w)
      await fl?.stop()
      rmSync(dataDir, { recursive: true, force: true })
    }
  }
  return [paced, storm]
}

const describeTickets = (t: TicketRunResult) =>
  `${t.tickets}/${t.devices} tickets (${t.acked} PUBACKs, ${t.inWarranty} in warranty) published over ${t.publishSpanS.toFixed(2)} s; ` +
  `publish→visible p50 ${percentile(t.fromPublishMs, 50).toFixed(0)} / p99 ${percentile(t.fromPublishMs, 99).toFixed(0)} / max ${Math.max(...t.fromPublishMs).toFixed(0)} ms; ` +
  `PUBACK→visible p50 ${percentile(t.latencies, 50).toFixed(0)} / p99 ${percentile(t.latencies, 99).toFixed(0)} ms; ` +
  `all visible ${t.allVisibleS.toFixed(2)} s after the first publish; poll round p50 ${percentile(t.pollMs, 50).toFixed(1)} ms`

async function main() {
  const started = Date.now()
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU'
  log(
    `Faultline benchmark: ${os.cpus().length} × ${cpu}, Node ${process.version}, ${RUNS} run(s) per ingest case, ${TICKETS.runs} per tickets case, ${CONNECTIONS} connections`,
  )
  const cases: CaseResult[] = []
  const tickets: TicketCase[] = []
  let serverNote = ''
  for (const backend of BACKENDS) {
    let server: ServerDb | undefined
    if (backend === 'server') {
      const db = await serverDatabase()
      if (typeof db === 'string') {
        if (CASES.includes('ingest')) for (const qos of QOS) cases.push({ name: `server QoS ${qos}`, backend, qos, runs: [], skipped: db })
        if (CASES.includes('tickets')) tickets.push({ name: 'server', backend, kind: 'paced', runs: [], warnings: [], skipped: db })
        log(`server backend skipped: ${db}`)
        continue
      }
      server = db
      serverNote = db.note
    }
    try {
      for (const qos of CASES.includes('ingest') ? QOS : []) {
        const c: CaseResult = { name: `${backend} QoS ${qos}`, backend, qos, runs: [] }
        cases.push(c)
        for (let r = 0; r < RUNS; r++) {
          try {
            let result: RunResult
            if (backend === 'embedded') {
              // The embedded database is only reachable through Faultline: count through its API.
              let current: Child | undefined
              const counter = embeddedRowCounter(() => current)
              result = await runOnceEmbedded(qos, (fl) => (current = fl), counter)
            } else {
              const url = await server!.fresh()
              result = await runOnce(backend, qos, url, await serverRowCounter(url))
            }
            c.runs.push(result)
            log(
              `  ${c.name} run ${r + 1}: ${fmt(result.msgsPerS)} msg/s, ${fmt(result.rowsPerS)} rows/s in ${result.seconds.toFixed(1)} s; ` +
                `accepted ${fmt(result.acceptMsgsPerS)} msg/s; event-loop p99 ${result.eldP99.toFixed(1)} ms, ping p99 ${result.pingP99.toFixed(1)} ms; ` +
                `RSS ${result.rssPeakMb.toFixed(0)} MB; ${result.cpuCores.toFixed(2)} cores; rows in db ${result.rowsInDb}/${result.expectedRows}`,
            )
          } catch (err) {
            c.failed = (err as Error).message
            log(`  ${c.name} run ${r + 1} failed: ${c.failed}`)
            break
          }
        }
      }
      if (CASES.includes('tickets')) tickets.push(...(await ticketCases(backend, server)))
    } finally {
      await server?.cleanup()
    }
  }
  const report = render(cases, tickets, { cpu, serverNote, minutes: (Date.now() - started) / 60_000 })
  log('')
  log(report)
  if (flags.out !== '-') {
    mkdirSync(path.dirname(flags.out!), { recursive: true })
    writeFileSync(flags.out!, report)
    log(`written to ${path.relative(process.cwd(), flags.out!)}`)
  }
}

/** runOnce with a row counter that reads through the Faultline child of that run. */
async function runOnceEmbedded(qos: 0 | 1, setChild: (fl: Child) => void, counter: () => Promise<number>): Promise<RunResult> {
  return runOnce('embedded', qos, undefined, counter, setChild)
}

const fmt = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–')

function render(cases: CaseResult[], tickets: TicketCase[], meta: { cpu: string; serverNote: string; minutes: number }): string {
  const lines = [
    `# Faultline end-to-end benchmark`,
    ``,
    `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC · ${os.cpus().length} × ${meta.cpu} · Node ${process.version} · ${meta.minutes.toFixed(1)} min in all · \`npm run bench\`` +
      (FAULTLINE_DIR !== path.resolve(root) ? ` · Faultline from ${FAULTLINE_DIR}` : ''),
  ]
  if (cases.length > 0) renderIngest(lines, cases)
  if (tickets.length > 0) renderTickets(lines, tickets)
  const warnings = [...new Set([...cases.flatMap((c) => c.runs.flatMap((r) => r.warnings)), ...tickets.flatMap((t) => t.warnings)])]
  lines.push('', '## Notes', '')
  if (meta.serverNote) lines.push(`- Server backend: ${meta.serverNote}. No TimescaleDB on it, so plain tables.`)
  if (cases.length > 0) {
    lines.push(
      `- "accepted msgs/s" is the generator's side: QoS 0, every byte handed to the socket; QoS 1, every PUBACK (which Faultline sends once the message is fsynced to its write-ahead log, not yet in the database).`,
      `- ceilings.md figures were measured on this machine class separately; see the shared ceilings.md beside the repository (not measured in this run; issue 13 moves them into the bench). The ratio is ours ÷ theirs.`,
    )
  }
  if (warnings.length)
    lines.push(
      `- Faultline logged warnings: ${warnings
        .slice(0, 5)
        .map((w) => '`' + w + '`')
        .join('; ')}`,
    )
  return lines.join('\n') + '\n'
}

function renderIngest(lines: string[], cases: CaseResult[]) {
  lines.push(
    ``,
    `## Ingest`,
    ``,
    `${CONNECTIONS} MQTT connections (raw-socket generator in its own process), ~120 B JSON telemetry with 3 metrics (3 rows) per message, pipelined` +
      ` (QoS 1: ${WINDOW} unacknowledged per connection); ${fmt(MESSAGES.embedded)} messages per embedded run, ${fmt(MESSAGES.server)} per server run.` +
      ` Timed from the first publish until \`faultline_rows_written_total\` reached every row; rows then counted in the database.` +
      ` Faultline runs as a child process (as in production); event-loop delay is measured inside it (monitorEventLoopDelay, preloaded bench/probe.ts), ping RTT is MQTT PINGREQ→PINGRESP from a separate connection every 20 ms. ` +
      `Figures are the median of ${RUNS} run(s) per column.`,
    ``,
    `| case | msgs/s | rows/s | accepted msgs/s | event-loop p99 | ping RTT p50 / p99 | RSS peak | Faultline CPU | vs ceilings.md |`,
    `| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |`,
  )
  for (const c of cases) {
    if (c.skipped || c.runs.length === 0) {
      lines.push(`| ${c.name} | – | – | – | – | – | – | – | ${c.skipped ? `skipped: ${c.skipped}` : `failed: ${c.failed}`} |`)
      continue
    }
    const col = (f: (r: RunResult) => number) => median(c.runs.map(f))
    const msgs = col((r) => r.msgsPerS)
    const rows = col((r) => r.rowsPerS)
    const vs =
      c.backend === 'embedded'
        ? `${((rows / CEILINGS.embedded.rowsPerS) * 100).toFixed(0)} % of ${CEILINGS.embedded.label}`
        : c.qos === 0
          ? `${((msgs / CEILINGS.server0.msgsPerS) * 100).toFixed(0)} % of ${CEILINGS.server0.label}`
          : `${((msgs / CEILINGS.server1.msgsPerS) * 100).toFixed(0)} % of ${CEILINGS.server1.label}`
    lines.push(
      `| ${c.name}${c.runs.length < RUNS ? ` (${c.runs.length} run${c.runs.length > 1 ? 's' : ''})` : ''} | ${fmt(msgs)} | ${fmt(rows)} | ${fmt(col((r) => r.acceptMsgsPerS))} | ` +
        `${col((r) => r.eldP99).toFixed(1)} ms (max ${col((r) => r.eldMax).toFixed(0)}) | ${col((r) => r.pingP50).toFixed(1)} / ${col((r) => r.pingP99).toFixed(1)} ms | ` +
        `${col((r) => r.rssPeakMb).toFixed(0)} MB | ${col((r) => r.cpuCores).toFixed(2)} cores | ${vs} |`,
    )
  }
  lines.push(
    '',
    '### Ingest runs',
    '',
    '| case | run | s | msgs/s | rows in db / expected | max write queue rows | backpressure waits |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  )
  for (const c of cases) {
    c.runs.forEach((r, i) =>
      lines.push(
        `| ${c.name} | ${i + 1} | ${r.seconds.toFixed(1)} | ${fmt(r.msgsPerS)} | ${fmt(r.rowsInDb)} / ${fmt(r.expectedRows)} | ${fmt(r.maxQueueRows)} | ${fmt(r.backpressureWaits)} |`,
      ),
    )
    if (c.failed) lines.push(`| ${c.name} | failed | | | ${c.failed.replaceAll('|', '/')} | | |`)
  }
}

function renderTickets(lines: string[], cases: TicketCase[]) {
  const ms = (xs: number[], p: number) => (xs.length ? `${Math.round(percentile(xs, p)) + 0}` : '–')
  lines.push(
    ``,
    `## Fault → ticket`,
    ``,
    `Faultline as a child on a fresh database per run; devices of model BCD-516WDVL bought 30 days ago (in warranty), each connected over MQTT beforehand and publishing one` +
      ` \`{"type":"fault","code":"E1"}\` to \`devices/<id>/events\` at QoS 1: ${fmt(TICKETS.devices)} devices at ${TICKETS.rate}/s, then in the same process` +
      ` ${fmt(TICKETS.storm)} other devices as fast as a 1 ms schedule allows (~1 s). Latency is from each fault's PUBACK until its ticket is in` +
      ` \`GET /api/tickets?kind=repair\` (polled newest first, 25 a page back to the newest ticket seen before, every 10 ms${TICKETS.stormPollMs !== 10 ? ` (storm: every ${TICKETS.stormPollMs} ms)` : ''}; a ticket counts when the response holding it arrives, so up to one poll round is included).` +
      ` Also from the publish itself, since a ticket can be written before the PUBACK (which waits for the write-ahead log's fsync): PUBACK → visible is negative then.` +
      ` Percentiles over all faults of ${TICKETS.runs} run(s) pooled; "all visible" and tickets/s are medians of the runs.` +
      ` "PUBACK → created" uses the ticket's createdAt (Faultline's clock, same machine, ms resolution); negative means the ticket was written before the PUBACK went out.`,
    ``,
    `| case | tickets / faults | publish → visible p50 / p95 / p99 / max | PUBACK → visible p50 / p95 / p99 / max | publish → PUBACK p50 / p99 | PUBACK → created p50 / p99 | created → visible p50 | poll round p50 | all visible after | tickets/s |`,
    `| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |`,
  )
  for (const c of cases) {
    if (c.skipped || c.runs.length === 0) {
      lines.push(`| ${c.name} | – | – | – | – | – | – | – | – | ${c.skipped ? `skipped: ${c.skipped}` : `failed: ${c.failed?.replaceAll('|', '/')}`} |`)
      continue
    }
    const all = (f: (r: TicketRunResult) => number[]) => c.runs.flatMap(f)
    const lat = all((r) => r.latencies)
    const e2e = all((r) => r.fromPublishMs)
    const dist = (xs: number[]) => `${ms(xs, 50)} / ${ms(xs, 95)} / ${ms(xs, 99)} / ${ms(xs, 100)} ms`
    const allVisible = median(c.runs.map((r) => r.allVisibleS))
    lines.push(
      `| ${c.name}${c.runs.length < TICKETS.runs ? ` (${c.runs.length} run${c.runs.length > 1 ? 's' : ''})` : ''} | ` +
        `${fmt(c.runs.reduce((n, r) => n + r.tickets, 0))} / ${fmt(c.runs.reduce((n, r) => n + r.devices, 0))} | ` +
        `${dist(e2e)} | ${dist(lat)} | ` +
        `${ms(
          all((r) => r.pubackMs),
          50,
        )} / ${ms(
          all((r) => r.pubackMs),
          99,
        )} ms | ` +
        `${ms(
          all((r) => r.createdMs),
          50,
        )} / ${ms(
          all((r) => r.createdMs),
          99,
        )} ms | ${ms(
          all((r) => r.visibleAfterCreateMs),
          50,
        )} ms | ` +
        `${percentile(
          all((r) => r.pollMs),
          50,
        ).toFixed(1)} ms | ${Number.isFinite(allVisible) ? `${allVisible.toFixed(2)} s` : '–'} | ` +
        `${c.kind === 'storm' ? fmt(median(c.runs.map((r) => r.devices / r.allVisibleS))) : '–'} |`,
    )
    if (c.failed) lines.push(`| ${c.name} | failed | ${c.failed.replaceAll('|', '/')} | | | | | | | |`)
  }
  lines.push(
    '',
    '### Tickets runs',
    '',
    '| case | run | tickets / faults | publish span | publish → visible p50 / p99 / max | all visible after |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
  )
  for (const c of cases) {
    c.runs.forEach((r, i) =>
      lines.push(
        `| ${c.name} | ${i + 1} | ${fmt(r.tickets)} / ${fmt(r.devices)} | ${r.publishSpanS.toFixed(2)} s | ` +
          `${ms(r.fromPublishMs, 50)} / ${ms(r.fromPublishMs, 99)} / ${ms(r.fromPublishMs, 100)} ms | ${Number.isFinite(r.allVisibleS) ? `${r.allVisibleS.toFixed(2)} s` : '–'} |`,
      ),
    )
  }
}

await main()
