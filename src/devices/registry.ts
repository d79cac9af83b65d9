// Registered devices: who may connect, and the facts the warranty check needs (model, purchase date, ...).
import { z } from 'zod'
import type { Observable } from 'rxjs'
import type { Logger } from 'pino'
import { isTimeZone } from '../calendar.js'
import { isoDate, storableText, type Database } from '../store/index.js'
import { credentialColumns, DeviceCredentials, rotatedMsColumn, type Credential, type CredentialRow } from './credentials.js'
import { hashSecret, newSecret, secretMatches } from './secret.js'

/** Device ids become MQTT topic levels: no '/', '+', '#' or spaces. */
export const deviceId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/, 'letters, digits and "_.:-", starting with a letter or digit, at most 64')

export const newDevice = z.strictObject({
  id: deviceId,
  model: storableText.trim().min(1).max(64),
  serial: storableText.trim().min(1).max(128),
  purchasedAt: isoDate,
  installedAt: isoDate.optional(),
  customer: z
    .strictObject({ name: storableText.trim().min(1).max(200), phone: storableText.max(64).optional(), address: storableText.max(500).optional() })
    .optional(),
  site: storableText.max(200).optional(),
  region: storableText.max(100).optional(),
  warrantyExtendedUntil: isoDate.optional(),
  /** the customer's calendar, which dates the device's faults for warranty; absent: FAULTLINE_TIME_ZONE (issue 12) */
  timeZone: storableText.max(64).refine(isTimeZone, 'an IANA time zone such as Asia/Shanghai').optional(),
  /** the maker, where the model alone does not say (a walk-in's appliance) */
  brand: storableText.trim().min(1).max(100).optional(),
  /** the invoice or receipt number the purchase date was read from (002: 购买日期; 000: 保内/保外判断) */
  proofOfPurchase: storableText.trim().min(1).max(100).optional(),
})
export type NewDevice = z.infer<typeof newDevice>

/** A registered device as the API shows it: what was registered, when, and when it was last heard from. */
export const device = newDevice.extend({ createdAt: z.string(), lastSeenAt: z.string().nullable() })
export type Device = z.infer<typeof device>

interface DeviceRow {
  id: string
  model: string
  serial: string
  purchased_at: string
  installed_at: string | null
  customer: NewDevice['customer'] | null
  site: string | null
  region: string | null
  warranty_extended_until: string | null
  time_zone: string | null
  brand: string | null
  proof_of_purchase: string | null
  created_at: Date
  last_seen_at: Date | null
}

const columns = `id, model, serial, purchased_at, installed_at, customer, site, region, warranty_extended_until, time_zone, brand, proof_of_purchase, created_at, last_seen_at`

function toDevice(r: DeviceRow): Device {
  return {
    id: r.id,
    model: r.model,
    serial: r.serial,
    purchasedAt: r.purchased_at,
    installedAt: r.installed_at ?? undefined,
    customer: r.customer ?? undefined,
    site: r.site ?? undefined,
    region: r.region ?? undefined,
    warrantyExtendedUntil: r.warranty_extended_until ?? undefined,
    timeZone: r.time_zone ?? undefined,
    brand: r.brand ?? undefined,
    proofOfPurchase: r.proof_of_purchase ?? undefined,
    createdAt: r.created_at.toISOString(),
    lastSeenAt: r.last_seen_at?.toISOString() ?? null,
  }
}

export class DeviceExistsError extends Error {
  override name = 'DeviceExistsError'
}

/** How a CONNECT's credentials checked out; a success names the token hash, so a later rotation can end the session. */
export type Verdict = { ok: true; tokenHash: string } | { ok: false; reason: 'unknown_device' | 'wrong_token' }

export class DeviceRegistry {
  /** who may connect, and each device's model for the detectors, which look it up per message and cannot wait */
  private readonly credentials = new DeviceCredentials()

  constructor(private readonly db: Database) {}

  /** Device ids whose token was rotated, here or (seen by a refresh) by another process. */
  get tokenRotated$(): Observable<string> {
    return this.credentials.rotated$
  }

