import { asyncScheduler, Observable, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs'

/**
 * Groups items into batches of about `maxRows` rows, emitting a partial batch `maxWaitMs` after its first item
 * so a trickle is written promptly and a flood is written in full batches.
 */
export function batchByRows<T>(
  rowsOf: (item: T) => number,
  maxRows: number,
  maxWaitMs: number,
  scheduler: SchedulerLike = asyncScheduler,
): OperatorFunction<T, T[]> {
  return (source) =>
    new Observable<T[]>((subscriber) => {
      let batch: T[] = []
      let rows = 0
      let timer: Subscription | null = null
      const flush = () => {
        timer?.unsubscribe()
        timer = null
        if (batch.length === 0) return
        const full = batch
        batch = []
        rows = 0
        subscriber.next(full)
      }
      const subscription = source.subscribe({
        next(item) {
          batch.push(item)
          rows += rowsOf(item)
          if (rows >= maxRows) flush()
          else timer ??= scheduler.schedule(flush, maxWaitMs)
        },
        error(err) {
          flush()
          subscriber.error(err)
        },
        complete() {
          flush()
          subscriber.complete()
        },
      })
      return () => {
        subscription.unsubscribe()
        timer?.unsubscribe()
      }
    })
}
