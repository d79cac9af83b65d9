// /api/technicians and /api/providers: the directory dispatch chooses from (issue 11). A technician's availability
// (on shift, off shift, on leave, at capacity) is computed at the moment of asking, from the same rules dispatch uses.
import { z } from 'zod'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { Catalog } from '../catalog/index.js'
import type { Clock } from '../clock.js'
import {
  AlreadyExists,
  availability,
  newProvider,
  newTechnician,
  providerChange,
  providerSchema,
  skillCatalog,
  technicianChange,
  technicianIdSchema,
  technicianSchema,
  UnknownProvider,
  type Dispatcher,
  type Technician,
  type TechnicianRepository,
} from '../dispatch/index.js'
import { errors, HttpError, notFound } from './errors.js'

const ref = z.object({ id: technicianIdSchema })
const failures = errors(400, 503)

const shown = technicianSchema.extend({
  availability: z.enum(['inactive', 'on_leave', 'at_capacity', 'on_shift', 'off_shift']),
  /** the next shift's start when off shift; null when on shift or none within a week */
  nextShiftAt: z.string().nullable(),
})

export const technicianRoutes: FastifyPluginAsyncZod<{ technicians: TechnicianRepository; dispatcher: Dispatcher; catalog: Catalog; clock: Clock }> = async (
  app,
  { technicians, dispatcher, catalog, clock },
) => {
  // The catalog is read when a request is checked, not when the routes are registered.
  let skills: ReturnType<typeof skillCatalog> | undefined
  const catalogSkills = () => (skills ??= skillCatalog(catalog))

  const show = (t: Technician): z.infer<typeof shown> => {
    const now = clock.now()
    const a = availability(t.hours, t.leave, t.onLeave, now)
    const state = !t.active ? 'inactive' : a.onLeave ? 'on_leave' : t.openTickets >= t.capacity ? 'at_capacity' : a.onShift ? 'on_shift' : 'off_shift'
    return { ...t, availability: state, nextShiftAt: !a.onShift && a.availableAt !== undefined ? new Date(a.availableAt).toISOString() : null }
  }
  /** A change in the directory can make a waiting ticket assignable at once. */
  const changed = <T>(value: T) => {
    dispatcher.wake()
    return value
  }
  const refusing = async <T>(write: () => Promise<T>): Promise<T> => {
    try {
      return await write()
    } catch (err) {
      if (err instanceof AlreadyExists) throw new HttpError(409, 'conflict', err.message)
      if (err instanceof UnknownProvider) throw new HttpError(400, 'bad_request', err.message)
      throw err
    }
  }

  app.post('/technicians', { schema: { body: newTechnician(catalogSkills), response: { 201: shown, ...errors(409), ...failures } } }, async (req, reply) =>
    reply.code(201).send(show(changed(await refusing(() => technicians.createTechnician(req.body))))),
  )
  app.get('/technicians', { schema: { response: { 200: z.object({ technicians: z.array(shown) }), ...failures } } }, async () => ({
    technicians: (await technicians.technicians()).map(show),
  }))
  app.get('/technicians/:id', { schema: { params: ref, response: { 200: shown, ...errors(404), ...failures } } }, async (req) => {
    const t = await technicians.technician(req.params.id)
    if (!t) throw notFound(`technician ${req.params.id}`)
    return show(t)
  })
  app.patch(
    '/technicians/:id',
    { schema: { params: ref, body: technicianChange(catalogSkills), response: { 200: shown, ...errors(404), ...failures } } },
    async (req) => {
      const t = await technicians.updateTechnician(req.params.id, req.body)
      if (!t) throw notFound(`technician ${req.params.id}`)
      return show(changed(t))
    },
  )
  // Deactivated: out of dispatch from now on; the tickets they hold stay theirs until reassigned.
  app.post('/technicians/:id/deactivate', { schema: { params: ref, response: { 200: shown, ...errors(404), ...failures } } }, async (req) => {
    const t = await technicians.updateTechnician(req.params.id, { active: false })
    if (!t) throw notFound(`technician ${req.params.id}`)
    return show(t)
  })

  app.post('/providers', { schema: { body: newProvider(catalogSkills), response: { 201: providerSchema, ...errors(409), ...failures } } }, async (req, reply) =>
    reply.code(201).send(changed(await refusing(() => technicians.createProvider(req.body)))),
  )
  app.get('/providers', { schema: { response: { 200: z.object({ providers: z.array(providerSchema) }), ...failures } } }, async () => ({
    providers: await technicians.providers(),
  }))
  app.get('/providers/:id', { schema: { params: ref, response: { 200: providerSchema, ...errors(404), ...failures } } }, async (req) => {
    const p = await technicians.provider(req.params.id)
    if (!p) throw notFound(`provider ${req.params.id}`)
    return p
  })
  app.patch(
    '/providers/:id',
    { schema: { params: ref, body: providerChange(catalogSkills), response: { 200: providerSchema, ...errors(404), ...failures } } },
    async (req) => {
      const p = await technicians.updateProvider(req.params.id, req.body)
      if (!p) throw notFound(`provider ${req.params.id}`)
      return changed(p)
    },
  )
  // Deactivated: its technicians leave dispatch with it.
  app.post('/providers/:id/deactivate', { schema: { params: ref, response: { 200: providerSchema, ...errors(404), ...failures } } }, async (req) => {
    const p = await technicians.updateProvider(req.params.id, { active: false })
    if (!p) throw notFound(`provider ${req.params.id}`)
    return p
  })
}
