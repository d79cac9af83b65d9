import { retry, timer, type MonoTypeOperatorFunction } from 'rxjs'

/** 100 ms, doubling to 5 s, ±25 % so many writers do not retry in step. */
const backoffMs = (attempt: number) => Math.min(100 * 2 ** (attempt - 1), 5_000) * (0.75 + Math.random() / 2)

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
      return timer(backoffMs(attempt))
    },
  })
}
