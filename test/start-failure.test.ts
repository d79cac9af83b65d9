// A start that fails half-way (issue 9) closes what it had opened: the MQTT port is free again, the data dir
// lock is released, the generated API token is not burned, and no listener or socket is left behind.
import { existsSync } from 'node:fs'
import net, { type AddressInfo } from 'node:net'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { backends, eventually, startTestInstance, testConfig } from './support/faultline.js'

/** A loopback listener holding a port, so a start on it fails with EADDRINUSE. */
async function occupy(port = 0): Promise<net.Server> {
  const server = net.createServer()
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve))
  return server
}
const portOf = (server: net.Server) => (server.address() as AddressInfo).port
const release = (server: net.Server) => new Promise<void>((resolve) => server.close(() => resolve()))

/** How many TCP listeners and sockets this process holds: a start that failed must add none. */
const networkHandles = () => {
  const kinds = process.getActiveResourcesInfo().filter((r) => r.startsWith('TCP'))
  return { listeners: kinds.filter((r) => r === 'TCPServerWrap').length, sockets: kinds.filter((r) => r === 'TCPSocketWrap').length }
}
const noneAdded = (before: ReturnType<typeof networkHandles>) => {
  const now = networkHandles()
  return now.listeners <= before.listeners && now.sockets <= before.sockets
}

// Two starts a test: on a loaded machine the embedded engine takes a while to open.
describe.each(backends())('a start on a busy HTTP port (%s)', { timeout: 180_000 }, (backend) => {
  it('fails and frees the MQTT port, the data dir and every handle it had opened', async () => {
    const busy = await occupy()
    // The MQTT port is a known free one, to prove it is free again after the failure.
    const probe = await occupy()
    const mqttPort = portOf(probe)
    await release(probe)
    const config = await testConfig(backend, { FAULTLINE_HTTP_PORT: String(portOf(busy)), FAULTLINE_MQTT_PORT: String(mqttPort) })
    const before = networkHandles()
    try {
      await expect(startTestInstance(config)).rejects.toMatchObject({ code: 'EADDRINUSE' })
      // A socket ended is released by libuv a moment later: wait for that, not for a fixed time.
      await eventually(async () => (noneAdded(before) ? true : undefined), 5_000).catch(() => {})
      expect(networkHandles(), `before the start: ${JSON.stringify(before)}`).toSatisfy(() => noneAdded(before))
      await release(await occupy(mqttPort))
      expect(existsSync(path.join(config.dataDir, 'faultline.lock'))).toBe(false)
    } finally {
      await release(busy)
    }
    // The same data dir (its database, its log) takes the next start.
    const next = await startTestInstance({ ...config, httpPort: 0 })
    await next.close()
  })

  it('keeps no hash of a generated API token it never printed, so the next start prints one', async () => {
    const busy = await occupy()
    const config = await testConfig(backend, { FAULTLINE_HTTP_PORT: String(portOf(busy)) })
    const generated = { ...config, apiToken: undefined }
    const hashFile = path.join(config.dataDir, 'api-token.hash')
    try {
      await expect(startTestInstance(generated)).rejects.toMatchObject({ code: 'EADDRINUSE' })
    } finally {
      await release(busy)
    }
    expect(existsSync(hashFile)).toBe(false)
    const next = await startTestInstance({ ...generated, httpPort: 0 })
    await next.close()
    expect(existsSync(hashFile)).toBe(true)
  })
})
