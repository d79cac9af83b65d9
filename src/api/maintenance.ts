// /api/devices/:id/maintenance: each service plan's last service and what is due next.
import { z } from 'zod'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { deviceId, type DeviceRegistry } from '../devices/index.js'
import { planStatusJson, type MaintenanceScheduler } from '../maintenance/index.js'
import { byDeviceId } from './devices.js'
import { errors, notFound } from './errors.js'

const maintenanceStatus = z.strictObject({ deviceId, model: z.string(), plans: z.array(planStatusJson) })

export const maintenanceRoutes: FastifyPluginAsyncZod<{ registry: DeviceRegistry; scheduler: MaintenanceScheduler }> = async (app, { registry, scheduler }) => {
  app.get('/devices/:id/maintenance', { schema: { params: byDeviceId, response: { 200: maintenanceStatus, ...errors(400, 404, 503) } } }, async (req) => {
    const device = await registry.get(req.params.id)
    if (!device) throw notFound(`device ${req.params.id}`)
    const plans = await scheduler.status(device)
    return {
      deviceId: device.id,
      model: device.model,
      plans: plans.map(({ plan, lastService, due, ticket }) => ({
        id: plan.id,
        title: plan.title,
        schedule: plan.schedule,
        leadDays: plan.leadDays,
        tasks: plan.tasks,
        lastService: lastService ? { at: new Date(lastService.lastServiceAt!).toISOString(), usage: lastService.lastServiceUsage ?? null } : null,
        nextDue: due ?? null,
        ticket: ticket ?? null,
      })),
    }
  })
}
