// Detectors in virtual time. Thresholds and fault events are judged by the records' own (device) times, offline
// and flapping by the scheduler's clock; marbles give the order records arrive in and when.
import { TestScheduler } from 'rxjs/testing'
import { describe, expect, it } from 'vitest'
import { parseCatalog } from '../src/catalog/index.js'
import { detections, faultEvents, offline, suppressFlapping, sustainedBreaches, replayWindowMs, type Detection, type Transition } from '../src/detect/index.js'
import type { DeviceRecord, EventRecord, StatusRecord, TelemetryRecord } from '../src/ingest/index.js'

const minute = 60_000
const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected))

const catalog = parseCatalog([
  {
    file: 'test-fridge.yaml',
    content: {
      model: 'FR-1',
      name: 'Test fridge',
      category: 'refrigerator',
      warranty: { months: 12, labourRate: 80, callOutFee: 50, currency: 'CNY' },
      faultCodes: {
        E1: { title: 'Compressor fault', component: 'compressor', severity: 'critical', cause: 'seized', labourHours: 2 },
      },
      thresholds: [
        {
          id: 'cabinet_warm',
          metric: 'cabinet_temp',
          unit: '°C',
          comparison: 'above',
          limit: 8,
          for: '30m',
          clearAt: 6,
          severity: 'major',
          title: 'Cabinet too warm',
        },
        { id: 'suction_low', metric: 'suction', comparison: 'below', limit: 0.3, for: '10m', clearAt: 0.5, severity: 'major', title: 'Suction low' },
      ],
      offline: { heartbeat: '1m', missedHeartbeats: 3, severity: 'minor' },
    },
  },
])
// Devices "fr-…" are registered fridges; anything else is unknown to Faultline.
const modelOf = (deviceId: string) => (deviceId.startsWith('fr-') ? 'FR-1' : undefined)

const event = (type: EventRecord['type'], code: string, atMinute: number, deviceId = 'fr-1'): EventRecord => ({
  kind: 'event',
  deviceId,
  time: atMinute * minute,
  receivedAt: atMinute * minute,
  type,
  code,
})
const cabinet = (atMinute: number, value: number, deviceId = 'fr-1'): TelemetryRecord => ({
  kind: 'telemetry',
  deviceId,
  time: atMinute * minute,
  receivedAt: atMinute * minute,
  metrics: { cabinet_temp: value },
})
const status = (online: boolean, deviceId = 'fr-1'): StatusRecord => ({ kind: 'status', deviceId, time: 0, receivedAt: 0, online, details: {} })
/** the status the broker publishes as a device's last will when its connection is lost */
const lastWill = (deviceId = 'fr-1'): StatusRecord => ({ ...status(false, deviceId), will: true })

const detection = (fields: Partial<Detection>) => expect.objectContaining(fields) as Detection
const warm = (state: Detection['state'], atMinute: number, value: number) =>
  detection({ deviceId: 'fr-1', trigger: 'threshold', condition: 'threshold:cabinet_warm', ruleId: 'cabinet_warm', state, time: atMinute * minute, value })

