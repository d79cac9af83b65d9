// The HTTP server, assembled: operations routes, MQTT over WebSocket at /mqtt, and the token-guarded /api.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync } from 'fastify'
import websocket from '@fastify/websocket'
import { createWebSocketStream } from 'ws'
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod'
import type { Logger } from 'pino'
import type { WebSocketEndpoint } from '../broker/index.js'
import type { Catalog } from '../catalog/index.js'
import type { Clock } from '../clock.js'
import type { DeviceRegistry } from '../devices/index.js'
import type { MaintenanceScheduler } from '../maintenance/index.js'
import type { Metrics } from '../metrics.js'
import type { TicketPolicy } from '../rules/index.js'
import type { Readings } from '../readings/index.js'
import type { TicketRepository } from '../tickets/index.js'
import { bearerAuth } from './auth.js'
import { catalogRoutes } from './catalog.js'
import { deadLetterRoutes } from './dead-letters.js'
import { deviceHistoryRoutes } from './device-history.js'
import { devicesRoutes } from './devices.js'
import { installErrorHandler } from './errors.js'
import { maintenanceRoutes } from './maintenance.js'
import { guardedByBearer, installOpenApi } from './openapi.js'
import { operationsRoutes, type ReadinessCheck } from './operations.js'
import { telemetryRoutes } from './telemetry.js'
import { ticketRoutes } from './tickets.js'

export interface ApiDeps {
  readings: Readings
  registry: DeviceRegistry
  /** MQTT over WebSocket at /mqtt, where an ingress offers it */
  webSocket?: WebSocketEndpoint
  metrics: Metrics
  apiTokenHash: string
  log: Logger
  catalog: Catalog
  tickets: TicketRepository
  clock: Clock
  policy: TicketPolicy
  maintenance: MaintenanceScheduler
  /** what /readyz reports, by name: each answers 'ok' or what is wrong */
  readiness: Record<string, ReadinessCheck>
  /** settings /readyz shows after its checks (not checks themselves), so a deployment's calendar is plain (issue 12) */
  about: Record<string, string>
}

export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.log.child({ component: 'http' }) as FastifyBaseLogger,
    // Per-request lines at this rate would drown the log; errors are still logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
  })
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  installErrorHandler(app)
  await installOpenApi(app)

  const { webSocket } = deps
  if (webSocket) {
    await app.register(websocket, { options: { maxPayload: webSocket.maxPayload } })
    app.get('/mqtt', { websocket: true }, (socket, req) => webSocket.serve(createWebSocketStream(socket), req.raw))
  }

  await app.register(operationsRoutes, { metrics: deps.metrics, checks: deps.readiness, about: deps.about })

  await app.register(apiRoutes, { ...deps, prefix: '/api' })
  return app
}

/** Every token-guarded route: the tests list them from here, so a new route joins their auth matrix and fuzz. */
export const apiRoutes: FastifyPluginAsync<ApiDeps> = async (api, deps) => {
  api.addHook('onRequest', bearerAuth(deps.apiTokenHash))
  api.addHook('onRoute', guardedByBearer)
  await api.register(devicesRoutes, { registry: deps.registry, catalog: deps.catalog })
  await api.register(telemetryRoutes, { readings: deps.readings, registry: deps.registry })
  await api.register(deviceHistoryRoutes, { readings: deps.readings, registry: deps.registry })
  await api.register(deadLetterRoutes, { readings: deps.readings })
  await api.register(catalogRoutes, { catalog: deps.catalog })
  await api.register(maintenanceRoutes, { registry: deps.registry, scheduler: deps.maintenance })
  await api.register(ticketRoutes, { tickets: deps.tickets, registry: deps.registry, catalog: deps.catalog, clock: deps.clock, policy: deps.policy })
}
