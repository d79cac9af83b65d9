// The settings table: each setting's environment name, schema, default and description. The configuration is
// read from it (index.ts) and `--help` is generated from it (help.ts).
import { z } from 'zod'
import { parseDuration } from '../catalog/index.js'
import { isTimeZone } from '../calendar.js'
import { businessCalendarSchema, defaultUnknownModelPolicy, escalations, slaConfigSchema, unknownModelPolicy } from '../rules/index.js'
import { defaultTicketNumber, ticketNumberTemplate } from '../tickets/index.js'

const port = z.coerce.number().int().min(0).max(65535)
const positiveInt = z.coerce.number().int().positive()
const text = z.string().trim().min(1)
/** A positive duration such as "12h" or "7d", in ms. */
const duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      const ms = parseDuration(text.trim())
      if (ms !== undefined && ms > 0) return ms
      ctx.addIssue({ code: 'custom', message: `expected a duration such as "12h" or "7d"; got ${JSON.stringify(text)}` })
      return z.NEVER
    })

/**
 * Every setting: its environment name, its schema, its default where it has one, and a one-line description
 * (`.describe`, last, so it stays on the outer schema): `faultline start --help` is generated from this table.
 */
export const settings = {
  DATABASE_URL: text
    .regex(/^postgres(ql)?:\/\//, 'expected a postgres:// or postgresql:// URL')
    .optional()
    .describe('postgres:// URL of a TimescaleDB or PostgreSQL >= 14 server; unset: the embedded engine in the data dir'),
  FAULTLINE_DATABASE_WAIT_MS: positiveInt.default(30_000).describe('how long a start waits for an unreachable database server before giving up'),
  FAULTLINE_DATA_DIR: text.default('./data').describe('embedded database, write-ahead log, API token hash; one Faultline per data dir'),
  FAULTLINE_HOST: text.default('0.0.0.0').describe('address both listeners bind'),
  FAULTLINE_MQTT_PORT: port.default(1883).describe('MQTT over TCP (TLS when a certificate is set); 0 picks a free port'),
  FAULTLINE_HTTP_PORT: port.default(8080).describe('HTTP API and MQTT over WebSocket at /mqtt; 0 picks a free port'),
  FAULTLINE_API_TOKEN: z
    .string()
    .min(16, 'must be at least 16 characters')
    .optional()
    .describe('bearer token for /api (>= 16 characters); unset: one is generated and printed once'),
  FAULTLINE_LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .describe('fatal, error, warn, info, debug, trace or silent'),
  FAULTLINE_LOG_FORMAT: z
    .enum(['auto', 'pretty', 'json'])
    .default('auto')
    .describe('pretty: readable lines; json: one JSON object a line; auto: pretty on a terminal, JSON otherwise'),
  FAULTLINE_TLS_CERT: text.optional().describe('PEM certificate file: MQTT over TLS on the MQTT port (with --tls-key)'),
  FAULTLINE_TLS_KEY: text.optional().describe('PEM private key file of that certificate'),
  FAULTLINE_MAX_PAYLOAD_BYTES: positiveInt
    .max(16 * 1024 * 1024)
    .default(64 * 1024)
    .describe('larger payloads are dead-lettered; packets over 4x this close the connection'),
  FAULTLINE_MAX_FUTURE_MS: positiveInt.default(5 * 60_000).describe('how far ahead of the receive time a device timestamp may be'),
  FAULTLINE_MAX_AGE_MS: positiveInt.default(30 * 24 * 3600_000).describe('how old a point may be (backlogs after an outage)'),
  FAULTLINE_WRITER_QUEUE_ROWS: positiveInt.default(100_000).describe('rows accepted but not yet in the database; when full, clients are no longer read'),
  FAULTLINE_WRITER_BATCH_ROWS: positiveInt.optional().describe('rows per database write; unset: 1000 embedded, 5000 server'),
  FAULTLINE_WRITER_FLUSH_MS: positiveInt.default(50).describe('longest wait before a partial batch is written'),
  FAULTLINE_ACL_VIOLATIONS_MAX: positiveInt.default(5).describe('refused publishes/subscriptions before a client is disconnected'),
  FAULTLINE_RETENTION_DAYS: positiveInt.default(365).describe('TimescaleDB retention policy for raw telemetry'),
  FAULTLINE_SHUTDOWN_TIMEOUT_MS: positiveInt
    .default(30_000)
    .describe('how long SIGTERM waits for the flush (what is left stays in the log for the next start)'),
  FAULTLINE_CATALOG_DIR: text.default('./config/catalog').describe('product models: warranty policies, fault codes, thresholds, service plans'),
  FAULTLINE_MAINTENANCE_INTERVAL_MS: positiveInt.default(60_000).describe('how often calendar and seasonal service plans are looked at'),
  FAULTLINE_STREAM_RETENTION: duration('7d').describe('how long the live stream keeps its events for clients resuming with ?after= (e.g. 7d, 12h)'),
  FAULTLINE_REGISTRY_REFRESH_MS: positiveInt
    .default(10_000)
    .describe('how often the in-memory device registry is refreshed from the database (changes made by other Faultline processes)'),
  FAULTLINE_DISPATCH: z
    .enum(['auto', 'propose', 'off'])
    .default('auto')
    .describe('when a ticket opens: auto assigns a technician, propose only records the choice, off leaves it to people'),
  FAULTLINE_DISPATCH_INTERVAL_MS: positiveInt
    .default(30_000)
    .describe('how often unassigned tickets are looked at again (shifts starting, technicians freed by other processes)'),
  FAULTLINE_SLA: z
    .string()
    .optional()
    .transform((json, ctx) => {
      if (json === undefined) return slaConfigSchema.parse({})
      try {
        return slaConfigSchema.parse(JSON.parse(json))
      } catch (err) {
        ctx.addIssue({
          code: 'custom',
          message: `expected JSON such as {"P1":{"respondWithin":"15m","resolveWithin":"4h"}}: ${err instanceof z.ZodError ? z.prettifyError(err) : (err as Error).message}`,
        })
        return z.NEVER
      }
    })
    .describe('JSON overrides of the response and resolution deadlines, e.g. {"P1":{"respondWithin":"15m"}}'),
  FAULTLINE_SLA_WARN_AT: z.coerce
    .number()
    .gt(0)
    .lt(1)
    .default(0.8)
    .describe("share of a deadline's allowed time after which it is at risk and warned of (0 to 1, e.g. 0.8)"),
  FAULTLINE_SLA_CALENDAR: z
    .string()
    .optional()
    .transform((json, ctx) => {
      if (json === undefined) return undefined
      try {
        return businessCalendarSchema.parse(JSON.parse(json))
      } catch (err) {
        ctx.addIssue({
          code: 'custom',
          message: `expected JSON such as {"hours":"09:00-18:00","days":[1,2,3,4,5],"holidays":["2026-10-01"]}: ${err instanceof z.ZodError ? z.prettifyError(err) : (err as Error).message}`,
        })
        return z.NEVER
      }
    })
    .describe('business calendar SLA deadlines count on, in the time zone; unset: round the clock'),
  FAULTLINE_SLA_ESCALATE: z
    .enum(escalations)
    .default('supervisor')
    .describe('a breached deadline: supervisor (an "escalated" history entry), priority (raised one level) or none'),
  FAULTLINE_SLA_INTERVAL_MS: positiveInt
    .default(15_000)
    .describe('how often the SLA watcher looks for deadlines at risk or breached, and the follow-up watcher for calls unanswered'),
  // 000 二.5: 一周内回访; 004 (四)3 asks 1-3 working days (3d, say)
  FAULTLINE_FOLLOW_UP_WITHIN: duration('7d').describe('from a resolution to the follow-up call deadline; unanswered by then, the ticket closes (e.g. 7d, 72h)'),
  FAULTLINE_TIME_ZONE: text
    .default('UTC')
    .refine(isTimeZone, 'expected an IANA time zone such as UTC or Asia/Shanghai')
    .describe('the calendar that dates faults for warranty, numbers tickets and schedules service, for devices that name no zone of their own'),
  FAULTLINE_TICKET_NUMBER: ticketNumberTemplate
    .default(defaultTicketNumber)
    .describe('ticket number template: {yyyyMMdd} (or {yyyy} {MM} {dd}) and {seq:N}, a per-day sequence of N digits at least, last'),
  FAULTLINE_UNKNOWN_MODEL: z
    .string()
    .optional()
    .transform((json, ctx) => {
      if (json === undefined) return defaultUnknownModelPolicy
      try {
        return unknownModelPolicy.parse(JSON.parse(json))
      } catch (err) {
        ctx.addIssue({
          code: 'custom',
          message: `expected JSON such as {"category":"appliance","warranty":{"months":12,"labourRate":80,"callOutFee":50,"currency":"CNY"}}: ${err instanceof z.ZodError ? z.prettifyError(err) : (err as Error).message}`,
        })
        return z.NEVER
      }
    })
    .describe('JSON: the default policy (category, warranty term and prices) that judges a model the catalog does not know'),
} satisfies Record<string, z.ZodType>

export const flagOf = (name: string) =>
  name
    .replace(/^FAULTLINE_/, '')
    .toLowerCase()
    .replaceAll('_', '-')
