// A database server that is not up yet (a compose stack starting, a failover) is waited for, for
// FAULTLINE_DATABASE_WAIT_MS, before the start gives up with one plain line (issue 9). Anything else that fails
// (a bad password, a bad migration) is not a matter of time and fails at once. What counts as "not up" is the
// store's own judgement of an outage (DatabaseUnavailable), the same one the running gateway rides out.
import { setTimeout as sleep } from 'node:timers/promises'
import type { Logger } from 'pino'
import { DatabaseUnavailable } from '../store/index.js'

export class DatabaseUnreachable extends Error {
  override name = 'DatabaseUnreachable'
}

/** Opens the store, trying again with backoff while the server does not answer, for at most `waitMs`. */
export async function waitForDatabase<T>(open: () => Promise<T>, waitMs: number, log: Logger): Promise<T> {
  const deadline = Date.now() + waitMs
  for (let attempt = 1; ; attempt++) {
    try {
      return await open()
    } catch (err) {
      if (!(err instanceof DatabaseUnavailable)) throw err
      // The driver's code (ECONNREFUSED, 57P03...) where it has one: short, and holds no address.
      const reason = (err.cause as NodeJS.ErrnoException | undefined)?.code ?? err.reason
      const left = deadline - Date.now()
      if (left <= 0)
        throw new DatabaseUnreachable(`the database server did not answer within ${waitMs} ms (${reason}): is it running, and is DATABASE_URL right?`)
      log.warn({ reason, attempt }, 'database server not answering yet; trying again')
      await sleep(Math.min(250 * 2 ** Math.min(attempt - 1, 4), left))
    }
  }
}
