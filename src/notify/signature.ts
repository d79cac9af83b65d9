// The headers that let a receiver trust a body: HMAC-SHA256 over the raw bytes with the webhook's secret.
import { createHmac } from 'node:crypto'

export const SIGNATURE_HEADER = 'x-faultline-signature'

export function sign(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`
}

export function deliveryHeaders(secret: string, body: string, eventId: number, now: number): Record<string, string> {
  return {
    'content-type': 'application/json',
    'user-agent': 'Faultline-Webhooks',
    [SIGNATURE_HEADER]: sign(secret, body),
    'x-faultline-event-id': String(eventId),
    'x-faultline-timestamp': String(Math.floor(now / 1000)),
  }
}
