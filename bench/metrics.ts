// Faultline's counters and gauges, read from GET /metrics the way an operator's scraper would.

/** Every faultline_* sample, summed over its labels' values per label set as printed. */
export async function metrics(httpPort: number): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text()
  const out: Record<string, number> = {}
  for (const line of text.split('\n')) {
    const m = /^(faultline_[a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line)
    if (m) out[m[1]! + (m[2] ?? '')] = (out[m[1]! + (m[2] ?? '')] ?? 0) + Number(m[3])
  }
  return out
}
