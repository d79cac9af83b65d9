// The OpenAPI document of every route, built from the routes' own zod schemas (one source of truth), at
// /openapi.json, and Swagger UI at /docs. Both describe and hold no data: no token (issue 9). The UI's assets
// are @fastify/swagger-ui's own, served from here: nothing is fetched from another host.
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance, RouteOptions } from 'fastify'
import { jsonSchemaTransform } from 'fastify-type-provider-zod'
import { errorBody } from './errors.js'

/** The security scheme /api routes require, by its name in the document. */
const BEARER = 'bearer'

/** Registers the document's builder and its two routes; before any other route, so it sees them all. */
export async function installOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      // The API's version, not the package's: it changes when a route's contract does.
      info: { title: 'Faultline', description: 'IoT telemetry ingestion and auto-ticketing gateway', version: '1' },
      components: { securitySchemes: { [BEARER]: { type: 'http', scheme: 'bearer', description: 'the API token' } } },
    },
    transform: jsonSchemaTransform,
  })
  await app.register(swaggerUi, { routePrefix: '/docs' })
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger())
}

/**
 * For an onRoute hook on the token-guarded scope: the route requires the bearer token and may answer 401, and the
 * document says both, so "Authorize" in /docs sends it.
 */
export function guardedByBearer(route: RouteOptions): void {
  route.schema = {
    ...route.schema,
    security: [{ [BEARER]: [] }],
    response: { ...(route.schema?.response as object | undefined), 401: errorBody },
  }
}
