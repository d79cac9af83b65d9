// Follows GET /ws/faults across lost connections: it reconnects with backoff and resumes after the last event it
// handed on, so a restart of Faultline or a flaky network costs neither a missed event nor a repeated one. A request
// the server refuses (a bad token, a bad filter) is not retried: it would be refused again.
import { setTimeout as delay } from 'node:timers/promises'
import WebSocket from 'ws'
import { backoffMs } from '../backoff.js'
import type { StreamEvent } from '../stream/index.js'
import { resumeUrl } from './tail-options.js'

/** Reconnects wait 0.5 s, doubling to 30 s (jittered), and start over once a connection has carried a frame. */
const FIRST_RETRY_MS = 500
const MAX_RETRY_MS = 30_000
/** Three heartbeats (15 s apart) missed: the connection is dead even if TCP has not noticed (a half-open socket). */
export const SILENCE_MS = 45_000
const HANDSHAKE_TIMEOUT_MS = 10_000
/** How long a stop waits for the server to answer the close */
const CLOSE_WAIT_MS = 1_000
/** More of an error body than a person reads. */
const MAX_BODY_CHARS = 4_000

/** The server answered the upgrade with a status retrying will not change. */
export class StreamRefused extends Error {
  override name = 'StreamRefused'
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

export interface FollowHandlers {
  /** a stored event, in id order, each one once; `raw` is the frame as it came */
  event(e: StreamEvent, raw: string): void
  /** how the connection is doing, for a person: connected, caught up, lost and when it retries */
  status(line: string): void
}

/** How a connection ended: `carried` once a frame came through it. */
type End = { lost: string; carried: boolean }

/** Runs until `signal` aborts; rejects with StreamRefused when the server refuses the request. */
export async function follow(url: URL, token: string, on: FollowHandlers, signal: AbortSignal, silenceMs = SILENCE_MS): Promise<void> {
  /** the stream's position: the last event handed on, or where the server said its backfill ended */
  let lastId: number | undefined
  /** the last frame said events were not sent: a close after it is the server's cue to resume from storage at once */
  let gapAt: number | undefined
  let attempt = 0
  const frame = (raw: string) => {
    const message = parse(raw)
    if (typeof message?.id === 'number') {
      // Ids strictly increase: one not above the last is a repeat of what was already handed on.
      if (lastId !== undefined && message.id <= lastId) return
      lastId = message.id
      gapAt = undefined
      on.event(message as unknown as StreamEvent, raw)
    } else if (message?.type === 'caught_up' && typeof message.lastId === 'number') {
      lastId = Math.max(lastId ?? 0, message.lastId)
      on.status(`caught up at #${message.lastId}; live from here`)
    } else if (message?.type === 'gap' && typeof message.firstMissedId === 'number') {
      // Too slow for the live tail (the server closes next), or events expired before this resume (it goes on).
      gapAt = message.firstMissedId
      lastId = Math.max(lastId ?? 0, message.firstMissedId - 1)
      on.status(`events from #${message.firstMissedId} were not sent; resuming after #${lastId}`)
    }
    // heartbeats, and control frames of a later version: nothing to do
  }

  while (!signal.aborted) {
    const target = lastId === undefined ? url : resumeUrl(url, lastId)
    gapAt = undefined
    const end = await connection(target, token, frame, signal, silenceMs, () => on.status(`following ${target.href}`))
    if (signal.aborted) return
    if (gapAt !== undefined) {
      // The rest is in storage, from the first event missed: no reason to wait.
      attempt = 0
      on.status(`fell behind at #${gapAt} (${end.lost}); catching up from storage`)
      continue
    }
    attempt = end.carried ? 1 : attempt + 1
    const waitMs = backoffMs(attempt, FIRST_RETRY_MS, MAX_RETRY_MS)
    on.status(`connection lost (${end.lost}); reconnecting in ${(waitMs / 1000).toFixed(1)} s`)
    await delay(waitMs, undefined, { signal }).catch(() => {}) // aborted: the loop ends
  }
}

function parse(raw: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(raw)
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

/** One connection, until it closes, goes silent or `signal` aborts. */
function connection(url: URL, token: string, frame: (raw: string) => void, signal: AbortSignal, silenceMs: number, opened: () => void): Promise<End> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` }, handshakeTimeout: HANDSHAKE_TIMEOUT_MS })
    let carried = false
    let failure: string | undefined
    let settled = false
    let silence: NodeJS.Timeout | undefined
    const settle = (outcome: () => void) => {
      if (settled) return
      settled = true
      clearTimeout(silence)
      signal.removeEventListener('abort', abort)
      outcome()
    }
    const end = (result: End) => {
      settle(() => resolve(result))
      if (ws.readyState !== WebSocket.CLOSED) ws.terminate()
    }
    const watch = () => {
      clearTimeout(silence)
      silence = setTimeout(() => end({ lost: `nothing heard for ${silenceMs / 1000} s`, carried }), silenceMs)
    }
    const abort = () => {
      settle(() => resolve({ lost: 'stopped', carried }))
      ws.close(1000, 'client stopping')
      // A server that does not answer the close would hold Ctrl-C for ws' 30 s closing timeout.
      const force = setTimeout(() => ws.terminate(), CLOSE_WAIT_MS)
      ws.once('close', () => clearTimeout(force))
    }
    signal.addEventListener('abort', abort)

    ws.on('open', () => {
      opened()
      watch()
    })
    ws.on('message', (data, isBinary) => {
      watch()
      carried = true
      if (!isBinary) frame(data.toString())
    })
    ws.on('unexpected-response', (_req, res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body = (body + chunk).slice(0, MAX_BODY_CHARS)))
      res.on('error', () => {})
      res.on('end', () => {
        const status = res.statusCode ?? 0
        const said = parse(body)?.message
        const message = typeof said === 'string' ? said : body.trim() || (res.statusMessage ?? '')
        if (status === 401) settle(() => reject(new StreamRefused(status, `the API token was refused (401 ${message}): check --token or FAULTLINE_API_TOKEN`)))
        else if (status >= 400 && status < 500 && status !== 408 && status !== 429)
          settle(() => reject(new StreamRefused(status, `${url.origin}${url.pathname}: ${status} ${message}`)))
        else failure = `${status} ${message}`
        ws.terminate()
      })
    })
    ws.on('error', (err) => (failure ??= err.message))
    ws.on('close', (code, reason) => end({ lost: failure ?? `closed by the server: ${code}${reason.length > 0 ? ` ${reason.toString()}` : ''}`, carried }))
  })
}
