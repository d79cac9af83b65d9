// A KPI report as CSV (RFC 4180), one row per group: every number of the JSON under its dotted path
// (firstTimeFix.numerator, sla.P1.respond.value …), so a spreadsheet gets exactly what the API answers.
import type { KpiReport } from './definitions.js'

type Cell = string | number | boolean | null

/** The leaves of a value under their dotted paths, in the order they appear. */
function flatten(value: unknown, path: string, into: Map<string, Cell>): Map<string, Cell> {
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) flatten(v, path ? `${path}.${k}` : k, into)
  } else into.set(path, value as Cell)
  return into
}

/** A field quoted when it holds a comma, a quote or a line break (RFC 4180 §2.6–2.7); null is an empty field. */
const field = (cell: Cell | undefined) => {
  const text = cell === null || cell === undefined ? '' : String(cell)
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}

export function kpiCsv(report: KpiReport): string {
  const rows = report.groups.map((g) => flatten({ from: report.from, to: report.to, groupBy: report.groupBy, asOf: report.asOf, ...g }, '', new Map()))
  // every group has the same shape; the union keeps a column even if one group lacked it
  const columns = [...new Set(rows.flatMap((r) => [...r.keys()]))]
  return [columns, ...rows.map((r) => columns.map((c) => r.get(c)))].map((line) => line.map(field).join(',')).join('\r\n') + '\r\n'
}
