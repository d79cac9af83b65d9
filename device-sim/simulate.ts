// A fleet of simulated devices: registered through the HTTP API, connected over MQTT, publishing per their model's
// profile. `simulate(options)` is what the CLI (main.ts), tests and benchmarks call.
import { z } from 'zod'
import { SimDevice, newCounters, type SimCounters } from './device.js'
import { DeviceGenerator, type DevicePlan } from './generator.js'
import { findProfile, profiles, type Profile } from './profiles.js'

const seconds = z.number().finite().nonnegative()

export const simOptions = z
  .strictObject({
    /** MQTT broker, mqtt://host:port (or mqtts://, ws://host:port/mqtt) */
    url: z.string().regex(/^(mqtts?|wss?):\/\/[^\s]+$/, 'expected mqtt://host:port, mqtts://, ws:// or wss://'),
    /** Faultline's HTTP API base, http://host:port */
    api: z.url({ protocol: /^https?$/, error: 'expected http://host:port' }),
    /** the API bearer token */
    token: z.string().min(16, 'the API token has at least 16 characters'),
    devices: z.number().int().min(1).max(100_000).default(10),
    /** catalog model ids (BCD-516WDVL...; the profiles' short codes RF-500... too); devices are assigned round-robin */
    models: z
      .array(z.string())
      .min(1)
      .default(['BCD-516WDVL'])
      .superRefine((names, ctx) => {
        for (const name of names) {
          if (!findProfile(name))
            ctx.addIssue({
              code: 'custom',
              message: `unknown model "${name}"; known: ${Object.values(profiles)
                .map((p) => p.catalogModel)
                .join(', ')}`,
            })
        }
      }),
    /** seconds between one device's messages */
    rate: z.number().finite().min(0.01).max(86_400).default(1),
    qos: z.union([z.literal(0), z.literal(1), z.literal(2)], { error: 'expected 0, 1 or 2' }).default(0),
    seed: z.number().int().default(1),
    prefix: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,40}$/, 'letters, digits and "_.:-", starting with a letter or digit')
      .default('sim'),
    /** probability per tick that a device without an active fault raises one */
    faultRate: z.number().min(0).max(1).default(0),
    /** seconds a fault lasts before its fault_cleared (uniformly 0.5×–1.5× this) */
    faultDuration: z.number().finite().positive().default(60),
    /** how many devices (the first ones) drive their breach metric over its threshold */
    breach: z.number().int().nonnegative().default(0),
    breachMetric: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9_.]{0,63}$/)
      .optional(),
    breachValue: z.number().finite().optional(),
    breachAfter: seconds.default(10),
    breachFor: seconds.positive().default(300),
    /** how many devices (the last ones) stop publishing, staying connected */
    silence: z.number().int().nonnegative().default(0),
    silenceAfter: seconds.default(30),
    /** 0: silent to the end of the run */
    silenceFor: seconds.default(0),
    /** stop after this many seconds; 0 runs until stop() (Ctrl-C) */
    duration: seconds.default(0),
    keepalive: z.number().int().min(0).max(65_535).default(30),
    /** ms between reconnect attempts; 0 disables reconnecting */
    reconnectMs: z.number().int().nonnegative().default(2_000),
    /** registrations and connects in flight at once */
    concurrency: z.number().int().min(1).max(1_000).default(20),
  })
  .superRefine((o, ctx) => {
    if (o.breach + o.silence > o.devices) {
      ctx.addIssue({
        code: 'custom',
        path: ['breach'],
        message: `--breach ${o.breach} and --silence ${o.silence} need ${o.breach + o.silence} devices; there are ${o.devices}`,
      })
    }
  })

export type SimOptions = z.input<typeof simOptions>
export type ResolvedSimOptions = z.output<typeof simOptions>

export interface Simulation {
  readonly options: ResolvedSimOptions
  readonly devices: SimDevice[]
  readonly counters: SimCounters
  /** devices that could not register or connect, with why */
  readonly failures: { id: string; error: string }[]
  /** One line: connected, sent, acks, faults. */
  summary(): string
  /** Stops every device gracefully (offline status, DISCONNECT). */
  stop(): Promise<void>
  /** Settles when the run has stopped (after `duration`, or stop()). */
  readonly done: Promise<void>
}

/** The plan of every device: ids, models, which ones breach or fall silent. Pure. */
export function planDevices(o: ResolvedSimOptions): DevicePlan[] {
  const models = o.models.map((m) => findProfile(m)!)
  const numbers = new Map<Profile, number>()
  return Array.from({ length: o.devices }, (_, i) => {
    const profile = models[i % models.length]!
    const number = (numbers.get(profile) ?? 0) + 1
    numbers.set(profile, number)
    const plan: DevicePlan = {
      id: `${o.prefix}-${profile.idTag}-${String(number).padStart(4, '0')}`,
      number,
      profile,
      seed: o.seed,
      faultRate: o.faultRate,
      faultSeconds: [o.faultDuration * 0.5, o.faultDuration * 1.5],
    }
    if (i < o.breach) {
      const metric = o.breachMetric ?? profile.breach.metric
      plan.breach = { start: o.breachAfter, end: o.breachAfter + o.breachFor, metric, value: o.breachValue ?? profile.breach.value }
    }
    if (i >= o.devices - o.silence) plan.silence = { start: o.silenceAfter, end: o.silenceFor > 0 ? o.silenceAfter + o.silenceFor : undefined }
    return plan
  })
}

/** Runs fn over items with at most `limit` in flight; results in item order. */
async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      results[i] = await fn(items[i]!).then(
        (value) => ({ status: 'fulfilled', value }) as const,
        (reason: unknown) => ({ status: 'rejected', reason }) as const,
      )
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return results
}

