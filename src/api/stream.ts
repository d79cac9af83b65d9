// GET /ws/faults: the live fault stream over WebSocket (issue 10). Outside /api's bearer hook: a browser cannot
// set headers on a WebSocket, so the token may also come as `?token=` or as the subprotocol `bearer, <token>`.
// A refused or malformed request is answered (401, 400) before the upgrade.
import type { onRequestAsyncHookHandler } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { secretMatches } from '../devices/index.js'
import type { Metrics } from '../metrics.js'
import { defaultSessionOptions, serveStream, streamQuery, type SessionOptions, type StreamHub } from '../stream/index.js'
import { errors, HttpError } from './errors.js'

/** The subprotocol that carries the token (`Sec-WebSocket-Protocol: bearer, <token>`), answered as chosen. */
export const BEARER_PROTOCOL = 'bearer'

export interface StreamRouteDeps {
  hub: StreamHub
  metrics: Metrics
  apiTokenHash: string
  session?: Partial<SessionOptions>
}

/** The token from the header, the subprotocol or the query; never logged (errors name only where it was missing). */
function tokenOf(headers: Record<string, string | string[] | undefined>, query: unknown): string | undefined {
  const header = headers.authorization
  if (typeof header === 'string' && header.startsWith('Bearer ')) return header.slice('Bearer '.length).trim()
  const protocols = typeof headers['sec-websocket-protocol'] === 'string' ? headers['sec-websocket-protocol'].split(',').map((p) => p.trim()) : []
  if (protocols[0] === BEARER_PROTOCOL && protocols[1]) return protocols[1]
  const fromQuery = (query as { token?: unknown } | undefined)?.token
  return typeof fromQuery === 'string' ? fromQuery : undefined
}

const streamAuth =
  (tokenHash: string): onRequestAsyncHookHandler =>
  async (req) => {
    const token = tokenOf(req.headers, req.query)
    if (!token || !secretMatches(token, tokenHash)) {
      throw new HttpError(
        401,
        'unauthorized',
        token ? 'the token is not valid' : 'missing token: Authorization: Bearer, ?token= or Sec-WebSocket-Protocol: bearer, <token>',
      )
    }
  }

export const streamRoutes: FastifyPluginAsyncZod<StreamRouteDeps> = async (app, deps) => {
  const session = { ...defaultSessionOptions, ...deps.session }
  app.get(
    '/ws/faults',
    {
      websocket: true,
      // Authorised before the query is validated: a stranger learns nothing of the parameters.
      onRequest: streamAuth(deps.apiTokenHash),
      schema: { querystring: streamQuery, response: errors(400) },
    },
    (socket, req) => void serveStream(socket, req.query, deps.hub, deps.metrics, session),
  )
}
