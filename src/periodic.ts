// A pass run once at start and then every interval, one at a time: a slow pass delays the next, never overlaps it,
// and a failed one is logged and left to the next interval. What the deadline watchers (src/sla, src/followup) run.
import type { Logger } from 'pino'

export class PeriodicPass {
  private timer: NodeJS.Timeout | undefined
  private pass: Promise<void> = Promise.resolve()

  constructor(
    private readonly run: () => Promise<void>,
    private readonly intervalMs: number,
    private readonly log: Logger,
    /** what a failed pass is logged as */
    private readonly failure: string,
  ) {}

  /** The first pass, awaited (what fell due while Faultline was down), then one an interval. */
  async start(): Promise<void> {
    await this.run()
    this.timer = setInterval(() => {
      this.pass = this.pass.then(() => this.run()).catch((err: Error) => this.log.warn({ err: err.message }, this.failure))
    }, this.intervalMs)
  }

  /** Stops the interval; a pass under way finishes first. */
  async close(): Promise<void> {
    clearInterval(this.timer)
    await this.pass
  }
}
