export { loadCatalog, parseCatalog, CatalogError } from './load.js'
export {
  productModel,
  productModelJson,
  serviceSchedule,
  warrantyPolicy,
  severity,
  exclusionCause,
  type Catalog,
  type ProductModel,
  type ThresholdRule,
  type OfflineRule,
  type WarrantyPolicy,
  type ServicePlan,
  type PartLine,
  type Severity,
  type ExclusionCause,
} from './schema.js'
export { duration, parseDuration, formatDuration } from './duration.js'
