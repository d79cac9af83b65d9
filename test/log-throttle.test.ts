// The refused-login log's throttle (src/log-throttle.ts), in its own clock: one line per source per
// interval, the next one counting what was left out.
import { describe, expect, it } from 'vitest'
import { LogThrottle, truncated } from '../src/log-throttle.js'

describe('LogThrottle', () => {
  it('admits one line per source per interval and counts what it left out in the next', () => {
    const throttle = new LogThrottle(60_000)
    expect(throttle.admit('10.0.0.1', 0)).toBe(0)
    for (let t = 1; t <= 9; t++) expect(throttle.admit('10.0.0.1', t * 1_000)).toBeUndefined()
    expect(throttle.admit('10.0.0.2', 5_000)).toBe(0) // per source
    expect(throttle.admit('10.0.0.1', 60_000)).toBe(9)
    expect(throttle.admit('10.0.0.1', 60_001)).toBeUndefined()
  })

  it('truncates a long value and says how long it was', () => {
    expect(truncated('a'.repeat(64))).toBe('a'.repeat(64))
    expect(truncated('a'.repeat(65))).toBe(`${'a'.repeat(64)}… (65 characters)`)
    expect(truncated(undefined)).toBeUndefined()
  })
})
