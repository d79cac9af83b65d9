// The door from the broker into the pipeline: decode, count, and admit either the records or a dead letter.
import type { Logger } from 'pino'
import type { Metrics } from '../metrics.js'
import { decode, type DecodeLimits, type Publish } from './decode.js'
import type { IngestPipeline } from './pipeline.js'

/** A device sending garbage in a loop gets one log line per interval, not one per message. */
const REJECTION_LOG_INTERVAL_MS = 60_000

export type Receive = (publish: Publish, durable: boolean) => Promise<void>

export function receiver(pipeline: IngestPipeline, limits: DecodeLimits, log: Logger, metrics: Metrics): Receive {
  const lastLogged = new Map<string, number>()
  return (publish, durable) => {
    const decoded = decode(publish, limits)
    if (decoded.ok) {
      metrics.messagesAccepted.inc({ channel: decoded.channel })
      return pipeline.accept(decoded.records, durable)
    }
    metrics.deadLetters.inc({ reason: decoded.reason })
    const last = lastLogged.get(publish.deviceId) ?? 0
    if (publish.receivedAt - last >= REJECTION_LOG_INTERVAL_MS) {
      lastLogged.set(publish.deviceId, publish.receivedAt)
      log.warn({ deviceId: publish.deviceId, topic: publish.topic, reason: decoded.deadLetter.reason }, 'message rejected to the dead-letter table')
    }
    return pipeline.accept([decoded.deadLetter], durable)
  }
}
