// `faultline tail` end to end: the real command (`node bin/faultline.js tail`) as a child process against a real
// Faultline, faults published over MQTT. Its lines, its --json frames, a restart of Faultline under it (resumed
// without a duplicate or a hole), and the refusals that end it with status 2.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { streamEvent, type StreamEvent, type StreamMessage } from '../src/stream/index.js'
import { closeWhenTestEnds } from './support/cleanup.js'
import { API_TOKEN, backends, eventually, startTest, startTestInstance, type TestInstance } from './support/faultline.js'
import { connectDevice, tcpUrl } from './support/mqtt.js'
import { connectStream, isType } from './support/stream-client.js'
import { OUTCOME_WAIT_MS, startsWithin } from './support/waits.js'

const root = fileURLToPath(new URL('..', import.meta.url))

interface Tail {
  stdout: string[]
  stderr: string[]
  /** resolves with the first line (stdout or stderr, as named) from `from` on that passes `check` */
  waitFor(stream: 'stdout' | 'stderr', check: (line: string) => boolean, from?: number): Promise<string>
  exited: Promise<number | null>
  /** Ctrl-C; resolves with the exit status */
  interrupt(): Promise<number | null>
}

/** `faultline tail <args>` with no FAULTLINE_* setting but those given; lines are collected as they come. */
function tail(args: string[], env: Record<string, string> = {}): Tail {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FAULTLINE_') && k !== 'NO_COLOR'))
  const child = spawn(process.execPath, ['bin/faultline.js', 'tail', ...args], { cwd: root, env: { ...clean, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  closeWhenTestEnds(() => child.kill('SIGKILL'))
  const lines = { stdout: [] as string[], stderr: [] as string[] }
  const waiters = new Set<() => void>()
  for (const name of ['stdout', 'stderr'] as const) {
    let partial = ''
    child[name].setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n')
      partial = parts.pop()!
      lines[name].push(...parts)
      for (const w of waiters) w()
    })
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return {
    ...lines,
    exited,
    waitFor: (name, check, from = 0) =>
      new Promise((resolve, reject) => {
        const look = () => {
          const found = lines[name].slice(from).find(check)
          if (found === undefined) return
          clearTimeout(timer)
          waiters.delete(look)
          resolve(found)
        }
        const timer = setTimeout(() => {
          waiters.delete(look)
          reject(new Error(`no such ${name} line in ${OUTCOME_WAIT_MS} ms; stdout: ${lines.stdout.join('\n')}\nstderr: ${lines.stderr.join('\n')}`))
        }, OUTCOME_WAIT_MS)
        waiters.add(look)
        look()
      }),
    interrupt: () => {
      child.kill('SIGINT')
      return exited
    },
  }
}

const FRIDGE = 'BCD-516WDVL'
const urlOf = (fl: TestInstance) => `http://127.0.0.1:${fl.faultline.httpPort}`
const isEvent = (m: StreamMessage): m is StreamEvent => 'id' in m

/** Every stored event of `device`, from the stream's own backfill: what a tail of it should have printed. */
async function storedEvents(fl: TestInstance, device: string): Promise<StreamEvent[]> {
  const stream = await connectStream(fl.faultline.httpPort, `?device=${device}&after=0`)
  await stream.waitFor(isType('caught_up'))
  await stream.close()
  return stream.messages.filter(isEvent)
}

describe.each(backends())('faultline tail against Faultline on the %s backend', (backend) => {
  let fl: TestInstance
  beforeAll(async () => {
    fl = await startTest(backend)
  })
  afterAll(() => fl?.close())

  /** A refrigerator bought this year: a fan fault is in warranty and free. */
  async function device(id: string, on = fl): Promise<MqttClient> {
    const token = await on.registerDevice(id, { model: FRIDGE, region: 'east', purchasedAt: '2026-09-01' })
    return connectDevice(tcpUrl(on.faultline.mqttPort), id, token)
  }
  const fault = (client: MqttClient, id: string, code: string) =>
    client.publishAsync(`devices/${id}/events`, JSON.stringify({ type: 'fault', code }), { qos: 1 })

  it('prints one plain line per event of a fault published over MQTT, and exits 0 on Ctrl-C', async () => {
    const run = tail(['--url', urlOf(fl), '--device', 'tail-1'], { FAULTLINE_API_TOKEN: API_TOKEN })
    await run.waitFor('stderr', (l) => l.includes('caught up at #'))
    await fault(await device('tail-1'), 'tail-1', 'E1')
    const raised = await run.waitFor('stdout', (l) => l.includes(' detection.raised '))
    const opened = await run.waitFor('stdout', (l) => l.includes(' ticket.opened '))
    expect(raised).toMatch(/^\d\d:\d\d:\d\d #\d+ detection\.raised major tail-1 BCD-516WDVL east {2}Condenser fan motor fault E1$/)
    expect(opened).toMatch(/^\d\d:\d\d:\d\d #\d+ ticket\.opened P2 SR\d{11,} tail-1 BCD-516WDVL east {2}Condenser fan motor fault E1 \(in_warranty, free\)$/)
    // Not a terminal: no colour codes in a file or a pipe.
    expect(run.stdout.join('\n')).not.toContain('\u001b')
    expect(await run.interrupt()).toBe(0)
    expect(run.stdout).toHaveLength(2)
  })

  it('--json prints each event as the envelope it came in, one per line, in id order, with no control frame', async () => {
    await fault(await device('tail-2'), 'tail-2', 'E1')
    // Acknowledged is durable, not yet a ticket: wait for the pair to be stored.
    const stored = await eventually(async () => {
      const events = await storedEvents(fl, 'tail-2')
      return events.length === 2 ? events : undefined
    })
    expect(stored.map((e) => e.type)).toEqual(['detection.raised', 'ticket.opened'])
    const run = tail(['--url', urlOf(fl), '--token', API_TOKEN, '--json', '--device', 'tail-2', '--last', '10'])
    await run.waitFor('stderr', (l) => l.includes('caught up at #'))
    await run.waitFor('stdout', (l) => l.includes('"ticket.opened"'))
    const printed = run.stdout.map((l) => streamEvent.parse(JSON.parse(l)))
    expect(printed).toEqual(stored)
    expect(await run.interrupt()).toBe(0)
  })

  it('resumes across a restart of Faultline on the same data and port: every event once, none missing', startsWithin(2), async () => {
    const first = await startTest(backend)
    const run = tail(['--url', urlOf(first), '--token', API_TOKEN, '--json', '--device', 'tail-3'])
    await run.waitFor('stderr', (l) => l.includes('caught up at #'))
    await fault(await device('tail-3', first), 'tail-3', 'E1')
    await run.waitFor('stdout', (l) => l.includes('"ticket.opened"'))

    await first.close()
    await run.waitFor('stderr', (l) => l.startsWith('tail: connection lost'))
    const again = await startTestInstance({ ...first.config, httpPort: first.faultline.httpPort, mqttPort: 0 })
    // Raised while tail is away or coming back: it gets them from storage or live, either way once.
    const { body } = await again.api('POST', '/api/devices/tail-3/token')
    await fault(await connectDevice(tcpUrl(again.faultline.mqttPort), 'tail-3', body.token), 'tail-3', 'E2')
    await run.waitFor('stdout', (l) => l.includes('"ticket.opened"') && l.includes('fault:E2'))

    const stored = await storedEvents(again, 'tail-3')
    expect(stored.map((e) => e.type)).toEqual(['detection.raised', 'ticket.opened', 'detection.raised', 'ticket.opened'])
    expect(run.stdout.map((l) => (JSON.parse(l) as StreamEvent).id)).toEqual(stored.map((e) => e.id))
    // It came back asking for what followed the last event it printed, its filter kept.
    const following = run.stderr.filter((l) => l.startsWith('tail: following'))
    expect(following).toHaveLength(2)
    expect(following[1]).toMatch(new RegExp(`/ws/faults\\?device=tail-3&after=${stored[1]!.id}$`))
    expect(await run.interrupt()).toBe(0)
    await again.close()
  })

  it('a refused token exits 2 saying so, without retrying and without printing the token', async () => {
    const run = tail(['--url', urlOf(fl), '--token', 'not-the-token-4711-secret'])
    expect(await run.exited).toBe(2)
    const said = run.stderr.join('\n')
    expect(said).toMatch(/^tail: the API token was refused \(401 .*\): check --token or FAULTLINE_API_TOKEN$/m)
    expect(said + run.stdout.join('\n')).not.toContain('4711-secret')
    expect(said).not.toContain('reconnecting')
  })

  it("a filter the server refuses exits 2 with the server's message; an unknown option is refused before connecting", async () => {
    const badFilter = tail(['--url', urlOf(fl), '--token', API_TOKEN, '--min-priority', 'P9'])
    expect(await badFilter.exited).toBe(2)
    expect(badFilter.stderr.join('\n')).toMatch(/^tail: .*\/ws\/faults: 400 .*minPriority/m)
    const unknown = tail(['--url', urlOf(fl), '--token', API_TOKEN, '--min-sevrity', 'major'])
    expect(await unknown.exited).toBe(2)
    expect(unknown.stderr.join('\n')).toMatch(/Unknown option '--min-sevrity'/)
  })
})
