// A clock the test sets by hand: what Faultline reads for SLAs, ticket numbers and service schedules.
import type { Clock } from '../../src/clock.js'

export class ManualClock implements Clock {
  constructor(private time: number) {}
  now = () => this.time
  set(iso: string) {
    this.time = Date.parse(iso)
  }
}
