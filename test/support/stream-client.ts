// A /ws/faults client over a real WebSocket: collects every frame, and waits for the frames a test expects.
import WebSocket from 'ws'
import type { StreamMessage } from '../../src/stream/index.js'
import { closeWhenTestEnds } from './cleanup.js'
import { API_TOKEN } from './faultline.js'
import { OUTCOME_WAIT_MS } from './waits.js'

export interface StreamClient {
  socket: WebSocket
  /** every frame so far, in order */
  messages: StreamMessage[]
  /** resolves with the first frame from `from` on that passes `check` */
  waitFor(check: (m: StreamMessage) => boolean, from?: number): Promise<StreamMessage>
  /** resolves with the close code and reason */
  closed: Promise<{ code: number; reason: string }>
  close(): Promise<void>
}

/** Connects with the token in the Authorization header unless `options` says otherwise; rejects on a refused upgrade. */
export function connectStream(
  httpPort: number,
  query = '',
  options: { headers?: Record<string, string>; protocols?: string[] } = { headers: { authorization: `Bearer ${API_TOKEN}` } },
): Promise<StreamClient> {
  const socket = new WebSocket(`ws://127.0.0.1:${httpPort}/ws/faults${query}`, options.protocols ?? [], { headers: options.headers })
  closeWhenTestEnds(() => socket.terminate())
  const messages: StreamMessage[] = []
  const waiters = new Set<() => void>()
  socket.on('message', (data) => {
    messages.push(JSON.parse(String(data)) as StreamMessage)
    for (const w of waiters) w()
  })
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: String(reason) })))
  const waitFor = (check: (m: StreamMessage) => boolean, from = 0) =>
    new Promise<StreamMessage>((resolve, reject) => {
      const look = () => {
        const found = messages.slice(from).find(check)
        if (!found) return
        clearTimeout(timer)
        waiters.delete(look)
        resolve(found)
      }
      const timer = setTimeout(() => {
        waiters.delete(look)
        reject(new Error(`no such frame in ${OUTCOME_WAIT_MS} ms; got: ${JSON.stringify(messages.slice(from)).slice(0, 2000)}`))
      }, OUTCOME_WAIT_MS)
      waiters.add(look)
      look()
    })
  return new Promise((resolve, reject) => {
    socket.once('open', () =>
      resolve({
        socket,
        messages,
        waitFor,
        closed,
        close: async () => {
          socket.close()
          await closed
        },
      }),
    )
    socket.once('unexpected-response', (_req, res) => {
      let body = ''
      res.on('data', (d: Buffer) => (body += d))
      res.on('end', () =>
        reject(Object.assign(new Error(`upgrade refused: ${res.statusCode} ${body}`), { status: res.statusCode, body: JSON.parse(body || 'null') })),
      )
    })
    socket.once('error', reject)
  })
}

export const isType = (type: string) => (m: StreamMessage) => m.type === type
