// Who should take a ticket, decided without I/O: the candidates who hold the skill for its category and component,
// cover its region, have a valid qualification (a provider's), are not on leave, are on shift before the response
// deadline and are under capacity; scored on skill level, region match, current load, cost and speed.
// 000: 保内工单优先安排内部人员 (in warranty the maker's own staff first); 保外 cost and speed decide.
// 001/004: by skill, region and real-time load. Ties go to the least loaded.
import { calendarDate } from '../calendar.js'
import type { DispatchCandidate, DispatchDecision } from '../tickets/index.js'
import { availability, type Leave, type WorkingHours } from './hours.js'
import type { Provider, Technician } from './directory.js'

/** What the ticket needs, as dispatch reads it. */
export interface TicketNeed {
  category: string | null
  component: string | null
  region: string | null
  warranty: string
  respondBy: number
  /** the repair's (or the service's) labour hours, for the cost estimate */
  labourHours: number
  /** the maker's own rates for its staff (the model's warranty policy) */
  internalRate: { labourRate: number; callOutFee: number }
  /** technicians who declined this ticket */
  declined: readonly string[]
}

/** A technician as dispatch weighs them: the directory entry, its provider if any, and the current load. */
export type DispatchTechnician = Pick<Technician, 'id' | 'name' | 'providerId' | 'skills' | 'regions' | 'capacity' | 'openTickets' | 'onLeave'> & {
  hours: WorkingHours
  leave: Leave[]
  provider: Provider | null
}

type Parts = DispatchCandidate['parts']
/** The ranking's result: what a decision is made of, before it is applied. */
export type Ranking = Pick<DispatchDecision, 'ticket' | 'rule' | 'candidates' | 'rejected'> & {
  /** when nobody qualifies, why */
  noCandidate: string | undefined
  inWarranty: boolean
}

// 000: 保内工单优先选择经验丰富、技术熟练的内部维修人员: skill weighs most in warranty
const IN_WARRANTY: Parts = { skill: 0.5, region: 0.2, load: 0.2, speed: 0.1, cost: 0 }
const OUT_OF_WARRANTY: Parts = { skill: 0.1, region: 0.1, load: 0.1, speed: 0.35, cost: 0.35 }
const RULES = {
  in: "in warranty: the maker's own staff first (000: 保内工单优先安排内部人员), then skill level, region match and load",
  out: 'out of warranty: cost and speed decide (000: 保外工单综合考虑维修成本和客户需求), then skill level, region match and load',
}
const HOUR = 3_600_000
const round = (n: number) => Math.round(n * 1000) / 1000

/** The stages a technician passes, in order; the one that eliminates the last of them names why nobody can. */
type Stage = 'skill' | 'region' | 'qualification' | 'leave' | 'shift' | 'capacity' | 'declined'

