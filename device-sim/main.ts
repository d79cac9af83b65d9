// The device simulator's command line: `faultline sim --devices 50 --model BCD-516WDVL --rate 1 ...` (or
// `npm run sim -- ...`; --help for all).
// Registers the devices through Faultline's API, connects them over MQTT and publishes until Ctrl-C or --duration.
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import type { z } from 'zod'
import { profiles } from './profiles.js'
import { simOptions, simulate, type SimOptions } from './simulate.js'

export { simulate, simOptions, planDevices, registerDevice, type SimOptions, type Simulation } from './simulate.js'
export { profiles, findProfile } from './profiles.js'

const HELP = `Faultline device simulator

  faultline sim [options]      (or: npm run sim -- [options])

Connection
  --url URL             MQTT broker (default mqtt://127.0.0.1:1883; mqtts://, ws://host:port/mqtt work too)
  --api URL             Faultline HTTP API (default http://127.0.0.1:8080)
  --token TOKEN         API bearer token (default: $FAULTLINE_API_TOKEN)
Fleet
  --devices N           devices in all (default 10), ids <prefix>-<rf|ac|wm|cp>-0001...
  --model M             a catalog model: ${Object.values(profiles)
    .map((p) => `${p.catalogModel} (${p.kind})`)
    .join(', ')};
                        repeat it or separate with commas to mix models round-robin (default BCD-516WDVL)
  --rate S              seconds between one device's messages (default 1)
  --qos 0|1|2           telemetry QoS (default 0; status and will are QoS 1)
  --seed N              random seed: the same seed gives the same readings (default 1)
  --prefix P            device id prefix (default sim)
Faults, for demos
  --fault-rate P        per-tick probability of a fault event (E1, F3, ...) on a device without one (default 0)
  --fault-duration S    a fault clears (fault_cleared) after 0.5x-1.5x this (default 60)
  --breach N            the first N devices drive a metric over its catalog threshold (default 0)
  --breach-metric M     which metric (default per model: fridge_temp, discharge_pressure, motor_temp, discharge_temp)
  --breach-value V      the value it is driven to (default just over the catalog limit)
  --breach-after S      starting this many seconds in (default 10), ramping over 30 s
  --breach-for S        and lasting this long (default 300; the catalog's "for" must pass before an alert)
  --silence N           the last N devices stop publishing, staying connected (default 0)
  --silence-after S     from this many seconds in (default 30)
  --silence-for S       for this long; 0 = to the end (default 0)
Run
  --duration S          stop after S seconds (default 0: run until Ctrl-C)
  --summary S           seconds between summary lines (default 5)
  --keepalive S         MQTT keepalive (default 30)
  --reconnect-ms MS     reconnect delay, 0 = none (default 2000)
  --concurrency N       registrations and connects at once (default 20)
`

const numberFlags = {
  devices: 'devices',
  rate: 'rate',
  qos: 'qos',
  seed: 'seed',
  'fault-rate': 'faultRate',
  'fault-duration': 'faultDuration',
  breach: 'breach',
  'breach-value': 'breachValue',
  'breach-after': 'breachAfter',
  'breach-for': 'breachFor',
  silence: 'silence',
  'silence-after': 'silenceAfter',
  'silence-for': 'silenceFor',
  duration: 'duration',
  keepalive: 'keepalive',
  'reconnect-ms': 'reconnectMs',
  concurrency: 'concurrency',
} as const
const stringFlags = { url: 'url', api: 'api', token: 'token', prefix: 'prefix', 'breach-metric': 'breachMetric' } as const
const flagOf: Record<string, string> = Object.fromEntries(
  [...Object.entries(numberFlags), ...Object.entries(stringFlags), ['model', 'models']].map(([flag, key]) => [key, flag]),
)

export class UsageError extends Error {
  override name = 'UsageError'
}

