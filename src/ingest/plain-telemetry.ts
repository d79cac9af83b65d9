// A precompiled check of the telemetry nearly every device sends: a sample (or a backlog of them) of finite
// numbers under well-formed names, with an epoch-millisecond `ts` or none. It only ever accepts: JSON that is
// plainly valid is taken as it is, without the bounds walk and zod's copy of it (together ~8 µs a message,
// bench/results/profile.md); anything else, an ISO `ts` included, goes on to them, so every error a device sees is
// still zod's, naming the field. test/plain-telemetry.test.ts holds it to zod's answer.
import { MAX_BACKLOG_SAMPLES, MAX_METRICS_PER_SAMPLE, metricNamePattern, type TelemetrySample } from '../../schemas/messages.js'

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
/** what zod's z.number().int().nonnegative() takes: a safe integer ≥ 0 */
const isCount = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0

function isPlainMetrics(metrics: unknown): metrics is Record<string, number> {
  if (!isObject(metrics)) return false
  let count = 0
  // for…in over parsed JSON walks its own keys: the prototype is Object.prototype, which has no enumerable ones.
  for (const name in metrics) {
    const value = metrics[name]
    if (++count > MAX_METRICS_PER_SAMPLE || typeof value !== 'number' || !Number.isFinite(value) || !metricNamePattern.test(name)) return false
  }
  return count > 0
}

function isPlainSample(sample: unknown): sample is TelemetrySample {
  if (!isObject(sample)) return false
  let hasMetrics = false
  for (const key in sample) {
    const value = sample[key]
    const plain = key === 'metrics' ? isPlainMetrics(value) : (key === 'ts' || key === 'seq') && isCount(value)
    if (!plain) return false
    hasMetrics ||= key === 'metrics'
  }
  return hasMetrics
}

/** The samples of a telemetry payload when it is plainly valid; undefined when zod must judge it. */
export function plainTelemetry(json: unknown): TelemetrySample | TelemetrySample[] | undefined {
  if (!Array.isArray(json)) return isPlainSample(json) ? json : undefined
  if (json.length === 0 || json.length > MAX_BACKLOG_SAMPLES) return undefined
  for (const sample of json) if (!isPlainSample(sample)) return undefined
  return json as TelemetrySample[]
}
