// What the rest of Faultline needs of a way in for device messages: main and /readyz only whether it is ready
// and how to close it; the HTTP server, optionally, a WebSocket endpoint to hand /mqtt to. The embedded aedes
// broker is one ingress; another (a bridge from an external broker cluster) would sit beside it, feeding the
// same Receive (src/ingest) and touching nothing downstream.
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'

export interface Ingress {
  /** 'ok', or in a few words what is wrong (a readiness check) */
  ready(): string
  /** Stops accepting and disconnects every client. */
  close(): Promise<void>
}

/** MQTT over WebSocket, served at /mqtt of the HTTP server. */
export interface WebSocketEndpoint {
  /** the largest WebSocket message to take */
  readonly maxPayload: number
  /** Serves one connection's stream. */
  serve(stream: Duplex, req: IncomingMessage): void
}

/** The embedded broker: MQTT on its own port, and over WebSocket. */
export interface MqttIngress extends Ingress {
  readonly port: number
  readonly webSocket: WebSocketEndpoint
}
