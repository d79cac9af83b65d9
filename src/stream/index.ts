export { streamMessage, streamEvent, streamEventTypes, type StreamEvent, type StreamEventType, type StreamMessage, type NewStreamEvent } from './envelope.js'
export { streamQuery, type StreamQuery } from './filter.js'
export { inStreamTransaction, queueStreamEvent, withStreamEvents } from './outbox.js'
export { StreamHub } from './hub.js'
export { serveStream, defaultSessionOptions, TOO_SLOW, type SessionOptions } from './session.js'
export { detectionEvent } from './detection-event.js'
// For the outbox's other consumers (webhooks, src/notify): the same reads the hub and the sessions make.
export { readAfter, lastId, expiredThrough, type StoredEvent } from './outbox.js'
export { compileFilter } from './filter.js'
