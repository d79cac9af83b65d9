// Faultline as the operator runs it (issue 9): `npm start` and the `faultline` command stop gracefully on
// SIGTERM with nothing left running, and a start that cannot go on says why in one line with status 2.
import { execFile } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import net, { type AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { settings } from '../src/config/index.js'
import { spawnFaultline } from './support/child-faultline.js'
import { eventually, startTest, startTestInstance, testConfig } from './support/faultline.js'
import { connectDevice, tcpUrl } from './support/mqtt.js'

const root = path.resolve(import.meta.dirname, '..')
const tempDir = () => mkdtempSync(path.join(os.tmpdir(), 'faultline-proc-'))
const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Every process below `pid`, read from ps: what must all be gone once the top one has exited. */
async function descendants(pid: number): Promise<number[]> {
  const { stdout } = await promisify(execFile)('ps', ['-e', '-o', 'pid=,ppid='])
  const children = new Map<number, number[]>()
  for (const line of stdout.trim().split('\n')) {
    const [p, pp] = line.trim().split(/\s+/).map(Number) as [number, number]
    children.set(pp, [...(children.get(pp) ?? []), p])
  }
  const found: number[] = []
  for (let queue = [pid]; queue.length > 0;) {
    const next = children.get(queue.shift()!) ?? []
    found.push(...next)
    queue.push(...next)
  }
  return found
}

const launchers: [string, [string, ...string[]]][] = [
  ['npm start', ['npm', 'start']],
  ['the faultline command', [process.execPath, 'bin/faultline.js']],
]

describe.each(launchers)('SIGTERM to %s', (_name, command) => {
  it('flushes what was accepted, exits 0 and leaves no process behind', async () => {
    const dataDir = tempDir()
    // A long flush interval keeps the QoS 0 rows in memory until the shutdown writes them.
    const child = await spawnFaultline({ FAULTLINE_DATA_DIR: dataDir, FAULTLINE_WRITER_FLUSH_MS: '600000' }, { command, timeoutMs: 120_000 })
    try {
      const tree = await descendants(child.process.pid!)
      const token = await child.registerDevice('sig-1')
      const device = await connectDevice(tcpUrl(child.mqttPort), 'sig-1', token)
      const count = 20
      const since = Date.now() - 60_000
      for (let i = 0; i < count; i++)
        device.publish('devices/sig-1/telemetry', JSON.stringify({ ts: since + i * 1000, metrics: { fridge_temp: i } }), { qos: 0 })
      // A QoS 1 message after them is acknowledged once the broker has taken in everything before it.
      await device.publishAsync('devices/sig-1/status', JSON.stringify({ online: true }), { qos: 1 })
      await device.endAsync()

      child.process.kill('SIGTERM')
      expect(await child.exited).toEqual({ code: 0, signal: null })
      expect(child.logs.map((l) => l.msg)).toContain('Faultline stopped; everything accepted is stored')
      // Helpers it started (tsx's esbuild service) end once their pipe to it closes: wait for that, bounded.
      const left = () => [child.process.pid!, ...tree].filter(alive)
      await eventually(async () => (left().length === 0 ? true : undefined), 10_000).catch(() => {})
      expect(left()).toEqual([])

      const after = await startTestInstance(await testConfig('embedded', { FAULTLINE_DATA_DIR: dataDir }))
      try {
        const res = await after.api('GET', `/api/devices/sig-1/telemetry?metric=fridge_temp&from=${since}&limit=100`)
        expect((res.body as { points: unknown[] }).points).toHaveLength(count)
      } finally {
        await after.close()
      }
    } finally {
      await child.stop(5_000)
    }
  }, 240_000) // three starts of the embedded engine, two of them child processes
})

/** Runs `faultline start` to its exit: a start that is meant to fail. */
async function failedStart(env: Record<string, string>) {
  return faultline(['start'], { FAULTLINE_HOST: '127.0.0.1', FAULTLINE_MQTT_PORT: '0', FAULTLINE_HTTP_PORT: '0', FAULTLINE_DATA_DIR: tempDir(), ...env })
}

/** Runs the faultline command to its exit. */
async function faultline(args: string[], env: Record<string, string> = {}) {
  return promisify(execFile)(process.execPath, ['bin/faultline.js', ...args], { cwd: root, env: { ...process.env, ...env }, timeout: 150_000 }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }),
  )
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  await new Promise((resolve) => server.close(resolve))
  return port
}

