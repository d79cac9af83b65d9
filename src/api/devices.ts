// /api/devices: register devices, read them, rotate their MQTT tokens.
import { z } from 'zod'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { DeviceExistsError, deviceId, newDevice, type DeviceRegistry } from '../devices/index.js'
import { HttpError, notFound } from './errors.js'

export const byDeviceId = z.object({ id: deviceId })

export const devicesRoutes: FastifyPluginAsyncZod<{ registry: DeviceRegistry }> = async (app, { registry }) => {
  app.post('/devices', { schema: { body: newDevice } }, async (req, reply) => {
    try {
      const { device, token } = await registry.register(req.body)
      return reply.code(201).send({ device, token })
    } catch (err) {
      if (err instanceof DeviceExistsError) throw new HttpError(409, 'conflict', err.message)
      throw err
    }
  })

  app.get(
    '/devices',
    { schema: { querystring: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100), after: deviceId.optional() }) } },
    async (req) => {
      const devices = await registry.list(req.query.limit, req.query.after)
      return { devices, next: devices.length === req.query.limit ? devices.at(-1)!.id : null }
    },
  )

  app.get('/devices/:id', { schema: { params: byDeviceId } }, async (req) => {
    const device = await registry.get(req.params.id)
    if (!device) throw notFound(`device ${req.params.id}`)
    return device
  })

  app.post('/devices/:id/token', { schema: { params: byDeviceId } }, async (req) => {
    const token = await registry.rotateToken(req.params.id)
    if (!token) throw notFound(`device ${req.params.id}`)
    return { token }
  })
}
