// The KPIs of definitions.ts, aggregated in the database: one statement counts and sums per (group, priority,
// channel, bill currency) cell, over the cohort of definitions.ts; the cells are then added up into each group (integer sums,
// exact) and the rates and means divided out. The same SQL runs on both backends.
import type { Clock } from '../clock.js'
import { channels, priorities, type Channel, type Priority } from '../rules/index.js'
import type { Queryable } from '../store/index.js'
import { costParts, costTargets, firstResponseTargets, judge, OWN_STAFF, rateOf, targets, type Grouping, type KpiGroup, type KpiReport } from './definitions.js'
import { periodRange, type Period } from './periods.js'

/** Each grouping's value on a ticket row `t` (its directory technician joined as `tech`). */
const keyOf: Record<Grouping, string> = {
  model: 't.model',
  region: 't.region',
  technician: 't.technician',
  provider: `CASE WHEN tech.id IS NULL THEN NULL ELSE coalesce(tech.provider_id, '${OWN_STAFF}') END`,
  priority: 't.priority',
  channel: 't.channel',
}

/** The cohort (definitions.ts) on a ticket row `t`: repairs, not cancelled, opened in [$1, $2). */
const inRange = `t.kind = 'repair' AND t.status <> 'cancelled' AND t.created_at >= to_timestamp($1 / 1000.0) AND t.created_at < to_timestamp($2 / 1000.0)`

/** An interval in whole milliseconds. */
const ms = (interval: string) => `(extract(epoch FROM ${interval}) * 1000)::bigint`

/**
 * The cohort's tickets, one row each with what the KPIs read, then one row per cell. The respond deadline as
 * promised: resuming after a wait moves every deadline on by the time paused (src/tickets/repository.ts), and a
 * ticket responds before it can wait (waits follow work), so the promise is respond_by less paused_ms.
 */
const cellsSql = (key: string) => `
WITH repeats AS (
  -- a repeat is opened after the ticket it repeats was resolved, so after that one opened: the range bounds it
  SELECT DISTINCT repeat_of AS id FROM tickets WHERE repeat_of IS NOT NULL AND created_at >= to_timestamp($1 / 1000.0)
), attempts AS (
  -- the visits at which the technician could work, by ticket: how many, and the first one's outcome and parts
  SELECT v.ticket_id, count(*) AS attempts,
    (array_agg(v.outcome ORDER BY v.seq))[1] AS first_outcome,
    (array_agg(v.parts_available ORDER BY v.seq))[1] AS first_parts_at_hand
  FROM ticket_visits v JOIN tickets t ON t.id = v.ticket_id
  WHERE v.outcome <> 'customer_absent' AND ${inRange}
  GROUP BY v.ticket_id
), answers AS (
  SELECT f.ticket_id, count(*) AS answers, sum(f.score) AS score
  FROM follow_ups f JOIN tickets t ON t.id = f.ticket_id
  WHERE f.score IS NOT NULL AND ${inRange}
  GROUP BY f.ticket_id
), cohort AS (
  SELECT ${key} AS key, t.priority, t.channel, t.created_at,
    -- resolved as it stands: a ticket reopened after its follow-up is being worked on again
    CASE WHEN t.status IN ('resolved', 'closed') THEN t.resolved_at END AS resolved_at,
    (SELECT min(h.at) FROM ticket_history h WHERE h.ticket_id = t.id AND h.status <> 'open') AS responded_at,
    t.respond_by - make_interval(secs => t.paused_ms / 1000.0) AS respond_due,
    t.resolve_by AS resolve_due,
    -- a paused ticket's clock stands still (src/tickets/sla-state.ts)
    coalesce(t.paused_at, to_timestamp($3 / 1000.0)) AS judged_at,
    r.id IS NOT NULL AS repeated,
    a.attempts, a.first_outcome, a.first_parts_at_hand,
    coalesce(f.answers, 0) AS answers, coalesce(f.score, 0) AS score,
    b.currency, b.ticket_id IS NOT NULL AS billed, b.labour_cents, b.parts_cents, b.transport_cents, b.other_cents
  FROM tickets t
  LEFT JOIN technicians tech ON tech.id = t.technician_id
  LEFT JOIN repeats r ON r.id = t.id
  LEFT JOIN attempts a ON a.ticket_id = t.id
  LEFT JOIN answers f ON f.ticket_id = t.id
  LEFT JOIN ticket_bills b ON b.ticket_id = t.id
  WHERE ${inRange}
)
SELECT key, priority, channel, currency,
  count(*) AS tickets,
  count(responded_at) AS responded,
  coalesce(sum(${ms('responded_at - created_at')}), 0) AS respond_ms,
  count(resolved_at) AS resolved,
  coalesce(sum(${ms('resolved_at - created_at')}), 0) AS repair_ms,
  count(*) FILTER (WHERE resolved_at IS NOT NULL AND repeated) AS repeated,
  count(attempts) AS attempted,
  count(*) FILTER (WHERE attempts = 1 AND first_outcome = 'fixed') AS fixed_first,
  count(first_parts_at_hand) AS parts_known,
  count(*) FILTER (WHERE first_parts_at_hand) AS parts_at_hand,
  sum(answers) AS answers,
  sum(score) AS score,
  count(*) FILTER (WHERE responded_at <= respond_due) AS respond_met,
  count(*) FILTER (WHERE responded_at IS NOT NULL OR respond_due <= judged_at) AS respond_decided,
  count(*) FILTER (WHERE resolved_at <= resolve_due) AS resolve_met,
  count(*) FILTER (WHERE resolved_at IS NOT NULL OR resolve_due <= judged_at) AS resolve_decided,
  count(*) FILTER (WHERE billed) AS bills,
  ${costParts.map((part) => `coalesce(sum(${part}_cents), 0) AS ${part}_cents`).join(', ')}
FROM cohort
GROUP BY key, priority, channel, currency`

