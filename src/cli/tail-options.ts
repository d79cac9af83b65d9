// `faultline tail`'s command line: where the stream is, the token, and the stream's own query parameters. The
// values are the server's to judge (GET /ws/faults answers a bad one with a 400 naming it): checked here, they would
// be a second copy of its rules that could disagree with it.
import { parseArgs } from 'node:util'

export const DEFAULT_URL = 'http://127.0.0.1:8080'

/** Each flag and the query parameter of GET /ws/faults it sets. */
const queryFlags = {
  'min-severity': 'minSeverity',
  'min-priority': 'minPriority',
  device: 'device',
  model: 'model',
  region: 'region',
  site: 'site',
  types: 'types',
  after: 'after',
  since: 'since',
  last: 'last',
} as const

/** Where a connection starts: these are replaced by `after` when it resumes. */
const startParams = ['after', 'since', 'last'] as const

export const TAIL_HELP = `faultline tail [options]: follow Faultline's live fault stream (GET /ws/faults), one line per event

Connection
  --url URL             Faultline's HTTP address (default $FAULTLINE_URL or ${DEFAULT_URL})
  --token TOKEN         the API token (default $FAULTLINE_API_TOKEN); sent as a header, never printed
Filters
  --min-severity S      critical, major, minor or info: that severity and worse
  --min-priority P      P1 to P4: that priority and more urgent (P2 is P1 and P2)
  --device ID, --model M, --region R, --site S
  --types T,T           event types, e.g. detection.raised,ticket.opened
Where to start (one of them; default: live events only)
  --after ID            every event after this id
  --since TIME          every event at or after this ISO time
  --last N              the last N events
Output
  --json                each event as the JSON frame it came in, one per line (for jq)
  --help                this text

Colours follow severity and priority on a terminal (none when NO_COLOR is set or the output is not a terminal).
On a lost connection it reconnects, backing off up to 30 s, and resumes after the last event it printed.
Exit status: 0 on Ctrl-C, 2 for a bad option, a refused token or a query the server refuses.
`

export class UsageError extends Error {
  override name = 'UsageError'
}

export interface TailOptions {
  /** the stream's WebSocket address, with the filters and the start in its query */
  url: URL
  token: string
  json: boolean
}

/** Turns arguments and environment into options; undefined for --help. Throws a UsageError saying what is wrong. */
export function parseTailArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): TailOptions | undefined {
  let values: Record<string, string | boolean | undefined>
  try {
    values = parseArgs({
      args: argv,
      options: {
        url: { type: 'string' },
        token: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        ...Object.fromEntries(Object.keys(queryFlags).map((flag) => [flag, { type: 'string' as const }])),
      },
      strict: true,
      allowPositionals: false,
    }).values
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  if (values.help) return undefined
  const token = (values.token as string | undefined) ?? env.FAULTLINE_API_TOKEN
  if (!token) throw new UsageError('--token: required (or set FAULTLINE_API_TOKEN)')
  const url = streamUrl((values.url as string | undefined) ?? env.FAULTLINE_URL ?? DEFAULT_URL)
  for (const [flag, param] of Object.entries(queryFlags)) {
    const value = values[flag]
    if (typeof value === 'string') url.searchParams.set(param, value)
  }
  return { url, token, json: values.json === true }
}

/** GET /ws/faults on the Faultline at `base` (http, https, ws or wss). */
function streamUrl(base: string): URL {
  let url: URL
  try {
    url = new URL(base)
  } catch {
    throw new UsageError(`--url: not a URL: ${JSON.stringify(base)}`)
  }
  const scheme = { 'http:': 'ws:', 'https:': 'wss:', 'ws:': 'ws:', 'wss:': 'wss:' }[url.protocol]
  if (!scheme) throw new UsageError(`--url: expected http://, https://, ws:// or wss://, got ${JSON.stringify(base)}`)
  // Built on the string: WHATWG URLs refuse to switch a special scheme such as http to ws in place.
  return new URL(`${scheme}//${url.host}${url.pathname.replace(/\/+$/, '')}/ws/faults`)
}

/** The address to resume at: everything after `afterId`, with the same filters. */
export function resumeUrl(url: URL, afterId: number): URL {
  const resumed = new URL(url)
  for (const p of startParams) resumed.searchParams.delete(p)
  resumed.searchParams.set('after', String(afterId))
  return resumed
}
