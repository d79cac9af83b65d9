// Storms arrive as one batch: while the work on one batch runs, whatever arrives waits and goes in the next,
// in arrival order. Alone, an item is worked on at once (no wait is added to wait for company).
import { Observable, type OperatorFunction } from 'rxjs'

/** At most one `work` at a time, each on up to `max` items that arrived meanwhile, oldest first. */
export function batchWhileBusy<T, R>(max: number, work: (batch: T[]) => Observable<R>): OperatorFunction<T, R> {
  return (source) =>
    new Observable<R>((subscriber) => {
      const pending: T[] = []
      let busy = false
      let sourceDone = false
      const drain = () => {
        while (!busy && pending.length > 0) {
          busy = true
          subscriber.add(
            work(pending.splice(0, max)).subscribe({
              next: (r) => subscriber.next(r),
              error: (err: unknown) => subscriber.error(err),
              complete: () => {
                busy = false
                drain()
              },
            }),
          )
        }
        if (!busy && sourceDone) subscriber.complete()
      }
      subscriber.add(
        source.subscribe({
          next: (item) => {
            pending.push(item)
            drain()
          },
          error: (err: unknown) => subscriber.error(err),
          complete: () => {
            sourceDone = true
            drain()
          },
        }),
      )
    })
}
