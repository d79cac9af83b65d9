// Turns a device's publish into records, or into one dead letter that says why not. No I/O, no clock.
import type { z } from 'zod'
import {
  payloadSchemas,
  telemetryBacklog,
  telemetrySample,
  type Channel,
  type EventPayload,
  type StatusPayload,
  type TelemetrySample,
} from '../../schemas/messages.js'
import { jsonBoundsProblem } from './json-bounds.js'
import { plainTelemetry } from './plain-telemetry.js'
import { deadLetter, MAX_DATE_MS, type DeadLetterRecord, type DeviceRecord } from './records.js'

export interface DecodeLimits {
  maxPayloadBytes: number
  /** how far ahead of the receive time a device clock may be */
  maxFutureMs: number
  /** how old a point may be (a backlog uploaded after a long outage) */
  maxAgeMs: number
}

/** `decode_error`: decoding itself threw, a defect; the message is still kept as a dead letter, never lost. */
export type RejectReason = 'too_large' | 'unknown_topic' | 'invalid_json' | 'schema' | 'timestamp' | 'decode_error'

const PAYLOAD_HEAD_BYTES = 256

export interface Publish {
  deviceId: string
  topic: string
  payload: Buffer
  receivedAt: number
  /** the broker's publish of the device's last will */
  will?: true
}

export type Decoded = { ok: true; channel: Channel; records: DeviceRecord[] } | { ok: false; reason: RejectReason; deadLetter: DeadLetterRecord }

/**
 * A NUL escaped in JSON is valid JSON, but PostgreSQL's text and jsonb refuse it: U+FFFD takes its place. Only a
 * real escape, after an even run of backslashes: in `\\u0000` the backslash is escaped and the text is the device's.
 */
const escapedNul = /(?<!\\)((?:\\\\)*)\\u0000/g
const storableJson = (text: string) => (text.includes('\\u0000') ? text.replace(escapedNul, '$1\\uFFFD') : text)

export const reject = (publish: Publish, reason: RejectReason, message: string): Decoded => ({
  ok: false,
  reason,
  deadLetter: deadLetter({
    deviceId: publish.deviceId,
    topic: publish.topic,
    reason: `${reason}: ${message}`,
    payloadHead: publish.payload.subarray(0, PAYLOAD_HEAD_BYTES).toString('utf8'),
    time: publish.receivedAt,
  }),
})

const describeIssues = (error: z.ZodError) =>
  error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(payload)'}: ${i.message}`)
    .join('; ')

/** A bad `ts`, whatever its form (wrong type, negative, fractional, not a date), is a timestamp problem. */
const onlyTimestampIssues = (error: z.ZodError) => error.issues.every((i) => i.path.at(-1) === 'ts')

/** A time as ISO-8601 where a Date can hold it, as the number otherwise (toISOString would throw). */
const shown = (time: number) => (Math.abs(time) <= MAX_DATE_MS ? new Date(time).toISOString() : String(time))

function toMillis(ts: number | string | undefined, receivedAt: number): number {
  return ts === undefined ? receivedAt : typeof ts === 'number' ? ts : Date.parse(ts)
}

/** The channel of a device topic: `devices/<id>/<channel>`, where the caller has checked <id>. */
function channelOf(topic: string, deviceId: string): Channel | undefined {
  const channel = topic.slice('devices/'.length + deviceId.length + 1)
  return Object.hasOwn(payloadSchemas, channel) ? (channel as Channel) : undefined
}

export function decode(publish: Publish, limits: DecodeLimits): Decoded {
  const { deviceId, topic, payload, receivedAt } = publish
  if (payload.length > limits.maxPayloadBytes) {
    return reject(publish, 'too_large', `${payload.length} bytes, the limit is ${limits.maxPayloadBytes}`)
  }
  const channel = channelOf(topic, deviceId)
  if (!channel) {
    return reject(publish, 'unknown_topic', `${topic}: a device publishes to devices/<id>/telemetry, /events or /status`)
  }
  let json: unknown
  try {
    json = JSON.parse(storableJson(payload.toString('utf8')))
  } catch (err) {
    return reject(publish, 'invalid_json', (err as Error).message)
  }
  // Plain telemetry is taken as it is; all else is bounded, then judged by zod, which names what is wrong.
  let data: unknown = channel === 'telemetry' ? plainTelemetry(json) : undefined
  if (data === undefined) {
    const unbounded = jsonBoundsProblem(json)
    if (unbounded) return reject(publish, 'schema', unbounded)
    // The union's two branches are told apart here, so an error names the field rather than "invalid input".
    const schema = channel === 'telemetry' ? (Array.isArray(json) ? telemetryBacklog : telemetrySample) : payloadSchemas[channel]
    const parsed = schema.safeParse(json)
    if (!parsed.success) return reject(publish, onlyTimestampIssues(parsed.error) ? 'timestamp' : 'schema', describeIssues(parsed.error))
    data = parsed.data
  }

  const records: DeviceRecord[] = []
  switch (channel) {
    case 'telemetry': {
      const samples = data as TelemetrySample | TelemetrySample[]
      for (const sample of Array.isArray(samples) ? samples : [samples]) {
        records.push({ kind: 'telemetry', deviceId, time: toMillis(sample.ts, receivedAt), receivedAt, seq: sample.seq, metrics: sample.metrics })
      }
      break
    }
    case 'events': {
      const e = data as EventPayload
      records.push({ kind: 'event', deviceId, time: toMillis(e.ts, receivedAt), receivedAt, seq: e.seq, type: e.type, code: e.code, detail: e.detail })
      break
    }
    case 'status': {
      const { ts, seq: _seq, online, fw, ...details } = data as StatusPayload
      records.push({ kind: 'status', deviceId, time: toMillis(ts, receivedAt), receivedAt, online, fw, details, ...(publish.will && { will: true }) })
      break
    }
  }

  for (let i = 0; i < records.length; i++) {
    const { time } = records[i]!
    const problem = Number.isNaN(time)
      ? 'not a date'
      : time > receivedAt + limits.maxFutureMs
        ? `${shown(time)} is more than ${limits.maxFutureMs} ms ahead of the receive time`
        : time < receivedAt - limits.maxAgeMs
          ? `${shown(time)} is more than ${limits.maxAgeMs} ms old`
          : undefined
    if (problem) return reject(publish, 'timestamp', `${records.length > 1 ? `sample ${i}: ` : ''}${problem}`)
  }
  return { ok: true, channel, records }
}
