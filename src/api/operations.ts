// Liveness, readiness and metrics: outside /api, for load balancers and Prometheus.
import { z } from 'zod'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { Metrics } from '../metrics.js'

/** A readiness check answers 'ok', or says in a few words what is wrong. */
export type ReadinessCheck = () => Promise<string> | string

/** A check that has not answered by then is reported as such: /readyz never hangs on a stalled dependency. */
export const READINESS_TIMEOUT_MS = 2_000

function bounded(check: ReadinessCheck, timeoutMs: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${timeoutMs} ms`), timeoutMs)
  })
  const answer = Promise.resolve()
    .then(check)
    .catch((err: Error) => err.message)
  return Promise.race([answer, timeout]).finally(() => clearTimeout(timer))
}

/** /readyz: the verdict, each check's answer by its name, then the settings that decide dates (timeZone, ticketNumber). */
const readiness = z.object({ status: z.enum(['ready', 'not_ready']) }).catchall(z.string())

export const operationsRoutes: FastifyPluginAsyncZod<{ metrics: Metrics; checks: Record<string, ReadinessCheck>; about: Record<string, string> }> = async (
  app,
  { metrics, checks, about },
) => {
  app.get('/healthz', { schema: { response: { 200: z.strictObject({ status: z.literal('ok') }) } } }, async () => ({ status: 'ok' as const }))

  app.get('/readyz', { schema: { response: { 200: readiness, 503: readiness } } }, async (_req, reply) => {
    const names = Object.keys(checks)
    const answers = await Promise.all(names.map((name) => bounded(checks[name]!, READINESS_TIMEOUT_MS)))
    const report = Object.fromEntries(names.map((name, i) => [name, answers[i]!]))
    const ready = answers.every((a) => a === 'ok')
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', ...report, ...about })
  })

  // Prometheus' text format, sent as the string it is (a string payload bypasses the serializer).
  app.get(
    '/metrics',
    { schema: { response: { 200: { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: z.string() } } } } } },
    async (_req, reply) => {
      reply.type(metrics.registry.contentType)
      return metrics.registry.metrics()
    },
  )
}
