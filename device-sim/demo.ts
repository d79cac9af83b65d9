// One command, the whole story: Faultline on its embedded defaults and a simulated fleet that develops faults,
// a sustained threshold breach and a silent device, with each ticket printed as it opens.
// `npm run demo`; settings as for `npm start` (the data dir defaults to ./data/demo). Ctrl-C stops both.
import { randomBytes } from 'node:crypto'
import { ConfigError, loadConfig } from '../src/config/index.js'
import { createLogger, startFaultline } from '../src/main.js'
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

let config
try {
  const token = process.env.FAULTLINE_API_TOKEN ?? randomBytes(16).toString('hex')
  config = loadConfig({ FAULTLINE_DATA_DIR: './data/demo', FAULTLINE_LOG_LEVEL: 'warn', ...process.env, FAULTLINE_API_TOKEN: token })
} catch (err) {
  if (!(err instanceof ConfigError)) throw err
  process.stderr.write(`faultline demo: ${err.message}\n`)
  process.exit(2)
}
const apiToken = config.apiToken!
const faultline = await startFaultline(config, createLogger(config.logLevel))
const api = `http://127.0.0.1:${faultline.httpPort}`
process.stdout.write(
  `Faultline demo: MQTT on port ${faultline.mqttPort}, HTTP on ${api}\n` +
    `API token: ${apiToken}\n` +
    `  curl -s "${api}/api/tickets" -H "authorization: Bearer ${apiToken}"\n\n`,
)

// The compressor first: its discharge-temperature rule trips after 2 minutes, so the breach shows in a demo;
// the last device (a compressor too, offline after 5 silent minutes) falls silent.
const sim = await simulate({
  url: `mqtt://127.0.0.1:${faultline.mqttPort}`,
  api,
  token: apiToken,
  prefix: 'demo',
  devices: 13,
  models: ['CP-7500', 'RF-500', 'AC-3500', 'WM-800'],
  rate: 2,
  faultRate: 0.01,
  faultDuration: 90,
  breach: 1,
  breachAfter: 10,
  breachFor: 240,
  silence: 1,
  silenceAfter: 30,
})

const seen = new Set<number>()
const showTickets = async () => {
  const res = await fetch(`${api}/api/tickets?limit=50`, { headers: { authorization: `Bearer ${apiToken}` } })
  const { tickets } = (await res.json()) as { tickets: TicketLine[] }
  for (const t of tickets.reverse()) {
    if (seen.has(t.id)) continue
    seen.add(t.id)
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
