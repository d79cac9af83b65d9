// The ranking itself, without I/O (src/dispatch/score.ts): the rules a dispatcher would otherwise argue about.
import { describe, expect, it } from 'vitest'
import { rank, whyWinner, type DispatchTechnician, type TicketNeed } from '../src/dispatch/score.js'

const NOW = Date.parse('2026-06-03T10:00:00Z')
const need = (over: Partial<TicketNeed> = {}): TicketNeed => ({
  category: 'refrigerator',
  component: 'compressor',
  region: 'east',
  warranty: 'in_warranty',
  respondBy: NOW + 2 * 3_600_000,
  labourHours: 2,
  internalRate: { labourRate: 80, callOutFee: 50 },
  declined: [],
  ...over,
})
const tech = (id: string, over: Partial<DispatchTechnician> = {}): DispatchTechnician => ({
  id,
  name: id,
  providerId: null,
  provider: null,
  skills: [{ category: 'refrigerator', level: 3 }],
  regions: ['east'],
  capacity: 4,
  openTickets: 0,
  onLeave: false,
  hours: { timeZone: 'UTC', days: [1, 2, 3, 4, 5, 6, 7], from: '08:00', to: '18:00' },
  leave: [],
  ...over,
})
const provider = {
  id: 'p',
  name: 'P',
  certifiedCategories: ['refrigerator'],
  qualifiedUntil: '2027-01-01',
  hourlyRate: 30,
  callOutFee: 0,
  active: true,
  createdAt: '',
  updatedAt: '',
}
const order = (r: ReturnType<typeof rank>) => r.candidates.map((c) => c.technicianId)

describe('dispatch ranking', () => {
  it('ties go to the least loaded, and the explanation says so', () => {
    // same skill and region; load differs, so the score does too: make it equal by capacity (2/4 and 1/2)
    const r = rank(need(), [tech('busy', { openTickets: 2 }), tech('half', { openTickets: 1, capacity: 2 })], NOW, 'UTC')
    expect(r.candidates[0]!.score).toBe(r.candidates[1]!.score)
    expect(order(r)).toEqual(['half', 'busy'])
    expect(whyWinner(r, 0)).toContain('tied with busy: the least loaded (1 open tickets against 2)')
  })

  it('a skill for the whole category covers every component; one for another component does not', () => {
    const r = rank(need(), [tech('general'), tech('fan-only', { skills: [{ category: 'refrigerator', component: 'fan_motor', level: 5 }] })], NOW, 'UTC')
    expect(order(r)).toEqual(['general'])
    expect(r.rejected).toEqual([{ technicianId: 'fan-only', name: 'fan-only', reason: 'no skill in refrigerator/compressor' }])
  })

  it('a technician covering anywhere ("*") is a candidate with half the region score', () => {
    const r = rank(need(), [tech('roamer', { regions: ['*'] })], NOW, 'UTC')
    expect(r.candidates[0]!.parts.region).toBe(0.5)
  })

  it('out of warranty the one who can start sooner wins at the same cost', () => {
    const later = { timeZone: 'UTC', days: [1, 2, 3, 4, 5, 6, 7], from: '11:00', to: '18:00' }
    const r = rank(
      need({ warranty: 'out_of_warranty' }),
      [tech('later', { hours: later, skills: [{ category: 'refrigerator', level: 5 }] }), tech('now')],
      NOW,
      'UTC',
    )
    expect(order(r)).toEqual(['now', 'later'])
    expect(r.candidates[1]!.parts.speed).toBe(0.5)
  })

  it('an overdue ticket takes whoever is on shift now, and a provider not certified for the category is passed over', () => {
    const r = rank(
      need({ respondBy: NOW - 60_000 }),
      [tech('on'), tech('uncertified', { providerId: 'p', provider: { ...provider, certifiedCategories: ['washer'] } })],
      NOW,
      'UTC',
    )
    expect(order(r)).toEqual(['on'])
    expect(r.rejected[0]!.reason).toBe('provider p is not certified for refrigerator')
  })

  it('names why nobody can take it: at capacity, on leave, declined', () => {
    expect(rank(need(), [tech('full', { openTickets: 4 })], NOW, 'UTC').noCandidate).toBe('everyone qualified is at capacity')
    expect(rank(need(), [tech('away', { onLeave: true })], NOW, 'UTC').noCandidate).toBe('everyone qualified is on leave')
    expect(rank(need({ declined: ['only'] }), [tech('only')], NOW, 'UTC').noCandidate).toBe('everyone qualified declined this ticket')
  })

  it('working hours are read in the technician’s own time zone', () => {
    // 10:00 UTC is 18:00 in Shanghai: a 09:00–17:00 shift there is over, the next starts at 01:00 UTC tomorrow
    const shanghai = { timeZone: 'Asia/Shanghai', days: [1, 2, 3, 4, 5, 6, 7], from: '09:00', to: '17:00' }
    const r = rank(need({ respondBy: NOW + 24 * 3_600_000 }), [tech('sh', { hours: shanghai })], NOW, 'UTC')
    expect(r.candidates[0]!.availableAt).toBe('2026-06-04T01:00:00.000Z')
  })
})
