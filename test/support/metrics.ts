// Reads samples from GET /metrics (Prometheus text format), without the API token: it is outside /api.

export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

/** Every sample of the scrape (histograms as their _bucket, _sum and _count samples). */
export async function metricSamples(httpPort: number): Promise<Sample[]> {
  const res = await fetch(`http://127.0.0.1:${httpPort}/metrics`)
  if (res.status !== 200) throw new Error(`GET /metrics: ${res.status}`)
  return (await res.text()).split('\n').flatMap((line) => {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!m) return []
    const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1]!, l[2]!]))
    return [{ name: m[1]!, labels, value: Number(m[3]) }]
  })
}

/** The value of a counter or gauge sample; 0 when the series was never incremented (prom-client omits it). */
export async function metricValue(httpPort: number, name: string, labels: Record<string, string> = {}): Promise<number> {
  const want = Object.entries(labels)
  const sample = (await metricSamples(httpPort)).find(
    (s) => s.name === name && want.every(([k, v]) => s.labels[k] === v) && Object.keys(s.labels).length === want.length,
  )
  return sample?.value ?? 0
}
