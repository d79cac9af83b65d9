// The one database interface. Nothing outside src/store knows which backend it has.

/**
 * The database could not be reached or did not answer in time, as opposed to refusing a statement. Any method
 * may reject with it: writers retry it, the API answers 503 with it, readiness reports it.
 */
export class DatabaseUnavailable extends Error {
  override name = 'DatabaseUnavailable'
  /** what the driver said: refused, reset, terminated, no answer in time */
  readonly reason: string
  constructor(cause: Error) {
    super(`database unavailable: ${cause.message}`, { cause })
    this.reason = cause.message
  }
}

export interface QueryResult<R> {
  rows: R[]
  rowCount: number
}

export interface Queryable {
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<R>>
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>
}

export interface Database extends Queryable {
  readonly backend: 'server' | 'embedded'
  /** Rows per write that keep this backend, and the event loop beside it, responsive. */
  readonly batchRows: number
  /** Writes this backend runs in parallel with profit. */
  readonly writeConcurrency: number
  /** Runs fn in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>
  /**
   * The same, for work that must not queue behind bulk writes for a connection: faults becoming tickets (issue
   * 13, faults before telemetry). The server gives it connections of its own; the embedded engine has one.
   */
  priorityTransaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>
  /**
   * Statements that commit at once, on a connection of their own, beside any open transaction: what a
   * transaction takes from a shared row without holding its lock to the end (the day's ticket counter). Absent
   * where such a statement would wait for the open transaction (embedded: one connection).
   */
  readonly autonomous?: Pick<Queryable, 'query'>
  /**
   * Resolves once the database answers a trivial query; rejects saying why. Callers share the probe in flight,
   * so a database that stopped answering is not sent one more connection per caller.
   */
  ping(): Promise<void>
  /**
   * Calls onNotify with its payload on every NOTIFY on `channel` (from any process sharing the database;
   * delivered at commit, in commit order), and once more without one whenever notifications may have been
   * missed (a listening connection re-established). Resolves once listening has been tried; resolves to the
   * function that stops it.
   */
  listen(channel: string, onNotify: (payload?: string) => void): Promise<() => Promise<void>>
  close(): Promise<void>
}