  /** Loads every device's credentials; call before serving. */
  async load(): Promise<void> {
    await this.credentials.refresh(this.db)
  }

  /**
   * Refreshes the credentials every intervalMs, for devices registered or rotated by other processes. A failed
   * refresh (the database is down) keeps what is held: authentication goes on from memory.
   */
  keepFresh(intervalMs: number, log: Logger): () => Promise<void> {
    let failing = false
    let stopped = false
    let timer: NodeJS.Timeout | undefined
    let running: Promise<void> = Promise.resolve()
    const refresh = () => {
      running = this.credentials.refresh(this.db).then(
        () => {
          if (failing) log.info('device registry refreshed from the database again')
          failing = false
        },
        (err: Error) => {
          if (!failing) log.warn({ err: err.message }, 'device registry refresh failed; authenticating from memory')
          failing = true
        },
      )
      void running.then(schedule)
    }
    const schedule = () => {
      if (stopped) return
      timer = setTimeout(refresh, intervalMs)
      timer.unref()
    }
    schedule()
    return () => {
      stopped = true
      clearTimeout(timer)
      return running
    }
  }

  readonly modelOf = (deviceId: string): string | undefined => this.credentials.get(deviceId)?.model

  /** Registers a device and returns its token, which is not stored and cannot be shown again. */
  async register(input: NewDevice): Promise<{ device: Device; token: string }> {
    const token = newSecret()
    const tokenHash = hashSecret(token)
    const { rows } = await this.db.query<DeviceRow & Pick<CredentialRow, 'rotated_ms'>>(
      `INSERT INTO devices (id, model, serial, purchased_at, installed_at, customer, site, region, warranty_extended_until, token_hash, time_zone, brand, proof_of_purchase)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
       ON CONFLICT (id) DO NOTHING
       RETURNING ${columns}, ${rotatedMsColumn}`,
      [
        input.id,
        input.model,
        input.serial,
        input.purchasedAt,
        input.installedAt ?? null,
        input.customer ? JSON.stringify(input.customer) : null,
        input.site ?? null,
        input.region ?? null,
        input.warrantyExtendedUntil ?? null,
        tokenHash,
        input.timeZone ?? null,
        input.brand ?? null,
        input.proofOfPurchase ?? null,
      ],
    )
    if (rows.length === 0) throw new DeviceExistsError(`device ${input.id} is already registered`)
    this.credentials.offer(input.id, { model: input.model, tokenHash, rotatedMs: rows[0]!.rotated_ms })
    return { device: toDevice(rows[0]!), token }
  }

  async get(id: string): Promise<Device | undefined> {
    const { rows } = await this.db.query<DeviceRow>(`SELECT ${columns} FROM devices WHERE id = $1`, [id])
    return rows[0] && toDevice(rows[0])
  }

  /** The device of this model with this serial number, the first registered if there are several: a walk-in's appliance may be known. */
  async findBySerial(model: string, serial: string): Promise<Device | undefined> {
    const { rows } = await this.db.query<DeviceRow>(`SELECT ${columns} FROM devices WHERE model = $1 AND serial = $2 ORDER BY created_at, id LIMIT 1`, [
      model,
      serial,
    ])
    return rows[0] && toDevice(rows[0])
  }

  /** A page of devices in id order, after the given id. */
  async list(limit: number, after?: string): Promise<Device[]> {
    const { rows } = await this.db.query<DeviceRow>(`SELECT ${columns} FROM devices WHERE $1::text IS NULL OR id > $1 ORDER BY id LIMIT $2`, [
      after ?? null,
      limit,
    ])
    return rows.map(toDevice)
  }

  /** Every device of the given models. */
  async ofModels(models: string[]): Promise<Device[]> {
    const { rows } = await this.db.query<DeviceRow>(`SELECT ${columns} FROM devices WHERE model = ANY($1) ORDER BY id`, [models])
    return rows.map(toDevice)
  }

  /** The devices with the given ids, in one query. */
  async getMany(ids: string[]): Promise<Device[]> {
    const { rows } = await this.db.query<DeviceRow>(`SELECT ${columns} FROM devices WHERE id = ANY($1) ORDER BY id`, [ids])
    return rows.map(toDevice)
  }

