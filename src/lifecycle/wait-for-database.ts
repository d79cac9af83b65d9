// A database server that is not up yet (a compose stack starting, a failover) is waited for, for
// FAULTLINE_DATABASE_WAIT_MS, before the start gives up with one plain line (issue 9). Anything else that fails
// (a bad password, a bad migration) is not a matter of time and fails at once.
import { setTimeout as sleep } from 'node:timers/promises'
import type { Logger } from 'pino'

export class DatabaseUnreachable extends Error {
  override name = 'DatabaseUnreachable'
}

/** Errors that say nothing answered yet: refused, no route, unresolved name, timed out, or "starting up" (57P03). */
const NOT_ANSWERING = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', '57P03'])
const notAnswering = (err: unknown) =>
  err instanceof Error && (NOT_ANSWERING.has((err as NodeJS.ErrnoException).code ?? '') || /connection timeout|timeout expired/i.test(err.message))

/** Opens the store, trying again with backoff while the server does not answer, for at most `waitMs`. */
export async function waitForDatabase<T>(open: () => Promise<T>, waitMs: number, log: Logger): Promise<T> {
  const deadline = Date.now() + waitMs
  for (let attempt = 1; ; attempt++) {
    try {
      return await open()
    } catch (err) {
      const left = deadline - Date.now()
      if (!notAnswering(err)) throw err
      const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message
      if (left <= 0) throw new DatabaseUnreachable(`the database server did not answer within ${waitMs} ms (${reason}): is it running, and is DATABASE_URL right?`)
      log.warn({ reason, attempt }, 'database server not answering yet; trying again')
      await sleep(Math.min(250 * 2 ** Math.min(attempt - 1, 4), left))
    }
  }
}
