// Reads one sample from GET /metrics (Prometheus text format), without the API token: it is outside /api.

/** The value of a counter or gauge sample; 0 when the series was never incremented (prom-client omits it). */
export async function metricValue(httpPort: number, name: string, labels: Record<string, string> = {}): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${httpPort}/metrics`)
  if (res.status !== 200) throw new Error(`GET /metrics: ${res.status}`)
  const text = await res.text()
  const want = Object.entries(labels)
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!m || m[1] !== name) continue
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]))
    if (want.every(([k, v]) => have[k] === v) && Object.keys(have).length === want.length) return Number(m[3])
  }
  return 0
}
