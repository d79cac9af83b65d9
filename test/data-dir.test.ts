// One Faultline per data dir: a second one is refused, a stopped or killed one leaves the dir free.
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { DataDirLocked } from '../src/store/index.js'
import { startTestInstance, testConfig } from './support/faultline.js'
import { startsWithin } from './support/waits.js'

describe('the data dir', () => {
  it('takes one Faultline at a time, and is free again once it stops or dies', startsWithin(3), async () => {
    const config = await testConfig('embedded')
    const first = await startTestInstance(config)
    await expect(startTestInstance(config)).rejects.toThrow(DataDirLocked)
    await first.close()

    // A lock left by a process that no longer exists (a SIGKILL) is taken over.
    writeFileSync(path.join(config.dataDir, 'faultline.lock'), '2147483646\n')
    const second = await startTestInstance(config)
    await second.close()
  })
})
