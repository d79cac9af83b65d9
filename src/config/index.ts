// Configuration from the environment, or the same settings as command-line flags
// (FAULTLINE_MQTT_PORT=1884 and --mqtt-port 1884 are one setting; a flag wins).
import { parseArgs } from 'node:util'
import type { z } from 'zod'
import type { SlaPolicy, UnknownModelPolicy } from '../rules/index.js'
import { flagOf, settings } from './settings.js'

export { flagOf, settings } from './settings.js'
export { settingsHelp } from './help.js'

type Settings = { [K in keyof typeof settings]: z.output<(typeof settings)[K]> }

export interface Config {
  databaseUrl?: string
  dataDir: string
  host: string
  mqttPort: number
  httpPort: number
  apiToken?: string
  logLevel: Settings['FAULTLINE_LOG_LEVEL']
  logFormat: Settings['FAULTLINE_LOG_FORMAT']
  /** how long a start waits for an unreachable database server */
  databaseWaitMs: number
  tls?: { certFile: string; keyFile: string }
  maxPayloadBytes: number
  maxFutureMs: number
  maxAgeMs: number
  writer: {
    queueRows: number
    /** rows per database call; absent means the backend's own default */
    batchRows?: number
    flushMs: number
  }
  aclViolationsMax: number
  retentionDays: number
  shutdownTimeoutMs: number
  /** product models: warranty policies, fault codes, thresholds, service plans */
  catalogDir: string
  /** deadlines per priority, warnings, calendar and escalation (the time zone is timeZone's) */
  sla: Omit<SlaPolicy, 'timeZone'>
  /** how often the SLA watcher looks (and the follow-up watcher) */
  slaIntervalMs: number
  /** from a resolution to its follow-up call's deadline */
  followUpWithinMs: number
  /** the calendar that dates faults for warranty and numbers tickets, where a device names none */
  timeZone: string
  /** the ticket number template (src/tickets/number-format.ts) */
  ticketNumber: string
  /** how a model the catalog lacks is judged */
  unknownModel: UnknownModelPolicy
  /** how often calendar and seasonal service plans are looked at */
  maintenanceIntervalMs: number
  /** how often the in-memory device registry picks up registrations and token rotations made by other processes */
  registryRefreshMs: number
  /** automatic dispatch: assign, only propose, or leave tickets to people; and how often it looks again */
  dispatch: { mode: Settings['FAULTLINE_DISPATCH']; intervalMs: number }
  /** how long the live stream keeps its events */
  streamRetentionMs: number
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'ConfigError'
  }
}

/** Settings whose values are never repeated in an error message: they are, or may hold, secrets. */
const secret = new Set(['FAULTLINE_API_TOKEN', 'DATABASE_URL'])

/** Reads and validates the configuration; throws a ConfigError naming every bad value. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, argv: string[] = process.argv.slice(2)): Config {
  const names = Object.keys(settings) as (keyof typeof settings)[]
  const problems: string[] = []
  const flags: Record<string, string | undefined> = {}
  // Not strict: an unknown or incomplete flag is one problem among the others, not the only one reported.
  const { tokens } = parseArgs({
    args: argv,
    options: Object.fromEntries(names.map((n) => [flagOf(n), { type: 'string' as const }])),
    strict: false,
    allowPositionals: true,
    tokens: true,
  })
  const known = new Set(names.map(flagOf))
  for (const token of tokens) {
    if (token.kind === 'positional') problems.push(`unexpected argument ${JSON.stringify(token.value)}`)
    else if (token.kind === 'option' && !known.has(token.name)) problems.push(`unknown flag ${token.rawName}`)
    else if (token.kind === 'option' && token.value === undefined) problems.push(`${token.rawName} needs a value`)
    else if (token.kind === 'option') flags[token.name] = token.value
  }

  const values: Record<string, unknown> = {}
  for (const name of names) {
    const raw = flags[flagOf(name)] ?? (env[name] === '' ? undefined : env[name])
    const parsed = settings[name].safeParse(raw)
    if (parsed.success) values[name] = parsed.data
    else
      problems.push(
        `${name} (--${flagOf(name)}): ${parsed.error.issues.map((i) => i.message).join('; ')}; got ${secret.has(name) ? '(hidden)' : JSON.stringify(raw)}`,
      )
  }
  const s = values as Settings
  if (!s.FAULTLINE_TLS_CERT !== !s.FAULTLINE_TLS_KEY) {
    problems.push('FAULTLINE_TLS_CERT and FAULTLINE_TLS_KEY go together: set both or neither')
  }
  if (s.FAULTLINE_MAX_AGE_MS >= s.FAULTLINE_RETENTION_DAYS * 24 * 3600_000) {
    problems.push('FAULTLINE_MAX_AGE_MS must be shorter than the retention period, or accepted points would be dropped at once')
  }
  if (problems.length > 0) throw new ConfigError(problems)

  return {
    databaseUrl: s.DATABASE_URL,
    dataDir: s.FAULTLINE_DATA_DIR,
    host: s.FAULTLINE_HOST,
    mqttPort: s.FAULTLINE_MQTT_PORT,
    httpPort: s.FAULTLINE_HTTP_PORT,
    apiToken: s.FAULTLINE_API_TOKEN,
    logLevel: s.FAULTLINE_LOG_LEVEL,
    logFormat: s.FAULTLINE_LOG_FORMAT,
    databaseWaitMs: s.FAULTLINE_DATABASE_WAIT_MS,
    tls: s.FAULTLINE_TLS_CERT && s.FAULTLINE_TLS_KEY ? { certFile: s.FAULTLINE_TLS_CERT, keyFile: s.FAULTLINE_TLS_KEY } : undefined,
    maxPayloadBytes: s.FAULTLINE_MAX_PAYLOAD_BYTES,
    maxFutureMs: s.FAULTLINE_MAX_FUTURE_MS,
    maxAgeMs: s.FAULTLINE_MAX_AGE_MS,
    writer: {
      queueRows: s.FAULTLINE_WRITER_QUEUE_ROWS,
      batchRows: s.FAULTLINE_WRITER_BATCH_ROWS,
      flushMs: s.FAULTLINE_WRITER_FLUSH_MS,
    },
    aclViolationsMax: s.FAULTLINE_ACL_VIOLATIONS_MAX,
    retentionDays: s.FAULTLINE_RETENTION_DAYS,
    shutdownTimeoutMs: s.FAULTLINE_SHUTDOWN_TIMEOUT_MS,
    catalogDir: s.FAULTLINE_CATALOG_DIR,
    sla: { sla: s.FAULTLINE_SLA, warnAt: s.FAULTLINE_SLA_WARN_AT, calendar: s.FAULTLINE_SLA_CALENDAR, escalation: s.FAULTLINE_SLA_ESCALATE },
    slaIntervalMs: s.FAULTLINE_SLA_INTERVAL_MS,
    followUpWithinMs: s.FAULTLINE_FOLLOW_UP_WITHIN,
    timeZone: s.FAULTLINE_TIME_ZONE,
    ticketNumber: s.FAULTLINE_TICKET_NUMBER,
    unknownModel: s.FAULTLINE_UNKNOWN_MODEL,
    maintenanceIntervalMs: s.FAULTLINE_MAINTENANCE_INTERVAL_MS,
    registryRefreshMs: s.FAULTLINE_REGISTRY_REFRESH_MS,
    dispatch: { mode: s.FAULTLINE_DISPATCH, intervalMs: s.FAULTLINE_DISPATCH_INTERVAL_MS },
    streamRetentionMs: s.FAULTLINE_STREAM_RETENTION,
  }
}
