// Registered devices: who may connect, and the facts the warranty check needs (model, purchase date, ...).
import { z } from 'zod'
import { isoDate, storableText, type Database } from '../store/index.js'
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
})
export type NewDevice = z.infer<typeof newDevice>

export interface Device extends NewDevice {
  createdAt: string
  lastSeenAt: string | null
}

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
  created_at: Date
  last_seen_at: Date | null
}

const columns = `id, model, serial, purchased_at, installed_at, customer, site, region, warranty_extended_until, created_at, last_seen_at`

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
    createdAt: r.created_at.toISOString(),
    lastSeenAt: r.last_seen_at?.toISOString() ?? null,
  }
}

export class DeviceExistsError extends Error {
  override name = 'DeviceExistsError'
}

export class DeviceRegistry {
  /** device id → model, for the detectors, which look it up per message and cannot wait for a query */
  private readonly models = new Map<string, string>()

  constructor(private readonly db: Database) {}

  /** Loads every device's model; devices registered or connecting later are added as they come. */
  async loadModels(): Promise<void> {
    const { rows } = await this.db.query<{ id: string; model: string }>('SELECT id, model FROM devices')
    for (const r of rows) this.models.set(r.id, r.model)
  }

  readonly modelOf = (deviceId: string): string | undefined => this.models.get(deviceId)

  /** Registers a device and returns its token, which is not stored and cannot be shown again. */
  async register(input: NewDevice): Promise<{ device: Device; token: string }> {
    const token = newSecret()
    const { rows } = await this.db.query<DeviceRow>(
      `INSERT INTO devices (id, model, serial, purchased_at, installed_at, customer, site, region, warranty_extended_until, token_hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (id) DO NOTHING
       RETURNING ${columns}`,
      [input.id, input.model, input.serial, input.purchasedAt, input.installedAt ?? null, input.customer ? JSON.stringify(input.customer) : null,
        input.site ?? null, input.region ?? null, input.warrantyExtendedUntil ?? null, hashSecret(token)],
    )
    if (rows.length === 0) throw new DeviceExistsError(`device ${input.id} is already registered`)
    this.models.set(input.id, input.model)
    return { device: toDevice(rows[0]!), token }
  }

  async get(id: string): Promise<Device | undefined> {
    const { rows } = await this.db.query<DeviceRow>(`SELECT ${columns} FROM devices WHERE id = $1`, [id])
    return rows[0] && toDevice(rows[0])
  }

  /** A page of devices in id order, after the given id. */
  async list(limit: number, after?: string): Promise<Device[]> {
    const { rows } = await this.db.query<DeviceRow>(
      `SELECT ${columns} FROM devices WHERE $1::text IS NULL OR id > $1 ORDER BY id LIMIT $2`,
      [after ?? null, limit],
    )
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

  /** Issues a new token; the old one stops working at once. Undefined when there is no such device. */
  async rotateToken(id: string): Promise<string | undefined> {
    const token = newSecret()
    const { rowCount } = await this.db.query(`UPDATE devices SET token_hash = $2, token_rotated_at = now() WHERE id = $1`, [id, hashSecret(token)])
    return rowCount > 0 ? token : undefined
  }

  /** Checks an MQTT CONNECT's credentials. */
  async verify(id: string, token: string): Promise<'ok' | 'unknown_device' | 'wrong_token'> {
    const { rows } = await this.db.query<{ token_hash: string; model: string }>(`SELECT token_hash, model FROM devices WHERE id = $1`, [id])
    if (!rows[0]) return 'unknown_device'
    if (!secretMatches(token, rows[0].token_hash)) return 'wrong_token'
    // Registered through another Faultline process, perhaps: learn its model now that it connects here.
    this.models.set(id, rows[0].model)
    return 'ok'
  }

  /** When each device was last heard from, epoch ms, for the offline detector to resume from. */
  async lastSeen(): Promise<Map<string, number>> {
    const { rows } = await this.db.query<{ id: string; last_seen_at: Date }>('SELECT id, last_seen_at FROM devices WHERE last_seen_at IS NOT NULL')
    return new Map(rows.map((r) => [r.id, r.last_seen_at.getTime()]))
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
