// Opens preventive-maintenance tickets: calendar and seasonal plans on a schedule (and at start, catching up
// on what fell due while Faultline was down), usage plans as their counters arrive. Each due occurrence gets
// exactly one ticket, claimed in the database.
import { z } from 'zod'
import { bufferTime, catchError, concatMap, defer, EMPTY, filter, lastValueFrom, type Observable } from 'rxjs'
import type { Logger } from 'pino'
import { serviceSchedule, type Catalog, type ServicePlan } from '../catalog/index.js'
import type { Clock } from '../clock.js'
import { conditionKey } from '../conditions.js'
import type { Device, DeviceRegistry } from '../devices/index.js'
import type { IngestRecord, TelemetryRecord } from '../ingest/index.js'
import { draftMaintenanceTicket, timeZoneOf, type DueOn, type TicketPolicy } from '../rules/index.js'
import { DatabaseUnavailable, retryWithBackoff } from '../store/index.js'
import type { TicketRepository } from '../tickets/index.js'
import { due as dueSchema, nextDue, type Due, type ServiceHistory } from './due.js'
import type { MaintenanceRecords } from './records.js'
import { accumulate, usageLimitsFor, type UsageCounter } from './usage.js'

export interface SchedulerDeps {
  catalog: Catalog
  registry: DeviceRegistry
  records: MaintenanceRecords
  tickets: TicketRepository
  clock: Clock
  policy: TicketPolicy
  log: Logger
  /** how often calendar and seasonal plans are looked at */
  intervalMs: number
  /** called after every full pass, for metrics */
  onPass?: (opened: number) => void
}

export interface PlanStatus {
  plan: ServicePlan
  lastService: ServiceHistory | undefined
  due: Due | undefined
  /** the ticket opened for the due occurrence, if it has one yet */
  ticket: z.infer<typeof planTicket> | undefined
}

const planTicket = z.strictObject({ id: z.number(), number: z.string(), status: z.string() })

/** A plan's status as the API shows it (GET /api/devices/:id/maintenance). */
export const planStatusJson = z.strictObject({
  id: z.string(),
  title: z.string(),
  schedule: serviceSchedule,
  leadDays: z.number(),
  tasks: z.array(z.string()),
  lastService: z.strictObject({ at: z.string(), usage: z.number().nullable() }).nullable(),
  nextDue: dueSchema.nullable(),
  ticket: planTicket.nullable(),
})

const dueOn = (due: Due, plan: ServicePlan): DueOn =>
  due.kind === 'usage'
    ? { counter: plan.schedule.kind === 'usage' ? plan.schedule.counter : '', usage: due.dueUsage, projected: due.projectedDue }
    : { date: due.dueDate, until: due.windowEnds }

export class MaintenanceScheduler {
  private timer: NodeJS.Timeout | undefined
  private pass: Promise<void> = Promise.resolve()
  private usage: Promise<void> = Promise.resolve()

  private readonly countersByModel: Map<string, string[]>

  constructor(private readonly deps: SchedulerDeps) {
    this.countersByModel = new Map(
      [...deps.catalog.values()].map((m) => [m.model, [...new Set(m.servicePlans.flatMap((p) => (p.schedule.kind === 'usage' ? [p.schedule.counter] : [])))]]),
    )
  }

  /** Catches up once, then looks again every interval; usage plans follow the telemetry stream. */
  async start(accepted$: Observable<IngestRecord>): Promise<void> {
    await this.runDue()
    this.timer = setInterval(() => {
      this.pass = this.pass
        .then(async () => {
          await this.runDue()
        })
        .catch((err: Error) => this.deps.log.warn({ err: err.message }, 'maintenance pass failed; the next interval tries again'))
    }, this.deps.intervalMs)
    this.usage = lastValueFrom(
      accepted$.pipe(
        filter((r): r is TelemetryRecord => r.kind === 'telemetry' && this.countersOf(r.deviceId).length > 0),
        bufferTime(500),
        filter((batch) => batch.length > 0),
        concatMap((batch) =>
          // Readings that arrive during an outage are folded in once it ends (folding one twice changes nothing:
          // a reading no newer than the counter's last is ignored); any other failure is logged and skipped.
          defer(() => this.onCounters(batch)).pipe(
            retryWithBackoff(
              (err, attempt) => {
                if (attempt === 1) this.deps.log.warn({ err: err.message }, 'usage counters held until the database is back')
              },
              (err) => err instanceof DatabaseUnavailable,
            ),
            catchError((err: Error) => {
              this.deps.log.warn({ err: err.message }, 'usage counters not updated')
              return EMPTY
            }),
          ),
        ),
      ),
      { defaultValue: undefined },
    )
  }

