// A PostgreSQL or TimescaleDB server, through pg.
//
// The server may go away at any moment (stopped, restarted, a backend terminated) or stop answering (frozen,
// cut off). Every wait on it is bounded, a connection that failed is destroyed rather than pooled again, and
// an outage reaches callers as a DatabaseUnavailable: the gateway rides it out instead of crashing or hanging.
import pg from 'pg'
import { DatabaseUnavailable, type Database, type Queryable, type QueryResult } from '../database.js'
import { listenOn } from './listen.js'
import { orUnavailable } from './outage.js'
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

export interface ServerTimeouts {
  /** waiting for a pooled connection, or for a new one to connect: an API request never queues for longer */
  connectMs: number
  /** the server's own limit on a statement (statement_timeout): it cancels, the connection stays usable */
  statementMs: number
  /** how long the client waits for any answer (query_timeout): a frozen or cut-off server; the connection is dropped */
  queryMs: number
}

/** Batches written at once, and lanes of the rules stage. */
const WRITE_CONCURRENCY = 4

export const SERVER_TIMEOUTS: ServerTimeouts = { connectMs: 5_000, statementMs: 30_000, queryMs: 35_000 }

function queryable(client: pg.Pool | pg.PoolClient): Queryable {
  return {
    async query<R>(sql: string, params?: unknown[]): Promise<QueryResult<R>> {
      // An outage is told apart first (from pg's own error), then the statement's values are taken off what is left.
      const result = await guarded(
        orUnavailable(() => client.query(sql, params)),
        params,
      )
      return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 }
    },
    async exec(sql: string) {
      await guarded(orUnavailable(() => client.query(sql)))
    },
  }
}

async function transactionOn<T>(pool: pg.Pool, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  const client = await orUnavailable(() => pool.connect())
  // A checked-out client whose connection fails emits 'error' (and fails its query): with no listener that
  // is an uncaught exception, and the process exits. Heard here, it marks the client as lost.
  let lost: Error | undefined
  const onLost = (err: Error) => (lost ??= err)
  client.on('error', onLost)
  const tx = queryable(client)
  try {
    await tx.exec('BEGIN')
    const result = await fn(tx)
    await tx.exec('COMMIT')
    return result
  } catch (err) {
    // A lost connection is not rolled back (the server does that as it ends); any other failure, an
    // application error thrown by fn included, is rolled back here and the connection goes on serving.
    if (lost || err instanceof DatabaseUnavailable) lost ??= err as Error
    else
      lost = await client.query('ROLLBACK').then(
        () => undefined,
        (rollback: Error) => rollback,
      )
    throw err
  } finally {
    client.off('error', onLost)
    // With an error, the pool destroys the client instead of handing a broken connection to the next caller.
    client.release(lost)
  }
}

export async function openServerDatabase(url: string, onError: (err: Error) => void, timeouts: ServerTimeouts = SERVER_TIMEOUTS): Promise<Database> {
  const poolOf = (max: number, application_name: string) =>
    new pg.Pool({
      connectionString: url,
      max,
      types,
      application_name,
      connectionTimeoutMillis: timeouts.connectMs,
      statement_timeout: timeouts.statementMs,
      query_timeout: timeouts.queryMs,
      // A server that vanished without closing the connection (host down, network cut) is found out by the kernel.
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    })
  const pool = poolOf(8, 'faultline')
  // Faults before telemetry (issue 13): the rules stage's transactions never wait for a connection that the
  // writer's batches, the stream's readers and the API hold; one per lane of the rules stage (writeConcurrency),
  // and two for the ticket numbers those transactions take autonomously.
  const priorityPool = poolOf(WRITE_CONCURRENCY + 2, 'faultline-priority')
  // An idle client losing its server (a restart, an outage) is reported, not thrown: the writer retries.
  for (const p of [pool, priorityPool]) p.on('error', onError)
  // pg emits 'error' on a client that loses its server while it has no query running; the pool listens only
  // while the client is idle. A listener for the client's whole life means no moment in between (checked out,
  // between two statements, being released) can turn a terminated backend into an uncaught exception; the
  // statement that was cut fails on its own and the caller hears of it there.
  for (const p of [pool, priorityPool]) p.on('connect', (client) => client.on('error', () => {}))
  await orUnavailable(() => pool.query('SELECT 1'))
  let probe: Promise<void> | undefined
  return {
    backend: 'server',
    batchRows: 5_000,
    writeConcurrency: WRITE_CONCURRENCY,
    ...queryable(pool),
    transaction: (fn) => transactionOn(pool, fn),
    priorityTransaction: (fn) => transactionOn(priorityPool, fn),
    autonomous: queryable(priorityPool),
    ping: () =>
      (probe ??= orUnavailable(() => pool.query('SELECT 1'))
        .then(() => {})
        .finally(() => (probe = undefined))),
    listen: (channel, onNotify) => listenOn(url, channel, onNotify, onError, timeouts),
    close: async () => {
      await Promise.all([pool.end(), priorityPool.end()])
    },
  }
}
