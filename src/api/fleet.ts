// /api/fleet: the fleet at a glance for the ops console: devices heard from or silent, unfinished tickets by
// priority, detections raised per hour over the last 24 hours. Each count is read by the module owning its table.
import { z } from 'zod'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { Catalog } from '../catalog/index.js'
import type { Clock } from '../clock.js'
import { offlineWindowMs } from '../detect/index.js'
import type { DeviceRegistry } from '../devices/index.js'
import { priorities } from '../rules/index.js'
import type { TicketRepository } from '../tickets/index.js'
import { errors } from './errors.js'

const HOUR_MS = 3_600_000
const count = z.number().int().nonnegative()

const fleet = z.strictObject({
  at: z.string(),
  /** online: heard from within its model's offline window; silent: not since; neverSeen: never connected */
  devices: z.strictObject({ online: count, silent: count, neverSeen: count }),
  openTickets: z.strictObject(Object.fromEntries(priorities.map((p) => [p, count])) as Record<(typeof priorities)[number], typeof count>),
  /** the last 24 hours, oldest first, the current hour last */
  faultsPerHour: z.array(z.strictObject({ hour: z.string(), count })),
})

export type Fleet = z.infer<typeof fleet>
export type RaisedPerHour = (from: number, to: number) => Promise<Fleet['faultsPerHour']>

export const fleetRoutes: FastifyPluginAsyncZod<{
  registry: DeviceRegistry
  tickets: TicketRepository
  catalog: Catalog
  clock: Clock
  raisedPerHour: RaisedPerHour
}> = async (app, { registry, tickets, catalog, clock, raisedPerHour }) => {
  app.get('/fleet', { schema: { response: { 200: fleet, ...errors(503) } } }, async () => {
    const now = clock.now()
    const windows = new Map([...catalog].map(([model, m]) => [model, offlineWindowMs(m.offline)]))
    const [devices, counts, faultsPerHour] = await Promise.all([
      registry.countBySeen(windows, now),
      tickets.openCounts(),
      raisedPerHour(now - 23 * HOUR_MS, now),
    ])
    const openTickets = Object.fromEntries(priorities.map((p) => [p, 0])) as Fleet['openTickets']
    for (const { priority, count } of counts) openTickets[priority] += count
    return { at: new Date(now).toISOString(), devices, openTickets, faultsPerHour }
  })
}
