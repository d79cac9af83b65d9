// /api/devices: register devices, read them, rotate their MQTT tokens.
import { z } from 'zod'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { Catalog } from '../catalog/index.js'
import { device, DeviceExistsError, deviceId, newDevice, type DeviceRegistry } from '../devices/index.js'
import { errors, HttpError, notFound } from './errors.js'
import { pageLimit } from './fields.js'

export const byDeviceId = z.object({ id: deviceId })

/** A device's MQTT password, shown once. */
const token = z.string()

/** A route about one device answers 404 for a device that is not registered (the model cache first, it is free). */
export async function requireDevice(registry: DeviceRegistry, id: string): Promise<void> {
  if (registry.modelOf(id) === undefined && !(await registry.get(id))) throw notFound(`device ${id}`)
}

export const devicesRoutes: FastifyPluginAsyncZod<{ registry: DeviceRegistry; catalog: Catalog }> = async (app, { registry, catalog }) => {
  app.post('/devices', { schema: { body: newDevice, response: { 201: z.strictObject({ device, token }), ...errors(400, 409, 503) } } }, async (req, reply) => {
    // The model decides warranty, fault codes and thresholds: a device of a model Faultline does not know
    // could never be checked, so it is refused at the door.
    if (!catalog.has(req.body.model)) {
      throw new HttpError(400, 'bad_request', `body.model: unknown model ${req.body.model}; the catalog has ${[...catalog.keys()].join(', ')}`)
    }
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
    {
      schema: {
        querystring: z.object({ limit: pageLimit(1000, 100), after: deviceId.optional() }),
        response: { 200: z.strictObject({ devices: z.array(device), next: deviceId.nullable() }), ...errors(400, 503) },
      },
    },
    async (req) => {
      const devices = await registry.list(req.query.limit, req.query.after)
      return { devices, next: devices.length === req.query.limit ? devices.at(-1)!.id : null }
    },
  )

  app.get('/devices/:id', { schema: { params: byDeviceId, response: { 200: device, ...errors(400, 404, 503) } } }, async (req) => {
    const device = await registry.get(req.params.id)
    if (!device) throw notFound(`device ${req.params.id}`)
    return device
  })

  app.post('/devices/:id/token', { schema: { params: byDeviceId, response: { 200: z.strictObject({ token }), ...errors(400, 404, 503) } } }, async (req) => {
    const token = await registry.rotateToken(req.params.id)
    if (!token) throw notFound(`device ${req.params.id}`)
    return { token }
  })
}