  /** Waits for the usage stream to end (the ingest pipeline closes it) and stops the schedule. */
  async close(): Promise<void> {
    clearInterval(this.timer)
    await Promise.all([this.pass, this.usage])
  }

  /** Looks at every plan of every device; opens what is due. Returns how many tickets opened. */
  async runDue(): Promise<number> {
    const models = [...this.deps.catalog.values()].filter((m) => m.servicePlans.length > 0).map((m) => m.model)
    const devices = await this.deps.registry.ofModels(models)
    const [services, counters] = await Promise.all([this.deps.records.services(), this.deps.records.counters()])
    let opened = 0
    for (const device of devices) opened += await this.openDue(device, services, counters)
    this.deps.onPass?.(opened)
    return opened
  }

  /** Each plan of a device: its last service and what is due next. */
  async status(device: Device): Promise<PlanStatus[]> {
    const model = this.deps.catalog.get(device.model)
    if (!model) return []
    const [services, counters, occurrences] = await Promise.all([
      this.deps.records.services([device.id]),
      this.deps.records.counters([device.id]),
      this.deps.records.occurrences(device.id),
    ])
    return Promise.all(
      model.servicePlans.map(async (plan) => {
        const due = this.due(device, plan, services, counters)
        const claimed = occurrences.get(plan.id)?.find((o) => o.occurrence === due?.occurrence)
        const ticket = claimed && (await this.deps.tickets.get(String(claimed.ticketId)))
        return {
          plan,
          lastService: services.get(conditionKey(device.id, plan.id)),
          due,
          ticket: ticket && { id: ticket.id, number: ticket.number, status: ticket.status },
        }
      }),
    )
  }

  private due(device: Device, plan: ServicePlan, services: Map<string, ServiceHistory>, counters: Map<string, UsageCounter>): Due | undefined {
    return nextDue({
      plan,
      installedAt: device.installedAt ?? device.purchasedAt,
      history: services.get(conditionKey(device.id, plan.id)) ?? {},
      usage: plan.schedule.kind === 'usage' ? counters.get(conditionKey(device.id, plan.schedule.counter)) : undefined,
      now: this.deps.clock.now(),
      timeZone: timeZoneOf(device, this.deps.policy),
    })
  }

  private async openDue(device: Device, services: Map<string, ServiceHistory>, counters: Map<string, UsageCounter>, plans?: ServicePlan[]): Promise<number> {
    const model = this.deps.catalog.get(device.model)
    if (!model) return 0
    let opened = 0
    for (const plan of plans ?? model.servicePlans) {
      const due = this.due(device, plan, services, counters)
      if (!due?.open) continue
      const draft = draftMaintenanceTicket(plan, due.occurrence, dueOn(due, plan), device, model, this.deps.clock.now(), this.deps.policy)
      const ticket = await this.deps.records.openOccurrence(draft, due.occurrence, this.deps.tickets)
      if (ticket) {
        opened++
        this.deps.log.info({ deviceId: device.id, plan: plan.id, occurrence: due.occurrence, ticket: ticket.number }, 'maintenance ticket opened')
      }
    }
    return opened
  }

  /** The usage counters a device's plans read: looked up for every telemetry message, so worked out once per model. */
  private countersOf(deviceId: string): readonly string[] {
    return this.countersByModel.get(this.deps.registry.modelOf(deviceId) ?? '') ?? []
  }

  /** Folds a batch of readings into the counters, stores them, and opens the usage plans that fell due. */
  private async onCounters(batch: TelemetryRecord[]): Promise<void> {
    const deviceIds = [...new Set(batch.map((r) => r.deviceId))]
    const counters = await this.deps.records.counters(deviceIds)
    const changed = new Map<string, { deviceId: string; counter: string; state: UsageCounter }>()
    for (const record of [...batch].sort((a, b) => a.time - b.time)) {
      for (const counter of this.countersOf(record.deviceId)) {
        const raw = record.metrics[counter]
        if (raw === undefined) continue
        const key = conditionKey(record.deviceId, counter)
        const { counter: state, outcome } = accumulate(counters.get(key), { raw, at: record.time }, usageLimitsFor(counter))
        if (outcome === 'reset') this.deps.log.info({ deviceId: record.deviceId, counter, raw }, 'usage counter reset: total carried over')
        if (!state) continue
        counters.set(key, state)
        changed.set(key, { deviceId: record.deviceId, counter, state })
      }
    }
    await this.deps.records.saveCounters([...changed.values()], this.deps.clock.now())

    const [services, devices] = await Promise.all([this.deps.records.services(deviceIds), this.deps.registry.getMany(deviceIds)])
    for (const device of devices) {
      const usagePlans = this.deps.catalog.get(device.model)?.servicePlans.filter((p) => p.schedule.kind === 'usage')
      if (usagePlans) await this.openDue(device, services, counters, usagePlans)
    }
  }
}
