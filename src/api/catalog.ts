// /api/catalog: the product models Faultline knows, with their warranty policies, fault codes and rules.
import { z } from 'zod'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { Catalog, ProductModel } from '../catalog/index.js'
import { storableText } from '../store/index.js'
import { notFound } from './errors.js'

/** The model as JSON: fault codes as an object keyed by code. */
const modelJson = (m: ProductModel) => ({ ...m, faultCodes: Object.fromEntries(m.faultCodes) })

export const catalogRoutes: FastifyPluginAsyncZod<{ catalog: Catalog }> = async (app, { catalog }) => {
  app.get('/catalog', async () => ({
    models: [...catalog.values()].map((m) => ({
      model: m.model,
      name: m.name,
      category: m.category,
      warrantyMonths: m.warranty.months,
      faultCodes: m.faultCodes.size,
      thresholds: m.thresholds.length,
      servicePlans: m.servicePlans.length,
    })),
  }))

  app.get('/catalog/:model', { schema: { params: z.object({ model: storableText.max(64) }) } }, async (req) => {
    const model = catalog.get(req.params.model)
    if (!model) throw notFound(`model ${req.params.model}`)
    return modelJson(model)
  })
}
