// /api/catalog: the product models Faultline knows, with their warranty policies, fault codes and rules.
import { z } from 'zod'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { productModelJson, type Catalog, type ProductModel } from '../catalog/index.js'
import { storableText } from '../store/index.js'
import { errors, notFound } from './errors.js'

/** A line of the catalog's list: a model and how much it defines. */
const modelSummary = productModelJson.pick({ model: true, name: true, category: true }).extend({
  warrantyMonths: z.number(),
  faultCodes: z.number(),
  thresholds: z.number(),
  servicePlans: z.number(),
})

/** The model as JSON: fault codes as an object keyed by code. */
const modelJson = (m: ProductModel): z.output<typeof productModelJson> => ({ ...m, faultCodes: Object.fromEntries(m.faultCodes) })

export const catalogRoutes: FastifyPluginAsyncZod<{ catalog: Catalog }> = async (app, { catalog }) => {
  app.get('/catalog', { schema: { response: { 200: z.strictObject({ models: z.array(modelSummary) }) } } }, async () => ({
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

  app.get(
    '/catalog/:model',
    { schema: { params: z.object({ model: storableText.max(64) }), response: { 200: productModelJson, ...errors(400, 404) } } },
    async (req) => {
      const model = catalog.get(req.params.model)
      if (!model) throw notFound(`model ${req.params.model}`)
      return modelJson(model)
    },
  )
}