describe('faultEvents', () => {
  it('raises a known code with what the catalog says about it, and clears it', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const source = cold<DeviceRecord>('-a--b-', { a: event('fault', 'E1', 1), b: event('fault_cleared', 'E1', 5) })
      expectObservable(source.pipe(faultEvents(catalog, modelOf))).toBe('-r--c-', {
        r: {
          deviceId: 'fr-1',
          trigger: 'fault_code',
          condition: 'fault:E1',
          state: 'raised',
          time: 1 * minute,
          severity: 'critical',
          title: 'Compressor fault',
          component: 'compressor',
          code: 'E1',
          detail: undefined,
        },
        c: detection({ condition: 'fault:E1', state: 'cleared', time: 5 * minute, severity: 'critical' }),
      })
    })
  })

  it('raises an unknown code as major, keeping the raw code, even for an unregistered device', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const source = cold<DeviceRecord>('ab', { a: event('fault', 'X42', 1), b: event('fault', 'E1', 1, 'stranger') })
      expectObservable(source.pipe(faultEvents(catalog, modelOf))).toBe('xy', {
        x: detection({ condition: 'fault:X42', code: 'X42', severity: 'major', title: 'Unknown fault code X42 for FR-1' }),
        y: detection({ deviceId: 'stranger', code: 'E1', severity: 'major' }),
      })
    })
  })

  it('ignores a repeat of an open fault and a clear of a fault that is not open', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const source = cold<DeviceRecord>('abcd', {
        a: event('fault_cleared', 'E1', 1),
        b: event('fault', 'E1', 2),
        c: event('fault', 'E1', 3),
        d: event('fault_cleared', 'E1', 4),
      })
      expectObservable(source.pipe(faultEvents(catalog, modelOf))).toBe('-r-c', {
        r: detection({ state: 'raised', time: 2 * minute }),
        c: detection({ state: 'cleared', time: 4 * minute }),
      })
    })
  })

  it('ignores an event older than the last one judged for that code', () => {
    scheduler().run(({ cold, expectObservable }) => {
      // cleared at minute 10, then a raise from minute 8 arrives late: the fault is over
      const source = cold<DeviceRecord>('abc', { a: event('fault', 'E1', 5), b: event('fault_cleared', 'E1', 10), c: event('fault', 'E1', 8) })
      expectObservable(source.pipe(faultEvents(catalog, modelOf))).toBe('rc-', {
        r: detection({ state: 'raised' }),
        c: detection({ state: 'cleared' }),
      })
    })
  })

  it('does not raise again a fault left open before a restart, and clears it', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const transitions: Transition[] = [{ deviceId: 'fr-1', condition: 'fault:E1', state: 'raised', time: 1 * minute }]
      const source = cold<DeviceRecord>('ab', { a: event('fault', 'E1', 20), b: event('fault_cleared', 'E1', 30) })
      expectObservable(source.pipe(faultEvents(catalog, modelOf, { transitions }))).toBe('-c', {
        c: detection({ state: 'cleared', time: 30 * minute }),
      })
    })
  })
})

