// The door from the broker into the pipeline: stamp the receive time, decode, count, and admit either the
// records or a dead letter.
import type { Logger } from 'pino'
import { LogThrottle } from '../log-throttle.js'
import type { Metrics } from '../metrics.js'
import { decode, reject, type DecodeLimits, type Decoded, type Publish } from './decode.js'
import type { IngestPipeline } from './pipeline.js'
import { ReceiveTimes, type DeliveryFlags } from './receive-times.js'

/** A device's publish as the broker hands it over; its packet id and DUP flag tell a redelivery. */
export type Delivery = Omit<Publish, 'receivedAt'> & DeliveryFlags

/** Resolves once the message is admitted, and for QoS 1 once it is durable: the point of the PUBACK. */
export type Receive = (delivery: Delivery) => Promise<void>

/** A device sending garbage in a loop gets one log line per interval, not one per message. */
const REJECTION_LOG_INTERVAL_MS = 60_000

/** Decodes, and should decoding itself throw (a defect), keeps the message as a dead letter saying so: nothing received vanishes. */
function decodeOrDeadLetter(publish: Publish, limits: DecodeLimits): Decoded {
  try {
    return decode(publish, limits)
  } catch (err) {
    return reject(publish, 'decode_error', (err as Error).message)
  }
}

export function receiver(pipeline: IngestPipeline, limits: DecodeLimits, log: Logger, metrics: Metrics): Receive {
  const rejections = new LogThrottle(REJECTION_LOG_INTERVAL_MS)
  const failures = new LogThrottle(REJECTION_LOG_INTERVAL_MS)
  // Rebuilt from the log, so a resend after a restart still gets its first delivery's receive time.
  const receiveTimes = new ReceiveTimes(pipeline.loggedReceipts)
  // The counter of each channel looked up once, not found again from a label object on every message.
  const accepted = {
    telemetry: metrics.messagesAccepted.labels('telemetry'),
    events: metrics.messagesAccepted.labels('events'),
    status: metrics.messagesAccepted.labels('status'),
  }
  return async (delivery) => {
    const { receivedAt, receipt } = receiveTimes.stamp(delivery.deviceId, delivery, Date.now())
    // Named fields, not a rest and a spread: those copy property by property in the runtime, per message.
    const { deviceId, topic, payload, will } = delivery
    const publish: Publish = will ? { deviceId, topic, payload, receivedAt, will } : { deviceId, topic, payload, receivedAt }
    const durable = delivery.qos > 0
    const decoded = decodeOrDeadLetter(publish, limits)
    try {
      if (decoded.ok) {
        accepted[decoded.channel].inc()
        return await pipeline.accept(decoded.records, durable, receipt)
      }
      metrics.deadLetters.inc({ reason: decoded.reason })
      const suppressed = rejections.admit(publish.deviceId, publish.receivedAt)
      if (suppressed !== undefined) {
        const entry = { deviceId: publish.deviceId, topic: publish.topic, reason: decoded.deadLetter.reason, ...(suppressed > 0 && { suppressed }) }
        if (decoded.reason === 'decode_error') log.error(entry, 'decoding failed: message kept as a dead letter')
        else log.warn(entry, 'message rejected to the dead-letter table')
      }
      return await pipeline.accept([decoded.deadLetter], durable, receipt)
    } catch (err) {
      // Not acknowledged (the broker closes the connection and the device retries): said, never silent.
      if (failures.admit(publish.deviceId, publish.receivedAt) !== undefined) {
        log.error({ deviceId: publish.deviceId, topic: publish.topic, err: (err as Error).message }, 'message not accepted')
      }
      throw err
    }
  }
}
