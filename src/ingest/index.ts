export { IngestPipeline } from './pipeline.js'
export { receiver, type Receive } from './receive.js'
export { recordLastSeen } from './last-seen.js'
export type { DeviceRecord, EventRecord, IngestRecord, StatusRecord, TelemetryRecord } from './records.js'
