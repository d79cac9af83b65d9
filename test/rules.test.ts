// The pure decisions behind a ticket: warranty, quote, priority and SLA (the repeat-repair window is tested through the repository: test/repeat-repair.test.ts).
import { describe, expect, it } from 'vitest'
import { addMonths, calendarDate } from '../src/calendar.js'
import { parseCatalog, warrantyPolicy } from '../src/catalog/index.js'
import {
  addWorkingTime,
  businessCalendarSchema,
  defaultSla,
  defaultSlaPolicy,
  escalate,
  judgeWarranty,
  priorityFor,
  quoteRepair,
  slaConfigSchema,
  slaDeadlines,
  type Priority,
} from '../src/rules/index.js'

const policy = warrantyPolicy.parse({
  months: 12,
  components: [{ component: 'compressor', months: 120 }],
  exclusions: ['liquid_damage', 'misuse'],
  labourRate: 80,
  callOutFee: 50,
  currency: 'CNY',
})
/** noon UTC on a calendar day, epoch ms */
const on = (date: string) => Date.parse(`${date}T12:00:00Z`)

describe('addMonths', () => {
  it('keeps the day of the month, or takes the last day of a shorter month', () => {
    expect(addMonths('2024-03-15', 12)).toBe('2025-03-15')
    expect(addMonths('2024-12-15', 1)).toBe('2025-01-15')
    expect(addMonths('2024-01-31', 1)).toBe('2024-02-29')
    expect(addMonths('2023-01-31', 1)).toBe('2023-02-28')
    expect(addMonths('2024-08-31', 1)).toBe('2024-09-30')
    expect(addMonths('2024-02-29', 12)).toBe('2025-02-28')
    expect(addMonths('2024-03-15', 120)).toBe('2034-03-15')
  })

  it('refuses what is not a calendar date', () => {
    expect(() => addMonths('2024-02-30', 1)).toThrow(RangeError)
    expect(() => addMonths('15/03/2024', 1)).toThrow(RangeError)
  })
})

describe('calendarDate', () => {
  it('dates an instant in the given time zone', () => {
    const lateEvening = Date.parse('2025-03-15T20:00:00Z')
    expect(calendarDate(lateEvening)).toBe('2025-03-15')
    expect(calendarDate(lateEvening, 'Asia/Shanghai')).toBe('2025-03-16')
  })
})