describe('the faultline command', { timeout: 180_000 }, () => {
  it('lists every setting under start --help: flag, environment variable, default and description', async () => {
    const { code, stdout } = await faultline(['start', '--help'])
    expect(code).toBe(0)
    for (const name of Object.keys(settings) as (keyof typeof settings)[]) {
      const flag = name
        .replace(/^FAULTLINE_/, '')
        .toLowerCase()
        .replaceAll('_', '-')
      const entry = stdout.split('\n  --').find((e) => e.startsWith(`${flag}  (${name}, default: `))
      expect(settings[name].description, name).toBeTruthy()
      expect(entry, name).toContain(`\n      ${settings[name].description}`)
    }
    expect(stdout).toContain('--mqtt-port  (FAULTLINE_MQTT_PORT, default: 1883)')
  })

  it('answers --version and --help, and refuses an unknown command with status 2', async () => {
    expect((await faultline(['--version'])).stdout).toBe('0.1.0\n')
    expect((await faultline(['--help'])).stdout).toMatch(/start .*\n.*demo .*\n.*sim /)
    const unknown = await faultline(['frobnicate'])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain('faultline: unknown command "frobnicate"')
  })

  it('logs readable lines with FAULTLINE_LOG_FORMAT=pretty and JSON with json', async () => {
    const waiting = { DATABASE_URL: `postgres://u@127.0.0.1:${await closedPort()}/db`, FAULTLINE_DATABASE_WAIT_MS: '300', FAULTLINE_LOG_LEVEL: 'warn' }
    const pretty = await failedStart({ ...waiting, FAULTLINE_LOG_FORMAT: 'pretty' })
    expect(pretty.stdout).toMatch(/WARN.*database server not answering yet; trying again/)
    expect(pretty.stdout.split('\n').filter((l) => l.startsWith('{'))).toEqual([])
    const json = await failedStart({ ...waiting, FAULTLINE_LOG_FORMAT: 'json' })
    const lines = json.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string })
    expect(lines.map((l) => l.msg)).toContain('database server not answering yet; trying again')
  })
})

describe('a start that cannot go on', { timeout: 180_000 }, () => {
  it('says a busy port in one line naming it and its setting, and exits 2', async () => {
    const busy = net.createServer()
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve))
    const port = (busy.address() as AddressInfo).port
    try {
      const { code, stderr } = await failedStart({ FAULTLINE_MQTT_PORT: String(port) })
      expect(code).toBe(2)
      expect(stderr.trim().split('\n')).toEqual([
        `faultline: port ${port} on 127.0.0.1 is in use by another process: stop what holds it or choose another with FAULTLINE_MQTT_PORT (--mqtt-port)`,
      ])
    } finally {
      busy.close()
    }
  })

  it('waits FAULTLINE_DATABASE_WAIT_MS for a database server that does not answer, then says so and exits 2', async () => {
    const port = await closedPort()
    const started = Date.now()
    const { code, stderr } = await failedStart({
      DATABASE_URL: `postgres://faultline:pw-not-shown@127.0.0.1:${port}/db`,
      FAULTLINE_DATABASE_WAIT_MS: '1500',
      FAULTLINE_LOG_LEVEL: 'silent',
    })
    expect(code).toBe(2)
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500)
    expect(stderr.trim().split('\n')).toEqual([
      'faultline: the database server did not answer within 1500 ms (ECONNREFUSED): is it running, and is DATABASE_URL right?',
    ])
  })

  it('says a data dir in use in one line and exits 2', async () => {
    const running = await startTest('embedded')
    try {
      const { code, stderr } = await failedStart({ FAULTLINE_DATA_DIR: running.config.dataDir })
      expect(code).toBe(2)
      expect(stderr.trim().split('\n')).toEqual([expect.stringMatching(/^faultline: the data dir .* is in use by another Faultline \(pid \d+\)/)])
    } finally {
      await running.close()
    }
  })
})
