// Telemetry's write path three ways, on one connection, 40 batches of 5,000 rows into Faultline's telemetry table:
// client CPU and wall time per row (bench/results/profile.md). `FAULTLINE_BENCH_DATABASE_URL=postgres://… npx tsx
// bench/write-paths.ts`: it creates and drops a database `faultline_write_paths` in that cluster.
import pg from 'pg'
import { from as copyFrom } from 'pg-copy-streams'
import { pipeline } from 'node:stream/promises'
import { Readable } from 'node:stream'
const url = process.env.FAULTLINE_BENCH_DATABASE_URL
if (!url) throw new Error('FAULTLINE_BENCH_DATABASE_URL: a PostgreSQL cluster to create a scratch database in')
const admin = new pg.Client({ connectionString: url })
await admin.connect()
await admin.query('DROP DATABASE IF EXISTS faultline_write_paths').catch(() => {})
await admin.query('CREATE DATABASE faultline_write_paths')
const scratch = new URL(url)
scratch.pathname = '/faultline_write_paths'
const c = new pg.Client({ connectionString: scratch.href })
await c.connect()
await c.query(
  `CREATE TABLE telemetry (time timestamptz NOT NULL, device_id text NOT NULL, metric text NOT NULL, value double precision NOT NULL, UNIQUE (device_id, metric, time))`,
)
const N = 5000,
  BATCHES = 40
let t0 = 1_764_000_000_000
function batch() {
  const times: number[] = [],
    devices: string[] = [],
    metrics: string[] = [],
    values: number[] = []
  for (let i = 0; i < N / 3; i++) {
    const t = t0++
    for (const m of ['temp', 'hum', 'power']) {
      times.push(t)
      devices.push(`bench-dev-${i % 100}`)
      metrics.push(m)
      values.push(Math.random() * 100)
    }
  }
  return { times, devices, metrics, values }
}
const SQL = `INSERT INTO telemetry (time, device_id, metric, value) SELECT to_timestamp(t / 1000.0), d, m, v FROM unnest($1::float8[], $2::text[], $3::text[], $4::float8[]) AS u(t, d, m, v) ON CONFLICT DO NOTHING`
const quote = (s: string) => `"${s.replace(/["\\]/g, '\\$&')}"`
const ways: Record<string, (b: ReturnType<typeof batch>) => Promise<void>> = {
  'unnest, pg arrays': async (b) => {
    await c.query(SQL, [b.times, b.devices, b.metrics, b.values])
  },
  'unnest, literals': async (b) => {
    await c.query(SQL, [`{${b.times.join(',')}}`, `{${b.devices.map(quote).join(',')}}`, `{${b.metrics.map(quote).join(',')}}`, `{${b.values.join(',')}}`])
  },
  'COPY text → temp, INSERT ON CONFLICT': async (b) => {
    await c.query('BEGIN')
    await c.query('CREATE TEMP TABLE IF NOT EXISTS telemetry_in (t float8, d text, m text, v float8) ON COMMIT DELETE ROWS')
    const esc = (s: string) => s.replace(/[\\\t\n\r]/g, (ch) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[ch]!)
    let text = ''
    for (let i = 0; i < b.times.length; i++) text += `${b.times[i]}\t${esc(b.devices[i]!)}\t${esc(b.metrics[i]!)}\t${b.values[i]}\n`
    await pipeline(Readable.from([text]), c.query(copyFrom('COPY telemetry_in FROM STDIN')))
    await c.query('INSERT INTO telemetry (time, device_id, metric, value) SELECT to_timestamp(t / 1000.0), d, m, v FROM telemetry_in ON CONFLICT DO NOTHING')
    await c.query('COMMIT')
  },
}
for (let round = 0; round < 2; round++)
  for (const [name, fn] of Object.entries(ways)) {
    const batches = Array.from({ length: BATCHES }, batch)
    const cpu0 = process.cpuUsage()
    const w0 = performance.now()
    for (const b of batches) await fn(b)
    const cpu = process.cpuUsage(cpu0)
    const wall = performance.now() - w0
    const rows = N * BATCHES
    console.log(
      `${name.padEnd(40)} client CPU ${((cpu.user + cpu.system) / rows).toFixed(3)} µs/row, wall ${((wall * 1000) / rows).toFixed(2)} µs/row (${Math.round((rows / wall) * 1000)} rows/s one connection)`,
    )
  }
console.log((await c.query('SELECT count(*) FROM telemetry')).rows)
await c.end()
await admin.query('DROP DATABASE faultline_write_paths')
await admin.end()