/** Turns command-line arguments into validated simulator options; throws a UsageError naming every bad flag. */
export function parseCli(argv: string[], env: NodeJS.ProcessEnv = process.env): { options: z.output<typeof simOptions>; summaryS: number; help: boolean } {
  let values: Record<string, string | string[] | boolean | undefined>
  try {
    values = parseArgs({
      args: argv,
      options: {
        ...Object.fromEntries([...Object.keys(numberFlags), ...Object.keys(stringFlags), 'summary'].map((f) => [f, { type: 'string' as const }])),
        model: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  if (values.help) return { options: undefined as never, summaryS: 5, help: true }

  const problems: string[] = []
  const input: Record<string, unknown> = {
    url: 'mqtt://127.0.0.1:1883',
    api: 'http://127.0.0.1:8080',
    token: env.FAULTLINE_API_TOKEN,
  }
  for (const [flag, key] of Object.entries(stringFlags)) if (values[flag] !== undefined) input[key] = values[flag]
  for (const [flag, key] of Object.entries(numberFlags)) {
    const raw = values[flag] as string | undefined
    if (raw === undefined) continue
    const n = Number(raw)
    if (raw.trim() === '' || !Number.isFinite(n)) problems.push(`--${flag}: expected a number, got ${JSON.stringify(raw)}`)
    else input[key] = n
  }
  const models = (values.model as string[] | undefined)
    ?.flatMap((m) => m.split(','))
    .map((m) => m.trim())
    .filter(Boolean)
  if (models?.length) input.models = models
  if (input.token === undefined) problems.push('--token: required (or set FAULTLINE_API_TOKEN)')

  const summaryS = values.summary === undefined ? 5 : Number(values.summary)
  if (!(summaryS > 0)) problems.push(`--summary: expected a positive number of seconds, got ${JSON.stringify(values.summary)}`)

  const parsed = simOptions.safeParse(input)
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = String(issue.path[0] ?? '')
      if (key === 'token' && input.token === undefined) continue
      problems.push(`${key ? `--${flagOf[key] ?? key}` : 'options'}: ${issue.message}`)
    }
  }
  if (problems.length > 0 || !parsed.success) throw new UsageError(problems.join('\n'))
  return { options: parsed.data, summaryS, help: false }
}

/** `faultline sim`: runs a simulated fleet until Ctrl-C, SIGTERM or --duration. */
export async function runSim(argv: string[]): Promise<void> {
  let cli: ReturnType<typeof parseCli>
  try {
    cli = parseCli(argv)
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    process.stderr.write(`sim: invalid options:\n${err.message.replace(/^/gm, '  ')}\n\nfaultline sim --help for the list\n`)
    process.exit(2)
  }
  if (cli.help) {
    process.stdout.write(HELP)
    return
  }
  const o = cli.options
  const say = (line: string) => process.stdout.write(`${line}\n`)

  let interrupted = false
  const early = () => {
    // Ctrl-C while registering or connecting: nothing to hand back yet.
    process.exit(130)
  }
  process.once('SIGINT', early)
  const sim = await simulate(o satisfies SimOptions, {
    onProgress: say,
    onDeviceError: (id, err) => say(`sim: ${id}: ${err.message}`),
  }).catch((err: Error) => {
    process.stderr.write(`sim: ${err.message}\n`)
    process.exit(1)
  })
  process.off('SIGINT', early)
  for (const f of sim.failures.slice(0, 5)) say(`sim: ${f.id} did not start: ${f.error}`)
  if (sim.failures.length > 5) say(`sim: ... and ${sim.failures.length - 5} more`)
  say(
    `sim: ${sim.devices.length} devices (${o.models.join(', ')}) publishing every ${o.rate}s at QoS ${o.qos}, seed ${o.seed}` +
      (o.duration ? `, for ${o.duration}s` : '; Ctrl-C stops'),
  )

  const ticker = setInterval(() => say(sim.summary()), cli.summaryS * 1000)
  const onSignal = () => {
    if (interrupted) {
      say('sim: second interrupt, exiting without goodbyes')
      process.exit(130)
    }
    interrupted = true
    say('sim: stopping (devices say offline and disconnect; Ctrl-C again to force)')
    void sim.stop()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  await sim.done
  clearInterval(ticker)
  say(sim.summary())
  say('sim: stopped')
  process.off('SIGINT', onSignal)
  process.off('SIGTERM', onSignal)
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  await runSim(process.argv.slice(2))
}
