// The technicians directory: technicians, the providers some work for, and each technician's load row (the
// counter the tickets trigger keeps, migrations/0009_dispatch.sql). Owns those tables.
import type { Clock } from '../clock.js'
import type { Database, Queryable } from '../store/index.js'
import type { NewProvider, NewTechnician, Provider, ProviderChange, Technician, TechnicianChange } from './directory.js'
import type { DispatchTechnician } from './score.js'

export class AlreadyExists extends Error {
  override name = 'AlreadyExists'
}
export class UnknownProvider extends Error {
  override name = 'UnknownProvider'
}

interface TechnicianRow {
  id: string
  name: string
  team: string | null
  provider_id: string | null
  skills: Technician['skills']
  regions: string[]
  home: Technician['home']
  capacity: number
  hours: Technician['hours']
  leave: Technician['leave']
  on_leave: boolean
  active: boolean
  open_tickets: number
  created_at: Date
  updated_at: Date
}
interface ProviderRow {
  id: string
  name: string
  certified_categories: string[]
  qualified_until: string
  hourly_rate: number
  call_out_fee: number
  active: boolean
  created_at: Date
  updated_at: Date
}

const technicianSelect = `SELECT t.*, l.open_tickets FROM technicians t JOIN technician_load l ON l.technician_id = t.id`
// dates as text: a date column is a Date in pg and a string in PGlite otherwise
const providerSelect = `SELECT id, name, certified_categories, to_char(qualified_until, 'YYYY-MM-DD') AS qualified_until, hourly_rate, call_out_fee, active, created_at, updated_at FROM providers`

const toTechnician = (r: TechnicianRow): Technician => ({
  id: r.id,
  name: r.name,
  team: r.team,
  providerId: r.provider_id,
  skills: r.skills,
  regions: r.regions,
  home: r.home,
  capacity: r.capacity,
  hours: r.hours,
  leave: r.leave,
  onLeave: r.on_leave,
  active: r.active,
  openTickets: Number(r.open_tickets),
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
})
const toProvider = (r: ProviderRow): Provider => ({
  id: r.id,
  name: r.name,
  certifiedCategories: r.certified_categories,
  qualifiedUntil: r.qualified_until,
  hourlyRate: Number(r.hourly_rate),
  callOutFee: Number(r.call_out_fee),
  active: r.active,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
})

/** PostgreSQL's unique_violation and foreign_key_violation, as both backends report them. */
const sqlState = (err: unknown) => (err as { code?: string }).code

/** An UPDATE's SET list from the fields given, each with its column and encoding. */
function setList(change: Record<string, unknown>, columns: Record<string, { column: string; json?: boolean }>, now: number) {
  const sets = ['updated_at = to_timestamp($2 / 1000.0)']
  const params: unknown[] = [now]
  for (const [field, value] of Object.entries(change)) {
    const c = columns[field]
    if (!c || value === undefined) continue
    params.push(c.json ? (value === null ? null : JSON.stringify(value)) : value)
    sets.push(`${c.column} = $${params.length + 1}`)
  }
  return { sets: sets.join(', '), params }
}

export class TechnicianRepository {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  async createProvider(p: NewProvider): Promise<Provider> {
    const now = this.clock.now()
    try {
      await this.db.query(
        `INSERT INTO providers (id, name, certified_categories, qualified_until, hourly_rate, call_out_fee, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, to_timestamp($7 / 1000.0), to_timestamp($7 / 1000.0))`,
        [p.id, p.name, p.certifiedCategories, p.qualifiedUntil, p.hourlyRate, p.callOutFee, now],
      )
    } catch (err) {
      if (sqlState(err) === '23505') throw new AlreadyExists(`provider ${p.id} already exists`)
      throw err
    }
    return (await this.provider(p.id))!
  }

  async providers(): Promise<Provider[]> {
    return (await this.db.query<ProviderRow>(`${providerSelect} ORDER BY id`)).rows.map(toProvider)
  }

  async provider(id: string): Promise<Provider | undefined> {
    const { rows } = await this.db.query<ProviderRow>(`${providerSelect} WHERE id = $1`, [id])
    return rows[0] && toProvider(rows[0])
  }