describe('sustainedBreaches', () => {
  const breaches = sustainedBreaches(catalog, modelOf)

  it('raises once the breach has lasted the rule duration, dated when it began, and only once', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const source = cold<DeviceRecord>('abcdef', {
        a: cabinet(0, 5),
        b: cabinet(10, 9),
        c: cabinet(25, 9.5),
        d: cabinet(40, 10),
        e: cabinet(50, 11),
        f: cabinet(60, 9),
      })
      expectObservable(source.pipe(breaches)).toBe('---r--', { r: warm('raised', 10, 10) })
    })
  })

  it('does not raise for a spike shorter than the duration', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const source = cold<DeviceRecord>('abcd', { a: cabinet(0, 12), b: cabinet(20, 5), c: cabinet(30, 12), d: cabinet(50, 5) })
      expectObservable(source.pipe(breaches)).toBe('----')
    })
  })

  it('clears only past the clearing limit, not on falling back under the limit', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const source = cold<DeviceRecord>('abcde', { a: cabinet(0, 9), b: cabinet(30, 9), c: cabinet(40, 7), d: cabinet(50, 6), e: cabinet(60, 5.9) })
      expectObservable(source.pipe(breaches)).toBe('-r--c', { r: warm('raised', 0, 9), c: warm('cleared', 60, 5.9) })
    })
  })

  it('keeps a pending breach between the limit and the clearing limit', () => {
    scheduler().run(({ cold, expectObservable }) => {
      // dips to 7 (under 8, not under 6) at minute 15: the breach from minute 0 carries on
      const source = cold<DeviceRecord>('abc', { a: cabinet(0, 9), b: cabinet(15, 7), c: cabinet(30, 9) })
      expectObservable(source.pipe(breaches)).toBe('--r', { r: warm('raised', 0, 9) })
    })
  })

  it('judges a backlog uploaded after a reconnect by its own timestamps', () => {
    scheduler().run(({ cold, expectObservable }) => {
      // an hour of readings arrives in one burst: the breach spans 35 minutes of device time
      const backlog = cold<DeviceRecord>('(abcd)', { a: cabinet(0, 5), b: cabinet(5, 9), c: cabinet(20, 9), d: cabinet(40, 9) })
      expectObservable(backlog.pipe(breaches)).toBe('r', { r: warm('raised', 5, 9) })
      // the same burst spanning only 10 minutes of device time is not a sustained breach
      const short = cold<DeviceRecord>('(abc)', { a: cabinet(0, 9), b: cabinet(5, 9), c: cabinet(10, 9) })
      expectObservable(short.pipe(breaches)).toBe('-')
    })
  })

  it('ignores a late point: it neither resets a pending breach nor starts one', () => {
    scheduler().run(({ cold, expectObservable }) => {
      // 5 °C from minute 10 arrives after minute 20: it would have reset the breach, but is ignored
      const notReset = cold<DeviceRecord>('abcd', { a: cabinet(0, 9), b: cabinet(20, 9), c: cabinet(10, 5), d: cabinet(30, 9) })
      expectObservable(notReset.pipe(breaches)).toBe('---r', { r: warm('raised', 0, 9) })
      // warm points from before the newest normal one cannot make a breach
      const notStarted = cold<DeviceRecord>('abcd', { a: cabinet(50, 5), b: cabinet(0, 9), c: cabinet(40, 9), d: cabinet(55, 5) })
      expectObservable(notStarted.pipe(breaches)).toBe('----')
    })
  })

  it('judges "below" rules the other way round, and only for registered devices', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const suction = (atMinute: number, value: number, deviceId = 'fr-1'): TelemetryRecord => ({
        kind: 'telemetry',
        deviceId,
        time: atMinute * minute,
        receivedAt: 0,
        metrics: { suction: value },
      })
      const source = cold<DeviceRecord>('abcde', {
        a: suction(0, 0.2),
        b: suction(10, 0.25),
        c: suction(15, 0.6),
        d: suction(0, 0.1, 'x'),
        e: suction(30, 0.1, 'x'),
      })
      expectObservable(source.pipe(breaches)).toBe('-rc--', {
        r: detection({ condition: 'threshold:suction_low', state: 'raised', time: 0, value: 0.25 }),
        c: detection({ condition: 'threshold:suction_low', state: 'cleared', time: 15 * minute, value: 0.6 }),
      })
    })
  })

  it('does not raise again a breach open before a restart, and clears it', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const transitions: Transition[] = [{ deviceId: 'fr-1', condition: 'threshold:cabinet_warm', state: 'raised', time: 0 }]
      const source = cold<DeviceRecord>('abc', { a: cabinet(50, 10), b: cabinet(90, 10), c: cabinet(95, 4) })
      expectObservable(source.pipe(sustainedBreaches(catalog, modelOf, { transitions }))).toBe('--c', { c: warm('cleared', 95, 4) })
    })
  })

  it('counts a breach that began before a restart, from replayed telemetry, without repeating one already reported', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const recentTelemetry = [
        // a breach raised and cleared before the restart (its clear is the latest stored transition) ...
        cabinet(0, 9),
        cabinet(30, 9),
        cabinet(35, 5),
        // ... and a new one that began at minute 40, 15 minutes before the restart
        cabinet(40, 9),
        cabinet(55, 9),
      ].reverse() // stored order does not matter
      const transitions: Transition[] = [{ deviceId: 'fr-1', condition: 'threshold:cabinet_warm', state: 'cleared', time: 35 * minute }]
      const live = cold<DeviceRecord>('-a-b', { a: cabinet(60, 9), b: cabinet(70, 9) })
      expectObservable(live.pipe(sustainedBreaches(catalog, modelOf, { transitions, recentTelemetry }))).toBe('---r', { r: warm('raised', 40, 9) })
    })
  })

  it('replays as much telemetry as the longest rule needs', () => {
    expect(replayWindowMs(catalog)).toBe(30 * minute)
  })
})

