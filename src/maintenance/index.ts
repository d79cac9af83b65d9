export {
  accumulate,
  usageRate,
  usageLimitsFor,
  type UsageCounter,
  type Reading,
} from './usage.js'
export { nextDue, serviceRecorded, type Due, type DueInput, type ServiceHistory } from './due.js'
export { MaintenanceRecords } from './records.js'
export { MaintenanceScheduler, type PlanStatus } from './scheduler.js'
