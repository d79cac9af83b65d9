// The rules stage's batching in virtual time: what arrives while a batch is worked on goes in the next one.
import { describe, expect, it } from 'vitest'
import { map, timer } from 'rxjs'
import { TestScheduler } from 'rxjs/testing'
import { batchWhileBusy } from '../src/ticketing/batch-while-busy.js'

const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected))

describe('batchWhileBusy', () => {
  it('works on the first item at once, then on everything that arrived meanwhile, at most `max` at a time, in order', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const work = (batch: string[]) => timer(10).pipe(map(() => batch.join('')))
      // a alone at 0 (done at 10); b c d e arrive meanwhile: b c d at 10 (max 3, done at 20), then e (done at 30);
      // f comes to an idle stage at 39 and is worked on at once (done at 49).
      const source = cold('a 1ms b 1ms c 1ms d 1ms e 30ms f|')
      expectObservable(source.pipe(batchWhileBusy(3, work))).toBe('10ms a 9ms x 9ms y 18ms (z|)', { a: 'a', x: 'bcd', y: 'e', z: 'f' })
    })
  })

  it('never runs two works at once, and completes only once the last batch is done', () => {
    scheduler().run(({ cold, expectObservable }) => {
      let running = 0
      let most = 0
      const work = (batch: string[]) => {
        most = Math.max(most, ++running)
        return timer(5).pipe(map(() => (running--, batch.length)))
      }
      expectObservable(cold('(abc)|').pipe(batchWhileBusy(2, work))).toBe('5ms a 4ms (b|)', { a: 1, b: 2 })
      expect(most).toBeLessThanOrEqual(1)
    })
  })
})
