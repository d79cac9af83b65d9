// What the pieces Faultline is built from allow on this machine, measured in the same run as Faultline's figures
// (issue 13: a ceiling quoted from another day or another machine says nothing about this run):
//  - the broker: a bare aedes (bench/bare-broker.ts) loaded by the same generator, QoS 0 and QoS 1;
//  - the server database: COPY of the same telemetry rows into the same table, 4 connections, 5,000-row batches;
//  - either database through Faultline's own write statement (src/ingest/write-records.ts) in the backend's own
//    batch size and parallelism (embedded: PGlite alone, 1,000-row transactions, one at a time).
// The tables are Faultline's, made by its migrations (openStore), so indexes and hypertables are the same.
import { fork } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import { Readable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { from as copyFrom } from 'pg-copy-streams'
import { pino } from 'pino'
import type { TelemetryRecord } from '../src/ingest/index.js'
import { writeRecords } from '../src/ingest/write-records.js'
import { openStore, type Database } from '../src/store/index.js'
import type { BareBrokerReport } from './bare-broker.js'
import { startGenerator } from './generator.js'
import { payloadFor } from './payload.js'

const here = path.dirname(fileURLToPath(import.meta.url))

/** The COPY ceiling's shape: the server backend's write concurrency and batch size. */
export const COPY_CONNECTIONS = 4
export const COPY_BATCH_ROWS = 5_000

export interface BrokerCeilingOptions {
  qos: 0 | 1
  connections: number
  messages: number
  /** QoS 1: publishes in flight per connection */
  window: number
}

/** Messages a second a bare aedes receives from the generator: first publish → the last one counted (QoS 1: and PUBACKed). */
export async function bareBrokerCeiling(o: BrokerCeilingOptions): Promise<number> {
  const broker = fork(path.join(here, 'bare-broker.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const reports = (type: BareBrokerReport['type']) =>
    new Promise<BareBrokerReport>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`bare aedes: no '${type}' in 120 s`)), 120_000)
      const on = (m: BareBrokerReport) => {
        if (m.type !== type) return
        clearTimeout(timer)
        broker.off('message', on)
        resolve(m)
      }
      broker.on('message', on)
    })
  const listening = reports('listening')
  const load = startGenerator()
  try {
    const { port } = (await listening) as Extract<BareBrokerReport, { type: 'listening' }>
    const perConnection = Math.floor(o.messages / o.connections)
    const devices = Array.from({ length: o.connections }, (_, i) => ({ id: `ceiling-${String(i).padStart(4, '0')}`, token: 'unchecked' }))
    await load.connect({ port, devices, qos: o.qos, perConnection, window: o.window, batch: 32 })
    const received = reports('received')
    broker.send({ cmd: 'expect', n: perConnection * o.connections })
    const sent = await load.go()
    const { at } = (await received) as Extract<BareBrokerReport, { type: 'received' }>
    const end = Math.max(at, sent.allAckedAt ?? 0)
    return (perConnection * o.connections) / ((end - sent.firstPublishAt) / 1000)
  } finally {
    await load.close()
    broker.kill()
  }
}

/** The generator's telemetry as the records Faultline would build from it: `messages` spread over `devices`, 3 metrics each. */
export function telemetryRecords(devices: string[], messages: number): TelemetryRecord[] {
  const start = Date.now() - messages - 60_000
  return Array.from({ length: messages }, (_, i) => {
    const seq = Math.floor(i / devices.length)
    const time = start + seq
    const { metrics } = JSON.parse(payloadFor(time, seq)) as { metrics: Record<string, number> }
    return { kind: 'telemetry', deviceId: devices[i % devices.length]!, time, receivedAt: time, seq, metrics }
  })
}

const rowsOf = (records: TelemetryRecord[]) => records.reduce((n, r) => n + Object.keys(r.metrics).length, 0)

/** Cuts records into batches of about `rows` rows (whole messages, as the writer does). */
function batches(records: TelemetryRecord[], rows: number): TelemetryRecord[][] {
  const perBatch = Math.max(1, Math.floor(rows / 3))
  return Array.from({ length: Math.ceil(records.length / perBatch) }, (_, i) => records.slice(i * perBatch, (i + 1) * perBatch))
}

/** Runs every item, `parallel` lanes at a time; resolves with the seconds it took. */
async function timed<T>(items: T[], parallel: number, write: (item: T, lane: number) => Promise<void>): Promise<number> {
  let next = 0
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: parallel }, async (_, lane) => {
      while (next < items.length) await write(items[next++]!, lane)
    }),
  )
  return (performance.now() - t0) / 1000
}

const silent = pino({ level: 'silent' })

/** Opens the database as Faultline does (migrated), runs fn, closes it; embedded when no URL is given. */
async function withStore<T>(databaseUrl: string | undefined, fn: (db: Database) => Promise<T>): Promise<T> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'faultline-ceiling-'))
  const { db } = await openStore({ databaseUrl, dataDir, retentionDays: 30 }, silent)
  try {
    return await fn(db)
  } finally {
    await db.close()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

/** Faultline's own telemetry statement, driven directly in the backend's batch size and write concurrency: rows/s. */
export function writerCeiling(databaseUrl: string | undefined, records: TelemetryRecord[]): Promise<number> {
  return withStore(databaseUrl, async (db) => {
    const seconds = await timed(batches(records, db.batchRows), db.writeConcurrency, (batch) => db.transaction((tx) => writeRecords(tx, batch)))
    return rowsOf(records) / seconds
  })
}

/** COPY (text) of the same rows into the same table, COPY_CONNECTIONS connections, COPY_BATCH_ROWS rows a statement: rows/s. */
export async function copyCeiling(databaseUrl: string, records: TelemetryRecord[]): Promise<number> {
  await withStore(databaseUrl, async () => {}) // the table, as Faultline's migrations make it
  const text = batches(records, COPY_BATCH_ROWS).map((batch) =>
    batch
      .flatMap((r) => Object.entries(r.metrics).map(([metric, value]) => `${new Date(r.time).toISOString()}\t${r.deviceId}\t${metric}\t${value}\n`))
      .join(''),
  )
  const clients = Array.from({ length: COPY_CONNECTIONS }, () => new pg.Client({ connectionString: databaseUrl }))
  await Promise.all(clients.map((c) => c.connect()))
  try {
    const seconds = await timed(text, COPY_CONNECTIONS, (chunk, lane) =>
      pipeline(Readable.from([chunk]), clients[lane]!.query(copyFrom('COPY telemetry (time, device_id, metric, value) FROM STDIN'))),
    )
    return rowsOf(records) / seconds
  } finally {
    await Promise.all(clients.map((c) => c.end()))
  }
}