  /**
   * Issues a new token; the old one stops working at once, and sessions opened with it are ended (tokenRotated$).
   * Undefined when there is no such device.
   */
  async rotateToken(id: string): Promise<string | undefined> {
    const token = newSecret()
    const { rows } = await this.db.query<CredentialRow>(
      `UPDATE devices SET token_hash = $2, token_rotated_at = now() WHERE id = $1 RETURNING ${credentialColumns}`,
      [id, hashSecret(token)],
    )
    if (!rows[0]) return undefined
    this.credentials.offerRow(rows[0])
    return token
  }

  /**
   * Checks an MQTT CONNECT's credentials from memory. The database is asked only when memory does not know the
   * device or holds another token (rotated by another process since the last refresh); if it cannot answer,
   * an unknown device is an error and a known one keeps the verdict from memory.
   */
  async verify(id: string, token: string): Promise<Verdict> {
    // Not a device id (a 64 KB username, say): no device, and no query.
    if (!deviceId.safeParse(id).success) return { ok: false, reason: 'unknown_device' }
    const held = this.credentials.get(id)
    let credential: Credential | undefined = held
    if (!held || !secretMatches(token, held.tokenHash)) {
      credential = await this.read(id).catch((err: Error) => {
        if (!held) throw err
        return held
      })
    }
    if (!credential) return { ok: false, reason: 'unknown_device' }
    if (!secretMatches(token, credential.tokenHash)) return { ok: false, reason: 'wrong_token' }
    return { ok: true, tokenHash: credential.tokenHash }
  }

  /** True while the device's token is still the one with this hash: a session opened with another must end. */
  isCurrent(id: string, tokenHash: string): boolean {
    return this.credentials.get(id)?.tokenHash === tokenHash
  }

  private async read(id: string): Promise<Credential | undefined> {
    const { rows } = await this.db.query<CredentialRow>(`SELECT ${credentialColumns} FROM devices WHERE id = $1`, [id])
    return rows[0] && this.credentials.offerRow(rows[0])
  }

  /** When each device was last heard from, epoch ms, for the offline detector to resume from. */
  async lastSeen(): Promise<Map<string, number>> {
    const { rows } = await this.db.query<{ id: string; last_seen_at: Date }>('SELECT id, last_seen_at FROM devices WHERE last_seen_at IS NOT NULL')
    return new Map(rows.map((r) => [r.id, r.last_seen_at.getTime()]))
  }

  /**
   * How many devices were heard from within their model's silence window (`windowMs` by model, at `now`), how many
   * were not, and how many never were: the console's fleet at a glance.
   */
  async countBySeen(windowMs: ReadonlyMap<string, number>, now: number): Promise<{ online: number; silent: number; neverSeen: number }> {
    const { rows } = await this.db.query<{ online: string; silent: string; never_seen: string }>(
      `SELECT count(*) FILTER (WHERE d.last_seen_at >= to_timestamp(($3 - w.ms) / 1000.0)) AS online,
              count(*) FILTER (WHERE d.last_seen_at IS NOT NULL AND (w.ms IS NULL OR d.last_seen_at < to_timestamp(($3 - w.ms) / 1000.0))) AS silent,
              count(*) FILTER (WHERE d.last_seen_at IS NULL) AS never_seen
       FROM devices d LEFT JOIN unnest($1::text[], $2::float8[]) AS w(model, ms) ON w.model = d.model`,
      [[...windowMs.keys()], [...windowMs.values()], now],
    )
    const counts = rows[0]!
    return { online: Number(counts.online), silent: Number(counts.silent), neverSeen: Number(counts.never_seen) }
  }

  /** Records when devices were last heard from (one statement for many devices). */
  async markSeen(lastSeen: Map<string, number>): Promise<void> {
    await this.db.query(
      `UPDATE devices d SET last_seen_at = greatest(d.last_seen_at, to_timestamp(u.t / 1000.0))
       FROM unnest($1::text[], $2::float8[]) AS u(id, t) WHERE d.id = u.id`,
      [[...lastSeen.keys()], [...lastSeen.values()]],
    )
  }
}
