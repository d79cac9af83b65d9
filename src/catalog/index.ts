export { loadCatalog, parseCatalog, CatalogError, type CatalogSource } from './load.js'
export {
  productModel,
  productModelJson,
  serviceSchedule,
  warrantyPolicy,
  thresholdRule,
  offlineRule,
  part,
  severity,
  exclusionCause,
  type Catalog,
  type ProductModel,
  type FaultCode,
  type ThresholdRule,
  type OfflineRule,
  type WarrantyPolicy,
  type ServicePlan,
  type Part,
  type PartLine,
  type Severity,
  type ExclusionCause,
} from './schema.js'
export { duration, parseDuration, formatDuration } from './duration.js'
