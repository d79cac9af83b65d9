// How a repair request comes in: the channel it came through, the customer's own urgency, the date checks a
// report must pass, and the policy that judges a model the catalog does not know. Pure.
//   000 (一、服务触发阶段): IoT reports beside manual ones: scan-code, WeChat, call centre.
//   002 (一.1 多渠道服务请求整合): phone, e-mail, web form, official account, app, one request pool;
//   (二.1) the customer picks 紧急 / 普通 (the default) / 低优先级.
//   003 (1. 服务请求接收; 初步评估 4): "if the customer insists on priority, raise it".
import { z } from 'zod'
import { warrantyPolicy } from '../catalog/index.js'
import { calendarDate } from '../calendar.js'

/** Detections (and Faultline's own service plans) come through `iot`; people through the others. */
export const channels = ['iot', 'phone', 'wechat', 'scan', 'web', 'email', 'walk_in'] as const
export type Channel = (typeof channels)[number]

export const urgencies = ['urgent', 'normal', 'low'] as const
export type Urgency = (typeof urgencies)[number]

/** 002's own words for the urgencies a customer picks, accepted as they are written on its form. */
const urgencyInChinese: Record<string, Urgency> = { 紧急: 'urgent', 普通: 'normal', 低: 'low', 低优先级: 'low' }

/** `urgent`, `normal`, `low`, or 紧急 / 普通 / 低: stored in English. */
export const urgency = z.preprocess((v) => (typeof v === 'string' ? (urgencyInChinese[v] ?? v) : v), z.enum(urgencies))

/**
 * The policy that judges a model the catalog does not know (a walk-in for an appliance nobody registered): a
 * warranty term, prices for the quote, and the category the ticket is filed under. The ticket's warranty says it
 * was judged this way (`basis: default_policy`).
 */
export const unknownModelPolicy = z.strictObject({ category: z.string().regex(/^[a-z][a-z0-9_]*$/), warranty: warrantyPolicy })
export type UnknownModelPolicy = z.output<typeof unknownModelPolicy>
export const defaultUnknownModelPolicy: UnknownModelPolicy = unknownModelPolicy.parse({
  category: 'appliance',
  warranty: { months: 12, labourRate: 80, callOutFee: 50, currency: 'CNY' },
})

/** What dates a report's fault: when it happened, the purchase, and the calendar that names the days. */
export interface FaultDates {
  /** epoch ms */
  at: number
  now: number
  /** YYYY-MM-DD */
  purchasedAt: string
  timeZone: string
  /** how far ahead of now a fault may be dated: clocks differ by this much */
  clockSkewMs: number
}

/** Why a report's fault date cannot be right, or undefined: never before the purchase, never in the future. */
export function faultDateProblem({ at, now, purchasedAt, timeZone, clockSkewMs }: FaultDates): string | undefined {
  if (at > now + clockSkewMs) return `the fault is dated ${new Date(at).toISOString()}, in the future (now ${new Date(now).toISOString()})`
  // Judged in the customer's calendar, as the warranty is (issue 12).
  const faultDay = calendarDate(at, timeZone)
  if (faultDay < purchasedAt) return `the fault is dated ${faultDay} (${timeZone}), before the purchase on ${purchasedAt}`
  return undefined
}
