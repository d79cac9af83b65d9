// Faultline, assembled: store → ingest pipeline → broker → HTTP API. Run directly (or as `faultline start`), it
// reads the configuration from the environment and flags, starts, and shuts down gracefully on SIGINT/SIGTERM.
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import closeWithGrace from 'close-with-grace'
import { pino, type Logger } from 'pino'
import pinoPretty from 'pino-pretty'
import { filter, lastValueFrom, share, tap } from 'rxjs'
import { buildApi, resolveApiToken } from './api/index.js'
import { startBroker } from './broker/index.js'
import { Billing } from './billing/index.js'
import { loadCatalog, type Catalog } from './catalog/index.js'
import { systemClock, type Clock } from './clock.js'
import { loadConfig, settingsHelp, type Config } from './config/index.js'
import { DeviceRegistry } from './devices/index.js'
import { Dispatcher, TechnicianRepository } from './dispatch/index.js'
import { detections, loadDetectorState, raisedPerHour, unactedDetections } from './detect/index.js'
import { followUpScheduler, FollowUps, FollowUpWatcher, Visits } from './followup/index.js'
import { Closers, exitIfCannotStart, waitForDatabase } from './lifecycle/index.js'
import { IngestPipeline, receiver, recordLastSeen, type DeviceRecord, type IngestRecord } from './ingest/index.js'
import { MaintenanceRecords, MaintenanceScheduler } from './maintenance/index.js'
import { defaultBackoff, WebhookDeliverer, type DelivererOptions } from './notify/index.js'
import { createMetrics } from './metrics.js'
import { readings } from './readings/index.js'
import { SlaWatcher } from './sla/index.js'
import { repairTickets } from './ticketing/index.js'
import { DatabaseUnavailable, lockDataDir, openStore } from './store/index.js'
import { StreamHub, type SessionOptions } from './stream/index.js'
import { TicketRepository } from './tickets/index.js'
import { Kpis } from './kpis/index.js'

export interface Faultline {
  mqttPort: number
  httpPort: number
  /** Stops accepting, writes everything accepted, closes. */
  close(): Promise<void>
}

