// Detector state survives a restart: an open fault is not raised again, and a breach that began before the
// restart still counts toward its duration.
import { describe, expect, it } from 'vitest'
import { backends, eventually, startTestInstance, testConfig } from './support/faultline.js'
import { connectDevice, tcpUrl } from './support/mqtt.js'
import { startsWithin } from './support/waits.js'

describe.each(backends())('detectors across a restart on the %s backend', (backend) => {
  it('resume from what is stored', startsWithin(2), async () => {
    const config = await testConfig(backend)
    const first = await startTestInstance(config)
    const token = await first.registerDevice('rf-restart', { model: 'BCD-516WDVL', purchasedAt: '2026-03-01' })
    const t0 = Date.now() - 50 * 60_000
    const warm = (from: number, to: number) =>
      JSON.stringify(Array.from({ length: to - from }, (_, i) => ({ ts: t0 + (from + i) * 60_000, metrics: { fridge_temp: 10.5 } })))

    let device = await connectDevice(tcpUrl(first.faultline.mqttPort), 'rf-restart', token)
    await device.publishAsync('devices/rf-restart/events', JSON.stringify({ ts: t0, type: 'fault', code: 'E1' }), { qos: 1 })
    await device.publishAsync('devices/rf-restart/telemetry', warm(0, 20), { qos: 1 }) // 19 minutes too warm: not yet a breach
    await eventually(async () => ((await first.api('GET', '/api/tickets?deviceId=rf-restart')).body.tickets.length === 1 ? true : undefined))
    await device.endAsync()
    await first.close()

    const second = await startTestInstance(config)
    try {
      device = await connectDevice(tcpUrl(second.faultline.mqttPort), 'rf-restart', token)
      // The device repeats the fault it still has: open before the restart, so not raised again.
      await device.publishAsync('devices/rf-restart/events', JSON.stringify({ ts: t0 + 25 * 60_000, type: 'fault', code: 'E1' }), { qos: 1 })
      await device.publishAsync('devices/rf-restart/telemetry', warm(20, 36), { qos: 1 }) // 35 minutes in all
      const tickets = await eventually(async () => {
        const t = (await second.api('GET', '/api/tickets?deviceId=rf-restart')).body.tickets
        return t.length === 2 ? t : undefined
      })
      const breach = tickets.find((t: { trigger: string }) => t.trigger === 'threshold')
      const fault = tickets.find((t: { trigger: string }) => t.trigger === 'fault_code')
      expect(breach).toMatchObject({ ruleId: 'fridge_warm', firstSeen: new Date(t0).toISOString() })
      expect(fault).toMatchObject({ code: 'E1', occurrences: 1 })
      await device.endAsync()
    } finally {
      await second.close()
    }
  })
})
