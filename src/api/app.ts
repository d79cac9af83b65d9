// The HTTP server, assembled: operations routes, MQTT over WebSocket at /mqtt, the live stream at /ws/faults,
// and the token-guarded /api.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync } from 'fastify'
import websocket from '@fastify/websocket'
import { createWebSocketStream } from 'ws'
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod'
import type { Logger } from 'pino'
import type { WebSocketEndpoint } from '../broker/index.js'
import type { Billing } from '../billing/index.js'
import type { Catalog } from '../catalog/index.js'
import type { Clock } from '../clock.js'
import { consoleRoutes } from '../console/index.js'
import type { DeviceRegistry } from '../devices/index.js'
import type { Kpis } from '../kpis/index.js'
import type { Dispatcher, TechnicianRepository } from '../dispatch/index.js'
import type { MaintenanceScheduler } from '../maintenance/index.js'
import type { WebhookDeliverer } from '../notify/index.js'
import type { Metrics } from '../metrics.js'
import type { TicketPolicy } from '../rules/index.js'
import type { Readings } from '../readings/index.js'
import type { SessionOptions, StreamHub } from '../stream/index.js'
import type { TicketRepository } from '../tickets/index.js'
import type { FollowUps, Visits } from '../followup/index.js'
import { bearerAuth } from './auth.js'
import { billingRoutes } from './billing.js'
import { catalogRoutes } from './catalog.js'
import { deadLetterRoutes } from './dead-letters.js'
import { deviceHistoryRoutes } from './device-history.js'
import { devicesRoutes } from './devices.js'
import { dispatchRoutes } from './dispatch.js'
import { installErrorHandler } from './errors.js'
import { fleetRoutes, type RaisedPerHour } from './fleet.js'
import { kpiRoutes } from './kpis.js'
import { maintenanceRoutes } from './maintenance.js'
import { guardedByBearer, installOpenApi } from './openapi.js'
import { operationsRoutes, type ReadinessCheck } from './operations.js'
import { measureRequests } from './request-metrics.js'
import { technicianRoutes } from './technicians.js'
import { BEARER_PROTOCOL, streamRoutes } from './stream.js'
import { telemetryRoutes } from './telemetry.js'
import { ticketRoutes } from './tickets.js'
import { followUpRoutes } from './follow-ups.js'
import { webhookRoutes } from './webhooks.js'

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
  /** the follow-up calls and visits of tickets (src/followup) */
  followUps: FollowUps
  visits: Visits
  /** diagnosis, approval, bill and settlement of the tickets (issue 12) */
  billing: Billing
  clock: Clock
  policy: TicketPolicy
  maintenance: MaintenanceScheduler
  /** detections raised per hour, for the fleet at a glance */
  raisedPerHour: RaisedPerHour
  technicians: TechnicianRepository
  dispatcher: Dispatcher
  /** the live stream at /ws/faults, and its per-socket options (tests shorten them) */
  stream: StreamHub
  streamSession?: Partial<SessionOptions>
  /** webhook notifications: their routes, and the deliverer a retry wakes */
  webhooks: WebhookDeliverer
  /** document 004's KPIs and the reports */
  kpis: Kpis
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
  measureRequests(app, deps.metrics.httpRequestSeconds)
  await installOpenApi(app)

  const { webSocket } = deps
  await app.register(websocket, {
    options: {
      // /ws/faults reads nothing from its clients; MQTT packets are capped by the broker's own limit.
      maxPayload: webSocket?.maxPayload ?? 4096,
      // The stream's token may come as the subprotocol `bearer, <token>`: `bearer` is chosen, never the token.
      handleProtocols: (protocols) => (protocols.has(BEARER_PROTOCOL) ? BEARER_PROTOCOL : (protocols.values().next().value ?? false)),
    },
  })
  if (webSocket) app.get('/mqtt', { websocket: true }, (socket, req) => webSocket.serve(createWebSocketStream(socket), req.raw))
  await app.register(streamRoutes, { hub: deps.stream, metrics: deps.metrics, apiTokenHash: deps.apiTokenHash, session: deps.streamSession })

  await app.register(operationsRoutes, { metrics: deps.metrics, checks: deps.readiness, about: deps.about })

  await app.register(apiRoutes, { ...deps, prefix: '/api' })
  // The ops console's page at / and its assets; it reads /api and /ws/faults with the token a person signs in with.
  await app.register(consoleRoutes)
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
  await api.register(fleetRoutes, {
    registry: deps.registry,
    tickets: deps.tickets,
    catalog: deps.catalog,
    clock: deps.clock,
    raisedPerHour: deps.raisedPerHour,
  })
  await api.register(ticketRoutes, {
    tickets: deps.tickets,
    registry: deps.registry,
    catalog: deps.catalog,
    clock: deps.clock,
    policy: deps.policy,
    followUps: deps.followUps,
    visits: deps.visits,
    billing: deps.billing,
  })
  await api.register(followUpRoutes, { followUps: deps.followUps, visits: deps.visits })
  await api.register(billingRoutes, { billing: deps.billing, visits: deps.visits, followUps: deps.followUps })
  await api.register(technicianRoutes, { technicians: deps.technicians, dispatcher: deps.dispatcher, catalog: deps.catalog, clock: deps.clock })
  await api.register(dispatchRoutes, { dispatcher: deps.dispatcher, tickets: deps.tickets })
  await api.register(webhookRoutes, { deliverer: deps.webhooks, clock: deps.clock })
  await api.register(kpiRoutes, { kpis: deps.kpis })
}
