// The door from the broker into the pipeline: stamp the receive time, decode, count, and admit either the
// records or a dead letter.
import type { Logger } from 'pino'
import type { Metrics } from '../metrics.js'
import { decode, type DecodeLimits, type Publish } from './decode.js'
import type { IngestPipeline } from './pipeline.js'
import { ReceiveTimes, type DeliveryFlags } from './receive-times.js'

/** A device's publish as the broker hands it over; its packet id and DUP flag tell a redelivery. */
export type Delivery = Omit<Publish, 'receivedAt'> & DeliveryFlags

/** Resolves once the message is admitted, and for QoS 1 once it is durable: the point of the PUBACK. */
export type Receive = (delivery: Delivery) => Promise<void>

/** A device sending garbage in a loop gets one log line per interval, not one per message. */
const REJECTION_LOG_INTERVAL_MS = 60_000

export function receiver(pipeline: IngestPipeline, limits: DecodeLimits, log: Logger, metrics: Metrics): Receive {
  const lastLogged = new Map<string, number>()
  // Rebuilt from the log, so a resend after a restart still gets its first delivery's receive time.
  const receiveTimes = new ReceiveTimes(pipeline.loggedReceipts)
  return ({ qos, dup, messageId, ...delivery }) => {
    const { receivedAt, receipt } = receiveTimes.stamp(delivery.deviceId, { qos, dup, messageId }, Date.now())
    const publish: Publish = { ...delivery, receivedAt }
    const durable = qos > 0
    const decoded = decode(publish, limits)
    if (decoded.ok) {
      metrics.messagesAccepted.inc({ channel: decoded.channel })
      return pipeline.accept(decoded.records, durable, receipt)
    }
    metrics.deadLetters.inc({ reason: decoded.reason })
    const last = lastLogged.get(publish.deviceId) ?? 0
    if (publish.receivedAt - last >= REJECTION_LOG_INTERVAL_MS) {
      lastLogged.set(publish.deviceId, publish.receivedAt)
      log.warn({ deviceId: publish.deviceId, topic: publish.topic, reason: decoded.deadLetter.reason }, 'message rejected to the dead-letter table')
    }
    return pipeline.accept([decoded.deadLetter], durable, receipt)
  }
}
