// The benchmark's results and their Markdown report (bench/results/*.md): every Faultline figure beside the
// ceiling of the same piece measured in the same run, and each of issue 13's and issue 10's targets, met or not.
import os from 'node:os'
import path from 'node:path'
import type { ConnectionsResult } from './connections.js'
import type { Backend, Options } from './options.js'
import { root } from './options.js'
import { WARM_UP_MS } from './generator.js'
import { stallPhase, type LatencyResult, type StallResult } from './stream.js'
import type { TicketRunResult } from './tickets.js'

export interface RunResult {
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
  /** Faultline's CPU (user + system, all threads) over the run ÷ messages: what the machine's load moves least */
  cpuUsPerMsg: number
  /** the machine's 1-minute load average as the run started (2 cores, shared) */
  loadAvg: number
  rowsInDb: number
  expectedRows: number
  maxQueueRows: number
  backpressureWaits: number
  warnings: string[]
}

interface Outcome {
  name: string
  skipped?: string
  failed?: string
}

export interface CeilingCase extends Outcome {
  key: 'aedes0' | 'aedes1' | 'copy' | 'serverStatement' | 'pglite'
  unit: 'msg/s' | 'rows/s'
  runs: number[]
}

export interface IngestCase extends Outcome {
  backend: Backend
  qos: 0 | 1
  runs: RunResult[]
}

export interface TicketCase extends Outcome {
  backend: Backend
  /** paced: idle; loaded: the same under background telemetry; storm: as fast as possible */
  kind: 'paced' | 'loaded' | 'storm'
  runs: TicketRunResult[]
  /** loaded: the telemetry offered and written meanwhile, msg/s, per run */
  background?: { offered: number; written: number }[]
  warnings: string[]
}

interface StreamOutcome extends Outcome {
  backend: Backend
}
export interface LatencyCase extends StreamOutcome {
  kind: 'latency'
  runs: LatencyResult[]
}
export interface StallCase extends StreamOutcome {
  kind: 'stall'
  runs: StallResult[]
}
export type StreamCase = LatencyCase | StallCase

export interface ConnectionsCase extends Outcome {
  backend: Backend
  runs: ConnectionsResult[]
}

export interface Results {
  ceilings: CeilingCase[]
  ingest: IngestCase[]
  tickets: TicketCase[]
  stream: StreamCase[]
  connections: ConnectionsCase[]
}

export const percentile = (xs: number[], p: number) => {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!
}
export const median = (xs: number[]) => {
  const v = xs.filter((x) => Number.isFinite(x))
  return v.length ? percentile(v, 50) : NaN
}
export const fmt = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–')
const pct = (ratio: number) => (Number.isFinite(ratio) ? `${(ratio * 100).toFixed(0)} %` : '–')
const ms = (xs: number[], p: number) => (xs.length ? `${Math.round(percentile(xs, p)) + 0}` : '–')
const dist = (xs: number[]) => `${ms(xs, 50)} / ${ms(xs, 99)} / ${ms(xs, 100)} ms`
const cell = (s: string) => s.replaceAll('|', '/')
const outcome = (c: Outcome) => (c.skipped ? `skipped: ${cell(c.skipped)}` : `failed: ${cell(c.failed ?? 'no run')}`)

export const describeTickets = (t: TicketRunResult) =>
  `${t.tickets}/${t.devices} tickets (${t.acked} PUBACKs, ${t.inWarranty} in warranty) published over ${t.publishSpanS.toFixed(2)} s; ` +
  `publish→visible p50 ${percentile(t.fromPublishMs, 50).toFixed(0)} / p99 ${percentile(t.fromPublishMs, 99).toFixed(0)} / max ${Math.max(...t.fromPublishMs).toFixed(0)} ms; ` +
  `PUBACK→visible p50 ${percentile(t.latencies, 50).toFixed(0)} / p99 ${percentile(t.latencies, 99).toFixed(0)} ms; ` +
  `all visible ${t.allVisibleS.toFixed(2)} s after the first publish; poll round p50 ${percentile(t.pollMs, 50).toFixed(1)} ms`

/** A target of the issues: what it asks, the figure, met or not (– when the case did not run). */
interface Target {
  what: string
  figure: string
  met: boolean | undefined
}

interface Meta {
  cpu: string
  serverNote: string
  minutes: number
  options: Options
}

