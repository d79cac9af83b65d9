export {
  lockTicket,
  recordTicketChange,
  ticketRefCondition,
  TicketRepository,
  TicketNotFound,
  IllegalTransition,
  TransitionConflict,
  type DetectionOutcome,
  type EnRoute,
  type LockedTicket,
  type PriorityChange,
  type RaisedAlert,
  type SlaAlert,
  type TransitionGuard,
  type TransitionRequest,
} from './repository.js'
export { allowedTransitions, finishedStatuses, statuses, statusLabels, type Status } from './lifecycle.js'
export { quoteSchema, ticketSchema, ticketWithHistorySchema, type PartsUsed, type Ticket } from './ticket.js'
export type { DispatchDecision, DispatchCandidate } from './dispatch-decision.js'
export { defaultTicketNumber, ticketNumberPattern, ticketNumberTemplate } from './number-format.js'
