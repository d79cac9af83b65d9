// Every /api route needs `Authorization: Bearer <token>`.
import type { onRequestAsyncHookHandler } from 'fastify'
import { secretMatches } from '../devices/index.js'
import { HttpError } from './errors.js'

export function bearerAuth(tokenHash: string): onRequestAsyncHookHandler {
  return async (req) => {
    const header = req.headers.authorization
    const token = header?.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : undefined
    if (!token || !secretMatches(token, tokenHash)) {
      throw new HttpError(401, 'unauthorized', header ? 'the bearer token is not valid' : 'missing Authorization: Bearer <token>')
    }
  }
}