export function render(r: Results, meta: Meta): string {
  const o = meta.options
  const lines = [
    `# Faultline end-to-end benchmark${o.quick ? ' (--quick: tiny sizes, figures not comparable)' : ''}`,
    ``,
    `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC · ${os.cpus().length} × ${meta.cpu} · Node ${process.version} · ${meta.minutes.toFixed(1)} min in all · \`npm run bench${o.quick ? ' -- --quick' : ''}\`` +
      (o.faultlineDir !== path.resolve(root) ? ` · Faultline from ${o.faultlineDir}` : ''),
  ]
  const ceiling = ceilingOf(r.ceilings)
  const targets: Target[] = []
  if (r.ceilings.length > 0) renderCeilings(lines, r.ceilings, o)
  if (r.ingest.length > 0) renderIngest(lines, r.ingest, ceiling, o, targets)
  if (r.tickets.length > 0) renderTickets(lines, r.tickets, o, targets)
  if (r.stream.length > 0) renderStream(lines, r.stream, o, targets)
  if (r.connections.length > 0) renderConnections(lines, r.connections, o, targets)
  if (targets.length > 0) {
    lines.push('', '## Targets', '', '| target | this run | met |', '| --- | ---: | :---: |')
    for (const t of targets) lines.push(`| ${t.what} | ${t.figure} | ${t.met === undefined ? '–' : t.met ? 'yes' : 'no'} |`)
    if (o.quick) lines.push('', 'A --quick run is too small to judge a target by: the column shows the check works, not the answer.')
  }
  const warnings = [...new Set([...r.ingest.flatMap((c) => c.runs.flatMap((x) => x.warnings)), ...r.tickets.flatMap((t) => t.warnings)])]
  lines.push('', '## Notes', '')
  if (meta.serverNote) lines.push(`- Server backend: ${meta.serverNote}. No TimescaleDB on it, so plain tables.`)
  if (r.ingest.length > 0)
    lines.push(
      `- "accepted msgs/s" is the generator's side: QoS 0, every byte handed to the socket; QoS 1, every PUBACK (which Faultline sends once the message is fsynced to its write-ahead log, not yet in the database).`,
    )
  if (warnings.length)
    lines.push(
      `- Faultline logged warnings: ${warnings
        .slice(0, 5)
        .map((w) => '`' + w + '`')
        .join('; ')}`,
    )
  return lines.join('\n') + '\n'
}

/** The median of each ceiling measured, by key. */
function ceilingOf(cases: CeilingCase[]) {
  return (key: CeilingCase['key']) => median(cases.find((c) => c.key === key)?.runs ?? [])
}

function renderCeilings(lines: string[], cases: CeilingCase[], o: Options) {
  const s = o.sizes
  lines.push(
    ``,
    `## Ceilings, measured in this run`,
    ``,
    `What the pieces Faultline is built from allow on this machine now; every Faultline figure below is also shown as a share of the matching one. ` +
      `Bare aedes: an aedes with nothing behind it (every PUBLISH counted and let through in \`authorizePublish\`, no auth, no decode, no database) in a process of its own, ` +
      `loaded by the same generator as Faultline (${s.connections} connections, ${fmt(s['ceiling-messages'])} messages; QoS 1: ${s.window} in flight a connection), ` +
      `from the first publish until the broker has counted the last (QoS 1: and it is PUBACKed). ` +
      `Databases: the same telemetry rows the ingest runs write (${fmt(s['server-messages'] * 3)} server, ${fmt(s['embedded-messages'] * 3)} embedded), into Faultline's own table made by its migrations, on a fresh database each: ` +
      `COPY (text) over 4 connections in 5,000-row statements; Faultline's own INSERT … unnest statement (src/ingest/write-records.ts) in the backend's batch size and write concurrency ` +
      `(server: 5,000 rows ×4; embedded "PGlite alone": 1,000-row transactions one at a time, in this process). Median of ${s.runs} run(s).`,
    ``,
    `| ceiling | median | runs |`,
    `| --- | ---: | ---: |`,
  )
  for (const c of cases) {
    if (c.runs.length === 0) lines.push(`| ${c.name} | – | ${outcome(c)} |`)
    else lines.push(`| ${c.name} | ${fmt(median(c.runs))} ${c.unit} | ${c.runs.map(fmt).join(', ')}${c.failed ? ` (then failed: ${cell(c.failed)})` : ''} |`)
  }
}