export function rank(need: TicketNeed, technicians: readonly DispatchTechnician[], now: number, timeZone: string): Ranking {
  const inWarranty = need.warranty === 'in_warranty'
  const weights = inWarranty ? IN_WARRANTY : OUT_OF_WARRANTY
  const deadline = Math.max(need.respondBy, now)
  const today = calendarDate(now, timeZone)
  const skillName = need.category === null ? 'unknown category' : need.component ? `${need.category}/${need.component}` : need.category
  const rejected: Ranking['rejected'] = []
  const passed = new Set<Stage>()
  const open: Omit<DispatchCandidate, 'parts' | 'score' | 'weights' | 'estimatedCost'>[] = []
  const pending: { skill: number; region: number; cost: number; availableAt: number }[] = []

  for (const t of technicians) {
    const reject = (stage: Stage, reason: string) => {
      rejected.push({ technicianId: t.id, name: t.name, reason })
      return stage
    }
    const levels = t.skills.filter(
      (s) => s.category === need.category && (s.component === undefined || need.component === null || s.component === need.component),
    )
    if (levels.length === 0) {
      reject('skill', `no skill in ${skillName}`)
      continue
    }
    passed.add('skill')
    const region = need.region === null || t.regions.includes(need.region) ? 1 : t.regions.includes('*') ? 0.5 : 0
    if (region === 0) {
      reject('region', `does not cover region ${need.region}`)
      continue
    }
    passed.add('region')
    const p = t.provider
    if (p) {
      const problem = !p.active
        ? `provider ${p.id} is inactive`
        : !p.certifiedCategories.includes(need.category!)
          ? `provider ${p.id} is not certified for ${need.category}`
          : p.qualifiedUntil < today
            ? `provider ${p.id}'s qualification expired on ${p.qualifiedUntil}`
            : undefined
      if (problem) {
        reject('qualification', problem)
        continue
      }
    }
    passed.add('qualification')
    const when = availability(t.hours, t.leave, t.onLeave, now)
    if (when.onLeave) {
      reject('leave', 'on leave')
      continue
    }
    passed.add('leave')
    if (when.availableAt === undefined || when.availableAt > deadline) {
      reject(
        'shift',
        when.availableAt === undefined
          ? 'no shift in the next week'
          : `off shift until ${new Date(when.availableAt).toISOString()}, after the respond deadline ${new Date(need.respondBy).toISOString()}`,
      )
      continue
    }
    passed.add('shift')
    if (t.openTickets >= t.capacity) {
      reject('capacity', `at capacity (${t.openTickets}/${t.capacity})`)
      continue
    }
    passed.add('capacity')
    if (need.declined.includes(t.id)) {
      reject('declined', 'declined this ticket')
      continue
    }
    const rate = p ? { labourRate: p.hourlyRate, callOutFee: p.callOutFee } : need.internalRate
    open.push({
      technicianId: t.id,
      name: t.name,
      affiliation: p ? 'provider' : 'internal',
      providerId: t.providerId,
      openTickets: t.openTickets,
      capacity: t.capacity,
      availableAt: new Date(when.availableAt).toISOString(),
    })
    pending.push({
      skill: Math.max(...levels.map((s) => s.level)) / 5,
      region,
      cost: need.labourHours * rate.labourRate + rate.callOutFee,
      availableAt: when.availableAt,
    })
  }

  const cheapest = Math.min(...pending.map((c) => c.cost))
  const window = Math.max(deadline - now, HOUR)
  const candidates: DispatchCandidate[] = open.map((c, i) => {
    const { skill, region, cost, availableAt } = pending[i]!
    const parts: Parts = {
      skill: round(skill),
      region,
      load: round(1 - c.openTickets / c.capacity),
      cost: round(cost === 0 ? 1 : cheapest / cost),
      speed: round(Math.min(1, Math.max(0, 1 - (availableAt - now) / window))),
    }
    const score = round((Object.keys(parts) as (keyof Parts)[]).reduce((sum, k) => sum + parts[k] * weights[k], 0))
    return { ...c, parts, weights, score, estimatedCost: round(cost) }
  })
  candidates.sort(
    (a, b) => (inWarranty ? tier(a) - tier(b) : 0) || b.score - a.score || a.openTickets - b.openTickets || (a.technicianId < b.technicianId ? -1 : 1),
  )

  const where = need.region ?? 'any region'
  const noCandidate =
    candidates.length > 0
      ? undefined
      : !passed.has('region')
        ? `no technician with skill ${skillName} in region ${where}`
        : !passed.has('qualification')
          ? `no technician with skill ${skillName} in region ${where} has a valid qualification`
          : !passed.has('leave')
            ? 'everyone qualified is on leave'
            : !passed.has('shift')
              ? 'nobody on shift before the respond deadline'
              : !passed.has('capacity')
                ? 'everyone qualified is at capacity'
                : 'everyone qualified declined this ticket'
  return {
    ticket: {
      category: need.category,
      component: need.component,
      region: need.region,
      warranty: need.warranty,
      respondBy: new Date(need.respondBy).toISOString(),
    },
    rule: inWarranty ? RULES.in : RULES.out,
    candidates,
    rejected,
    noCandidate,
    inWarranty,
  }
}

/** The maker's own staff rank before providers' in warranty. */
const tier = (c: DispatchCandidate) => (c.affiliation === 'internal' ? 0 : 1)

const partsText = (c: DispatchCandidate) =>
  (Object.keys(c.parts) as (keyof Parts)[])
    .filter((k) => c.weights[k] > 0)
    .map((k) => `${k} ${c.parts[k]}×${c.weights[k]}`)
    .join(' + ')

/** Why `candidates[index]` won over the others (those before it were full by the time it was assigned). */
export function whyWinner(ranking: Pick<Ranking, 'candidates' | 'inWarranty'>, index: number): string {
  const { candidates } = ranking
  const winner = candidates[index]!
  const filled = candidates.slice(0, index).map((c) => c.name)
  const rest = candidates.slice(index + 1)
  const head = `${winner.name} scored ${winner.score} (${partsText(winner)})`
  const after = filled.length > 0 ? `; ${filled.join(', ')} reached capacity meanwhile` : ''
  const next = rest[0]
  if (!next) return `${head}, the only candidate left${after}`
  if (ranking.inWarranty && tier(winner) < tier(next))
    return `${head}: in warranty the maker's own staff come first, ahead of provider ${next.name} (${next.score})${after}`
  if (next.score === winner.score) {
    const why =
      winner.openTickets < next.openTickets ? `the least loaded (${winner.openTickets} open tickets against ${next.openTickets})` : 'as loaded, first by id'
    return `${head}, tied with ${next.name}: ${why}${after}`
  }
  return `${head}, ahead of ${next.name} (${next.score})${after}`
}
