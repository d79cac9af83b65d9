// The /api routes as Faultline registers them, collected by an onRoute hook: the auth matrix and the HTTP fuzz
// cover every route, and a new route joins both by being registered (issue 9).
import Fastify from 'fastify'
import { validatorCompiler } from 'fastify-type-provider-zod'
import type { z } from 'zod'
import { apiRoutes, type ApiDeps } from '../../src/api/app.js'

export interface ApiRoute {
  method: string
  /** e.g. /api/devices/:id/telemetry */
  url: string
  schema: { params?: z.ZodType; querystring?: z.ZodType; body?: z.ZodType }
}

export async function listApiRoutes(): Promise<ApiRoute[]> {
  const routes: ApiRoute[] = []
  const app = Fastify()
  app.setValidatorCompiler(validatorCompiler)
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      // HEAD is GET's shadow, added by fastify.
      if (method !== 'HEAD') routes.push({ method, url: route.url, schema: (route.schema ?? {}) as ApiRoute['schema'] })
    }
  })
  // Registering reads none of the dependencies: only the handlers use them, and none runs here.
  await app.register(apiRoutes, { ...({} as ApiDeps), prefix: '/api' })
  await app.close()
  return routes
}

/** The route's URL with each `:param` replaced. */
export const fillParams = (url: string, value: (name: string) => string) => url.replace(/:(\w+)/g, (_, name: string) => value(name))
