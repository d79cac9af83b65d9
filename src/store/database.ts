// The one database interface. Nothing outside src/store knows which backend it has.

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
  close(): Promise<void>
}
