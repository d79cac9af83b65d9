// /api/kpis and /api/reports: document 004's KPIs over a range of opening instants, and the daily, weekly and
// monthly reports of 002 (系统每日/每周/每月自动服务报表) as JSON or CSV. What each KPI counts: src/kpis/definitions.ts.
import { z } from 'zod'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { groupings, kpiCsv, kpiReportSchema, periods, type Kpis } from '../kpis/index.js'
import { instantParam, isoDate } from '../store/index.js'
import { errors } from './errors.js'

// Strict: a misspelt parameter is a 400, never a report over something else than was asked (issue 12).
const kpiQuery = z
  .strictObject({
    /** repairs opened at or after (ISO-8601 or epoch ms) */
    from: instantParam,
    /** and before */
    to: instantParam,
    /** one group per value; absent: one overall group */
    groupBy: z.enum(groupings).optional(),
  })
  .refine((q) => q.from < q.to, { path: ['to'], message: 'must be after from' })

const reportQuery = z.strictObject({
  /** a day of the period, in the deployment's time zone; its period must end by the end of 9999, as every stored date */
  date: isoDate.refine((d) => d < '9999-12-01', 'must be before 9999-12-01 (the period must end within 9999)'),
  format: z.enum(['json', 'csv']).default('json'),
  groupBy: z.enum(groupings).optional(),
})

const failures = errors(400, 503)

export const kpiRoutes: FastifyPluginAsyncZod<{ kpis: Kpis }> = async (app, { kpis }) => {
  app.get('/kpis', { schema: { querystring: kpiQuery, response: { 200: kpiReportSchema, ...failures } } }, (req) =>
    kpis.compute({ from: req.query.from.getTime(), to: req.query.to.getTime(), groupBy: req.query.groupBy }),
  )

  app.get(
    '/reports/:period',
    {
      schema: {
        params: z.object({ period: z.enum(periods) }),
        querystring: reportQuery,
        // format=csv: text/csv (fastify sends a string with its own content type as it is, past the JSON serializer)
        response: { 200: z.union([kpiReportSchema, z.string().describe('format=csv: text/csv, a header row and one row per group')]), ...failures },
      },
    },
    async (req, reply) => {
      const report = await kpis.report(req.params.period, req.query.date, req.query.groupBy)
      if (req.query.format === 'json') return report
      const name = `faultline-${req.params.period}-${req.query.date}${req.query.groupBy ? `-by-${req.query.groupBy}` : ''}.csv`
      return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${name}"`).send(kpiCsv(report))
    },
  )
}
