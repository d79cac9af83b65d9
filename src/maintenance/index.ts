export {
  accumulate,
  usageRate,
  usageLimitsFor,
  DEFAULT_MAX_PER_HOUR,
  type UsageCounter,
  type Reading,
  type UsageLimits,
  type AccumulateOutcome,
} from './usage.js'
export { nextDue, serviceRecorded, addDays, type Due, type DueInput, type ServiceHistory } from './due.js'
export { MaintenanceRecords } from './records.js'
export { MaintenanceScheduler, type PlanStatus } from './scheduler.js'