describe('judgeWarranty', () => {
  const bought = { policy, purchasedAt: '2024-03-15' }

  it('covers the unit through the day purchase + N months, and not the day after', () => {
    expect(judgeWarranty({ ...bought, at: on('2025-03-15') })).toEqual({
      decision: 'in_warranty',
      reason: 'fault on 2025-03-15, covered through 2025-03-15 (12-month warranty from 2024-03-15)',
      coverageEnds: '2025-03-15',
      chargeable: false,
    })
    expect(judgeWarranty({ ...bought, at: on('2025-03-16') })).toEqual({
      decision: 'out_of_warranty',
      reason: 'fault on 2025-03-16, after coverage ended on 2025-03-15 (12-month warranty from 2024-03-15)',
      coverageEnds: '2025-03-15',
      chargeable: true,
    })
  })

  it('dates the fault in the given time zone', () => {
    const lateEvening = Date.parse('2025-03-15T20:00:00Z')
    expect(judgeWarranty({ ...bought, at: lateEvening }).decision).toBe('in_warranty')
    expect(judgeWarranty({ ...bought, at: lateEvening, timeZone: 'Asia/Shanghai' }).decision).toBe('out_of_warranty')
  })

  it('ends coverage on the last day of a shorter month', () => {
    const leap = { policy, purchasedAt: '2024-02-29' }
    expect(judgeWarranty({ ...leap, at: on('2025-02-28') })).toMatchObject({ decision: 'in_warranty', coverageEnds: '2025-02-28' })
    expect(judgeWarranty({ ...leap, at: on('2025-03-01') })).toMatchObject({ decision: 'out_of_warranty', coverageEnds: '2025-02-28' })
  })

  it('covers a component with longer coverage after the unit is out', () => {
    const atMonth60 = on('2029-03-15')
    expect(judgeWarranty({ ...bought, component: 'compressor', at: atMonth60 })).toEqual({
      decision: 'in_warranty',
      reason: 'fault on 2029-03-15, covered through 2034-03-15 (compressor covered for 120 months from 2024-03-15)',
      coverageEnds: '2034-03-15',
      chargeable: false,
    })
    expect(judgeWarranty({ ...bought, component: 'control_board', at: atMonth60 })).toMatchObject({ decision: 'out_of_warranty', coverageEnds: '2025-03-15' })
    expect(judgeWarranty({ ...bought, component: 'compressor', at: on('2034-03-16') })).toMatchObject({ decision: 'out_of_warranty' })
  })

  it('honours an extended warranty through its last day', () => {
    const extended = { ...bought, warrantyExtendedUntil: '2027-03-15' }
    expect(judgeWarranty({ ...extended, at: on('2027-03-15') })).toMatchObject({
      decision: 'in_warranty',
      coverageEnds: '2027-03-15',
      reason: 'fault on 2027-03-15, covered through 2027-03-15 (extended warranty)',
    })
    expect(judgeWarranty({ ...extended, at: on('2027-03-16') })).toMatchObject({ decision: 'out_of_warranty' })
    // an extension shorter than the unit's own term changes nothing
    expect(judgeWarranty({ ...bought, warrantyExtendedUntil: '2024-12-31', at: on('2025-03-15') })).toMatchObject({
      decision: 'in_warranty',
      coverageEnds: '2025-03-15',
    })
  })

  it('excludes a cause the warranty does not cover, within the term only', () => {
    expect(judgeWarranty({ ...bought, cause: 'liquid_damage', at: on('2024-06-01') })).toEqual({
      decision: 'excluded',
      reason: 'cause "liquid_damage" is excluded from coverage',
      coverageEnds: '2025-03-15',
      chargeable: true,
    })
    expect(judgeWarranty({ ...bought, cause: 'liquid_damage', at: on('2025-06-01') }).decision).toBe('out_of_warranty')
    expect(judgeWarranty({ ...bought, cause: 'power_surge', at: on('2024-06-01') }).decision).toBe('in_warranty')
  })
})

describe('quoteRepair', () => {
  it('prices parts, labour and call-out in cents, without float drift', () => {
    const parts = [
      { partNo: 'S-1', name: 'Sensor', price: 0.1, qty: 3 },
      { partNo: 'F-2', name: 'Fuse', price: 0.2, qty: 1 },
    ]
    expect(quoteRepair(policy, parts, 1.5)).toEqual({
      currency: 'CNY',
      parts: [
        { partNo: 'S-1', name: 'Sensor', qty: 3, unitPrice: 0.1, amount: 0.3 },
        { partNo: 'F-2', name: 'Fuse', qty: 1, unitPrice: 0.2, amount: 0.2 },
      ],
      partsTotal: 0.5,
      labourHours: 1.5,
      labourRate: 80,
      labour: 120,
      callOut: 50,
      transport: 0,
      other: [],
      total: 170.5,
    })
  })

  it("adds the policy's transport fee and other lines to the total, in cents", () => {
    const pricing = { ...policy, transportFee: 0.1, otherCharges: [{ name: 'Disposal', amount: 0.2 }] }
    expect(quoteRepair(pricing, [], 0)).toMatchObject({ transport: 0.1, other: [{ name: 'Disposal', amount: 0.2 }], total: 50.3 })
  })

  it('rounds labour to the cent, halves up', () => {
    const quote = quoteRepair({ currency: 'CNY', labourRate: 33.33, callOutFee: 0 }, [], 0.5) // 16.665
    expect(quote.labour).toBe(16.67)
    expect(quote.total).toBe(16.67)
  })

  it('quotes an excluded repair from the fault code’s likely parts and labour', () => {
    const model = parseCatalog([
      {
        file: 'washer.yaml',
        content: {
          model: 'W-1',
          name: 'Washer',
          category: 'washing_machine',
          warranty: { months: 12, exclusions: ['misuse'], labourRate: 80, callOutFee: 50, currency: 'CNY' },
          parts: [
            { partNo: 'DP-30', name: 'Drain pump', price: 118 },
            { partNo: 'DH-15', name: 'Drain hose', price: 35.5 },
          ],
          faultCodes: {
            E1: {
              title: 'Drain timeout',
              component: 'drain_pump',
              severity: 'major',
              cause: 'blocked',
              parts: [{ partNo: 'DP-30' }, { partNo: 'DH-15', qty: 2 }],
              labourHours: 1.25,
            },
          },
          offline: { heartbeat: '10m', missedHeartbeats: 3 },
        },
      },
    ]).get('W-1')!
    const fault = model.faultCodes.get('E1')!
    expect(judgeWarranty({ policy: model.warranty, purchasedAt: '2024-03-15', cause: 'misuse', at: on('2024-05-01') }).decision).toBe('excluded')
    expect(quoteRepair(model.warranty, fault.parts, fault.labourHours)).toMatchObject({
      parts: [
        { partNo: 'DP-30', qty: 1, unitPrice: 118, amount: 118 },
        { partNo: 'DH-15', qty: 2, unitPrice: 35.5, amount: 71 },
      ],
      partsTotal: 189,
      labour: 100,
      callOut: 50,
      total: 339,
    })
  })

  it('refuses negative labour', () => {
    expect(() => quoteRepair(policy, [], -1)).toThrow(RangeError)
  })
})

