export { TicketRepository, TicketNotFound, IllegalTransition, TransitionConflict, type DetectionOutcome, type TransitionRequest } from './repository.js'
export { statuses } from './lifecycle.js'
export { ticketSchema, ticketWithHistorySchema, type Ticket } from './ticket.js'
export { defaultTicketNumber, ticketNumberPattern, ticketNumberTemplate } from './number-format.js'
