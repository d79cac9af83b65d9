// A Faultline started in-process on free ports, on the backend a test names, with a known API token.
import { mkdtempSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { Clock } from '../../src/clock.js'
import { loadConfig, type Config } from '../../src/config/index.js'
import { createLogger, startFaultline, type Faultline, type StartOptions } from '../../src/main.js'
import { apiClient, registerDevice, type ApiCall } from './api-client.js'
import { closeWhenTestEnds } from './cleanup.js'
import { freshDatabase, sharedClusterUrl } from './postgres.js'
import { OUTCOME_WAIT_MS } from './waits.js'

export const API_TOKEN = 'test-api-token-0123456789abcdef'

export type Backend = 'embedded' | 'server'

/** The embedded engine always; the server too where .ci/run started one (in CI it must have). */
export function backends(): Backend[] {
  if (!sharedClusterUrl && process.env.CI) throw new Error('CI run without FAULTLINE_TEST_DATABASE_URL: .ci/run must start PostgreSQL')
  return sharedClusterUrl ? ['embedded', 'server'] : ['embedded']
}

export interface TestInstance {
  faultline: Faultline
  config: Config
  api: ApiCall
  registerDevice(id: string, extra?: Record<string, unknown>): Promise<string>
  close(): Promise<void>
}

/** Settings for a test instance: free ports, loopback, quiet logs, a temporary data dir. */
export async function testConfig(backend: Backend, env: Record<string, string> = {}): Promise<Config> {
  return loadConfig(
    {
      FAULTLINE_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'faultline-test-')),
      FAULTLINE_HOST: '127.0.0.1',
      FAULTLINE_MQTT_PORT: '0',
      FAULTLINE_HTTP_PORT: '0',
      FAULTLINE_API_TOKEN: API_TOKEN,
      FAULTLINE_LOG_LEVEL: process.env.FAULTLINE_TEST_LOG_LEVEL ?? 'silent',
      ...(backend === 'server' && !env.DATABASE_URL ? { DATABASE_URL: await freshDatabase() } : {}),
      ...env,
    },
    [],
  )
}

export async function startTestInstance(config: Config, clock?: Clock, options?: StartOptions): Promise<TestInstance> {
  const faultline = await startFaultline(config, createLogger(config.logLevel), clock, options)
  // Started by a test: closed when it ends, also when it fails before its own close (close is idempotent).
  closeWhenTestEnds(() => faultline.close())
  const api = apiClient(`http://127.0.0.1:${faultline.httpPort}`, API_TOKEN)
  return {
    faultline,
    config,
    api,
    registerDevice: (id, extra) => registerDevice(api, id, extra),
    close: () => faultline.close(),
  }
}

export async function startTest(backend: Backend, env: Record<string, string> = {}, options?: StartOptions): Promise<TestInstance> {
  return startTestInstance(await testConfig(backend, env), undefined, options)
}

/** Polls until check returns a value that is not undefined: for reading back what the writer stores. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = OUTCOME_WAIT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 50))
  }
}