describe('priorityFor', () => {
  it('maps severities to P1–P4', () => {
    expect(priorityFor({ severity: 'critical' })).toBe('P1')
    expect(priorityFor({ severity: 'major' })).toBe('P2')
    expect(priorityFor({ severity: 'minor' })).toBe('P3')
    expect(priorityFor({ severity: 'info' })).toBe('P4')
  })

  it('makes any safety hazard P1', () => {
    for (const severity of ['critical', 'major', 'minor', 'info'] as const) expect(priorityFor({ severity, safetyHazard: true })).toBe('P1')
  })
})

describe('escalate', () => {
  it('raises a priority one level, P1 staying P1', () => {
    expect((['P4', 'P3', 'P2', 'P1'] as Priority[]).map(escalate)).toEqual(['P3', 'P2', 'P1', 'P1'])
  })
})

describe('slaDeadlines', () => {
  const opened = Date.parse('2025-03-15T08:00:00Z')
  const minute = 60_000
  const hour = 60 * minute
  const policy = defaultSlaPolicy()
  const deadlines = (p: Priority, sla = policy) => {
    const d = slaDeadlines(p, opened, sla)
    return { respond: d.respondBy - opened, start: d.startBy - opened, resolve: d.resolveBy - opened }
  }

  it('has the default response, start and resolution times per priority (004: P1 30 min, 2 h, 4 h)', () => {
    expect(deadlines('P1')).toEqual({ respond: 30 * minute, start: 2 * hour, resolve: 4 * hour })
    expect(deadlines('P2')).toEqual({ respond: 2 * hour, start: 8 * hour, resolve: 24 * hour })
    expect(deadlines('P3')).toEqual({ respond: 8 * hour, start: 24 * hour, resolve: 72 * hour })
    expect(deadlines('P4')).toEqual({ respond: 24 * hour, start: 72 * hour, resolve: 7 * 24 * hour })
  })

  it('warns at the configured share of each allowed time, exactly: P1 respond at 24 min of 30', () => {
    const d = slaDeadlines('P1', opened, policy)
    expect([d.respondWarnAt - opened, d.startWarnAt - opened, d.resolveWarnAt - opened]).toEqual([24 * minute, 96 * minute, 192 * minute])
    expect(slaDeadlines('P1', opened, { ...policy, warnAt: 0.5 }).respondWarnAt - opened).toBe(15 * minute)
  })

  it('moves every deadline and warning on by the paused time', () => {
    const still = slaDeadlines('P2', opened, policy)
    const paused = slaDeadlines('P2', opened, policy, 17 * minute)
    for (const key of Object.keys(still) as (keyof typeof still)[]) expect(paused[key] - still[key]).toBe(17 * minute)
  })

  it('takes overrides validated by slaConfigSchema, keeping the defaults not overridden', () => {
    const sla = slaConfigSchema.parse({ P1: { respondWithin: '15m' }, P4: { resolveWithin: 14 * 24 * hour } })
    expect(sla).toEqual({
      ...defaultSla,
      P1: { respondWithin: 15 * minute, startWithin: 2 * hour, resolveWithin: 4 * hour },
      P4: { respondWithin: 24 * hour, startWithin: 72 * hour, resolveWithin: 14 * 24 * hour },
    })
    expect(deadlines('P1', { ...policy, sla })).toEqual({ respond: 15 * minute, start: 2 * hour, resolve: 4 * hour })
    expect(slaConfigSchema.parse({})).toEqual(defaultSla)
  })

  it('rejects overrides that make no sense', () => {
    expect(slaConfigSchema.safeParse({ P2: { respondWithin: '25h' } }).error?.issues).toMatchObject([
      { path: ['P2'], message: 'P2 must be responded to no later than work starts, and work start no later than it is resolved' },
    ])
    expect(slaConfigSchema.safeParse({ P1: { startWithin: '5h' } }).success).toBe(false)
    expect(slaConfigSchema.safeParse({ P5: {} }).success).toBe(false)
    expect(slaConfigSchema.safeParse({ P1: { respondWithin: 'soon' } }).error?.issues[0]?.path).toEqual(['P1', 'respondWithin'])
  })
})

