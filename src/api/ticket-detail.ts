// A ticket's detail, as GET /api/tickets/:id shows it and as every route that changes its money answers it: the
// ticket and its history, its money (src/billing), its visits and follow-up calls (src/followup).
import { z } from 'zod'
import { ticketDetailSchema, type Billing } from '../billing/index.js'
import { followUpSchema, visitSchema, type FollowUps, type Visits } from '../followup/index.js'

export const ticketDetail = ticketDetailSchema.extend({ visits: z.array(visitSchema), followUps: z.array(followUpSchema) })

export interface TicketDetailSources {
  billing: Billing
  visits: Visits
  followUps: FollowUps
}

export async function ticketDetailOf({ billing, visits, followUps }: TicketDetailSources, ref: string): Promise<z.infer<typeof ticketDetail> | undefined> {
  const ticket = await billing.ticketDetail(ref)
  if (!ticket) return undefined
  return { ...ticket, visits: await visits.of(ticket.id), followUps: await followUps.of(ticket.id) }
}
