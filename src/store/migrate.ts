// Applies migrations/*.sql in name order, each once, each in its own transaction.
// A migration is recorded as started before it runs and finished in the same transaction as its SQL, so a
// started-but-unfinished row means someone applied it by hand or outside a transaction: refuse to guess.
import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import type { Database } from './database.js'

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
async function enableTimescale(db: Database): Promise<boolean> {
  try {
    await db.exec('CREATE EXTENSION IF NOT EXISTS timescaledb')
    return true
  } catch {
    return false
  }
}

export interface MigrationReport {
  applied: string[]
  /** migrations left out because the server has no TimescaleDB */
  skipped: string[]
  timescale: boolean
}

export async function migrate(db: Database, dir: string): Promise<MigrationReport> {
  const migrations = await readMigrations(dir)
  await db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    name text PRIMARY KEY, checksum text NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now(), finished_at timestamptz)`)
  const timescale = await enableTimescale(db)

  // Several Faultline processes may start against one database: one migrates, the others wait for it.
  return db.transaction(async (lock) => {
    await lock.query(`SELECT pg_advisory_xact_lock(hashtext('faultline.migrations'))`)
    const recorded = new Map(
      (await lock.query<{ name: string; checksum: string; finished_at: Date | null }>(
        'SELECT name, checksum, finished_at FROM schema_migrations',
      )).rows.map((r) => [r.name, r]),
    )
    const report: MigrationReport = { applied: [], skipped: [], timescale }
    for (const m of migrations) {
      const done = recorded.get(m.name)
      if (done && !done.finished_at) {
        throw new MigrationError(`migration ${m.name} was started but never finished: repair the schema by hand, then delete its row from schema_migrations`)
      }
      if (done && done.checksum !== m.checksum) {
        throw new MigrationError(`migration ${m.name} changed after it was applied: add a new migration instead of editing an applied one`)
      }
      if (done) continue
      if (m.requiresTimescale && !timescale) {
        report.skipped.push(m.name)
        continue
      }
      await lock.query('INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)', [m.name, m.checksum])
      await lock.exec(m.sql)
      await lock.query('UPDATE schema_migrations SET finished_at = now() WHERE name = $1', [m.name])
      report.applied.push(m.name)
    }
    return report
  })
}