describe('the business calendar', () => {
  const hour = 3_600_000
  const calendar = businessCalendarSchema.parse({ hours: '09:00-18:00', holidays: ['2026-10-01'] })
  const at = (iso: string) => Date.parse(iso)
  const iso = (ms: number) => new Date(ms).toISOString()

  it('counts working hours only: Friday 17:00 + 8 h lands on Monday 16:00', () => {
    // 2026-06-05 is a Friday: 1 h that evening, 7 h on Monday
    expect(iso(addWorkingTime(at('2026-06-05T17:00:00Z'), 8 * hour, calendar, 'UTC'))).toBe('2026-06-08T16:00:00.000Z')
  })

  it('starts counting at opening time, skips holidays, and ends exactly at closing time', () => {
    expect(iso(addWorkingTime(at('2026-06-08T06:30:00Z'), 30 * 60_000, calendar, 'UTC'))).toBe('2026-06-08T09:30:00.000Z')
    // 2026-10-01 (a Thursday) is a holiday: 17:00 Wednesday + 2 h is 10:00 Friday
    expect(iso(addWorkingTime(at('2026-09-30T17:00:00Z'), 2 * hour, calendar, 'UTC'))).toBe('2026-10-02T10:00:00.000Z')
    expect(iso(addWorkingTime(at('2026-06-08T09:00:00Z'), 9 * hour, calendar, 'UTC'))).toBe('2026-06-08T18:00:00.000Z')
  })

  it('reaches as far as the time takes: 300 h on one working hour a week', () => {
    const mondays = businessCalendarSchema.parse({ hours: '09:00-10:00', days: [1] })
    // 2026-06-08 is a Monday: 300 one-hour Mondays
    expect(iso(addWorkingTime(at('2026-06-08T09:00:00Z'), 300 * hour, mondays, 'UTC'))).toBe('2032-03-01T10:00:00.000Z')
  })

  it('reads working hours in the time zone: 09:00 in Shanghai is 01:00 UTC', () => {
    expect(iso(addWorkingTime(at('2026-06-07T20:00:00Z'), hour, calendar, 'Asia/Shanghai'))).toBe('2026-06-08T02:00:00.000Z')
  })

  it('is what the deadlines count on when configured', () => {
    const d = slaDeadlines('P1', at('2026-06-05T17:00:00Z'), { ...defaultSlaPolicy(), calendar })
    // P1 resolve within 4 h: 1 h Friday, 3 h Monday
    expect(iso(d.resolveBy)).toBe('2026-06-08T12:00:00.000Z')
  })

  it('refuses hours that make no sense and days out of range', () => {
    expect(businessCalendarSchema.safeParse({ hours: '18:00-09:00' }).success).toBe(false)
    expect(businessCalendarSchema.safeParse({ hours: '9-18' }).success).toBe(false)
    expect(businessCalendarSchema.safeParse({ hours: '09:00-18:00', days: [] }).success).toBe(false)
    expect(businessCalendarSchema.safeParse({ hours: '09:00-18:00', days: [0] }).success).toBe(false)
    expect(businessCalendarSchema.safeParse({ hours: '09:00-18:00', holidays: ['2026-02-30'] }).success).toBe(false)
  })
})
