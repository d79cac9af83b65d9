// A customer's phone call as a fault: the ticket goes through the same warranty and priority rules as a
// detection. No I/O: a report without a code gets a condition of its own.
import { randomUUID } from 'node:crypto'
import type { ProductModel } from '../catalog/index.js'
import { faultCondition, manualCondition } from '../conditions.js'
import type { Fault } from './repair-ticket.js'

/** What the caller says: any of the fault's facts, the rest filled in from the model; when it happened, epoch ms. */
export type PhoneReport = Partial<Pick<Fault, 'code' | 'title' | 'component' | 'severity' | 'cause' | 'urgency'>> & Pick<Fault, 'at' | 'channel'>

/** The fault a report describes, filled in from the model's fault code; undefined when it has no title to go by. */
export function phoneReportFault(report: PhoneReport, model: ProductModel | undefined): Fault | undefined {
  const known = report.code === undefined ? undefined : model?.faultCodes.get(report.code)
  const title = report.title ?? known?.title
  if (!title) return undefined
  return {
    trigger: 'manual',
    // With a code it is the same fault a device may report: both count toward one open ticket.
    condition: report.code === undefined ? manualCondition(randomUUID()) : faultCondition(report.code),
    severity: report.severity ?? known?.severity ?? 'major',
    title,
    component: report.component ?? known?.component,
    code: report.code,
    cause: report.cause,
    at: report.at,
    channel: report.channel,
    urgency: report.urgency,
  }
}
