export {
  TicketRepository,
  TicketNotFound,
  IllegalTransition,
  TransitionConflict,
  type DetectionOutcome,
  type PriorityChange,
  type TransitionRequest,
} from './repository.js'
export { allowedTransitions, metIn, statuses, statusLabels, type Status } from './lifecycle.js'
export { recordHistory } from './history.js'
export { rewatch } from './sla-watch.js'
export { ticketSchema, ticketWithHistorySchema, type Ticket } from './ticket.js'
