export { repairTickets } from './stage.js'
