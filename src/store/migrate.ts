// Applies migrations/*.sql in name order, each once, each in its own transaction under a lock.
// A migration is recorded as started before it runs and finished after its SQL, so a started-but-unfinished
// row means someone applied it by hand or outside this runner: refuse to guess.
import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import type { Database, Queryable } from './database.js'

export class MigrationError extends Error {
  override name = 'MigrationError'
}

interface Migration {
  name: string
  sql: string
  checksum: string
  requiresTimescale: boolean
}

async function readMigrations(dir: string): Promise<Migration[]> {
  const names = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort()
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(path.join(dir, name), 'utf8')
      return {
        name,
        sql,
        checksum: createHash('sha256').update(sql).digest('hex'),
        requiresTimescale: /^--\s*requires:\s*timescaledb\b/m.test(sql),
      }
    }),
  )
}

/** Creates the extension where the server has it; the embedded engine does not list it in pg_available_extensions. */
async function enableTimescale(tx: Queryable): Promise<boolean> {
  await tx.exec('SAVEPOINT timescale')
  try {
    await tx.exec('CREATE EXTENSION IF NOT EXISTS timescaledb')
    await tx.exec('RELEASE SAVEPOINT timescale')
    return true
  } catch {
    await tx.exec('ROLLBACK TO SAVEPOINT timescale')
    return false
  }
}

export interface MigrationReport {
  applied: string[]
  /** migrations left out because the server has no TimescaleDB */
  skipped: string[]
  timescale: boolean
}

const LOCK = `SELECT pg_advisory_xact_lock(hashtext('faultline.migrations'))`

export async function migrate(db: Database, dir: string): Promise<MigrationReport> {
  const migrations = await readMigrations(dir)
  // Several Faultline processes may start against one database: each step takes the lock and re-reads what
  // is applied, so one migrates and the others find it done.
  const { timescale, pending } = await db.transaction(async (tx) => {
    await tx.query(LOCK)
    await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      name text PRIMARY KEY, checksum text NOT NULL,
      started_at timestamptz NOT NULL DEFAULT now(), finished_at timestamptz)`)
    const timescale = await enableTimescale(tx)
    const recorded = await appliedMigrations(tx)
    for (const m of migrations) {
      const done = recorded.get(m.name)
      if (done && !done.finished_at) {
        throw new MigrationError(`migration ${m.name} was started but never finished: repair the schema by hand, then delete its row from schema_migrations`)
      }
      if (done && done.checksum !== m.checksum) {
        throw new MigrationError(`migration ${m.name} changed after it was applied: add a new migration instead of editing an applied one`)
      }
    }
    return { timescale, pending: migrations.filter((m) => !recorded.has(m.name)) }
  })

  const report: MigrationReport = { applied: [], skipped: [], timescale }
  for (const m of pending) {
    if (m.requiresTimescale && !timescale) {
      report.skipped.push(m.name)
      continue
    }
    // Each migration in its own transaction: a failing one leaves nothing behind, the ones before it stay.
    const applied = await db.transaction(async (tx) => {
      await tx.query(LOCK)
      if ((await appliedMigrations(tx)).has(m.name)) return false
      await tx.query('INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)', [m.name, m.checksum])
      await tx.exec(m.sql)
      await tx.query('UPDATE schema_migrations SET finished_at = now() WHERE name = $1', [m.name])
      return true
    })
    if (applied) report.applied.push(m.name)
  }
  return report
}

async function appliedMigrations(tx: Queryable) {
  const { rows } = await tx.query<{ name: string; checksum: string; finished_at: Date | null }>('SELECT name, checksum, finished_at FROM schema_migrations')
  return new Map(rows.map((r) => [r.name, r]))
}
