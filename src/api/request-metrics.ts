// HTTP request duration by route, for /metrics. Labelled by the route's pattern (/api/tickets/:id), never the raw
// URL: one series per route, however many ids and query strings are asked for (issue 10).
import type { FastifyInstance } from 'fastify'
import type { Metrics } from '../metrics.js'

/** The route label of a request no route matched (a 404 from the router). */
export const UNKNOWN_ROUTE = 'unknown'

export function measureRequests(app: FastifyInstance, histogram: Metrics['httpRequestSeconds']): void {
  app.addHook('onResponse', async (req, reply) => {
    histogram.observe({ route: req.routeOptions.url ?? UNKNOWN_ROUTE, method: req.method, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000)
  })
}
