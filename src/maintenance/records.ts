// Maintenance in the database: service history per device and plan, usage counters, and the tickets opened
// for due occurrences.
import type { Catalog } from '../catalog/index.js'
import { conditionKey } from '../conditions.js'
import type { Database, Queryable } from '../store/index.js'
import type { MaintenanceDraft } from '../rules/index.js'
import { inStreamTransaction } from '../stream/index.js'
import type { Ticket, TicketRepository } from '../tickets/index.js'
import { serviceRecorded, type ServiceHistory } from './due.js'
import type { UsageCounter } from './usage.js'

export class MaintenanceRecords {
  constructor(private readonly db: Database) {}

  /** Service history by device and plan, for the given devices (all when absent). */
  async services(deviceIds?: string[]): Promise<Map<string, ServiceHistory>> {
    const { rows } = await this.db.query<{ device_id: string; plan_id: string; last_service_at: Date; last_service_usage: number | null }>(
      `SELECT device_id, plan_id, last_service_at, last_service_usage FROM maintenance_services WHERE $1::text[] IS NULL OR device_id = ANY($1)`,
      [deviceIds ?? null],
    )
    return new Map(
      rows.map((r) => [
        conditionKey(r.device_id, r.plan_id),
        { lastServiceAt: r.last_service_at.getTime(), lastServiceUsage: r.last_service_usage ?? undefined },
      ]),
    )
  }

  /** Usage counters by device and counter, for the given devices (all when absent). */
  async counters(deviceIds?: string[]): Promise<Map<string, UsageCounter>> {
    const { rows } = await this.db.query<{ device_id: string; counter: string; state: UsageCounter }>(
      `SELECT device_id, counter, state FROM usage_counters WHERE $1::text[] IS NULL OR device_id = ANY($1)`,
      [deviceIds ?? null],
    )
    return new Map(rows.map((r) => [conditionKey(r.device_id, r.counter), r.state]))
  }

  async saveCounters(counters: { deviceId: string; counter: string; state: UsageCounter }[], now: number): Promise<void> {
    if (counters.length === 0) return
    await this.db.query(
      `INSERT INTO usage_counters (device_id, counter, state, updated_at)
       SELECT d, c, s, to_timestamp($4 / 1000.0) FROM unnest($1::text[], $2::text[], $3::jsonb[]) AS u(d, c, s)
       ON CONFLICT (device_id, counter) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`,
      [counters.map((c) => c.deviceId), counters.map((c) => c.counter), counters.map((c) => JSON.stringify(c.state)), now],
    )
  }

  /** The occurrences of a device's plans that have had their ticket, by plan. */
  async occurrences(deviceId: string): Promise<Map<string, { occurrence: string; ticketId: number }[]>> {
    const { rows } = await this.db.query<{ plan_id: string; occurrence: string; ticket_id: number }>(
      `SELECT plan_id, occurrence, ticket_id FROM maintenance_occurrences WHERE device_id = $1 AND ticket_id IS NOT NULL ORDER BY ticket_id`,
      [deviceId],
    )
    const byPlan = new Map<string, { occurrence: string; ticketId: number }[]>()
    for (const r of rows) byPlan.set(r.plan_id, [...(byPlan.get(r.plan_id) ?? []), { occurrence: r.occurrence, ticketId: Number(r.ticket_id) }])
    return byPlan
  }

  /**
   * Opens the ticket for one due occurrence of a service plan, unless it already had one: the claim row is
   * written first, so a racing process waits on it and then finds it taken. Undefined when it was taken.
   */
  async openOccurrence(draft: MaintenanceDraft, occurrence: string, tickets: Pick<TicketRepository, 'openMaintenance'>): Promise<Ticket | undefined> {
    // The ticket's stream event is appended at the end of this transaction.
    return inStreamTransaction(this.db, async (tx) => {
      const claim = await tx.query(`INSERT INTO maintenance_occurrences (device_id, plan_id, occurrence) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [
        draft.device.id,
        draft.plan.id,
        occurrence,
      ])
      if (claim.rowCount === 0) return undefined
      const ticket = await tickets.openMaintenance(tx, draft)
      await tx.query(`UPDATE maintenance_occurrences SET ticket_id = $4 WHERE device_id = $1 AND plan_id = $2 AND occurrence = $3`, [
        draft.device.id,
        draft.plan.id,
        occurrence,
        ticket.id,
      ])
      return ticket
    })
  }

  /**
   * Resolving a maintenance ticket records the service, in the same transaction: the plan's next interval
   * runs from that day, or from the usage counter's total then.
   */
  recordServiceOnResolve(catalog: Catalog): (tx: Queryable, ticket: Ticket) => Promise<void> {
    return async (tx, ticket) => {
      if (ticket.kind !== 'maintenance' || !ticket.planId || !ticket.resolvedAt) return
      const plan = catalog.get(ticket.model)?.servicePlans.find((p) => p.id === ticket.planId)
      if (!plan) return
      const counter =
        plan.schedule.kind === 'usage'
          ? (
              await tx.query<{ state: UsageCounter }>(`SELECT state FROM usage_counters WHERE device_id = $1 AND counter = $2`, [
                ticket.deviceId,
                plan.schedule.counter,
              ])
            ).rows[0]?.state
          : undefined
      const service = serviceRecorded(plan, Date.parse(ticket.resolvedAt), counter)
      await tx.query(
        `INSERT INTO maintenance_services (device_id, plan_id, last_service_at, last_service_usage, ticket_id)
         VALUES ($1, $2, to_timestamp($3 / 1000.0), $4, $5)
         ON CONFLICT (device_id, plan_id) DO UPDATE SET last_service_at = excluded.last_service_at,
           last_service_usage = excluded.last_service_usage, ticket_id = excluded.ticket_id`,
        [ticket.deviceId, plan.id, service.lastServiceAt, service.lastServiceUsage ?? null, ticket.id],
      )
    }
  }
}
