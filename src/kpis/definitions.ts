// The KPIs of document 004 (四、售后维修数据参考), defined in one place: what each counts, over which tickets, and the
// target 004 sets beside it. Every rate comes with the counts it is computed from, so a reader can check it.
//
// The tickets: repairs (004 is about 维修 work; maintenance visits are planned, not reported) opened in [from, to),
// cancelled ones left out (no work was done). Each KPI is read over that cohort with the outcomes recorded by the
// moment of asking: a report of a past period still counts a response or a repeat that came after its end.
import { z } from 'zod'
import { channels, priorities, type Channel } from '../rules/index.js'

const MINUTE_MS = 60_000

/** What a KPI is grouped by: a column of the ticket, or the provider of its directory technician. */
export const groupings = ['model', 'region', 'technician', 'provider', 'priority', 'channel'] as const
export type Grouping = (typeof groupings)[number]

/** The provider key of tickets whose directory technician is the maker's own staff (000: 内部人员). */
export const OWN_STAFF = 'internal'

/** Which side of a target is good: at or above it, at or below it, or strictly below it (a ceiling such as < 5 %). */
type Target = { value: number; rule: 'at_least' | 'at_most' | 'below' }

/**
 * 004's targets, each in its KPI's own unit (a fraction, a score, milliseconds), and which side of it is good.
 * 004: 首次修复率(FTFR):95% · 维修返修率:5%(维修后7天内因同一问题再次报修) · 客户满意度评分:4.5/5 · 备件满足率:98%
 * · 平均维修响应时间:30分钟内 · 平均维修完成时间:标准维修4小时 · 平均首次响应时间:电话热线15分钟,邮件30分钟.
 */
export const targets = {
  firstTimeFix: { value: 0.95, rule: 'at_least' },
  /** 004 writes 5 %; issue 12 and 004's 返修率监控 read it as a ceiling: under 5 % */
  repeatRepair: { value: 0.05, rule: 'below' },
  satisfaction: { value: 4.5, rule: 'at_least' },
  partsFill: { value: 0.98, rule: 'at_least' },
  timeToRespond: { value: 30 * MINUTE_MS, rule: 'at_most' },
  timeToRepair: { value: 4 * 60 * MINUTE_MS, rule: 'at_most' },
} as const satisfies Record<string, Target>

/** 004 平均首次响应时间 by channel: the hotline 15 min, e-mail 30 min; 在线客服即时响应 (web, WeChat) sets no figure. */
export const firstResponseTargets: Partial<Record<Channel, number>> = { phone: 15 * MINUTE_MS, email: 30 * MINUTE_MS }

/** 004 维修成本构成(示例): 人工 60 %, 备件 25 %, 运输/物流 10 %, 其他(如外包费用) 5 %. */
export const costParts = ['labour', 'parts', 'transport', 'other'] as const
export const costTargets: Record<(typeof costParts)[number], number> = { labour: 0.6, parts: 0.25, transport: 0.1, other: 0.05 }

const count = z.number().int().nonnegative()

/** numerator / denominator; null when nothing was counted. */
export const rate = z.object({ numerator: count, denominator: count, value: z.number().nullable() })
const judged = { target: z.number(), meetsTarget: z.boolean().nullable() }
const targetedRate = rate.extend(judged)
/** A mean duration: the total over the tickets it was measured on, their count, and the mean (null when none). */
export const duration = z.object({ totalMs: count, count, meanMs: z.number().nullable() })

const byPriority = <T extends z.ZodType>(value: T) =>
  z.strictObject(Object.fromEntries(priorities.map((p) => [p, value])) as Record<(typeof priorities)[number], T>)
const byChannel = <T extends z.ZodType>(value: T) => z.strictObject(Object.fromEntries(channels.map((c) => [c, value])) as Record<Channel, T>)

/** A part of the cost: its amount, its share of the total (null when nothing was billed), and 004's share. */
const costShare = z.object({ cents: count, share: z.number().nullable(), target: z.number() })

export const kpiGroupSchema = z.object({
  /** the group's value of groupBy (a model, a region, …); null for the one overall group, or tickets that have none */
  key: z.string().nullable(),
  /** repairs in the cohort */
  tickets: count,
  /**
   * 004 首次修复率: repairs fixed at the first attempt, of those with an attempt. An attempt is a visit at which the
   * technician could work (not customer_absent); fixed at the first: one attempt, and it fixed the fault.
   */
  firstTimeFix: targetedRate,
  /** 004 维修返修率: resolved repairs reported again within 7 days (a later ticket whose repeatOf is this one), of the resolved */
  repeatRepair: targetedRate,
  /** 004 客户满意度 (1–5, 通过回访问卷收集): the follow-up answers' scores (满意 5, 一般 3, 不满意 1, or 1–5 as given) summed, over the answers */
  satisfaction: targetedRate,
  /** 004 备件满足率: first attempts at which the parts the repair needed were at hand, of those where this is recorded */
  partsFill: targetedRate,
  /** 004 平均维修响应时间: opened → first response (the ticket leaving `open`: acknowledged or assigned), over the responded */
  timeToRespond: duration.extend(judged),
  /** 004 平均维修完成时间: opened → resolved (the last resolution, waits included), over the resolved */
  timeToRepair: duration.extend(judged),
  /**
   * SLA attainment by priority: deadlines met, of those decided. A deadline is met when reached by it (respond:
   * the first response; resolve: the resolution), missed when reached late or passed unreached (a paused ticket is
   * judged at its pause, src/tickets/sla-state.ts); one still ahead is not counted yet.
   */
  sla: byPriority(z.object({ respond: rate, resolve: rate })),
  /** 004 平均首次响应时间 by the channel the report came through, beside its target where 004 sets one */
  firstResponseByChannel: byChannel(duration.extend({ target: z.number().nullable(), meetsTarget: z.boolean().nullable() })),
  /**
   * 004 维修成本构成, by currency: the final bills' (ticket_bills) labour, parts, transport and other amounts, in cents
   * at catalog prices (the company's cost, in warranty too), and each one's share of their total.
   */
  cost: z.record(
    z.string(),
    z.object({
      bills: count,
      totalCents: count,
      ...(Object.fromEntries(costParts.map((part) => [part, costShare])) as Record<(typeof costParts)[number], typeof costShare>),
    }),
  ),
})
export type KpiGroup = z.infer<typeof kpiGroupSchema>

export const kpiReportSchema = z.object({
  /** the cohort: repairs opened at or after `from` and before `to` */
  from: z.string(),
  to: z.string(),
  groupBy: z.enum(groupings).nullable(),
  /** the instant outcomes were read at */
  asOf: z.string(),
  groups: z.array(kpiGroupSchema),
})
export type KpiReport = z.infer<typeof kpiReportSchema>

/** A rate from its counts. */
export const rateOf = (numerator: number, denominator: number) => ({ numerator, denominator, value: denominator === 0 ? null : numerator / denominator })

/** A value beside its target, and whether it is on the good side of it (null: nothing measured). */
export function judge(value: number | null, target: Target) {
  const meetsTarget =
    value === null ? null : target.rule === 'at_least' ? value >= target.value : target.rule === 'at_most' ? value <= target.value : value < target.value
  return { target: target.value, meetsTarget }
}
