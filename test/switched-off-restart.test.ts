// A device its owner switched off (it said `online: false` itself) is not a fault, and a restart does not make it
// one: Faultline resumes with it unwatched until it next reports (issue 9). A device whose connection was lost
// (the broker published its last will) or that just went quiet is watched from its last contact as before.
import { TestScheduler } from 'rxjs/testing'
import { NEVER } from 'rxjs'
import { describe, expect, it } from 'vitest'
import { loadCatalog, parseCatalog } from '../src/catalog/index.js'
import { loadDetectorState, offline, type Detection } from '../src/detect/index.js'
import { DeviceRegistry } from '../src/devices/index.js'
import { createLogger } from '../src/main.js'
import { openStore } from '../src/store/index.js'
import { backends, eventually, startTestInstance, testConfig, type TestInstance } from './support/faultline.js'
import { connectDevice, tcpUrl } from './support/mqtt.js'
import { startsWithin } from './support/waits.js'

const WILL = { topic: '', payload: Buffer.from('{"online":false}'), qos: 1 as const, retain: false }
const ALL = `from=${encodeURIComponent('2000-01-01T00:00:00Z')}&to=${encodeURIComponent('2100-01-01T00:00:00Z')}`

/** Waits until the device's last status report is stored and its last-seen time has caught up with it. */
async function storedAsLastWord(fl: TestInstance, deviceId: string): Promise<void> {
  await eventually(async () => {
    const [status, device] = await Promise.all([fl.api('GET', `/api/devices/${deviceId}/status?${ALL}`), fl.api('GET', `/api/devices/${deviceId}`)])
    const last = status.body.status.at(-1)
    return last?.online === false && device.body.lastSeenAt !== null && Date.parse(device.body.lastSeenAt) >= Date.parse(last.receivedAt) ? true : undefined
  })
}

describe.each(backends())('a switched-off device across a restart on the %s backend', (backend) => {
  it('is restored as switched off; a lost connection, a device heard after switching off and a quiet one are not', startsWithin(1), async () => {
    const config = await testConfig(backend)
    const fl = await startTestInstance(config)
    const url = tcpUrl(fl.faultline.mqttPort)
    const device = async (id: string) =>
      connectDevice(url, id, await fl.registerDevice(id, { model: 'LGV-37A-8' }), { will: { ...WILL, topic: `devices/${id}/status` } })

    const off = await device('so-off')
    await off.publishAsync('devices/so-off/status', JSON.stringify({ online: false }), { qos: 1 })
    await off.endAsync() // a clean DISCONNECT: no will
    const lost = await device('so-lost')
    await lost.publishAsync('devices/so-lost/status', JSON.stringify({ online: true }), { qos: 1 })
    lost.stream.destroy() // the broker publishes the will: online false, but not the device's word
    const back = await device('so-back')
    await back.publishAsync('devices/so-back/status', JSON.stringify({ online: false }), { qos: 1 })
    await back.publishAsync('devices/so-back/telemetry', JSON.stringify({ metrics: { discharge_pressure: 7.5 } }), { qos: 1 })
    await back.endAsync()
    const quiet = await device('so-quiet')
    await quiet.publishAsync('devices/so-quiet/telemetry', JSON.stringify({ metrics: { discharge_pressure: 7.5 } }), { qos: 1 })
    await quiet.endAsync()

    await Promise.all([storedAsLastWord(fl, 'so-off'), storedAsLastWord(fl, 'so-lost')])
    await eventually(async () => ((await fl.api('GET', '/api/devices/so-back')).body.lastSeenAt !== null ? true : undefined))
    await eventually(async () => ((await fl.api('GET', '/api/devices/so-quiet')).body.lastSeenAt !== null ? true : undefined))
    await fl.close()

    // What the next start resumes from, read from the same database.
    const store = await openStore(config, createLogger('silent'))
    try {
      const lastSeen = await new DeviceRegistry(store.db).lastSeen()
      expect([...lastSeen.keys()].sort()).toEqual(['so-back', 'so-lost', 'so-off', 'so-quiet'])
      const state = await loadDetectorState(store.db, await loadCatalog(config.catalogDir), lastSeen, Date.now())
      expect([...(state.switchedOff ?? [])]).toEqual(['so-off'])
    } finally {
      await store.db.close()
    }
  })
})

describe('the offline detector seeded with switched-off devices', () => {
  const catalog = parseCatalog([
    {
      file: 'test-pump.yaml',
      content: {
        model: 'TP-1',
        name: 'Test pump',
        category: 'pump',
        warranty: { months: 12, labourRate: 80, callOutFee: 50, currency: 'CNY' },
        faultCodes: {},
        thresholds: [],
        offline: { heartbeat: '1m', missedHeartbeats: 3, severity: 'minor' },
      },
    },
  ])

  it('leaves them unwatched and watches the others from their last contact', () => {
    const s = new TestScheduler((actual, expected) => expect(actual).toEqual(expected))
    s.run(({ expectObservable }) => {
      const initial = {
        lastSeen: new Map([
          ['p-off', 0],
          ['p-quiet', 0],
        ]),
        switchedOff: new Set(['p-off']),
      }
      const raised = NEVER.pipe(offline(catalog, () => 'TP-1', initial, s))
      // p-quiet offline after its 3-minute window; p-off nothing in a whole day
      expectObservable(raised, '^ 1440m !').toBe('3m r', {
        r: expect.objectContaining<Partial<Detection>>({ deviceId: 'p-quiet', state: 'raised', time: 0 }),
      })
    })
  })
})
