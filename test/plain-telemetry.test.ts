// The precompiled telemetry check beside zod: whatever it accepts, zod accepts as the same samples, so taking it
// instead of zod changes no answer; what it declines goes on to zod, whose errors devices see unchanged.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { reservedNames, telemetryBacklog, telemetrySample } from '../schemas/messages.js'
import { plainTelemetry } from '../src/ingest/plain-telemetry.js'

const zodVerdict = (json: unknown) => (Array.isArray(json) ? telemetryBacklog : telemetrySample).safeParse(json)

const edgyNumber = fc.oneof(
  fc.integer({ min: 0, max: 2 ** 31 }),
  fc.constantFrom(-1, -0, 0.5, 2 ** 53 - 1, 2 ** 53, 2 ** 60, 1e308, Number.MAX_SAFE_INTEGER, 1.7e12),
  fc.double(),
)
const jsonish = fc.oneof(edgyNumber, fc.constantFrom('2026-12-02T03:00:00Z', 'soon', '', null, true, [], {}, [1], { a: 1 }))
const metricKey = fc.oneof(
  fc.constantFrom('temp', 'hum', 'power.kw', 'a', 'x_1', 'A9.b_c', 'a'.repeat(64), 'a'.repeat(65), '1temp', 'té', 'temp ', '', '_x'),
  fc.constantFrom(...reservedNames),
  fc.string({ maxLength: 6 }),
)
const metrics = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.dictionary(fc.constantFrom('temp', 'hum', 'power.kw', 'x_1'), fc.oneof(fc.integer(), fc.double({ noNaN: true })), { minKeys: 1, maxKeys: 3 }),
  },
  { weight: 2, arbitrary: fc.dictionary(metricKey, fc.oneof({ weight: 4, arbitrary: edgyNumber }, { weight: 1, arbitrary: jsonish }), { maxKeys: 5 }) },
  { weight: 1, arbitrary: jsonish },
)
/** mostly near-valid samples (so both answers are exercised), each field sometimes wrong */
const sometimes = <T>(valid: fc.Arbitrary<T>) => fc.oneof({ weight: 4, arbitrary: valid }, { weight: 1, arbitrary: fc.oneof(edgyNumber, jsonish) })
const sample = fc
  .record({ ts: sometimes(fc.integer({ min: 0, max: 2 ** 45 })), seq: sometimes(fc.nat()), metrics, extra: jsonish, __proto__: jsonish }, { requiredKeys: [] })
  .map(({ extra, __proto__, ...rest }) => ({ ...rest, ...(Math.abs(Number(rest.seq ?? 0)) % 5 === 1 && { extra, __proto__ }) }))
// Through JSON text, as a payload arrives: `__proto__` becomes an own key, numbers beyond a double become Infinity.
const payload = fc.oneof(sample, fc.array(sample, { maxLength: 4 }), fc.jsonValue()).map((v) => JSON.parse(JSON.stringify(v)) as unknown)

describe('plain telemetry', () => {
  it('accepts only what zod accepts, as the same samples', () => {
    const seen = { accepted: 0, declined: 0 }
    fc.assert(
      fc.property(payload, (json) => {
        const plain = plainTelemetry(json)
        if (plain === undefined) return void seen.declined++
        seen.accepted++
        const verdict = zodVerdict(json)
        expect(verdict.success).toBe(true)
        expect(plain).toEqual(verdict.data)
      }),
      { numRuns: 20_000 },
    )
    // Both ways are exercised, or the property says nothing.
    expect(seen.accepted).toBeGreaterThan(200)
    expect(seen.declined).toBeGreaterThan(200)
  })

  it('takes the telemetry devices send: one sample, epoch ms or no ts, a backlog of up to 1,000', () => {
    const one = { ts: 1_764_640_000_000, seq: 7, metrics: { temp: -4.5, 'power.kw': 0.12, door_open: 0 } }
    expect(plainTelemetry(one)).toBe(one)
    expect(plainTelemetry({ metrics: { temp: 1 } })).toEqual({ metrics: { temp: 1 } })
    const backlog = Array.from({ length: 1000 }, (_, i) => ({ ts: i, metrics: { temp: i } }))
    expect(plainTelemetry(backlog)).toBe(backlog)
  })

  it('leaves to zod whatever needs a word said about it, or a closer look', () => {
    const declined = [
      { ts: '2026-12-02T03:00:00Z', metrics: { temp: 1 } }, // an ISO time: zod parses it
      { metrics: {} },
      { metrics: { temp: '1' } },
      { metrics: { constructor: 1 } },
      { metrics: { temp: 1 }, note: 'x' },
      { ts: -1, metrics: { temp: 1 } },
      { ts: 1.5, metrics: { temp: 1 } },
      { ts: 2 ** 53, metrics: { temp: 1 } },
      { seq: null, metrics: { temp: 1 } },
      JSON.parse('{"metrics":{"temp":1e400}}') as unknown,
      JSON.parse('{"__proto__":{"temp":1},"metrics":{"temp":1}}') as unknown,
      { metrics: Object.fromEntries(Array.from({ length: 257 }, (_, i) => [`m${i}`, i])) },
      [],
      Array.from({ length: 1001 }, () => ({ metrics: { temp: 1 } })),
      [{ metrics: { temp: 1 } }, { metrics: { temp: 'hot' } }],
      null,
      'telemetry',
    ]
    for (const json of declined) expect(plainTelemetry(json), JSON.stringify(json)?.slice(0, 80)).toBeUndefined()
  })
})
