export { TicketRepository, TicketNotFound, IllegalTransition, TransitionConflict, type DetectionOutcome } from './repository.js'
export { statuses } from './lifecycle.js'
export { ticketSchema, ticketWithHistorySchema, type Ticket } from './ticket.js'