  async updateProvider(id: string, change: ProviderChange): Promise<Provider | undefined> {
    const { sets, params } = setList(
      change,
      {
        name: { column: 'name' },
        certifiedCategories: { column: 'certified_categories' },
        qualifiedUntil: { column: 'qualified_until' },
        hourlyRate: { column: 'hourly_rate' },
        callOutFee: { column: 'call_out_fee' },
        active: { column: 'active' },
      },
      this.clock.now(),
    )
    const { rowCount } = await this.db.query(`UPDATE providers SET ${sets} WHERE id = $1`, [id, ...params])
    return rowCount === 0 ? undefined : this.provider(id)
  }

  /** A technician and their load row, in one transaction. */
  async createTechnician(t: NewTechnician): Promise<Technician> {
    const now = this.clock.now()
    try {
      await this.db.transaction(async (tx) => {
        await tx.query(
          `INSERT INTO technicians (id, name, team, provider_id, skills, regions, home, capacity, hours, leave, on_leave, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, to_timestamp($12 / 1000.0), to_timestamp($12 / 1000.0))`,
          [
            t.id,
            t.name,
            t.team ?? null,
            t.providerId ?? null,
            JSON.stringify(t.skills),
            t.regions,
            t.home ? JSON.stringify(t.home) : null,
            t.capacity,
            JSON.stringify(t.hours),
            JSON.stringify(t.leave),
            t.onLeave,
            now,
          ],
        )
        await tx.query(`INSERT INTO technician_load (technician_id) VALUES ($1)`, [t.id])
      })
    } catch (err) {
      if (sqlState(err) === '23505') throw new AlreadyExists(`technician ${t.id} already exists`)
      if (sqlState(err) === '23503') throw new UnknownProvider(`body.providerId: no provider ${t.providerId}`)
      throw err
    }
    return (await this.technician(t.id))!
  }

  async technicians(): Promise<Technician[]> {
    return (await this.db.query<TechnicianRow>(`${technicianSelect} ORDER BY t.id`)).rows.map(toTechnician)
  }

  async technician(id: string, q: Queryable = this.db): Promise<Technician | undefined> {
    const { rows } = await q.query<TechnicianRow>(`${technicianSelect} WHERE t.id = $1`, [id])
    return rows[0] && toTechnician(rows[0])
  }

  async updateTechnician(id: string, change: TechnicianChange): Promise<Technician | undefined> {
    const { sets, params } = setList(
      change,
      {
        name: { column: 'name' },
        skills: { column: 'skills', json: true },
        regions: { column: 'regions' },
        home: { column: 'home', json: true },
        capacity: { column: 'capacity' },
        hours: { column: 'hours', json: true },
        leave: { column: 'leave', json: true },
        onLeave: { column: 'on_leave' },
        active: { column: 'active' },
      },
      this.clock.now(),
    )
    const { rowCount } = await this.db.query(`UPDATE technicians SET ${sets} WHERE id = $1`, [id, ...params])
    return rowCount === 0 ? undefined : this.technician(id)
  }

  async anyActive(): Promise<boolean> {
    const { rows } = await this.db.query<{ any: boolean }>(`SELECT EXISTS (SELECT 1 FROM technicians WHERE active) AS any`)
    return rows[0]?.any === true
  }

  /** Every active technician with their provider and load, as dispatch weighs them, in the caller's transaction. */
  async dispatchable(tx: Queryable): Promise<DispatchTechnician[]> {
    const [technicians, providers] = await Promise.all([
      tx.query<TechnicianRow>(`${technicianSelect} WHERE t.active ORDER BY t.id`),
      tx.query<ProviderRow>(`${providerSelect}`),
    ])
    const byId = new Map(providers.rows.map((p) => [p.id, toProvider(p)]))
    return technicians.rows.map((r) => {
      const t = toTechnician(r)
      return { ...t, provider: t.providerId ? byId.get(t.providerId)! : null }
    })
  }

  /**
   * Locks the technicians' load rows for the rest of the transaction, in id order (two dispatchers never wait on
   * each other in a circle), and says which of them have room: a process assigning to them at the same moment
   * waits here and then sees the new count.
   */
  async withRoom(tx: Queryable, technicianIds: readonly string[]): Promise<Set<string>> {
    const { rows } = await tx.query<{ technician_id: string; room: boolean }>(
      `SELECT l.technician_id, l.open_tickets < t.capacity AS room FROM technician_load l JOIN technicians t ON t.id = l.technician_id
       WHERE l.technician_id = ANY($1::text[]) ORDER BY l.technician_id FOR UPDATE OF l`,
      [technicianIds],
    )
    return new Set(rows.filter((r) => r.room).map((r) => r.technician_id))
  }
}