export class ApiError extends Error {
  override name = 'ApiError'
}

/** Registers a device and returns its MQTT token; a device already registered gets a new token instead. */
export async function registerDevice(api: string, apiToken: string, plan: DevicePlan): Promise<string> {
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(new URL(path, api), {
      method,
      headers: { authorization: `Bearer ${apiToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await res.text()
    let json: unknown
    try {
      json = text ? JSON.parse(text) : undefined
    } catch {
      json = text
    }
    if (res.status === 401) throw new ApiError(`${method} ${path}: 401, the API token was refused`)
    return { status: res.status, body: json }
  }
  // A plausible purchase date within the last three years, the same for a device on every run.
  const daysAgo = 30 + ((plan.number * 97 + plan.seed * 13) % 1_000)
  const purchasedAt = new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10)
  const created = await call('POST', '/api/devices', {
    id: plan.id,
    model: plan.profile.catalogModel,
    serial: `SIM-${plan.profile.code}-${String(plan.number).padStart(6, '0')}`,
    purchasedAt,
    site: 'device simulator',
  })
  if (created.status === 201) return (created.body as { token: string }).token
  if (created.status === 409) {
    const rotated = await call('POST', `/api/devices/${encodeURIComponent(plan.id)}/token`)
    if (rotated.status === 200) return (rotated.body as { token: string }).token
    throw new ApiError(`rotating the token of ${plan.id}: ${rotated.status} ${JSON.stringify(rotated.body)}`)
  }
  throw new ApiError(`registering ${plan.id}: ${created.status} ${JSON.stringify(created.body)}`)
}

export interface SimulateHooks {
  /** progress while registering and connecting */
  onProgress?: (message: string) => void
  /** a device's connection error after its first connect */
  onDeviceError?: (deviceId: string, err: Error) => void
}

/** Registers, connects and starts the fleet; resolves once every device is connected (or failed to). */
export async function simulate(input: SimOptions, hooks: SimulateHooks = {}): Promise<Simulation> {
  const o = simOptions.parse(input)
  const plans = planDevices(o)
  const counters = newCounters()
  const failures: { id: string; error: string }[] = []
  const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e))

  hooks.onProgress?.(`registering ${plans.length} devices at ${o.api}`)
  const tokens = await pool(plans, o.concurrency, (plan) => registerDevice(o.api, o.token, plan))
  // A refused API token or an unreachable API fails every device alike: say it once.
  const firstFailure = tokens.find((t) => t.status === 'rejected')
  if (firstFailure && tokens.every((t) => t.status === 'rejected')) throw new ApiError(`no device could be registered: ${errorText(firstFailure.reason)}`)

  const startedAt = performance.now()
  const devices: SimDevice[] = []
  plans.forEach((plan, i) => {
    const token = tokens[i]!
    if (token.status === 'rejected') failures.push({ id: plan.id, error: errorText(token.reason) })
    else
      devices.push(
        new SimDevice(
          new DeviceGenerator(plan),
          token.value,
          {
            url: o.url,
            qos: o.qos,
            rate: o.rate,
            startedAt,
            keepalive: o.keepalive,
            reconnectMs: o.reconnectMs,
            onError: hooks.onDeviceError,
          },
          counters,
        ),
      )
  })

  hooks.onProgress?.(`connecting ${devices.length} devices to ${o.url}`)
  const connects = await pool(devices, o.concurrency, (d) => d.connect())
  const live = devices.filter((d, i) => {
    const c = connects[i]!
    if (c.status === 'rejected') failures.push({ id: d.id, error: errorText(c.reason) })
    return c.status === 'fulfilled'
  })
  if (live.length === 0) throw new Error(`no device could connect: ${failures[0]?.error ?? 'no devices'}`)
  // Spread the fleet's ticks evenly over one interval instead of all at once.
  live.forEach((d, i) => d.start((i / live.length) * o.rate * 1000))

  let last = { at: performance.now(), sent: 0 }
  let stopping: Promise<void> | undefined
  let finish!: () => void
  const done = new Promise<void>((resolve) => (finish = resolve))
  const stop = () =>
    (stopping ??= (async () => {
      clearTimeout(durationTimer)
      await Promise.all(live.map((d) => d.stop()))
      finish()
    })())
  const durationTimer = o.duration > 0 ? setTimeout(() => void stop(), o.duration * 1000) : undefined

  return {
    options: o,
    devices: live,
    counters,
    failures,
    done,
    stop,
    summary() {
      const now = performance.now()
      const c = counters
      const perS = ((c.sent - last.sent) / Math.max(0.001, (now - last.at) / 1000)).toFixed(0)
      last = { at: now, sent: c.sent }
      const acks = o.qos > 0 ? `acked ${c.acked} (in flight ${c.sent - c.acked - c.failed})` : `acked ${c.acked} (QoS 0: telemetry not acknowledged)`
      const active = live.filter((d) => d.generator.activeFault).length
      const t = ((now - startedAt) / 1000).toFixed(0).padStart(4)
      return (
        `sim ${t}s  connected ${c.connected}/${live.length}  sent ${c.sent} (+${perS}/s)  ${acks}` +
        `  faults ${c.faults} raised, ${c.faultsCleared} cleared, ${active} active` +
        (c.skipped ? `  skipped ${c.skipped} ticks offline` : '') +
        (c.reconnects ? `  reconnects ${c.reconnects}` : '') +
        (c.failed ? `  failed ${c.failed}` : '') +
        (failures.length ? `  ${failures.length} devices failed to start` : '')
      )
    },
  }
}