describe('offline', () => {
  const watch = (s: TestScheduler, initial = {}) => offline(catalog, modelOf, initial, s)

  it('raises after the window of silence, dated at the last message, and any message clears it', () => {
    const s = scheduler()
    s.run(({ cold, expectObservable }) => {
      // heartbeat 1 min × 3 missed: offline 3 min after the last message; the status at 5 min clears
      const source = cold<DeviceRecord>('a 59999ms b 4m c 1m |', { a: cabinet(0, 5), b: cabinet(1, 5), c: status(true) })
      expectObservable(source.pipe(watch(s))).toBe('4m r 1m c 1m |', {
        r: detection({
          deviceId: 'fr-1',
          trigger: 'offline',
          condition: 'offline',
          state: 'raised',
          time: 1 * minute,
          severity: 'minor',
          detail: 'nothing heard for 3m',
        }),
        c: detection({ condition: 'offline', state: 'cleared', time: 5 * minute + 1 }),
      })
    })
  })

  it('stays quiet while the device keeps talking, and ignores unregistered devices', () => {
    const s = scheduler()
    s.run(({ cold, expectObservable }) => {
      const source = cold<DeviceRecord>('a 2m a 2m a 2m b', { a: cabinet(0, 5), b: cabinet(0, 5, 'stranger') })
      expectObservable(source.pipe(watch(s))).toBe('7m 2ms r', { r: detection({ deviceId: 'fr-1', state: 'raised', time: 4 * minute + 2 }) })
    })
  })

  it('takes a last will as leaving: offline one heartbeat later unless back', () => {
    const s = scheduler()
    s.run(({ cold, expectObservable }) => {
      // loses its connection at 0 and is back within the heartbeat (a reboot); loses it again at 1.5 min, and
      // another will (a second connection's) follows later
      const source = cold<DeviceRecord>('a 30s b 1m c 3m d', { a: lastWill(), b: status(true), c: lastWill(), d: lastWill() })
      expectObservable(source.pipe(watch(s))).toBe('2m 30s 2ms r', {
        r: detection({ state: 'raised', time: 1 * minute + 30_000 + 2, detail: 'disconnected and not back within 1m' }),
      })
    })
  })

  it('takes a device that says it is switched off as no fault: not watched until it next reports', () => {
    const s = scheduler()
    s.run(({ cold, expectObservable }) => {
      // switched off at 0 and silent for an hour (20 windows): nothing; back at 60 min, silent again: offline 3 min later
      const source = cold<DeviceRecord>('a 60m b 10m |', { a: status(false), b: cabinet(0, 5) })
      expectObservable(source.pipe(watch(s))).toBe('63m 1ms r 7m |', { r: detection({ state: 'raised', detail: 'nothing heard for 3m' }) })
    })
  })

  it('clears an offline device that says it is being switched off, and then watches it no more', () => {
    const s = scheduler()
    s.run(({ cold, expectObservable }) => {
      const source = cold<DeviceRecord>('a 5m b 30m |', { a: cabinet(0, 5), b: status(false) })
      expectObservable(source.pipe(watch(s))).toBe('3m r 2m c 30m |', {
        r: detection({ state: 'raised', time: 0 }),
        c: detection({ state: 'cleared', time: 5 * minute + 1 }),
      })
    })
  })

  it('watches devices from their last contact before a restart, and does not raise an open condition again', () => {
    const s = scheduler()
    s.run(({ cold, expectObservable }) => {
      const lastSeen = new Map([
        ['fr-1', -2 * minute], // silent for 2 minutes when Faultline starts: offline a minute later
        ['fr-2', -10 * minute], // already reported offline
      ])
      const transitions: Transition[] = [{ deviceId: 'fr-2', condition: 'offline', state: 'raised', time: -10 * minute }]
      const source = cold<DeviceRecord>('5m a 1m |', { a: cabinet(0, 5, 'fr-2') })
      expectObservable(source.pipe(watch(s, { lastSeen, transitions }))).toBe('1m x 239999ms y 1m |', {
        x: detection({ deviceId: 'fr-1', state: 'raised', time: -2 * minute }),
        y: detection({ deviceId: 'fr-2', state: 'cleared' }),
      })
    })
  })
})

