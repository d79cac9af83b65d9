// Which rejections from pg are an outage (the server gone, going, or not answering), not a refused statement.
import pg from 'pg'
import { DatabaseUnavailable } from '../database.js'

/**
 * SQLSTATEs that mean the server is going away or cannot take us now: class 08 (connection exception),
 * 57P01–57P03 (terminated by an administrator, crash, starting up or shutting down), 53300 (too many
 * connections), 57014 (cancelled: our statement_timeout on an overloaded server).
 */
const unavailableState = /^(08...|57P0[123]|53300|57014)$/

/**
 * The server's own answers are DatabaseErrors with a SQLSTATE. What else pg rejects with (a refused or reset
 * socket, a terminated connection, a read or connect timeout) is the connection failing, except a programming
 * error (a TypeError or RangeError from a value it cannot send).
 */
function isOutage(err: unknown): err is Error {
  if (err instanceof pg.DatabaseError) return unavailableState.test(err.code ?? '')
  return err instanceof Error && !(err instanceof TypeError || err instanceof RangeError)
}

/** Runs a pg call, turning an outage into a DatabaseUnavailable; anything else passes through as it is. */
export async function orUnavailable<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (err) {
    throw isOutage(err) ? new DatabaseUnavailable(err) : err
  }
}
