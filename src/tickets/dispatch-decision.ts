// The dispatch decision a ticket keeps (issue 11: the decision is explainable): the candidates considered with each
// score's parts, why the winner won, and who was rejected and why. src/dispatch makes it; the ticket stores and shows it.
import { z } from 'zod'

const scoreParts = z.object({ skill: z.number(), region: z.number(), load: z.number(), cost: z.number(), speed: z.number() })

export const dispatchCandidateSchema = z.object({
  technicianId: z.string(),
  name: z.string(),
  /** the maker's own staff, or an external provider's */
  affiliation: z.enum(['internal', 'provider']),
  providerId: z.string().nullable(),
  /** the weighted sum of the parts, 0–1 */
  score: z.number(),
  /** each part 0–1, before its weight */
  parts: scoreParts,
  /** each part's weight under the rule that applied */
  weights: scoreParts,
  openTickets: z.number(),
  capacity: z.number(),
  /** when the technician can start: now when on shift, else the next shift */
  availableAt: z.string(),
  /** labour hours × rate + call-out fee, in the model's currency */
  estimatedCost: z.number(),
})

export const dispatchDecisionSchema = z.object({
  /** assigned; proposed (FAULTLINE_DISPATCH=propose); unassigned (no candidate); manual (a supervisor's choice) */
  outcome: z.enum(['assigned', 'proposed', 'unassigned', 'manual']),
  decidedAt: z.string(),
  by: z.string(),
  technicianId: z.string().nullable(),
  /** why the winner won, why nobody could, or the supervisor's reason */
  reason: z.string(),
  /** what the ticket asked for */
  ticket: z.object({
    category: z.string().nullable(),
    component: z.string().nullable(),
    region: z.string().nullable(),
    warranty: z.string(),
    respondBy: z.string(),
  }),
  /** how the candidates were ranked (in or out of warranty) */
  rule: z.string(),
  /** best first */
  candidates: z.array(dispatchCandidateSchema),
  rejected: z.array(z.object({ technicianId: z.string(), name: z.string(), reason: z.string() })),
})

export type DispatchDecision = z.infer<typeof dispatchDecisionSchema>
export type DispatchCandidate = z.infer<typeof dispatchCandidateSchema>
