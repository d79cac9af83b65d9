// The pure decisions behind a ticket: warranty, quote, priority and SLA (the repeat-repair window is tested through the repository: test/repeat-repair.test.ts).
import { describe, expect, it } from 'vitest'
import { addMonths, calendarDate } from '../src/calendar.js'
import { parseCatalog, warrantyPolicy } from '../src/catalog/index.js'
import { defaultSla, escalate, judgeWarranty, priorityFor, quoteRepair, slaConfigSchema, slaDeadlines, type Priority } from '../src/rules/index.js'

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
      total: 170.5,
    })
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

  it('has the default response and resolution times per priority', () => {
    expect(slaDeadlines('P1', opened)).toEqual({ respondBy: opened + 30 * minute, resolveBy: opened + 4 * hour })
    expect(slaDeadlines('P2', opened)).toEqual({ respondBy: opened + 2 * hour, resolveBy: opened + 24 * hour })
    expect(slaDeadlines('P3', opened)).toEqual({ respondBy: opened + 8 * hour, resolveBy: opened + 72 * hour })
    expect(slaDeadlines('P4', opened)).toEqual({ respondBy: opened + 24 * hour, resolveBy: opened + 7 * 24 * hour })
  })

  it('takes overrides validated by slaConfigSchema, keeping the defaults not overridden', () => {
    const sla = slaConfigSchema.parse({ P1: { respondWithin: '15m' }, P4: { resolveWithin: 14 * 24 * hour } })
    expect(sla).toEqual({
      ...defaultSla,
      P1: { respondWithin: 15 * minute, resolveWithin: 4 * hour },
      P4: { respondWithin: 24 * hour, resolveWithin: 14 * 24 * hour },
    })
    expect(slaDeadlines('P1', opened, sla)).toEqual({ respondBy: opened + 15 * minute, resolveBy: opened + 4 * hour })
    expect(slaConfigSchema.parse({})).toEqual(defaultSla)
  })

  it('rejects overrides that make no sense', () => {
    expect(slaConfigSchema.safeParse({ P2: { respondWithin: '25h' } }).error?.issues).toMatchObject([
      { path: ['P2'], message: 'P2 must be responded to no later than it is resolved' },
    ])
    expect(slaConfigSchema.safeParse({ P5: {} }).success).toBe(false)
    expect(slaConfigSchema.safeParse({ P1: { respondWithin: 'soon' } }).error?.issues[0]?.path).toEqual(['P1', 'respondWithin'])
  })
})
