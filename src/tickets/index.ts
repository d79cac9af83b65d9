export { TicketRepository, TicketNotFound, IllegalTransition, TransitionConflict, type DetectionOutcome, type TicketFilter, type TransitionRequest } from './repository.js'
export { statuses, allowedTransitions, type Status } from './lifecycle.js'
export type { Ticket, HistoryEntry } from './ticket.js'
