// The live fault stream, /ws/faults: the token as the `bearer, <token>` subprotocol (a browser cannot set headers
// on a WebSocket, and a URL gets logged), resumed with `after=<last id>` on every reconnect so nothing is missed.
import type { Severity } from '../src/catalog/index.js'
import type { Priority } from '../src/rules/index.js'
import type { StreamEvent, StreamEventType, StreamMessage } from '../src/stream/index.js'

export type { StreamEvent, StreamEventType }

export interface FeedFilters {
  minSeverity: '' | Severity
  minPriority: '' | Priority
  device: string
  model: string
  region: string
  types: StreamEventType[]
}

export type StreamState = 'connecting' | 'live' | 'reconnecting' | 'refused'

const BACKFILL = 50
const MAX_BACKOFF_MS = 15_000

function query(filters: FeedFilters, resume: { after: number } | { last: number }): string {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(resume)) q.set(k, String(v))
  if (filters.minSeverity) q.set('minSeverity', filters.minSeverity)
  if (filters.minPriority) q.set('minPriority', filters.minPriority)
  for (const key of ['device', 'model', 'region'] as const) if (filters[key].trim()) q.set(key, filters[key].trim())
  if (filters.types.length > 0) q.set('types', filters.types.join(','))
  return q.toString()
}

/**
 * Connects and keeps connected until the returned stop is called: a backfill of the last events first, then
 * after every drop a reconnect (backing off to 15 s) from the last id seen; a `gap` resumes from before it.
 */
export function followStream(token: string, filters: FeedFilters, onEvent: (e: StreamEvent) => void, onState: (s: StreamState) => void): () => void {
  let lastId: number | undefined
  let socket: WebSocket | undefined
  let timer: ReturnType<typeof setTimeout> | undefined
  let backoff = 1000
  let stopped = false

  const connect = () => {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:'
    const resume = lastId === undefined ? { last: BACKFILL } : { after: lastId }
    const ws = new WebSocket(`${scheme}//${location.host}/ws/faults?${query(filters, resume)}`, ['bearer', token])
    socket = ws
    let opened = false
    ws.onopen = () => {
      opened = true
      backoff = 1000
    }
    ws.onmessage = (msg) => {
      const frame = JSON.parse(String(msg.data)) as StreamMessage
      if (frame.type === 'caught_up') onState('live')
      else if ('firstMissedId' in frame) {
        // Too slow for the live tail: resume from storage just before what was missed.
        lastId = frame.firstMissedId - 1
        ws.close()
      } else if ('id' in frame) {
        if (lastId !== undefined && frame.id <= lastId) return
        lastId = frame.id
        onEvent(frame)
      }
    }
    ws.onclose = () => {
      if (stopped) return
      // Refused before the upgrade (a 401, or a 400 for a filter) never opens: the browser does not say which.
      onState(opened ? 'reconnecting' : 'refused')
      timer = setTimeout(connect, backoff)
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS)
    }
  }
  onState('connecting')
  connect()
  return () => {
    stopped = true
    clearTimeout(timer)
    socket?.close()
  }
}
