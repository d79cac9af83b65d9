// Configuration from the environment, or the same settings as command-line flags
// (FAULTLINE_MQTT_PORT=1884 and --mqtt-port 1884 are one setting; a flag wins).
import { parseArgs } from 'node:util'
import { z } from 'zod'
import { slaConfigSchema, type SlaConfig } from '../rules/index.js'

const port = z.coerce.number().int().min(0).max(65535)
const positiveInt = z.coerce.number().int().positive()
const text = z.string().trim().min(1)

/**
 * Every setting: its environment name, its schema, its default where it has one, and a one-line description
 * (`.describe`, last, so it stays on the outer schema): `faultline start --help` is generated from this table.
 */
export const settings = {
  DATABASE_URL: text.regex(/^postgres(ql)?:\/\//, 'expected a postgres:// or postgresql:// URL').optional()
    .describe('postgres:// URL of a TimescaleDB or PostgreSQL >= 14 server; unset: the embedded engine in the data dir'),
  FAULTLINE_DATABASE_WAIT_MS: positiveInt.default(30_000)
    .describe('how long a start waits for an unreachable database server before giving up'),
  FAULTLINE_DATA_DIR: text.default('./data')
    .describe('embedded database, write-ahead log, API token hash; one Faultline per data dir'),
  FAULTLINE_HOST: text.default('0.0.0.0').describe('address both listeners bind'),
  FAULTLINE_MQTT_PORT: port.default(1883).describe('MQTT over TCP (TLS when a certificate is set); 0 picks a free port'),
  FAULTLINE_HTTP_PORT: port.default(8080).describe('HTTP API and MQTT over WebSocket at /mqtt; 0 picks a free port'),
  FAULTLINE_API_TOKEN: z.string().min(16, 'must be at least 16 characters').optional()
    .describe('bearer token for /api (>= 16 characters); unset: one is generated and printed once'),
  FAULTLINE_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')
    .describe('fatal, error, warn, info, debug, trace or silent'),
  FAULTLINE_LOG_FORMAT: z.enum(['auto', 'pretty', 'json']).default('auto')
    .describe('pretty: readable lines; json: one JSON object a line; auto: pretty on a terminal, JSON otherwise'),
  FAULTLINE_TLS_CERT: text.optional().describe('PEM certificate file: MQTT over TLS on the MQTT port (with --tls-key)'),
  FAULTLINE_TLS_KEY: text.optional().describe('PEM private key file of that certificate'),
  FAULTLINE_MAX_PAYLOAD_BYTES: positiveInt.max(16 * 1024 * 1024).default(64 * 1024)
    .describe('larger payloads are dead-lettered; packets over 4x this close the connection'),
  FAULTLINE_MAX_FUTURE_MS: positiveInt.default(5 * 60_000).describe('how far ahead of the receive time a device timestamp may be'),
  FAULTLINE_MAX_AGE_MS: positiveInt.default(30 * 24 * 3600_000).describe('how old a point may be (backlogs after an outage)'),
  FAULTLINE_WRITER_QUEUE_ROWS: positiveInt.default(100_000)
    .describe('rows accepted but not yet in the database; when full, clients are no longer read'),
  FAULTLINE_WRITER_BATCH_ROWS: positiveInt.optional().describe('rows per database write; unset: 1000 embedded, 5000 server'),
  FAULTLINE_WRITER_FLUSH_MS: positiveInt.default(50).describe('longest wait before a partial batch is written'),
  FAULTLINE_ACL_VIOLATIONS_MAX: positiveInt.default(5).describe('refused publishes/subscriptions before a client is disconnected'),
  FAULTLINE_RETENTION_DAYS: positiveInt.default(365).describe('TimescaleDB retention policy for raw telemetry'),
  FAULTLINE_SHUTDOWN_TIMEOUT_MS: positiveInt.default(30_000)
    .describe('how long SIGTERM waits for the flush (what is left stays in the log for the next start)'),
  FAULTLINE_CATALOG_DIR: text.default('./config/catalog').describe('product models: warranty policies, fault codes, thresholds, service plans'),
  FAULTLINE_MAINTENANCE_INTERVAL_MS: positiveInt.default(60_000).describe('how often calendar and seasonal service plans are looked at'),
  FAULTLINE_REGISTRY_REFRESH_MS: positiveInt.default(10_000)
    .describe('how often the in-memory device registry is refreshed from the database (changes made by other Faultline processes)'),
  FAULTLINE_SLA: z
    .string()
    .optional()
    .transform((json, ctx) => {
      if (json === undefined) return slaConfigSchema.parse({})
      try {
        return slaConfigSchema.parse(JSON.parse(json))
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `expected JSON such as {"P1":{"respondWithin":"15m","resolveWithin":"4h"}}: ${err instanceof z.ZodError ? z.prettifyError(err) : (err as Error).message}` })
        return z.NEVER
      }
    })
    .describe('JSON overrides of the response and resolution deadlines, e.g. {"P1":{"respondWithin":"15m"}}'),
  FAULTLINE_TIME_ZONE: text
    .default('UTC')
    .refine((tz) => {
      try {
        new Intl.DateTimeFormat('en', { timeZone: tz })
        return true
      } catch {
        return false
      }
    }, 'expected an IANA time zone such as UTC or Asia/Shanghai')
    .describe('the calendar that dates faults for warranty, numbers tickets and schedules service'),
} satisfies Record<string, z.ZodType>

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
  sla: SlaConfig
  /** the calendar that dates faults for warranty and numbers tickets */
  timeZone: string
  /** how often calendar and seasonal service plans are looked at */
  maintenanceIntervalMs: number
  /** how often the in-memory device registry picks up registrations and token rotations made by other processes */
  registryRefreshMs: number
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'ConfigError'
  }
}

/** Settings whose values are never repeated in an error message: they are, or may hold, secrets. */
const secret = new Set(['FAULTLINE_API_TOKEN', 'DATABASE_URL'])

const flagOf = (name: string) => name.replace(/^FAULTLINE_/, '').toLowerCase().replaceAll('_', '-')

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
    else problems.push(`${name} (--${flagOf(name)}): ${parsed.error.issues.map((i) => i.message).join('; ')}; got ${secret.has(name) ? '(hidden)' : JSON.stringify(raw)}`)
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
    sla: s.FAULTLINE_SLA,
    timeZone: s.FAULTLINE_TIME_ZONE,
    maintenanceIntervalMs: s.FAULTLINE_MAINTENANCE_INTERVAL_MS,
    registryRefreshMs: s.FAULTLINE_REGISTRY_REFRESH_MS,
  }
}

// `--help` for the settings, generated from the settings table: one source of truth for the flag, the
// environment variable, the default and the description (issue 9).
/** What a setting is when nothing sets it, as the help shows it. */
function defaultOf(name: keyof typeof settings): string {
  const parsed = settings[name].safeParse(undefined)
  if (!parsed.success || parsed.data === undefined) return 'unset'
  return typeof parsed.data === 'object' ? 'built in' : String(parsed.data)
}

/** One entry per setting: `--flag VALUE` and its variable, then its description and default. */
export function settingsHelp(defaults: Partial<Record<keyof typeof settings, string>> = {}): string {
  const names = Object.keys(settings) as (keyof typeof settings)[]
  return names
    .map((name) => `  --${flagOf(name)}  (${name}, default: ${defaults[name] ?? defaultOf(name)})\n      ${settings[name].description ?? ''}\n`)
    .join('')
}