export function createLogger(level: Config['logLevel'], format: Config['logFormat'] = 'json'): Logger {
  // Secrets never reach the log: tokens are redacted wherever a log call might carry them.
  const options = { level, redact: { paths: ['token', 'password', '*.token', '*.password', 'req.headers.authorization'], censor: '[redacted]' } }
  // Readable lines for a person at a terminal, JSON for a collector (issue 9); sync, so a line before an exit is kept.
  const pretty = format === 'pretty' || (format === 'auto' && process.stdout.isTTY)
  return pretty ? pino(options, pinoPretty({ sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' })) : pino(options)
}

/** Rows waiting this long with nothing committed: the writer is stuck, not slow (a retried outage shows here too). */
const WRITER_STALL_MS = 30_000

/** The stream's safety net: new events are read this often even without a notification. */
const STREAM_POLL_MS = 2_000

const fromDevice = (r: IngestRecord): r is DeviceRecord => r.kind !== 'dead_letter'

/** Webhook requests, retries and their attempt log (issue 12). */
const WEBHOOKS: DelivererOptions = { timeoutMs: 10_000, pollMs: 1_000, backoff: defaultBackoff, keepDeliveriesMs: 7 * 86_400_000 }

/** What only a test changes: the live stream's per-socket limits, heartbeat and safety-net poll, the webhooks' timeout and timer. */
export interface StartOptions {
  streamSession?: Partial<SessionOptions>
  streamPollMs?: number
  webhooks?: Partial<DelivererOptions>
}

export async function startFaultline(
  config: Config,
  log: Logger = createLogger(config.logLevel),
  clock: Clock = systemClock,
  options: StartOptions = {},
): Promise<Faultline> {
  // A bad catalog is a configuration error: refuse before touching the database.
  const catalog = await loadCatalog(config.catalogDir)
  // Each stage registers its close as it starts; a start that fails unwinds what it had opened (issue 9).
  const closers = new Closers()
  closers.add(await lockDataDir(config.dataDir), (unlock) => unlock())
  try {
    return await assemble(config, log, clock, catalog, closers, options)
  } catch (err) {
    await closers.close().catch((closeErr: Error) => log.error({ err: closeErr }, 'closing a failed start'))
    throw err
  }
}

/** Starts every stage in the order data flows through them, in the data dir the caller holds, registering each one's close. */
async function assemble(config: Config, log: Logger, clock: Clock, catalog: Catalog, closers: Closers, options: StartOptions): Promise<Faultline> {
  const metrics = createMetrics()
  const { db, timescale } = closers.add(await waitForDatabase(() => openStore(config, log), config.databaseWaitMs, log), (store) => store.db.close())
  const registry = new DeviceRegistry(db)
  await registry.load()
  const pipeline = await IngestPipeline.start(
    db,
    { walDir: path.join(config.dataDir, 'wal'), queueRows: config.writer.queueRows, batchRows: config.writer.batchRows, flushMs: config.writer.flushMs },
    log.child({ component: 'writer' }),
    metrics,
  )
  // The pipeline's consumers finish once its stream ends: they are waited for after it closes, not before.
  const consumers: (() => Promise<unknown>)[] = []
  closers.add(pipeline, async (p) => {
    await p.close()
    await Promise.all(consumers.map((drained) => drained()))
  })
  const lastSeen = recordLastSeen(pipeline.accepted$, registry, log)
  consumers.push(() => lastSeen)

  // Detectors resume from what is stored, once the write-ahead log replay has landed.
  await pipeline.settled()
  const maintenanceRecords = new MaintenanceRecords(db)
  const technicians = new TechnicianRepository(db, clock)
  const dispatcher = new Dispatcher({
    db,
    technicians,
    catalog,
    clock,
    timeZone: config.timeZone,
    mode: config.dispatch.mode,
    intervalMs: config.dispatch.intervalMs,
    log: log.child({ component: 'dispatch' }),
    onPass: () => metrics.dispatchPasses.inc(),
  })
  const policy = { ...config.sla, timeZone: config.timeZone, unknownModel: config.unknownModel, clockSkewMs: config.maxFutureMs }
  // The repair's money (issue 12): it guards the tickets' moves and bills their resolution, and moves them in turn.
  const billing: Billing = new Billing({
    db,
    catalog,
    clock,
    policy,
    tickets: { transition: (...move) => tickets.transition(...move), get: (ref) => tickets.get(ref) },
    device: (id) => registry.get(id),
  })
  const recordService = maintenanceRecords.recordServiceOnResolve(catalog)
  // A resolution schedules its follow-up call (issue 12), in the same transaction.
  const scheduleFollowUp = followUpScheduler(config.followUpWithinMs)
  // A ticket opened or moved may be assignable now, or free a technician: dispatch looks again (issue 11).
  const tickets: TicketRepository = new TicketRepository(
    db,
    clock,
    config.timeZone,
    async (tx, ticket) => {
      await recordService(tx, ticket)
      await billing.onResolved(tx, ticket)
      await scheduleFollowUp(tx, ticket)
    },
    (change) => dispatcher.wake(change === 'opened' ? 'opened' : 'technicians'),
    config.ticketNumber,
    billing.guard,
  )
  const followUps = new FollowUps(db, tickets)
  const visits = new Visits(db, clock)
  metrics.openTickets.readFrom(async () => (await tickets.openCounts()).map(({ priority, kind, count }) => ({ labels: { priority, kind }, value: count })))
  const initial = await loadDetectorState(db, catalog, await registry.lastSeen(), clock.now())
  // Recorded before a stop and never acted on: their tickets come first.
  const unacted = await unactedDetections(db)
  const detections$ = pipeline.accepted$.pipe(filter(fromDevice), detections({ catalog, modelOf: registry.modelOf, initial }), share())
  const rulesLog = log.child({ component: 'rules' })
  // Awaited only at close: a failure before then is logged here, never an unhandled rejection that ends the process.
  const ticketing = lastValueFrom(
    detections$.pipe(
      repairTickets({
        catalog,
        // Recording on a connection of its own where there is one (beside the lanes' transactions).
        db: { query: (sql, params) => (db.autonomous ?? db).query(sql, params), transaction: (fn) => db.priorityTransaction(fn) },
        devices: (ids) => registry.getMany(ids),
        tickets,
        clock,
        policy,
        log: rulesLog,
        onCommitted: (n) => metrics.rulesBatchDetections.observe(n),
        lanes: db.writeConcurrency,
        unacted,
      }),
      tap((outcome) => {
        metrics.detections.inc({ action: outcome.action })
        if (outcome.action === 'opened') dispatcher.wake('opened')
      }),
    ),
    { defaultValue: undefined },
  ).catch((err: unknown) => rulesLog.error({ err }, 'rules stage stopped: detections no longer become tickets'))
  consumers.push(() => ticketing)
  const maintenance = new MaintenanceScheduler({
    catalog,
    registry,
    records: maintenanceRecords,
    tickets,
    clock,
    policy,
    log: log.child({ component: 'maintenance' }),
    intervalMs: config.maintenanceIntervalMs,
    onPass: () => metrics.maintenancePasses.inc(),
  })
  consumers.push(() => maintenance.close())
  await maintenance.start(pipeline.accepted$)
  const sla = new SlaWatcher({
    tickets,
    clock,
    escalation: policy.escalation,
    log: log.child({ component: 'sla' }),
    intervalMs: config.slaIntervalMs,
    onAlert: (a) => metrics.slaAlerts.inc({ level: a.level, deadline: a.deadline, priority: a.priority }),
    onPass: () => metrics.slaPasses.inc(),
  })
  consumers.push(() => sla.close())
  await sla.start()
  const followUpWatcher = new FollowUpWatcher({
    followUps,
    clock,
    log: log.child({ component: 'follow-up' }),
    intervalMs: config.slaIntervalMs,
    onExpired: () => metrics.followUpsExpired.inc(),
    onPass: () => metrics.followUpPasses.inc(),
  })
  consumers.push(() => followUpWatcher.close())
  await followUpWatcher.start()
  // Closed with the pipeline's consumers: a pass in flight finishes before the database closes.
  consumers.push(() => dispatcher.close())
  dispatcher.start()
  const receive = receiver(pipeline, config, log.child({ component: 'ingest' }), metrics)
  const broker = closers.add(
    await startBroker(
      { host: config.host, port: config.mqttPort, tls: config.tls, maxPayloadBytes: config.maxPayloadBytes, aclViolationsMax: config.aclViolationsMax },
      { registry, receive, log: log.child({ component: 'broker' }), metrics },
    ),
    (b) => b.close(),
  )
  const apiToken = await resolveApiToken(config.apiToken, config.dataDir, (token) => {
    // Printed once, to the terminal and not to the log, and never stored in the clear.
    process.stdout.write(`\nFaultline API token (shown once; kept only as a hash in ${config.dataDir}):\n  ${token}\n\n`)
  })
  // The live stream reads what the stages above commit; nothing of it runs in IngestPipeline.accept (issue 10).
  const stream = closers.add(
    await StreamHub.start(db, {
      pollMs: options.streamPollMs ?? STREAM_POLL_MS,
      retentionMs: config.streamRetentionMs,
      clock,
      log: log.child({ component: 'stream' }),
    }),
    (hub) => hub.close(),
  )
  // Another consumer of the stream's outbox: woken by the same hub, never in the ingest path.
  const webhooks = closers.add(
    new WebhookDeliverer(
      {
        db,
        hub: stream,
        clock,
        log: log.child({ component: 'webhooks' }),
        metrics,
        contactOf: (ticketId) => tickets.customerOf(ticketId),
      },
      { ...WEBHOOKS, ...options.webhooks },
    ),
    (d) => d.close(),
  )
  const readiness = {
    database: () =>
      db.ping().then(
        () => 'ok',
        (err: Error) => (err instanceof DatabaseUnavailable ? `unreachable: ${err.reason}` : err.message),
      ),
    broker: () => broker.ready(),
    wal: () => pipeline.walStatus(),
    writer: () => pipeline.progress(WRITER_STALL_MS),
  }
  const app = closers.add(
    await buildApi({
      readings: readings(db, timescale),
      registry,
      webSocket: broker.webSocket,
      metrics,
      apiTokenHash: apiToken.hash,
      log,
      catalog,
      tickets,
      followUps,
      visits,
      billing,
      clock,
      policy,
      maintenance,
      raisedPerHour: (from, to) => raisedPerHour(db, from, to),
      technicians,
      dispatcher,
      readiness,
      stream,
      streamSession: options.streamSession,
      webhooks,
      kpis: new Kpis(db, clock, config.timeZone),
      about: { timeZone: config.timeZone, ticketNumber: config.ticketNumber },
    }),
    (a) => a.close(),
  )
  await app.listen({ host: config.host, port: config.httpPort })
  await apiToken.keep()
  const httpPort = app.server.address() as { port: number }
  // Started last: nothing before can fail and leave it running.
  closers.add(registry.keepFresh(config.registryRefreshMs, log.child({ component: 'devices' })), (stopRefresh) => stopRefresh())
  // The zone is named at every start (issue 12): a deployment left on UTC by mistake shows it at once.
  log.info(
    { mqtt: broker.port, http: httpPort.port, tls: Boolean(config.tls), backend: db.backend, timescale, timeZone: config.timeZone },
    'Faultline listening',
  )

  let closing: Promise<void> | undefined
  return {
    mqttPort: broker.port,
    httpPort: httpPort.port,
    close: () =>
      (closing ??= (async () => {
        await closers.close()
        log.info('Faultline stopped; everything accepted is stored')
      })()),
  }
}

const HELP = `faultline start [flags]: run Faultline (the default command)

Every flag is also an environment variable (--mqtt-port 1884 or FAULTLINE_MQTT_PORT=1884); the flag wins.

${settingsHelp()}`

/** `faultline start`: the settings from the environment and `argv`, then run until SIGINT/SIGTERM. */
export async function main(argv: string[] = process.argv.slice(2)) {
  if (argv.includes('--help') || argv.includes('-h')) return void process.stdout.write(HELP)
  let config: Config
  try {
    config = loadConfig(process.env, argv)
  } catch (err) {
    exitIfCannotStart(err)
    throw err
  }
  const log = createLogger(config.logLevel, config.logFormat)
  // Whatever escapes, during start or after, is logged with what failed before the process handles it.
  process.on('uncaughtExceptionMonitor', (err, origin) => log.fatal({ err, origin }, 'uncaught error'))
  const faultline = await startFaultline(config, log).catch((err: Error) => {
    exitIfCannotStart(err, config)
    log.fatal({ err }, 'Faultline could not start')
    process.exit(1)
  })
  closeWithGrace({ delay: config.shutdownTimeoutMs, logger: log }, async ({ signal, err }) => {
    if (err) log.error({ err }, 'shutting down after an error')
    else log.info({ signal }, 'shutting down: flushing what was accepted')
    await faultline.close()
  })
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  await main()
}
