export { repairTickets, type RulesStageDeps } from './stage.js'
