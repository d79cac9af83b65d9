// The ops console over HTTP: its page at `/` and its assets under /console/, built first when they are missing or
// older than their sources. Encapsulated, so its Content-Security-Policy and cache headers stay on its own routes.
import fastifyStatic from '@fastify/static'
import type { FastifyPluginAsync } from 'fastify'
import { buildConsole, consoleDist, consoleIsStale } from './build.js'

/**
 * Only this origin's own scripts, styles and connections (the API and /ws/faults); no inline script, no framing.
 * uPlot and preact set styles through the CSSOM, which style-src does not govern.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "connect-src 'self' ws: wss:",
  "img-src 'self' data:",
  "script-src 'self'",
  "style-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')

/** Asset names carry their content's hash: a new build gets new names, so a browser may keep them for a year. */
const HASHED_ASSET = /-[A-Z0-9]{8}\.(js|css|map)$/

let building: Promise<void> | undefined

/** One build per process at a time; a failed build is tried again at the next start. */
async function ensureBuilt(): Promise<void> {
  building ??= (async () => {
    if (await consoleIsStale()) await buildConsole()
  })().finally(() => (building = undefined))
  return building
}

export const consoleRoutes: FastifyPluginAsync = async (app) => {
  app.addHook('onSend', async (_req, reply) => {
    reply.header('content-security-policy', CONTENT_SECURITY_POLICY)
    reply.header('x-content-type-options', 'nosniff')
    reply.header('referrer-policy', 'no-referrer')
  })
  try {
    await ensureBuilt()
  } catch (err) {
    // The API and the broker do not depend on the page: Faultline runs on, and `/` says what is wrong.
    app.log.error({ err }, 'the ops console could not be built; / answers 503')
    app.get('/', { schema: { hide: true } }, (_req, reply) =>
      reply.code(503).send({ error: 'console_unavailable', message: 'the ops console could not be built; the server log says why' }),
    )
    return
  }
  await app.register(fastifyStatic, {
    root: consoleDist,
    prefix: '/console/',
    index: false,
    cacheControl: false,
    setHeaders: (reply, file) => reply.header('cache-control', HASHED_ASSET.test(file) ? 'public, max-age=31536000, immutable' : 'no-cache'),
  })
  app.get('/', { schema: { hide: true } }, (_req, reply) => reply.header('cache-control', 'no-cache').sendFile('index.html'))
}
