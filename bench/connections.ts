// The connections case (issue 13): many devices connected at once, each publishing every 10 s, from several
// loopback source addresses (one address has ~28,000 ephemeral ports). Reports Faultline's RSS per connection,
// the connect rate and the API's p99 while they are connected. Every process holds one descriptor per socket:
// the children run with their soft file limit raised to the hard one (`ulimit -n`), and the case takes at most
// what the hard limit leaves room for, saying so when that is fewer than asked.
import { execFileSync, spawn } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ChildFaultline } from '../test/support/child-faultline.js'
import type { ConnectConfig, ConnectReport } from './connect-load.js'
import type { ProbeReport } from './probe.js'
import { percentile } from './report.js'
import { pool } from './tickets.js'

const here = path.dirname(fileURLToPath(import.meta.url))
/** descriptors a process keeps beside its device sockets (database, HTTP, log files, tsx) */
const SPARE_FDS = 500
/** connections from one source address, under the ~28,000 ephemeral ports Linux gives each */
const PER_ADDRESS = 25_000

/** The hard limit on open files, which an unprivileged process may raise its soft limit to. */
export const hardFileLimit = () => Number(execFileSync('sh', ['-c', 'ulimit -Hn']).toString().trim()) || 1024

/** A command line run with its soft file limit raised to the hard one. */
export const withRaisedFileLimit = (command: string[]): [string, ...string[]] => [
  'sh',
  '-c',
  'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"',
  ...command,
]

/** Devices the case can hold: Faultline holds one descriptor per connection. */
export const connectableDevices = (asked: number) => Math.min(asked, hardFileLimit() - SPARE_FDS)

export interface ConnectionsResult {
  asked: number
  connected: number
  failed: number
  firstError: string | null
  connectsPerS: number
  /** Faultline's RSS with every device registered and none connected, then with all connected, MB */
  rssBeforeMb: number
  rssConnectedMb: number
  /** GET /api/tickets and GET /api/devices/<id> while they are connected and publishing, ms */
  apiMs: number[]
  processes: number
  /** the hard limit on open files, which caps `connected` below `asked` */
  fileLimit: number
}

interface ProbedChild extends ChildFaultline {
  probe(cmd: 'reset' | 'report'): Promise<ProbeReport | undefined>
}

function startConnectLoad() {
  const [file, ...args] = withRaisedFileLimit([process.execPath, '--import', 'tsx', path.join(here, 'connect-load.ts')])
  const child = spawn(file, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const next = <T extends ConnectReport['type']>(type: T, timeoutMs: number) =>
    new Promise<Extract<ConnectReport, { type: T }>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`connections generator: no '${type}' in ${timeoutMs} ms`)), timeoutMs)
      child.on('message', (m: ConnectReport) => {
        if (m.type !== type) return
        clearTimeout(timer)
        resolve(m as Extract<ConnectReport, { type: T }>)
      })
    })
  return {
    connect(config: ConnectConfig) {
      const connected = next('connected', 600_000)
      child.send({ cmd: 'connect', config })
      return connected
    },
    async close() {
      const closed = next('closed', 30_000).catch(() => undefined)
      if (child.connected) child.send({ cmd: 'close' })
      await closed
      child.kill()
    },
  }
}

export async function connectionsRun(fl: ProbedChild, o: { devices: number; everyMs: number; apiS: number }): Promise<ConnectionsResult> {
  const n = connectableDevices(o.devices)
  const ids = Array.from({ length: n }, (_, i) => `cn-${String(i).padStart(5, '0')}`)
  const tokens = await pool(ids, 32, (id) => fl.registerDevice(id, { serial: `BENCH-${id}` }))
  const devices = ids.map((id, i) => ({ id, token: tokens[i]!, localAddress: `127.0.0.${2 + Math.floor(i / PER_ADDRESS)}` }))
  // One generator per share of the descriptors a process may hold.
  const perProcess = hardFileLimit() - SPARE_FDS
  const shares = Array.from({ length: Math.ceil(n / perProcess) }, (_, p) => devices.slice(p * perProcess, (p + 1) * perProcess))
  const loads = shares.map(() => startConnectLoad())
  try {
    await fl.probe('reset')
    const before = await fl.probe('report')
    const reports = await Promise.all(loads.map((l, p) => l.connect({ port: fl.mqttPort, devices: shares[p]!, concurrency: 200, everyMs: o.everyMs })))
    const startedAt = Math.min(...reports.map((r) => r.startedAt))
    const doneAt = Math.max(...reports.map((r) => r.doneAt))
    const failed = reports.reduce((s, r) => s + r.failed, 0)
    // The API while they publish: a ticket list and a device, one after the other, for apiS seconds.
    await fl.probe('reset')
    const apiMs: number[] = []
    const until = Date.now() + o.apiS * 1000
    for (let i = 0; Date.now() < until; i++) {
      const t0 = performance.now()
      const res = await fl.api('GET', i % 2 ? '/api/tickets?limit=25' : `/api/devices/${ids[i % n]}`)
      if (res.status !== 200) throw new Error(`API answered ${res.status} while ${n - failed} devices were connected`)
      apiMs.push(performance.now() - t0)
      await new Promise((r) => setTimeout(r, 20))
    }
    const connectedReport = await fl.probe('report')
    return {
      asked: o.devices,
      connected: n - failed,
      failed,
      firstError: reports.find((r) => r.firstError)?.firstError ?? null,
      connectsPerS: (n - failed) / ((doneAt - startedAt) / 1000),
      rssBeforeMb: before?.rssPeakMb ?? NaN,
      rssConnectedMb: connectedReport?.rssPeakMb ?? NaN,
      apiMs,
      processes: loads.length,
      fileLimit: hardFileLimit(),
    }
  } finally {
    await Promise.all(loads.map((l) => l.close()))
  }
}

export const describeConnections = (r: ConnectionsResult) =>
  `${r.connected}/${r.asked} connected${r.connected + r.failed < r.asked ? ` (at most ${r.connected + r.failed}: the hard file limit is ${r.fileLimit})` : ''} (${r.failed} failed${r.firstError ? `: ${r.firstError}` : ''}) at ${Math.round(r.connectsPerS)}/s from ${r.processes} process(es); ` +
  `RSS ${r.rssBeforeMb.toFixed(0)} → ${r.rssConnectedMb.toFixed(0)} MB (${(((r.rssConnectedMb - r.rssBeforeMb) * 1024) / r.connected).toFixed(1)} KB a connection); ` +
  `API p50 ${percentile(r.apiMs, 50).toFixed(1)} / p99 ${percentile(r.apiMs, 99).toFixed(1)} ms`
