// One simulated device on the wire: an mqtt.js connection (username = device id, password = its token), a last
// will that says it went offline, a status message on every (re)connect, and a tick every `rate` seconds that
// publishes what its generator produces.
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import type { DeviceGenerator, OutMessage } from './generator.js'

export interface SimCounters {
  connected: number
  connects: number
  reconnects: number
  /** publishes handed to the client */
  sent: number
  /** QoS ≥ 1 publishes acknowledged by the broker (PUBACK / PUBCOMP) */
  acked: number
  failed: number
  /** ticks that found the device disconnected: nothing published */
  skipped: number
  telemetry: number
  faults: number
  faultsCleared: number
  errors: number
}

export const newCounters = (): SimCounters => ({
  connected: 0,
  connects: 0,
  reconnects: 0,
  sent: 0,
  acked: 0,
  failed: 0,
  skipped: 0,
  telemetry: 0,
  faults: 0,
  faultsCleared: 0,
  errors: 0,
})

export interface DeviceOptions {
  url: string
  qos: 0 | 1 | 2
  /** seconds between ticks */
  rate: number
  /** performance.now() at the simulation's start: tick times are seconds since then */
  startedAt: number
  keepalive: number
  /** ms between reconnect attempts; 0 disables reconnecting */
  reconnectMs: number
  onError?: (deviceId: string, err: Error) => void
}

export class SimDevice {
  private client: MqttClient | undefined
  private timer: NodeJS.Timeout | undefined
  private nextAt = 0
  private stopped = false
  private isConnected = false

  constructor(
    readonly generator: DeviceGenerator,
    private token: string,
    private readonly options: DeviceOptions,
    private readonly counters: SimCounters,
  ) {}

  get id(): string {
    return this.generator.plan.id
  }

  get connected(): boolean {
    return this.isConnected
  }

  /** Connects; resolves on the first CONNACK, rejects if the first attempt fails (a wrong token, say). */
  connect(): Promise<void> {
    const { url, keepalive, reconnectMs } = this.options
    const topic = `devices/${this.id}/status`
    const opts: IClientOptions = {
      clientId: this.id,
      username: this.id,
      password: this.token,
      clean: true,
      keepalive,
      reconnectPeriod: reconnectMs,
      connectTimeout: 10_000,
      will: { topic, payload: Buffer.from(JSON.stringify({ online: false })), qos: 1, retain: false },
    }
    const client = (this.client = mqtt.connect(url, opts))
    let first = true
    client.on('connect', () => {
      if (!this.isConnected) this.counters.connected++
      this.isConnected = true
      this.counters.connects++
      if (!first) this.counters.reconnects++
      first = false
      this.publish(this.generator.online(Date.now()), 1)
    })
    client.on('close', () => {
      if (this.isConnected) this.counters.connected--
      this.isConnected = false
    })
    client.on('error', (err) => {
      this.counters.errors++
      if (!first) this.options.onError?.(this.id, err)
    })
    return new Promise((resolve, reject) => {
      const onConnect = () => {
        client.off('error', onError)
        resolve()
      }
      const onError = (err: Error) => {
        client.off('connect', onConnect)
        client.end(true)
        reject(new Error(`${this.id}: ${err.message}`))
      }
      client.once('connect', onConnect)
      client.once('error', onError)
    })
  }

  /** Starts ticking, the first tick `offsetMs` from now (devices are spread over the first interval). */
  start(offsetMs: number): void {
    this.nextAt = performance.now() + offsetMs
    this.schedule()
  }

  private schedule() {
    if (this.stopped) return
    this.timer = setTimeout(() => this.tick(), Math.max(0, this.nextAt - performance.now()))
  }

  private tick() {
    const t = (performance.now() - this.options.startedAt) / 1000
    const messages = this.generator.tick(t, Date.now())
    if (messages.length > 0 && !this.isConnected) this.counters.skipped++
    else for (const m of messages) this.publish(m, this.options.qos)
    // Fixed schedule, no drift; after a stall (a suspended laptop) skip the missed ticks rather than burst.
    this.nextAt += this.options.rate * 1000
    const now = performance.now()
    if (this.nextAt < now - this.options.rate * 1000) this.nextAt = now
    this.schedule()
  }

  private publish(message: OutMessage, qos: 0 | 1 | 2) {
    const client = this.client
    if (!client) return
    if (message.channel === 'telemetry') this.counters.telemetry++
    else if (message.channel === 'events') {
      if (message.payload.type === 'fault') this.counters.faults++
      else this.counters.faultsCleared++
    }
    this.counters.sent++
    client.publish(`devices/${this.id}/${message.channel}`, JSON.stringify(message.payload), { qos }, (err) => {
      if (err) this.counters.failed++
      else if (qos > 0) this.counters.acked++
    })
  }

  /** Stops ticking; says goodbye (status online:false, then DISCONNECT, so the broker drops the will). */
  async stop(): Promise<void> {
    this.stopped = true
    clearTimeout(this.timer)
    const client = this.client
    if (!client) return
    if (this.isConnected) {
      await new Promise<void>((resolve) => {
        this.counters.sent++
        client.publish(`devices/${this.id}/status`, JSON.stringify({ ts: Date.now(), online: false }), { qos: 1 }, (err) => {
          if (err) this.counters.failed++
          else this.counters.acked++
          resolve()
        })
        setTimeout(resolve, 2_000).unref()
      })
    }
    // 'close' (above) takes the device off the connected count.
    await new Promise<void>((resolve) => client.end(false, {}, () => resolve()))
  }

  /** Drops the connection without DISCONNECT, as a device losing power does: the broker publishes the will. */
  kill(): void {
    this.stopped = true
    clearTimeout(this.timer)
    this.client?.stream.destroy()
    this.client?.end(true)
  }
}
