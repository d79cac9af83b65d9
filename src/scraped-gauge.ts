// A gauge whose figures live in the database, read when Prometheus scrapes. A scrape waits a bounded time for the
// reading and, when the reading fails or is late, answers with the last figures: /metrics keeps answering through a
// database outage (issue 10), which /readyz and the writer's log report on their own.
import { Gauge, type Registry } from 'prom-client'

/** One series' labels and value, as a reading returns them. */
export type Series<L extends string> = { labels: Record<L, string>; value: number }[]

export interface ScrapedGaugeOptions<L extends string> {
  name: string
  help: string
  labelNames: L[]
  registry: Registry
  /** how long a scrape waits for the reading before answering with the last figures */
  timeoutMs: number
}

export function scrapedGauge<L extends string>({ name, help, labelNames, registry, timeoutMs }: ScrapedGaugeOptions<L>) {
  let read: (() => Promise<Series<L>>) | undefined
  // One reading at a time: scrapes during a slow one wait for it too, instead of piling queries on a database in trouble.
  let reading: Promise<void> | undefined
  new Gauge<L>({
    name,
    help,
    labelNames,
    registers: [registry],
    async collect() {
      if (!read) return
      reading ??= read()
        .then(
          (series) => {
            this.reset()
            for (const s of series) this.set(s.labels, s.value)
          },
          () => {}, // keep the last figures
        )
        .finally(() => (reading = undefined))
      let timer: NodeJS.Timeout | undefined
      await Promise.race([reading, new Promise((late) => (timer = setTimeout(late, timeoutMs)))]).finally(() => clearTimeout(timer))
    },
  })
  return {
    /** Where the figures come from, once the stage that holds them has started; until then the gauge has no series. */
    readFrom(source: () => Promise<Series<L>>) {
      read = source
    },
  }
}
