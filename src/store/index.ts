// Opens the database the configuration names (a server with DATABASE_URL, else the embedded engine) and migrates it.
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Logger } from 'pino'
import type { Database } from './database.js'
import { openEmbeddedDatabase } from './embedded/index.js'
import { migrate } from './migrate.js'
import { openServerDatabase } from './server/index.js'

export type { Database, Queryable } from './database.js'
export { DatabaseUnavailable } from './database.js'
export { MigrationError } from './migrate.js'
export { instantParam, int64Id, isoDate, isoInstant, storableText } from './fields.js'

const migrationsDir = fileURLToPath(new URL('../../migrations', import.meta.url))

export interface Store {
  db: Database
  /** TimescaleDB features (hypertables, compression, rollups, retention) are in use */
  timescale: boolean
}

export async function openStore(options: { databaseUrl?: string; dataDir: string; retentionDays: number }, log: Logger): Promise<Store> {
  const db = options.databaseUrl
    ? await openServerDatabase(options.databaseUrl, (err) => log.warn({ err: err.message }, 'database connection lost'))
    : await openEmbeddedDatabase(path.join(options.dataDir, 'pglite'))
  try {
    const report = await migrate(db, migrationsDir)
    if (report.applied.length > 0) log.info({ applied: report.applied }, 'migrations applied')
    const timescale = report.timescale
    if (timescale) {
      await db.query(`SELECT remove_retention_policy('telemetry', if_exists => true)`)
      await db.query(`SELECT add_retention_policy('telemetry', make_interval(days => $1::int))`, [options.retentionDays])
    } else {
      log.warn('TimescaleDB is not available on this server: running on plain tables (no compression, rollups or retention)')
    }
    log.info({ backend: db.backend, timescale }, 'database ready')
    return { db, timescale }
  } catch (err) {
    await db.close()
    throw err
  }
}
export { retryWithBackoff } from './retry.js'
export { lockDataDir, DataDirLocked } from './data-dir-lock.js'
