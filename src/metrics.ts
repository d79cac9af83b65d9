// What Faultline counts, exposed at GET /metrics in Prometheus' format. One registry per instance,
// so several instances in one process (the tests) keep their own counts.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import { scrapedGauge } from './scraped-gauge.js'

/** A scrape waits this long for a figure the database holds, then answers with the last one (issue 10). */
export const SCRAPE_READ_TIMEOUT_MS = 1_000

export function createMetrics() {
  const registry = new Registry()
  // prom-client's process_* and nodejs_* figures under their standard names, so stock dashboards read them.
  collectDefaultMetrics({ register: registry })
  const histogram = <L extends string>(name: string, help: string, buckets: number[], labelNames: L[] = []) =>
    new Histogram<L>({ name: `faultline_${name}`, help, buckets, labelNames, registers: [registry] })
  const counter = <L extends string>(name: string, help: string, labelNames: L[] = []) =>
    new Counter<L>({ name: `faultline_${name}`, help, labelNames, registers: [registry] })
  return {
    registry,
    authFailures: counter('mqtt_auth_failures_total', 'MQTT CONNECTs refused: unknown device, wrong token, client id too long, registry unavailable', [
      'reason',
    ]),
    rotatedSessionsEnded: counter('mqtt_rotated_sessions_ended_total', 'Sessions closed because their token was rotated'),
    aclViolations: counter('mqtt_acl_violations_total', 'Publishes and subscriptions refused for touching another topic', ['action']),
    aclDisconnects: counter('mqtt_acl_disconnects_total', 'Clients disconnected for repeated ACL violations'),
    retainRefused: counter('mqtt_retain_refused_total', 'Retained publishes taken as plain ones: nothing is retained'),
    messagesAccepted: counter('messages_accepted_total', 'Valid device messages accepted', ['channel']),
    deadLetters: counter('dead_letters_total', 'Device messages rejected into the dead-letter table', ['reason']),
    rowsWritten: counter('rows_written_total', 'Rows committed to the database'),
    writeRetries: counter('write_retries_total', 'Database writes retried after a failure'),
    backpressureWaits: counter('backpressure_waits_total', 'Messages that waited for room in the write queue'),
    detections: counter('detections_total', 'Detections through the rules stage, by what they did to tickets', ['action']),
    maintenancePasses: counter('maintenance_passes_total', 'Passes over every service plan of every device'),
    slaAlerts: counter('sla_alerts_total', "SLA warnings and breaches raised, by deadline and the ticket's priority", ['level', 'deadline', 'priority']),
    slaPasses: counter('sla_passes_total', 'Passes of the SLA watcher over the deadlines due'),
    followUpPasses: counter('follow_up_passes_total', 'Passes of the follow-up watcher over the calls unanswered at their deadline'),
    followUpsExpired: counter('follow_ups_expired_total', 'Tickets closed by this process because their follow-up call went unanswered'),
    dispatchPasses: counter('dispatch_passes_total', 'Passes of automatic dispatch over the tickets waiting for a technician'),
    walWriteErrors: counter('wal_write_errors_total', 'Write-ahead log writes that failed or stored part of their bytes (each is retried)'),
    walHealthy: new Gauge({ name: 'faultline_wal_healthy', help: '1 while write-ahead log writes succeed, 0 while they fail', registers: [registry] }),
    // With queueRows: rows waiting while this stands still is a stalled writer (what /readyz's writer check says).
    writerProgressAt: new Gauge({
      name: 'faultline_writer_progress_timestamp_seconds',
      help: 'When the writer last committed, or rows began to wait in an empty queue',
      registers: [registry],
    }),
    queueRows: new Gauge({ name: 'faultline_write_queue_rows', help: 'Rows admitted and not yet in the database', registers: [registry] }),
    mqttClients: new Gauge({ name: 'faultline_mqtt_connected_clients', help: 'MQTT clients connected and authenticated', registers: [registry] }),
    writeBatchSeconds: histogram(
      'write_batch_duration_seconds',
      'Time to commit one write batch (the attempt that committed; retries are counted in write_retries_total)',
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    ),
    writeBatchRows: histogram('write_batch_rows', 'Rows in one committed write batch', [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000]),
    openTickets: scrapedGauge({
      name: 'faultline_open_tickets',
      help: 'Tickets not yet resolved, closed or cancelled, by priority and kind (read at scrape time)',
      labelNames: ['priority', 'kind'],
      registry,
      timeoutMs: SCRAPE_READ_TIMEOUT_MS,
    }),
    httpRequestSeconds: histogram(
      'http_request_duration_seconds',
      'HTTP requests by route pattern (unknown for none), method and status code',
      [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      ['route', 'method', 'status_code'],
    ),
    // The live stream, GET /ws/faults (issue 10).
    streamLatency: new Histogram({
      name: 'faultline_stream_latency_seconds',
      help: 'From an event stored to its live frame written to the socket',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    streamClients: new Gauge({ name: 'faultline_stream_clients', help: 'Connected /ws/faults clients', registers: [registry] }),
    streamFrames: counter('stream_frames_total', 'Frames sent to /ws/faults clients, by type', ['type']),
    streamGaps: counter('stream_gaps_total', 'gap frames: a client too slow for its buffer, or resuming past expired events'),
    streamDropped: counter('stream_dropped_total', 'Live events not sent to a client that overflowed its buffer (it resumes from storage)'),
    // Webhook notifications (issue 12).
    webhookDeliveries: counter(
      'webhook_deliveries_total',
      'Webhook delivery attempts, by outcome: delivered (2xx), refused (another status), failed (no answer)',
      ['outcome'],
    ),
    webhookLag: new Gauge({
      name: 'faultline_webhook_lag_events',
      help: "Stream events stored after a webhook's cursor: what it has still to receive",
      labelNames: ['webhook'],
      registers: [registry],
    }),
  }
}

export type Metrics = ReturnType<typeof createMetrics>
