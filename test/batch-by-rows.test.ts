// batchByRows in virtual time: full batches by rows, partial batches after maxWait, flush on complete, errors.
import { Subject } from 'rxjs'
import { TestScheduler } from 'rxjs/testing'
import { describe, expect, it } from 'vitest'
import { batchByRows } from '../src/ingest/batch-by-rows.js'

const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected))

// Items are their own row counts: a = 1 row, b = 2 rows, c = 3 rows, e = 5 rows.
const rows = { a: 1, b: 2, c: 3, e: 5 }
const rowsOf = (n: number) => n

describe('batchByRows', () => {
  it('emits a batch as soon as its rows reach the maximum, without waiting', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const source = cold('-a-b-a-a-c-|', rows)
      //                   rows:  1 3 4→emit 1 4→emit
      expectObservable(source.pipe(batchByRows(rowsOf, 4, 100))).toBe('-----x---y-|', { x: [1, 2, 1], y: [1, 3] })
    })
  })

  it('emits a single item larger than the maximum as a batch of its own, at once', () => {
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('-e-a-|', rows).pipe(batchByRows(rowsOf, 4, 100))).toBe('-x---(y|)', { x: [5], y: [1] })
    })
  })

  it('emits a partial batch maxWait after its first item, not after its last', () => {
    scheduler().run(({ cold, expectObservable }) => {
      // first item at 1 ms, more at 5 and 9 ms: the timer set at 1 ms fires at 11 ms regardless
      const source = cold('-a 3ms a 3ms a 30ms |', rows)
      expectObservable(source.pipe(batchByRows(rowsOf, 100, 10))).toBe('11ms x 28ms |', { x: [1, 1, 1] })
    })
  })

  it('starts a new wait with the first item after a partial batch went out', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const source = cold('a 14ms b 19ms |', rows) // a at 0, b at 15 ms, complete at 35 ms
      expectObservable(source.pipe(batchByRows(rowsOf, 100, 10))).toBe('10ms x 14ms y 9ms |', { x: [1], y: [2] })
    })
  })

  it('cancels the wait when a batch fills up: the next item starts a fresh wait', () => {
    scheduler().run(({ cold, expectObservable }) => {
      // a at 0 starts a 10 ms wait; c at 2 fills the batch (4 rows); a at 5 starts a fresh wait, due at 15 ms, not 10
      const source = cold('a-c 2ms a 19ms |', rows)
      expectObservable(source.pipe(batchByRows(rowsOf, 4, 10))).toBe('--x 12ms y 9ms |', { x: [1, 3], y: [1] })
    })
  })

  it('emits nothing when nothing arrives, however long it waits', () => {
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<number>('100ms |').pipe(batchByRows(rowsOf, 4, 10))).toBe('100ms |')
    })
  })

  it('flushes the partial batch when the source completes, before completing', () => {
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('-a-b-|', rows).pipe(batchByRows(rowsOf, 100, 1_000))).toBe('-----(x|)', { x: [1, 2] })
    })
  })

  it('passes an error on, after the items already batched', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const failure = new Error('source failed')
      expectObservable(cold('-a-b-#', rows, failure).pipe(batchByRows(rowsOf, 100, 1_000))).toBe('-----(x#)', { x: [1, 2] }, failure)
      expectObservable(cold('-#', rows, failure).pipe(batchByRows(rowsOf, 100, 1_000))).toBe('-#', undefined, failure)
    })
  })

  it('waits on the scheduler it is given, and cancels that wait when unsubscribed', () => {
    const testScheduler = scheduler()
    const input = new Subject<number>()
    const batches: number[][] = []
    const subscription = input.pipe(batchByRows(rowsOf, 100, 50, testScheduler)).subscribe((b) => batches.push(b))
    input.next(1)
    input.next(2)
    expect(testScheduler.actions).toHaveLength(1)
    testScheduler.flush()
    expect(testScheduler.frame).toBe(50)
    expect(batches).toEqual([[1, 2]])

    input.next(3)
    expect(testScheduler.actions).toHaveLength(1)
    subscription.unsubscribe()
    expect(input.observed).toBe(false)
    expect(testScheduler.actions).toHaveLength(0)
    testScheduler.flush()
    expect(batches).toEqual([[1, 2]])
  })
})
