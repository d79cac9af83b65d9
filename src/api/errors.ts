// Every error leaves as JSON {error, message} with the status that fits.
import type { FastifyError, FastifyInstance } from 'fastify'
import { z } from 'zod'
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod'
import { DatabaseUnavailable } from '../store/index.js'

/**
 * Every error's body as a response schema: a code and a sentence. Loose: some errors say more (a 400's `issues`,
 * an illegal move's `from` and `allowed`), and the response serializer would otherwise strip what they add.
 */
export const errorBody = z.looseObject({ error: z.string(), message: z.string() })

/** The error answers a route can give, by status, for its `schema.response`. */
export const errors = <S extends 400 | 404 | 409 | 503>(...statuses: S[]) =>
  Object.fromEntries(statuses.map((s) => [s, errorBody])) as Record<S, typeof errorBody>

export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly error: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message)
  }
}

export const notFound = (what: string) => new HttpError(404, 'not_found', `${what} does not exist`)

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | HttpError, req, reply) => {
    if (err instanceof HttpError) {
      return reply.code(err.statusCode).send({ error: err.error, message: err.message, ...err.details })
    }
    // An outage is the client's cue to retry later, not a fault of ours to hide behind 'internal error'.
    if (err instanceof DatabaseUnavailable) {
      return reply.code(503).header('retry-after', '5').send({ error: 'database_unavailable', message: err.message })
    }
    if (hasZodFastifySchemaValidationErrors(err)) {
      const issues = err.validation.map((v) => ({
        field: [err.validationContext, ...v.instancePath.split('/').filter(Boolean)].join('.'),
        message: v.message,
      }))
      return reply.code(400).send({
        error: 'bad_request',
        message: issues.map((i) => `${i.field}: ${i.message}`).join('; '),
        issues,
      })
    }
    const status = err.statusCode ?? 500
    if (status >= 500) req.log.error({ err }, 'request failed')
    return reply.code(status).send({
      error: status >= 500 ? 'internal_error' : (err.code ?? 'bad_request').toLowerCase(),
      message: status >= 500 ? 'internal error; the server log has the details' : err.message,
    })
  })
  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send({ error: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` })
  })
}
