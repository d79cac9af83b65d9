// A PostgreSQL or TimescaleDB server, through pg.
import pg from 'pg'
import type { Database, Queryable, QueryResult } from '../database.js'
import { guarded } from '../query-error.js'

const BIGINT_OID = 20
const DATE_OID = 1082

// Counts come back as numbers and dates as 'YYYY-MM-DD' (not local-midnight Date objects), as on the embedded backend.
const types = {
  getTypeParser: ((oid: number, format?: string) => {
    if (oid === BIGINT_OID) return (v: string) => Number(v)
    if (oid === DATE_OID) return (v: string) => v
    return pg.types.getTypeParser(oid, format as 'text')
  }) as typeof pg.types.getTypeParser,
}

function queryable(client: pg.Pool | pg.PoolClient): Queryable {
  return {
    async query<R>(sql: string, params?: unknown[]): Promise<QueryResult<R>> {
      const result = await guarded(client.query(sql, params), params)
      return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 }
    },
    async exec(sql: string) {
      await guarded(client.query(sql))
    },
  }
}

export async function openServerDatabase(url: string, onError: (err: Error) => void): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: 8, types, connectionTimeoutMillis: 5_000 })
  // An idle client losing its server (a restart, an outage) is reported, not thrown: the writer retries.
  pool.on('error', onError)
  await pool.query('SELECT 1')
  return {
    backend: 'server',
    batchRows: 5_000,
    writeConcurrency: 4,
    ...queryable(pool),
    async transaction(fn) {
      const client = await pool.connect()
      // A checked-out client has lost the pool's error listener: a server gone mid-transaction is reported (and
      // fails this transaction's query), never an uncaught exception.
      client.on('error', onError)
      try {
        await client.query('BEGIN')
        const result = await fn(queryable(client))
        // A deferred constraint fails here, and its detail quotes the row.
        await guarded(client.query('COMMIT'))
        return result
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {})
        throw err
      } finally {
        client.off('error', onError)
        client.release()
      }
    },
    close: () => pool.end(),
  }
}
