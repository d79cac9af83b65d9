// What devices publish, one schema per topic under devices/<id>/.
// These are the contract with firmware teams: `npm run schemas` exports them as JSON Schema beside this file.
import { z } from 'zod'

/** ISO-8601 string or epoch milliseconds; absent means "the time Faultline received it". */
export const timestamp = z.union([
  z.number().int().nonnegative().describe('epoch milliseconds'),
  z.iso.datetime({ offset: true }).describe('ISO-8601 with Z or an offset'),
])

const stamped = {
  ts: timestamp.optional(),
  seq: z.number().int().nonnegative().optional().describe('device-side sequence number'),
}

/**
 * Names every object inherits (constructor, toString, __proto__...): refused as a metric name, a status key or
 * any key below one, since code reading them from an object finds the inherited member, and copying `__proto__`
 * drops it. The one rule for every key a device names.
 */
export const reservedNames: readonly string[] = Object.getOwnPropertyNames(Object.prototype)

/** How deep a payload may nest (status details are free-form JSON); a backlog sample's metric is only 3 levels down. */
export const MAX_JSON_DEPTH = 32

/** What a metric name may be; also src/ingest/plain-telemetry.ts's fast check. */
export const metricNamePattern = new RegExp(`^(?!(?:${reservedNames.join('|')})$)[A-Za-z][A-Za-z0-9_.]{0,63}$`)

export const metricName = z.string().regex(metricNamePattern, 'metric names are letters, digits, "_" and ".", at most 64, and not a reserved name')

export const MAX_METRICS_PER_SAMPLE = 256
export const MAX_BACKLOG_SAMPLES = 1000

export const telemetrySample = z.strictObject({
  ...stamped,
  metrics: z
    .record(metricName, z.number().refine(Number.isFinite, 'must be a finite number'))
    .refine((m) => Object.keys(m).length > 0, 'at least one metric')
    .refine((m) => Object.keys(m).length <= MAX_METRICS_PER_SAMPLE, `at most ${MAX_METRICS_PER_SAMPLE} metrics per sample`),
})

/** A backlog uploaded after a reconnect. */
export const telemetryBacklog = z.array(telemetrySample).min(1).max(MAX_BACKLOG_SAMPLES)

/** devices/<id>/telemetry: one sample, or an array of them. */
export const telemetryPayload = z.union([telemetrySample, telemetryBacklog])

export const faultCode = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'fault codes are letters, digits and "_.:-"')

/** devices/<id>/events */
export const eventPayload = z.strictObject({
  ...stamped,
  type: z.enum(['fault', 'fault_cleared']),
  code: faultCode,
  detail: z.string().max(1024).optional(),
})

/** devices/<id>/status; also fit to be the device's last will. Extra keys are kept as details. */
export const statusPayload = z
  .looseObject({
    ...stamped,
    online: z.boolean().optional(),
    fw: z.string().max(64).optional(),
  })
  .describe(`Other keys are kept as details: at most ${MAX_JSON_DEPTH} levels deep, no key named ${reservedNames.join(', ')}`)

export type TelemetrySample = z.infer<typeof telemetrySample>
export type EventPayload = z.infer<typeof eventPayload>
export type StatusPayload = z.infer<typeof statusPayload>

/** The topics a device may publish to, by their last level. */
export const payloadSchemas = {
  telemetry: telemetryPayload,
  events: eventPayload,
  status: statusPayload,
} as const
export type Channel = keyof typeof payloadSchemas
