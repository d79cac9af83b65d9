// A statement the database refused, as the rest of Faultline sees it: the SQLSTATE, the message and the names
// involved, never the values. The drivers' errors carry the statement's parameters (PGlite: `query`, `params`;
// PostgreSQL: `detail` such as "Failing row contains (...)", `where`, `internalQuery`), which hold a device's
// salted token hash and a customer's name and phone; any `log.error({ err })` would print them. Both backends
// pass every error through here, so nothing downstream can leak them (issue 8, item 12: no query parameters in
// any log).

/** What the database reports that names things, not values. */
const NAMES = ['code', 'severity', 'schema', 'table', 'column', 'dataType', 'constraint', 'routine'] as const
type Names = Partial<Record<(typeof NAMES)[number], string>>

export class QueryError extends Error {
  override name = 'QueryError'
  /** SQLSTATE, e.g. 23505 */
  declare readonly code?: string
  declare readonly severity?: string
  declare readonly schema?: string
  declare readonly table?: string
  declare readonly column?: string
  declare readonly dataType?: string
  declare readonly constraint?: string
  declare readonly routine?: string

  constructor(message: string, names: Names) {
    super(message)
    Object.assign(this, names)
  }
}

/** The strings among the parameters (also inside arrays, as unnest() takes them). */
const strings = (params: readonly unknown[]): string[] => params.flatMap((p) => (typeof p === 'string' ? [p] : Array.isArray(p) ? strings(p) : []))

/** Errors about a statement carry it or what the database said of it; a lost connection carries neither. */
const aboutStatement = (err: unknown): err is Error & Record<string, unknown> =>
  err instanceof Error && !(err instanceof QueryError) && ['severity', 'query', 'params', 'detail', 'where', 'internalQuery'].some((key) => key in err)

/**
 * The error without the statement and its values. Messages quote a value they refuse (`invalid input syntax
 * for type integer: "Li Wei"`): quoted parameters are masked too.
 */
export function withoutValues(err: unknown, params: readonly unknown[] = []): unknown {
  if (!aboutStatement(err)) return err
  const message = strings(params).reduce((text, value) => text.replaceAll(`"${value}"`, '"[value]"'), err.message)
  const names = Object.fromEntries(NAMES.flatMap((key) => (typeof err[key] === 'string' ? [[key, err[key]]] : [])))
  return new QueryError(message, names)
}

/** Runs a driver call, its failure passed through withoutValues. */
export const guarded = <T>(call: Promise<T>, params?: readonly unknown[]): Promise<T> =>
  call.catch((err: unknown) => {
    throw withoutValues(err, params)
  })