function renderIngest(lines: string[], cases: IngestCase[], ceiling: (key: CeilingCase['key']) => number, o: Options, targets: Target[]) {
  const s = o.sizes
  lines.push(
    ``,
    `## Ingest`,
    ``,
    `${s.connections} MQTT connections (raw-socket generator in its own process), ~120 B JSON telemetry with 3 metrics (3 rows) per message, pipelined` +
      ` (QoS 1: ${s.window} unacknowledged per connection); ${fmt(s['embedded-messages'])} messages per embedded run, ${fmt(s['server-messages'])} per server run.` +
      ` Timed from the first publish until \`faultline_rows_written_total\` reached every row; rows then counted in the database.` +
      ` Faultline runs as a child process (as in production); event-loop delay is measured inside it (monitorEventLoopDelay, preloaded bench/probe.ts), ping RTT is MQTT PINGREQ→PINGRESP from a separate connection every 20 ms. ` +
      `Figures are the median of ${s.runs} run(s) per column. "of bare aedes" is msgs/s ÷ the bare-aedes ceiling at the same QoS; "of the database" is rows/s ÷ COPY ×4 (server) or PGlite alone (embedded), both measured above.`,
    ``,
    `| case | msgs/s | of bare aedes | rows/s | of the database | accepted msgs/s | event-loop p99 | ping RTT p50 / p99 | RSS peak | Faultline CPU | CPU per msg |`,
    `| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |`,
  )
  for (const c of cases) {
    if (c.runs.length === 0) {
      lines.push(`| ${c.name} | – | – | – | – | – | – | – | – | – | ${outcome(c)} |`)
      continue
    }
    const col = (f: (r: RunResult) => number) => median(c.runs.map(f))
    const msgs = col((r) => r.msgsPerS)
    const rows = col((r) => r.rowsPerS)
    const ofBroker = msgs / ceiling(`aedes${c.qos}`)
    const ofDatabase = rows / ceiling(c.backend === 'server' ? 'copy' : 'pglite')
    const eldP99 = col((r) => r.eldP99)
    const pingP99 = col((r) => r.pingP99)
    lines.push(
      `| ${c.name}${c.runs.length < s.runs ? ` (${c.runs.length} run${c.runs.length > 1 ? 's' : ''})` : ''} | ${fmt(msgs)} | ${pct(ofBroker)} | ${fmt(rows)} | ${pct(ofDatabase)} | ${fmt(col((r) => r.acceptMsgsPerS))} | ` +
        `${eldP99.toFixed(1)} ms (max ${col((r) => r.eldMax).toFixed(0)}) | ${col((r) => r.pingP50).toFixed(1)} / ${pingP99.toFixed(1)} ms | ` +
        `${col((r) => r.rssPeakMb).toFixed(0)} MB | ${col((r) => r.cpuCores).toFixed(2)} cores | ${col((r) => r.cpuUsPerMsg).toFixed(1)} µs |`,
    )
    // Issue 13's targets for this case.
    if (c.backend === 'server' && c.qos === 0) {
      targets.push({ what: 'server QoS 0 ≥ 60,000 msg/s durable', figure: `${fmt(msgs)} msg/s`, met: msgs >= 60_000 })
      targets.push({
        what: 'server QoS 0 ≥ 60 % of COPY ×4 in rows/s',
        figure: pct(ofDatabase),
        met: Number.isFinite(ofDatabase) ? ofDatabase >= 0.6 : undefined,
      })
    }
    if (c.backend === 'server' && c.qos === 1) {
      targets.push({ what: 'server QoS 1 ≥ 40,000 msg/s', figure: `${fmt(msgs)} msg/s`, met: msgs >= 40_000 })
      targets.push({ what: 'server QoS 1 ≥ 50 % of bare aedes QoS 1', figure: pct(ofBroker), met: Number.isFinite(ofBroker) ? ofBroker >= 0.5 : undefined })
    }
    if (c.backend === 'embedded')
      targets.push({
        what: `embedded QoS ${c.qos} ≥ 20,000 msg/s, event-loop p99 ≤ 20 ms`,
        figure: `${fmt(msgs)} msg/s, ${eldP99.toFixed(0)} ms`,
        met: msgs >= 20_000 && eldP99 <= 20,
      })
    targets.push({ what: `${c.name}: PINGREQ → PINGRESP p99 ≤ 50 ms at saturation`, figure: `${pingP99.toFixed(0)} ms`, met: pingP99 <= 50 })
  }
  lines.push(
    '',
    '### Ingest runs',
    '',
    '| case | run | s | msgs/s | CPU per msg | load average | rows in db / expected | max write queue rows | backpressure waits |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  )
  for (const c of cases) {
    c.runs.forEach((r, i) =>
      lines.push(
        `| ${c.name} | ${i + 1} | ${r.seconds.toFixed(1)} | ${fmt(r.msgsPerS)} | ${r.cpuUsPerMsg.toFixed(1)} µs | ${r.loadAvg.toFixed(1)} | ${fmt(r.rowsInDb)} / ${fmt(r.expectedRows)} | ${fmt(r.maxQueueRows)} | ${fmt(r.backpressureWaits)} |`,
      ),
    )
    if (c.failed) lines.push(`| ${c.name} | failed | | | | | ${cell(c.failed)} | | |`)
  }
}

function renderTickets(lines: string[], cases: TicketCase[], o: Options, targets: Target[]) {
  const s = o.sizes
  lines.push(
    ``,
    `## Fault → ticket`,
    ``,
    `Faultline as a child on a fresh database per run; devices of model BCD-516WDVL bought 30 days ago (in warranty), each connected over MQTT beforehand and publishing one` +
      ` \`{"type":"fault","code":"E1"}\` to \`devices/<id>/events\` at QoS 1: ${fmt(s['ticket-devices'])} devices at ${s['ticket-rate']}/s idle, the same again from other devices while` +
      ` ${fmt(s['background-rate'])} msg/s of telemetry are offered at QoS 0 from ${s.connections} more devices, then in the same process` +
      ` ${fmt(s['storm-devices'])} other devices as fast as a 1 ms schedule allows (~1 s). Latency is from each fault's PUBACK until its ticket is in` +
      ` \`GET /api/tickets\` (polled newest first, every kind, 25 a page back to the oldest ticket not yet seen, every 10 ms${s['storm-poll-ms'] !== 10 ? ` (storm: every ${s['storm-poll-ms']} ms)` : ''}; a ticket counts when the response holding it arrives, so up to one poll round is included).` +
      ` Also from the publish itself, since a ticket can be written before the PUBACK (which waits for the write-ahead log's fsync): PUBACK → visible is negative then.` +
      ` Percentiles over all faults of ${s['ticket-runs']} run(s) pooled; "all visible" and tickets/s are medians of the runs.` +
      ` "PUBACK → created" uses the ticket's createdAt (Faultline's clock, same machine, ms resolution); negative means the ticket was written before the PUBACK went out.`,
    ``,
    `| case | tickets / faults | publish → visible p50 / p95 / p99 / max | PUBACK → visible p50 / p95 / p99 / max | publish → PUBACK p50 / p99 | PUBACK → created p50 / p99 | created → visible p50 | poll round p50 | all visible after | tickets/s | telemetry offered / written |`,
    `| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |`,
  )
  const four = (xs: number[]) => `${ms(xs, 50)} / ${ms(xs, 95)} / ${ms(xs, 99)} / ${ms(xs, 100)} ms`
  for (const c of cases) {
    if (c.runs.length === 0) {
      lines.push(`| ${c.name} | – | – | – | – | – | – | – | – | – | ${outcome(c)} |`)
      continue
    }
    const all = (f: (r: TicketRunResult) => number[]) => c.runs.flatMap(f)
    const e2e = all((r) => r.fromPublishMs)
    const puback = all((r) => r.pubackMs)
    const created = all((r) => r.createdMs)
    const allVisible = median(c.runs.map((r) => r.allVisibleS))
    const bg = c.background ?? []
    lines.push(
      `| ${c.name}${c.runs.length < s['ticket-runs'] ? ` (${c.runs.length} run${c.runs.length > 1 ? 's' : ''})` : ''} | ` +
        `${fmt(c.runs.reduce((n, r) => n + r.tickets, 0))} / ${fmt(c.runs.reduce((n, r) => n + r.devices, 0))} | ` +
        `${four(e2e)} | ${four(all((r) => r.latencies))} | ${ms(puback, 50)} / ${ms(puback, 99)} ms | ${ms(created, 50)} / ${ms(created, 99)} ms | ` +
        `${ms(
          all((r) => r.visibleAfterCreateMs),
          50,
        )} ms | ${percentile(
          all((r) => r.pollMs),
          50,
        ).toFixed(1)} ms | ${Number.isFinite(allVisible) ? `${allVisible.toFixed(2)} s` : '–'} | ` +
        `${c.kind === 'storm' ? fmt(median(c.runs.map((r) => r.devices / r.allVisibleS))) : '–'} | ` +
        `${bg.length ? `${fmt(median(bg.map((b) => b.offered)))} / ${fmt(median(bg.map((b) => b.written)))} msg/s` : '–'} |`,
    )
    if (c.failed) lines.push(`| ${c.name} | failed | ${cell(c.failed)} | | | | | | | | |`)
    const p99 = percentile(e2e, 99)
    if (c.kind === 'loaded')
      targets.push({
        what: `${c.backend}: fault → ticket p99 ≤ 250 ms under ${fmt(s['background-rate'])} msg/s of telemetry`,
        figure: `${fmt(p99)} ms`,
        met: p99 <= 250,
      })
    if (c.kind === 'storm') {
      const limit = c.backend === 'server' ? 2 : 4
      targets.push({
        what: `${c.backend}: storm of ${fmt(s['storm-devices'])} → every ticket in ≤ ${limit} s`,
        figure: `${allVisible.toFixed(2)} s`,
        met: allVisible <= limit,
      })
    }
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
          `${dist(r.fromPublishMs)} | ${Number.isFinite(r.allVisibleS) ? `${r.allVisibleS.toFixed(2)} s` : '–'} |`,
      ),
    )
  }
}

