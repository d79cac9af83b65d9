// One simulated device's messages, tick by tick. Pure apart from its seeded random source: given the same seed,
// plan and tick times it produces the same messages, so a run is reproducible with --seed.
import type { EventPayload, StatusPayload, TelemetrySample } from '../schemas/messages.js'
import type { Profile, Readings } from './profiles.js'
import { createRng, hashSeed, type Rng } from './random.js'

/** A time window in seconds since the simulation started; `end` undefined means "to the end of the run". */
export interface Window {
  start: number
  end?: number
}

export interface DevicePlan {
  id: string
  /** 1-based number within its model */
  number: number
  profile: Profile
  seed: number
  /** probability per tick of raising a fault when none is active */
  faultRate: number
  /** how long a fault stays active before its fault_cleared, seconds */
  faultSeconds: [number, number]
  breach?: Window & { metric: string; value: number }
  silence?: Window
}

export type OutMessage =
  { channel: 'telemetry'; payload: TelemetrySample } | { channel: 'events'; payload: EventPayload } | { channel: 'status'; payload: StatusPayload }

const inWindow = (w: Window | undefined, t: number) => w !== undefined && t >= w.start && (w.end === undefined || t < w.end)

/** Seconds a breached metric takes to ramp to its target and back. */
const BREACH_RAMP_S = 30

export class DeviceGenerator {
  private readonly rng: Rng
  private state: unknown
  private seq = 0
  private lastTs = 0
  private lastT: number | undefined
  private breachLevel = 0
  private fault: { code: string; clearAt: number } | undefined
  /** the last readings, for a look at the device (tests, demos) */
  last: Readings | undefined

  constructor(readonly plan: DevicePlan) {
    this.rng = createRng(hashSeed(`${plan.seed}/${plan.id}`))
    this.state = plan.profile.init(this.rng)
  }

  get activeFault(): string | undefined {
    return this.fault?.code
  }

  /** Whether the device is in its --silence window at time t. */
  silent(t: number): boolean {
    return inWindow(this.plan.silence, t)
  }

  /** The status message a device sends when it (re)connects. */
  online(now: number): OutMessage {
    return { channel: 'status', payload: { ts: now, online: true, fw: this.plan.profile.fw } }
  }

  /**
   * One tick at `t` seconds since the start (epoch ms `now`): the device's readings moved on by the time since the
   * last tick, its telemetry, and a fault raised or cleared. A silent device moves on but says nothing.
   */
  tick(t: number, now: number): OutMessage[] {
    const { profile, breach } = this.plan
    const dt = this.lastT === undefined ? 1 : Math.max(0.001, t - this.lastT)
    this.lastT = t
    const step = profile.step(this.state, dt, this.rng)
    this.state = step.state
    const readings = { ...step.readings }

    // --breach: blend the metric towards its target over BREACH_RAMP_S, hold it, and blend back.
    const breaching = inWindow(breach, t)
    this.breachLevel = Math.min(1, Math.max(0, this.breachLevel + (breaching ? dt : -dt) / BREACH_RAMP_S))
    if (breach && this.breachLevel > 0 && readings[breach.metric] !== undefined) {
      const normal = readings[breach.metric]!
      const target = breach.value * (1 + this.rng.normal(0, 0.005))
      readings[breach.metric] = Math.round((normal + (target - normal) * this.breachLevel) * 100) / 100
    }
    this.last = readings

    const out: OutMessage[] = []
    if (this.silent(t)) return out
    const faultMessage = this.stepFault(t, now)
    const ts = (this.lastTs = Math.max(now, this.lastTs + 1)) // strictly increasing: (device, metric, time) is a key
    out.push({ channel: 'telemetry', payload: { ts, seq: this.seq++, metrics: readings } })
    if (faultMessage) out.push(faultMessage)
    return out
  }

  private stepFault(t: number, now: number): OutMessage | undefined {
    const { profile, faultRate, faultSeconds } = this.plan
    if (this.fault) {
      if (t < this.fault.clearAt) return undefined
      const code = this.fault.code
      this.fault = undefined
      return { channel: 'events', payload: { ts: now, type: 'fault_cleared', code } }
    }
    if (faultRate <= 0 || profile.faults.length === 0 || !this.rng.chance(faultRate)) return undefined
    const fault = this.rng.pick(profile.faults)
    this.fault = { code: fault.code, clearAt: t + this.rng.range(faultSeconds[0], faultSeconds[1]) }
    return { channel: 'events', payload: { ts: now, type: 'fault', code: fault.code, detail: fault.detail } }
  }
}
