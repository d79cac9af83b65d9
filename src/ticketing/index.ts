export { repairTickets } from './stage.js'
export { recordDetections, type Recorded } from './record.js'