function renderStream(lines: string[], cases: StreamCase[], o: Options, targets: Target[]) {
  const s = o.sizes
  const stall = stallPhase(s['stall-s'])
  lines.push(
    ``,
    `## Live stream (GET /ws/faults)`,
    ``,
    `One run per case, both on one Faultline child per backend (fresh database). Telemetry is offered at QoS 0 on a 10 ms schedule from ${s.connections} devices of its own, for ${WARM_UP_MS / 1000} s before the faults start;` +
      ` "written" is Faultline's \`faultline_rows_written_total\` over the same time ÷ 3. Faults are \`{"type":"fault","code":"E1"}\` at QoS 1, one per device (model BCD-516WDVL, in warranty), from devices connected beforehand.` +
      ` Latency: from each fault's publish until its \`detection.raised\` and its \`ticket.opened\` frame reach a WebSocket client in the benchmark process (the same clock);` +
      ` "publish → received" is until the event's \`at\` (Faultline's receive time, the fault carrying no ts), which splits the latency into getting in and what follows.` +
      ` Stall: telemetry and ${s['stall-fault-rate']} faults/s for ${stall.phaseS} s twice on the same Faultline, first with one healthy client, then with a second client that stops reading its socket` +
      ` (ws \`pause()\`) for ${s['stall-s']} s from ${stall.leadS} s in; then, as a client that slept, it drops its socket unread and reconnects with \`after=<the last id it holds>\`` +
      ` (and again on any \`gap\` frame or close), and must end with every event the healthy client got from its first id on. "caught up" is from that reconnect until its \`caught_up\` frame;` +
      ` "gaps" are the \`gap\` frames Faultline sent during the phase (\`faultline_stream_gaps_total\`: the stalled socket overflowed its buffer).`,
  )
  for (const c of cases) {
    if (c.kind === 'latency') {
      lines.push(
        ``,
        `| case | detection.raised seen | publish → detection.raised p50 / p99 / max | ticket.opened seen | publish → ticket.opened p50 / p99 / max | publish → received (event's at) p50 / p99 | telemetry offered / written |`,
        `| --- | ---: | ---: | ---: | ---: | ---: | ---: |`,
      )
      const r = c.runs[0]
      if (!r) {
        lines.push(`| ${c.name} | – | – | – | – | – | ${outcome(c)} |`)
        continue
      }
      lines.push(
        `| ${c.name} | ${r.raisedMs.length} / ${r.faults} | ${dist(r.raisedMs)} | ${r.openedMs.length} / ${r.faults} | ${dist(r.openedMs)} | ` +
          `${ms(r.receivedMs, 50)} / ${ms(r.receivedMs, 99)} ms | ${fmt(r.offeredMsgsPerS)} / ${fmt(r.writtenMsgsPerS)} msg/s |`,
      )
      const p99 = percentile(r.raisedMs, 99)
      targets.push({
        what: `${c.backend}: publish → stream p99 ≤ 50 ms over ≥ 500 faults under 20,000 msg/s`,
        figure: `${fmt(p99)} ms over ${r.raisedMs.length} faults, ${fmt(r.offeredMsgsPerS)} msg/s offered`,
        met: p99 <= 50 && r.raisedMs.length === r.faults && r.faults >= 500 && r.offeredMsgsPerS >= 19_000,
      })
    } else {
      lines.push(
        ``,
        `| case | written without / with the stalled client | ratio | events held / expected | missing / extra / twice | gaps / reconnects | caught up |`,
        `| --- | ---: | ---: | ---: | ---: | ---: | ---: |`,
      )
      const r = c.runs[0]
      if (!r) {
        lines.push(`| ${c.name} | – | – | – | – | – | ${outcome(c)} |`)
        continue
      }
      const ratio = r.with.writtenMsgsPerS / r.without.writtenMsgsPerS
      lines.push(
        `| ${c.name} | ${fmt(r.without.writtenMsgsPerS)} / ${fmt(r.with.writtenMsgsPerS)} msg/s (offered ${fmt(r.without.offeredMsgsPerS)} / ${fmt(r.with.offeredMsgsPerS)}) | ${pct(ratio)} | ` +
          `${fmt(r.expected - r.missing)} / ${fmt(r.expected)} | ${r.missing} / ${r.extra} / ${r.duplicates} | ${r.gaps} / ${r.reconnects} | ${r.catchUpS.toFixed(1)} s |`,
      )
      targets.push({
        what: `${c.backend}: ingest with a client stalled ${r.stallS} s within 5 % of without`,
        figure: pct(ratio),
        met: Math.abs(ratio - 1) <= 0.05,
      })
      targets.push({
        what: `${c.backend}: the stalled client catches up from its last id with no hole`,
        figure: `${r.missing} missing of ${fmt(r.expected)}`,
        met: r.missing === 0 && r.extra === 0,
      })
    }
  }
}

