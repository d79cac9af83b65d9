// Liveness, readiness and metrics: outside /api, for load balancers and Prometheus.
import type { FastifyPluginAsync } from 'fastify'
import type { Metrics } from '../metrics.js'
import type { Database } from '../store/index.js'

export const operationsRoutes: FastifyPluginAsync<{ db: Database; metrics: Metrics; brokerListening: () => boolean }> = async (
  app,
  { db, metrics, brokerListening },
) => {
  app.get('/healthz', async () => ({ status: 'ok' }))

  app.get('/readyz', async (_req, reply) => {
    const database = await db.query('SELECT 1').then(
      () => 'ok',
      (err: Error) => err.message,
    )
    const broker = brokerListening() ? 'ok' : 'not listening'
    const ready = database === 'ok' && broker === 'ok'
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', database, broker })
  })

  app.get('/metrics', async (_req, reply) => {
    reply.type(metrics.registry.contentType)
    return metrics.registry.metrics()
  })
}
