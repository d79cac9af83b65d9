// Faultline stops between the rules stage's two steps: a detection is recorded (fault_events, its stream event
// appended) and its ticket is not yet opened. The next start acts on it: one ticket, no second stream event.
import { describe, expect, it } from 'vitest'
import { loadCatalog } from '../src/catalog/index.js'
import type { Detection } from '../src/detect/index.js'
import { DeviceRegistry } from '../src/devices/index.js'
import { createLogger } from '../src/main.js'
import { openStore } from '../src/store/index.js'
import { detectionEvent } from '../src/stream/index.js'
import { recordDetections } from '../src/ticketing/index.js'
import { backends, eventually, startTestInstance, testConfig } from './support/faultline.js'
import { startsWithin } from './support/waits.js'

describe.each(backends())('a detection recorded but not acted on before a stop, on the %s backend', (backend) => {
  it('gets its ticket at the next start, once', startsWithin(4), async () => {
    const config = await testConfig(backend)
    const first = await startTestInstance(config)
    await first.registerDevice('ur-1')
    await first.close()

    const detection: Detection = {
      deviceId: 'ur-1',
      trigger: 'fault_code',
      condition: 'fault:E1',
      state: 'raised',
      time: Date.now() - 60_000,
      severity: 'major',
      title: 'E1',
      code: 'E1',
    }
    const store = await openStore(config, createLogger('silent'))
    try {
      const device = (await new DeviceRegistry(store.db).get('ur-1'))!
      const catalog = await loadCatalog(config.catalogDir)
      const event = detectionEvent(detection, device, catalog.get(device.model))
      expect(await recordDetections(store.db, [{ detection, event }])).toEqual(['new'])
    } finally {
      await store.db.close()
    }

    const second = await startTestInstance(config)
    const tickets = await eventually(async () => {
      const { body } = await second.api('GET', '/api/tickets?deviceId=ur-1')
      return body.tickets.length > 0 ? body.tickets : undefined
    })
    expect(tickets).toMatchObject([{ deviceId: 'ur-1', condition: 'fault:E1', status: 'open' }])
    await second.close()

    const after = await openStore(config, createLogger('silent'))
    try {
      const { rows: stream } = await after.db.query<{ type: string }>(`SELECT type FROM stream_events WHERE device_id = 'ur-1' ORDER BY id`)
      expect(stream.map((e) => e.type)).toEqual(['detection.raised', 'ticket.opened'])
      const { rows: unacted } = await after.db.query(`SELECT 1 FROM fault_events WHERE NOT acted`)
      expect(unacted).toEqual([])
      const { rows: all } = await after.db.query(`SELECT 1 FROM tickets WHERE device_id = 'ur-1'`)
      expect(all).toHaveLength(1)
    } finally {
      await after.db.close()
    }
  })
})