function renderConnections(lines: string[], cases: ConnectionsCase[], o: Options, targets: Target[]) {
  lines.push(
    ``,
    `## Connections`,
    ``,
    `${fmt(o.sizes['connect-devices'])} devices asked for, registered beforehand, connecting 200 at a time from loopback source addresses 127.0.0.2 and up (25,000 each), ` +
      `from generator processes holding at most the hard file limit's worth of sockets each, with Faultline's soft file limit raised to its hard one; ` +
      `each device then publishes one telemetry message every 10 s. RSS is Faultline's (preloaded probe) with every device registered and none connected, then its peak while all are connected; ` +
      `the API is timed for ${o.sizes['connect-api-s']} s meanwhile, alternating GET /api/tickets?limit=25 and GET /api/devices/<id>, one at a time 20 ms apart. ` +
      `When the hard limit on open files is lower than the devices asked for (an unprivileged process cannot raise it), the case connects what it allows and says so.`,
    ``,
    `| case | connected / asked | connects/s | RSS none → all connected | RSS a connection | API p50 / p99 / max while connected |`,
    `| --- | ---: | ---: | ---: | ---: | ---: |`,
  )
  for (const c of cases) {
    const r = c.runs[0]
    if (!r) {
      lines.push(`| ${c.name} | – | – | – | – | ${outcome(c)} |`)
      continue
    }
    const perConnKb = ((r.rssConnectedMb - r.rssBeforeMb) * 1024) / r.connected
    const capped = r.connected + r.failed < r.asked ? ` (hard file limit ${fmt(r.fileLimit)})` : ''
    lines.push(
      `| ${c.name} | ${fmt(r.connected)} / ${fmt(r.asked)}${capped} | ${fmt(r.connectsPerS)} | ${fmt(r.rssBeforeMb)} → ${fmt(r.rssConnectedMb)} MB | ${perConnKb.toFixed(1)} KB | ${dist(r.apiMs)} |`,
    )
    const p99 = percentile(r.apiMs, 99)
    targets.push({
      what: `${c.backend}: 50,000 devices connected in ≤ 1 GiB RSS`,
      figure: `${fmt(r.connected)} in ${fmt(r.rssConnectedMb)} MB`,
      met: r.connected >= 50_000 ? r.rssConnectedMb <= 1024 : undefined,
    })
    targets.push({ what: `${c.backend}: ≥ 5,000 connections/s`, figure: `${fmt(r.connectsPerS)}/s`, met: r.connectsPerS >= 5_000 })
    targets.push({ what: `${c.backend}: API p99 ≤ 100 ms while they are connected and publishing`, figure: `${p99.toFixed(0)} ms`, met: p99 <= 100 })
  }
}
