// The ticketing stage's outcomes that never reach the database: a detection of a device no longer registered.
import { describe, expect, it } from 'vitest'
import { lastValueFrom, of, toArray } from 'rxjs'
import { parseCatalog } from '../src/catalog/index.js'
import { createLogger } from '../src/main.js'
import { defaultSlaPolicy, defaultUnknownModelPolicy } from '../src/rules/index.js'
import { repairTickets } from '../src/ticketing/index.js'
import type { Detection } from '../src/detect/index.js'

const untouched = () => Promise.reject(new Error('a detection of an unknown device must not reach the database'))

describe('ticketing stage', () => {
  it('counts a detection of a deleted device as unknown_device, not as a duplicate, and stores nothing', async () => {
    const raised: Detection = {
      deviceId: 'gone-1',
      trigger: 'fault_code',
      condition: 'fault:E1',
      state: 'raised',
      time: 0,
      severity: 'major',
      title: 'E1',
      code: 'E1',
    }
    const outcomes = await lastValueFrom(
      of(raised).pipe(
        repairTickets({
          catalog: parseCatalog([]),
          devices: async () => [],
          db: { query: untouched, transaction: untouched },
          tickets: { applyDetection: untouched },
          clock: { now: () => 0 },
          policy: { ...defaultSlaPolicy(), unknownModel: defaultUnknownModelPolicy, clockSkewMs: 300_000 },
          log: createLogger('silent'),
          lanes: 1,
        }),
        toArray(),
      ),
    )
    expect(outcomes).toEqual([{ action: 'unknown_device' }])
  })
})
