export { Kpis } from './aggregate.js'
export { groupings, kpiReportSchema, OWN_STAFF, targets, type Grouping, type KpiReport } from './definitions.js'
export { kpiCsv } from './csv.js'
export { periodRange, periods, type Period } from './periods.js'
