import { retry, timer, type MonoTypeOperatorFunction } from 'rxjs'
import { backoffMs } from '../backoff.js'

/** 100 ms, doubling to 5 s. */
const writeBackoffMs = (attempt: number) => backoffMs(attempt, 100, 5_000)

/**
 * Retries a database write until it succeeds: what was accepted is held, never dropped. `onRetry` hears of
 * every failure (attempt counts from 1) for logging and metrics; a failure `retryable` refuses is passed on.
 */
export function retryWithBackoff<T>(
  onRetry: (err: Error, attempt: number) => void,
  retryable: (err: Error) => boolean = () => true,
): MonoTypeOperatorFunction<T> {
  return retry({
    delay: (err: Error, attempt) => {
      if (!retryable(err)) throw err
      onRetry(err, attempt)
      return timer(writeBackoffMs(attempt))
    },
  })
}
