export { accumulate, usageRate, usageLimitsFor, type UsageCounter, type Reading } from './usage.js'
export { nextDue, serviceRecorded, type DueInput } from './due.js'
export { MaintenanceRecords } from './records.js'
export { MaintenanceScheduler, planStatusJson } from './scheduler.js'
