// mqtt.js clients as devices use them: over TCP, or over WebSocket at /mqtt.
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import { closeWhenTestEnds } from './cleanup.js'
import { OUTCOME_WAIT_MS } from './waits.js'

export function connectDevice(url: string, deviceId: string, token: string, options: IClientOptions = {}): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, { username: deviceId, password: token, reconnectPeriod: 0, connectTimeout: OUTCOME_WAIT_MS, ...options })
    closeWhenTestEnds(() => client.endAsync(true))
    client.once('connect', () => resolve(client))
    client.once('error', (err) => {
      client.end(true)
      reject(err)
    })
  })
}

export const tcpUrl = (port: number) => `mqtt://127.0.0.1:${port}`
export const wsUrl = (port: number) => `ws://127.0.0.1:${port}/mqtt`
