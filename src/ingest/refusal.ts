// Which write failures say "this data cannot be stored" rather than "the database is not there".
// The first kind is dead-lettered (retrying it would hold the queue forever); the second is retried.

/**
 * SQLSTATE classes 22 (data exception), 23 (integrity constraint) and 54 (program limit exceeded: too deep,
 * too complex): the data is wrong, not the database. Without a SQLSTATE, a RangeError or a WASM trap or an
 * out-of-memory from the embedded engine comes from the values it was handed; anything else (a dropped
 * connection, a timeout, an engine shutting down) is an outage.
 */
export function refusesData(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false
  const code = (err as { code?: unknown }).code
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return /^(22|23|54)/.test(code)
  return err instanceof RangeError || err instanceof WebAssembly.RuntimeError || /out of memory/i.test(String((err as Error).message))
}