const sums = [
  'tickets',
  'responded',
  'respond_ms',
  'resolved',
  'repair_ms',
  'repeated',
  'attempted',
  'fixed_first',
  'parts_known',
  'parts_at_hand',
  'answers',
  'score',
  'respond_met',
  'respond_decided',
  'resolve_met',
  'resolve_decided',
  'bills',
  ...costParts.map((part) => `${part}_cents` as const),
] as const
type Sums = Record<(typeof sums)[number], number>
/** The drivers give counts and sums as strings (bigint, numeric). */
type CellRow = { key: string | null; priority: Priority; channel: Channel; currency: string | null } & Record<(typeof sums)[number], string | number>

const zero = (): Sums => Object.fromEntries(sums.map((s) => [s, 0])) as Sums
const add = (into: Sums, row: CellRow) => {
  for (const s of sums) into[s] += Number(row[s])
}
const mean = (totalMs: number, count: number) => ({ totalMs, count, meanMs: count === 0 ? null : totalMs / count })

/** One group's KPIs from its cells. */
function group(key: string | null, cells: CellRow[]): KpiGroup {
  const all = zero()
  const byPriority = new Map(priorities.map((p) => [p, zero()]))
  const byChannel = new Map(channels.map((c) => [c, zero()]))
  const byCurrency = new Map<string, Sums>()
  for (const cell of cells) {
    add(all, cell)
    add(byPriority.get(cell.priority)!, cell)
    add(byChannel.get(cell.channel)!, cell)
    if (cell.currency !== null) {
      if (!byCurrency.has(cell.currency)) byCurrency.set(cell.currency, zero())
      add(byCurrency.get(cell.currency)!, cell)
    }
  }
  const firstTimeFix = rateOf(all.fixed_first, all.attempted)
  const partsFill = rateOf(all.parts_at_hand, all.parts_known)
  const repeatRepair = rateOf(all.repeated, all.resolved)
  const satisfaction = rateOf(all.score, all.answers)
  const timeToRespond = mean(all.respond_ms, all.responded)
  const timeToRepair = mean(all.repair_ms, all.resolved)
  return {
    key,
    tickets: all.tickets,
    firstTimeFix: { ...firstTimeFix, ...judge(firstTimeFix.value, targets.firstTimeFix) },
    repeatRepair: { ...repeatRepair, ...judge(repeatRepair.value, targets.repeatRepair) },
    satisfaction: { ...satisfaction, ...judge(satisfaction.value, targets.satisfaction) },
    partsFill: { ...partsFill, ...judge(partsFill.value, targets.partsFill) },
    timeToRespond: { ...timeToRespond, ...judge(timeToRespond.meanMs, targets.timeToRespond) },
    timeToRepair: { ...timeToRepair, ...judge(timeToRepair.meanMs, targets.timeToRepair) },
    sla: Object.fromEntries(
      [...byPriority].map(([p, s]) => [p, { respond: rateOf(s.respond_met, s.respond_decided), resolve: rateOf(s.resolve_met, s.resolve_decided) }]),
    ) as KpiGroup['sla'],
    firstResponseByChannel: Object.fromEntries(
      [...byChannel].map(([c, s]) => {
        const response = mean(s.respond_ms, s.responded)
        const target = firstResponseTargets[c]
        return [
          c,
          { ...response, ...(target === undefined ? { target: null, meetsTarget: null } : judge(response.meanMs, { value: target, rule: 'at_most' })) },
        ]
      }),
    ) as KpiGroup['firstResponseByChannel'],
    cost: Object.fromEntries([...byCurrency].sort(([a], [b]) => (a < b ? -1 : 1)).map(([currency, s]) => [currency, costSplit(s)])),
  }
}

