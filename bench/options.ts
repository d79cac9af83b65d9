// The benchmark's options: every size has a full default (the figures the README quotes) and a --quick one
// (a few seconds a case, so that .ci/run can run every case on each change and the bench never rots).
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

export const root = fileURLToPath(new URL('..', import.meta.url))

/** [full, quick] defaults of the sizes, and what each means (the --help text). */
const SIZES = {
  runs: [3, 1, 'runs per case, the median is reported'],
  connections: [100, 20, 'publishing connections'],
  'embedded-messages': [120_000, 3_000, 'messages per embedded ingest run'],
  'server-messages': [200_000, 5_000, 'messages per server ingest run'],
  window: [64, 64, 'QoS 1 publishes in flight per connection'],
  'ceiling-messages': [1_000_000, 10_000, 'messages per bare-aedes ceiling run'],
  'ticket-runs': [3, 1, 'runs of the tickets cases per backend'],
  'ticket-devices': [200, 20, 'devices raising one fault each in the paced tickets cases'],
  'ticket-rate': [20, 20, 'faults a second in the paced tickets cases'],
  'storm-devices': [1_000, 50, 'devices raising one fault each within ~1 s in the storm case'],
  'storm-poll-ms': [10, 10, 'pause between ticket-list polls in the storm case (polls load Faultline too)'],
  'background-rate': [20_000, 2_000, 'telemetry msg/s offered from other devices in the loaded tickets and stream cases'],
  'stream-faults': [500, 20, 'faults timed to the stream in the stream latency case'],
  'stream-fault-rate': [25, 20, 'faults a second in the stream latency case'],
  'stall-s': [60, 2, 'seconds the stalled stream client reads nothing'],
  'stall-fault-rate': [20, 10, 'faults a second while the stream client stalls (its events pile up)'],
  'connect-devices': [50_000, 500, 'devices connected at once in the connections case (capped by the hard file limit)'],
  'connect-api-s': [20, 3, 'seconds of API requests timed while they are connected'],
} as const
type Size = keyof typeof SIZES

export const CASE_NAMES = ['ingest', 'tickets', 'stream', 'connections'] as const
export type CaseName = (typeof CASE_NAMES)[number]
export type Backend = 'embedded' | 'server'

const HELP =
  `npm run bench -- [options]\n` +
  `  --quick                  every case at a tiny size (a few seconds each), for CI: no thresholds, exit 1 only if a case crashed\n` +
  `  --backends LIST          embedded,server (default both; server needs PostgreSQL binaries or FAULTLINE_BENCH_DATABASE_URL)\n` +
  `  --qos LIST               0,1 (default both)\n` +
  `  --cases LIST             ${CASE_NAMES.join(',')} (default all; ingest includes the same-run ceilings)\n` +
  `  --out FILE               results file (default bench/results/latest.md, --quick: bench/results/quick.md; "-" for none)\n` +
  `  --profile DIR            write a V8 CPU profile of each Faultline run into DIR (--cpu-prof)\n` +
  `  --faultline-dir DIR      run the Faultline found there (a checkout of another commit) instead of this one\n` +
  Object.entries(SIZES)
    .map(([name, [full, quick, what]]) => `  --${`${name} N`.padEnd(23)}${what} (default ${full}, --quick ${quick})\n`)
    .join('')

export interface Options {
  quick: boolean
  backends: Backend[]
  qos: (0 | 1)[]
  cases: CaseName[]
  out: string | undefined
  profile: string | undefined
  faultlineDir: string
  sizes: Record<Size, number>
}

function fail(message: string): never {
  process.stderr.write(`bench: ${message}\n`)
  process.exit(2)
}

function list<T extends string | number>(name: string, value: string, allowed: readonly T[], parse: (s: string) => T): T[] {
  const items = value.split(',').map((s) => parse(s.trim()))
  if (items.length === 0 || items.some((i) => !allowed.includes(i))) fail(`--${name}: expected a list of ${allowed.join(', ')}, got ${JSON.stringify(value)}`)
  return items
}

export function parseOptions(args = process.argv.slice(2)): Options {
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: 'boolean' },
      backends: { type: 'string', default: 'embedded,server' },
      qos: { type: 'string', default: '0,1' },
      cases: { type: 'string', default: CASE_NAMES.join(',') },
      out: { type: 'string' },
      profile: { type: 'string' },
      'faultline-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      ...(Object.fromEntries(Object.keys(SIZES).map((k) => [k, { type: 'string' }])) as Record<Size, { type: 'string' }>),
    },
  })
  if (values.help) {
    process.stdout.write(HELP)
    process.exit(0)
  }
  const quick = values.quick === true
  const sizes = Object.fromEntries(
    Object.entries(SIZES).map(([name, [full, small]]) => {
      const given = values[name as Size]
      const n = given === undefined ? (quick ? small : full) : Number(given)
      if (!Number.isInteger(n) || n < 1) fail(`--${name}: expected an integer ≥ 1, got ${JSON.stringify(given)}`)
      return [name, n]
    }),
  ) as Record<Size, number>
  if (sizes['embedded-messages'] < sizes.connections || sizes['server-messages'] < sizes.connections)
    fail('--embedded-messages and --server-messages must be at least --connections (every connection publishes)')
  const out = values.out ?? path.join(root, `bench/results/${quick ? 'quick' : 'latest'}.md`)
  return {
    quick,
    backends: list('backends', values.backends!, ['embedded', 'server'] as const, (s) => s as Backend),
    qos: list('qos', values.qos!, [0, 1] as const, (s) => Number(s) as 0 | 1),
    cases: list('cases', values.cases!, CASE_NAMES, (s) => s as CaseName),
    out: out === '-' ? undefined : path.resolve(out),
    profile: values.profile && path.resolve(values.profile),
    faultlineDir: path.resolve(values['faultline-dir'] ?? root),
    sizes,
  }
}
