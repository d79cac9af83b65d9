// One command, the whole story: Faultline on its embedded defaults and a simulated fleet that develops faults,
// a sustained threshold breach and a silent device, with each ticket printed as it opens.
// `faultline demo` or `npm run demo`; settings as for `faultline start` (the data dir defaults to ./data/demo, the
// ports to free ones). Ctrl-C stops both.
import { randomBytes } from 'node:crypto'
import { loadConfig, settingsHelp, type Config } from '../src/config/index.js'
import { exitIfCannotStart } from '../src/lifecycle/index.js'
import { createLogger, startFaultline, type Faultline } from '../src/main.js'
import { simulate } from './simulate.js'

interface TicketLine {
  id: number
  number: string
  kind: string
  trigger: string
  deviceId: string
  title: string
  priority: string
  warranty: { decision: string }
  quote: { total: number; currency: string } | null
}

/** The demo's own defaults: its own data dir, free ports (so it runs next to a Faultline on 1883/8080), warnings only. */
const DEMO_DEFAULTS = { FAULTLINE_DATA_DIR: './data/demo', FAULTLINE_MQTT_PORT: '0', FAULTLINE_HTTP_PORT: '0', FAULTLINE_LOG_LEVEL: 'warn' } as const

const HELP = `faultline demo [flags]: Faultline on its embedded defaults and a simulated fleet, each ticket printed as it opens

Takes the settings of faultline start, as flags or environment variables, with the demo's own defaults:

${settingsHelp(DEMO_DEFAULTS)}`

/** `faultline demo`: runs until Ctrl-C or SIGTERM, which stop the fleet (each device says it is switched off) and Faultline. */
export async function runDemo(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) return void process.stdout.write(HELP)
  let config: Config | undefined
  let faultline: Faultline
  try {
    const token = process.env.FAULTLINE_API_TOKEN ?? randomBytes(16).toString('hex')
    config = loadConfig({ ...DEMO_DEFAULTS, ...process.env, FAULTLINE_API_TOKEN: token }, argv)
    faultline = await startFaultline(config, createLogger(config.logLevel, config.logFormat))
  } catch (err) {
    // A busy port or data dir, a bad flag: one line saying what to change, not a stack trace.
    exitIfCannotStart(err, config, 'faultline demo')
    throw err
  }
  const apiToken = config.apiToken!
  const api = `http://127.0.0.1:${faultline.httpPort}`
  process.stdout.write(
    `Faultline demo: MQTT on port ${faultline.mqttPort}, HTTP on ${api}\n` +
      `API token: ${apiToken}\n` +
      `  curl -s "${api}/api/tickets" -H "authorization: Bearer ${apiToken}"\n` +
      `Fault tickets appear within a minute or so, the compressor's overheating after about 2.5 minutes, the silent\n` +
      `device's offline ticket after about 5.5 minutes.\n\n`,
  )

  const newestTickets = async () => {
    const res = await fetch(`${api}/api/tickets?limit=50`, { headers: { authorization: `Bearer ${apiToken}` } })
    return ((await res.json()) as { tickets: TicketLine[] }).tickets
  }
  // Tickets of an earlier demo in the same data dir are not news: only those after the newest one at start are shown.
  let shownUpTo = Math.max(0, ...(await newestTickets()).map((t) => t.id))
  // The compressor first: its discharge-temperature rule trips after 2 minutes, so the breach shows in a demo;
  // the last device (a compressor too, offline after 5 silent minutes) falls silent.
  const sim = await simulate({
    url: `mqtt://127.0.0.1:${faultline.mqttPort}`,
    api,
    token: apiToken,
    prefix: 'demo',
    devices: 13,
    models: ['LGV-37A-8', 'BCD-516WDVL', 'KFR-35GW-BP3DN1', 'XQG100-B14376'],
    rate: 2,
    faultRate: 0.01,
    faultDuration: 90,
    breach: 1,
    breachAfter: 10,
    breachFor: 240,
    silence: 1,
    silenceAfter: 30,
  })

  const showTickets = async () => {
    for (const t of (await newestTickets()).reverse()) {
      if (t.id <= shownUpTo) continue
      shownUpTo = t.id
      const bill = t.quote ? `quote ${t.quote.total.toFixed(2)} ${t.quote.currency}` : 'no charge'
      process.stdout.write(`${t.number}  ${t.priority}  ${t.kind}/${t.trigger}  ${t.deviceId}  ${t.title}  [${t.warranty.decision}, ${bill}]\n`)
    }
  }
  const ticker = setInterval(() => void showTickets().catch(() => {}), 2_000)
  const summary = setInterval(() => process.stdout.write(`${sim.summary()}\n`), 30_000)

  const stop = async () => {
    clearInterval(ticker)
    clearInterval(summary)
    await sim.stop()
    await faultline.close()
    process.exit(0)
  }
  process.once('SIGINT', () => void stop())
  process.once('SIGTERM', () => void stop())
}