/** The bills' amounts by part and each part's share of their total, beside 004's split. */
function costSplit(s: Sums): KpiGroup['cost'][string] {
  const totalCents = costParts.reduce((sum, part) => sum + s[`${part}_cents`], 0)
  const parts = costParts.map((part) => {
    const cents = s[`${part}_cents`]
    return [part, { cents, share: totalCents === 0 ? null : cents / totalCents, target: costTargets[part] }]
  })
  return { bills: s.bills, totalCents, ...Object.fromEntries(parts) } as KpiGroup['cost'][string]
}

export class Kpis {
  constructor(
    private readonly db: Queryable,
    private readonly clock: Clock,
    /** FAULTLINE_TIME_ZONE: the calendar of the reports' periods */
    private readonly timeZone: string,
  ) {}

  /** The KPIs of a report's period (periods.ts), the day, week or month holding `date`. */
  report(period: Period, date: string, groupBy?: Grouping): Promise<KpiReport> {
    return this.compute({ ...periodRange(period, date, this.timeZone), groupBy })
  }

  /** The KPIs of the repairs opened in [from, to) (epoch ms), in one group or one per value of `groupBy`. */
  async compute(range: { from: number; to: number; groupBy?: Grouping }): Promise<KpiReport> {
    const asOf = this.clock.now()
    const { rows } = await this.db.query<CellRow>(cellsSql(range.groupBy ? keyOf[range.groupBy] : 'NULL::text'), [range.from, range.to, asOf])
    const keys = new Map<string | null, CellRow[]>()
    for (const row of rows) keys.set(row.key, [...(keys.get(row.key) ?? []), row])
    // Nothing opened: the overall group is still there, at zero, so a report always has its row.
    if (!range.groupBy && keys.size === 0) keys.set(null, [])
    const ordered = [...keys.keys()].sort((a, b) => (a === b ? 0 : a === null ? 1 : b === null ? -1 : a < b ? -1 : 1))
    return {
      from: new Date(range.from).toISOString(),
      to: new Date(range.to).toISOString(),
      groupBy: range.groupBy ?? null,
      asOf: new Date(asOf).toISOString(),
      groups: ordered.map((key) => group(key, keys.get(key)!)),
    }
  }
}