describe('suppressFlapping', () => {
  const at = (state: Detection['state'], atMinute: number): Detection => ({
    deviceId: 'fr-1',
    trigger: 'fault_code',
    condition: 'fault:E1',
    state,
    time: atMinute * minute,
    severity: 'critical',
    title: 'Compressor fault',
    code: 'E1',
  })

  it('lets a raise and its clear through untouched', () => {
    const s = scheduler()
    s.run(({ cold, expectObservable }) => {
      const source = cold('a 20m b', { a: at('raised', 0), b: at('cleared', 20) })
      expectObservable(source.pipe(suppressFlapping(10 * minute, 2, s))).toBe('a 20m b', { a: at('raised', 0), b: at('cleared', 20) })
    })
  })

  it('collapses a condition raising and clearing over and over into one raise, cleared once it settles', () => {
    const s = scheduler()
    s.run(({ cold, expectObservable }) => {
      // a change every minute for 8 minutes, then quiet
      const values = {
        r: at('raised', 0),
        c: at('cleared', 1),
        s: at('raised', 2),
        d: at('cleared', 3),
        t: at('raised', 4),
        e: at('cleared', 5),
        u: at('raised', 6),
        f: at('cleared', 7),
      }
      const source = cold('r 59999ms c 59999ms s 59999ms d 59999ms t 59999ms e 59999ms u 59999ms f', values)
      expectObservable(source.pipe(suppressFlapping(10 * minute, 2, s))).toBe('r 59999ms c 59999ms s 14m 59999ms f', {
        r: values.r,
        c: values.c,
        s: { ...values.s, detail: 'flapping: more than 2 changes within 10m' },
        f: values.f,
      })
    })
  })

  it('lets the settled state through at once when the stream ends', () => {
    const s = scheduler()
    s.run(({ cold, expectObservable }) => {
      const source = cold('rcs-d|', { r: at('raised', 0), c: at('cleared', 1), s: at('raised', 2), d: at('cleared', 3) })
      expectObservable(source.pipe(suppressFlapping(10 * minute, 2, s))).toBe('rcs--(d|)', {
        r: at('raised', 0),
        c: at('cleared', 1),
        s: expect.objectContaining({ state: 'raised' }),
        d: at('cleared', 3),
      })
    })
  })
})

describe('detections', () => {
  it('merges the detectors and collapses flapping', () => {
    // an intermittent fault, a warm cabinet, then silence: offline 3 min after the last record
    const s = scheduler()
    s.run(({ cold, expectObservable }) => {
      const source = cold<DeviceRecord>('abcdef', {
        a: event('fault', 'E1', 0),
        b: event('fault_cleared', 'E1', 1),
        c: event('fault', 'E1', 2),
        d: event('fault_cleared', 'E1', 3),
        e: cabinet(4, 9),
        f: cabinet(40, 9),
      })
      expectObservable(source.pipe(detections({ catalog, modelOf, scheduler: s }))).toBe('rcs--w 179999ms o 719997ms x', {
        r: detection({ condition: 'fault:E1', state: 'raised' }),
        c: detection({ condition: 'fault:E1', state: 'cleared' }),
        s: detection({ condition: 'fault:E1', state: 'raised', detail: 'flapping: more than 2 changes within 15m' }),
        w: warm('raised', 4, 9),
        o: detection({ condition: 'offline', state: 'raised', time: 5 }),
        x: detection({ condition: 'fault:E1', state: 'cleared', time: 3 * minute }),
      })
    })
  })
})
