// The door from the broker into the pipeline: stamp the receive time, decode, count, and admit either the
// records or a dead letter.
import type { Logger } from 'pino'
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

/** True at most once per interval per device. */
function logLimiter(): (publish: Publish) => boolean {
  const lastLogged = new Map<string, number>()
  return (publish) => {
    const last = lastLogged.get(publish.deviceId) ?? 0
    if (publish.receivedAt - last < REJECTION_LOG_INTERVAL_MS) return false
    lastLogged.set(publish.deviceId, publish.receivedAt)
    return true
  }
}

export function receiver(pipeline: IngestPipeline, limits: DecodeLimits, log: Logger, metrics: Metrics): Receive {
  const rejectionLogged = logLimiter()
  const failureLogged = logLimiter()
  // Rebuilt from the log, so a resend after a restart still gets its first delivery's receive time.
  const receiveTimes = new ReceiveTimes(pipeline.loggedReceipts)
  return async ({ qos, dup, messageId, ...delivery }) => {
    const { receivedAt, receipt } = receiveTimes.stamp(delivery.deviceId, { qos, dup, messageId }, Date.now())
    const publish: Publish = { ...delivery, receivedAt }
    const durable = qos > 0
    const decoded = decodeOrDeadLetter(publish, limits)
    try {
      if (decoded.ok) {
        metrics.messagesAccepted.inc({ channel: decoded.channel })
        return await pipeline.accept(decoded.records, durable, receipt)
      }
      metrics.deadLetters.inc({ reason: decoded.reason })
      if (rejectionLogged(publish)) {
        const entry = { deviceId: publish.deviceId, topic: publish.topic, reason: decoded.deadLetter.reason }
        if (decoded.reason === 'decode_error') log.error(entry, 'decoding failed: message kept as a dead letter')
        else log.warn(entry, 'message rejected to the dead-letter table')
      }
      return await pipeline.accept([decoded.deadLetter], durable, receipt)
    } catch (err) {
      // Not acknowledged (the broker closes the connection and the device retries): said, never silent.
      if (failureLogged(publish)) log.error({ deviceId: publish.deviceId, topic: publish.topic, err: (err as Error).message }, 'message not accepted')
      throw err
    }
  }
}
