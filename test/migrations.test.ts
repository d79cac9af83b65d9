// Migrations: applied once and recorded; a start refuses a half-applied migration or an applied file that changed.
import { createHash } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import { createLogger, startFaultline } from '../src/main.js'
import { openEmbeddedDatabase } from '../src/store/embedded/index.js'
import { migrate } from '../src/store/migrate.js'
import { openServerDatabase } from '../src/store/server/index.js'
import { MigrationError, openStore, type Database } from '../src/store/index.js'
import { backends, startTestInstance, testConfig, type Backend } from './support/faultline.js'
import { freshDatabase, sharedClusterUrl } from './support/postgres.js'
import { startsWithin } from './support/waits.js'

const migrationsDir = fileURLToPath(new URL('../migrations', import.meta.url))
const silent = createLogger('silent')
/** The shipped migrations, and those that need TimescaleDB (their first line says `-- requires: timescaledb`). */
const shipped = readdirSync(migrationsDir)
  .filter((f) => f.endsWith('.sql'))
  .sort()
const needsTimescale = shipped.filter((f) => readFileSync(path.join(migrationsDir, f), 'utf8').startsWith('-- requires: timescaledb'))

const checksumOf = (file: string) =>
  createHash('sha256')
    .update(readFileSync(path.join(migrationsDir, file), 'utf8'))
    .digest('hex')

/** Where a Faultline keeps its database: a data dir (embedded) or a fresh database in the shared cluster (server). */
interface Location {
  dataDir: string
  databaseUrl?: string
  retentionDays: number
}

async function newLocation(backend: Backend): Promise<Location> {
  return {
    dataDir: mkdtempSync(path.join(os.tmpdir(), 'faultline-migrations-')),
    databaseUrl: backend === 'server' ? await freshDatabase() : undefined,
    retentionDays: 365,
  }
}

/** The database at a location, without migrating it. */
const openRaw = (at: Location): Promise<Database> =>
  at.databaseUrl ? openServerDatabase(at.databaseUrl, () => {}) : openEmbeddedDatabase(path.join(at.dataDir, 'pglite'))

async function withRaw<T>(at: Location, fn: (db: Database) => Promise<T>): Promise<T> {
  const db = await openRaw(at)
  try {
    return await fn(db)
  } finally {
    await db.close()
  }
}

interface MigrationRow {
  name: string
  checksum: string
  started_at: Date
  finished_at: Date | null
}
const recorded = (db: Database) =>
  db.query<MigrationRow>('SELECT name, checksum, started_at, finished_at FROM schema_migrations ORDER BY name').then((r) => r.rows)
const tableExists = async (db: Database, name: string) =>
  (await db.query<{ exists: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS exists`, [name])).rows[0]!.exists

/** Whether this server can have TimescaleDB: the embedded engine always has it (it is compiled in). */
async function timescaleAvailable(backend: Backend, at: Location): Promise<boolean> {
  if (backend === 'embedded') return true
  return withRaw(at, async (db) => (await db.query(`SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'`)).rowCount > 0)
}

/** Connections other sessions hold to the database at a server location. */
async function connectionsTo(url: string): Promise<number> {
  const admin = new pg.Client({ connectionString: sharedClusterUrl })
  await admin.connect()
  try {
    const name = new URL(url).pathname.slice(1)
    return (await admin.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [name])).rows[0].n
  } finally {
    await admin.end()
  }
}

describe.each(backends())('migrations on the %s backend', (backend) => {
  it('a fresh start applies every migration, those needing TimescaleDB exactly where it is available, each recorded as finished', startsWithin(3), async () => {
    const at = await newLocation(backend)
    const available = await timescaleAvailable(backend, at)
    const { db, timescale } = await openStore(at, silent)
    try {
      expect(timescale).toBe(available)
      const rows = await recorded(db)
      const expected = available ? shipped : shipped.filter((f) => !needsTimescale.includes(f))
      expect(expected).toContain('0001_core.sql')
      expect(needsTimescale).toContain('0002_timescale.sql')
      expect(rows.map((r) => r.name)).toEqual(expected)
      for (const r of rows) {
        expect(r.finished_at, r.name).toBeInstanceOf(Date)
        expect(r.checksum, r.name).toBe(checksumOf(r.name))
      }
      const hypertables = timescale
        ? (await db.query<{ hypertable_name: string }>('SELECT hypertable_name FROM timescaledb_information.hypertables ORDER BY 1')).rows.map(
            (r) => r.hypertable_name,
          )
        : []
      expect(hypertables).toEqual(timescale ? ['device_events', 'device_status', 'fault_events', 'telemetry'] : [])
      expect(await tableExists(db, 'telemetry_1m')).toBe(timescale)
    } finally {
      await db.close()
    }
  })

  it('a second start applies nothing and leaves the records as they were', startsWithin(3), async () => {
    const at = await newLocation(backend)
    const first = await openStore(at, silent)
    const before = await recorded(first.db)
    await first.db.close()

    const second = await openStore(at, silent)
    expect(await recorded(second.db)).toEqual(before)
    await second.db.close()

    await withRaw(at, async (db) => {
      const report = await migrate(db, migrationsDir)
      expect(report.applied).toEqual([])
      expect(report.skipped).toEqual(report.timescale ? [] : needsTimescale)
      expect(await recorded(db)).toEqual(before)
    })
  })

  it('Faultline runs on whatever was applied: raw and bucketed telemetry queries answer', startsWithin(3), async () => {
    const fl = await startTestInstance(await testConfig(backend))
    try {
      await fl.registerDevice('mig-1')
      for (const bucket of ['', '&bucket=1m', '&bucket=1h', '&bucket=5m']) {
        const res = await fl.api('GET', `/api/devices/mig-1/telemetry?from=0${bucket}`)
        expect(res.status, bucket).toBe(200)
        expect(res.body.points).toEqual([])
      }
    } finally {
      await fl.close()
    }
  })

  it('refuses to start on a half-applied migration (finished_at NULL), naming the file, and holds no connection after', startsWithin(3), async () => {
    const at = await newLocation(backend)
    await (await openStore(at, silent)).db.close()
    await withRaw(at, (db) => db.query(`UPDATE schema_migrations SET finished_at = NULL WHERE name = '0001_core.sql'`))

    const refused = openStore(at, silent)
    await expect(refused).rejects.toBeInstanceOf(MigrationError)
    await expect(refused).rejects.toThrow(/0001_core\.sql.*never finished/)

    const config = await testConfig(backend, { FAULTLINE_DATA_DIR: at.dataDir, ...(at.databaseUrl ? { DATABASE_URL: at.databaseUrl } : {}) })
    const started = startFaultline(config, silent)
    await expect(started).rejects.toBeInstanceOf(MigrationError)
    await expect(started).rejects.toThrow(/0001_core\.sql/)

    // The refusal changed nothing and let go of the database: it still says what it said.
    if (at.databaseUrl) expect(await connectionsTo(at.databaseUrl)).toBe(0)
    await withRaw(at, async (db) => expect((await recorded(db)).find((r) => r.name === '0001_core.sql')?.finished_at).toBeNull())
  })

  it('refuses to start when an applied migration file changed (checksum mismatch), naming the file', startsWithin(3), async () => {
    const at = await newLocation(backend)
    await (await openStore(at, silent)).db.close()
    await withRaw(at, (db) => db.query(`UPDATE schema_migrations SET checksum = 'edited' WHERE name = '0001_core.sql'`))

    const refused = openStore(at, silent)
    await expect(refused).rejects.toBeInstanceOf(MigrationError)
    await expect(refused).rejects.toThrow(/0001_core\.sql.*changed/)
    const config = await testConfig(backend, { FAULTLINE_DATA_DIR: at.dataDir, ...(at.databaseUrl ? { DATABASE_URL: at.databaseUrl } : {}) })
    await expect(startFaultline(config, silent)).rejects.toThrow(MigrationError)
  })

  describe('migrate() with a migrations directory of its own', () => {
    let db: Database | undefined
    afterEach(async () => {
      await db?.close()
      db = undefined
    })

    const scratch = (files: Record<string, string>) => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'faultline-migration-files-'))
      for (const [name, sql] of Object.entries(files)) writeFileSync(path.join(dir, name), sql)
      return dir
    }

    it('applies files once each, in name order, and later only the new ones', startsWithin(3), async () => {
      db = await openRaw(await newLocation(backend))
      // 0002 refers to 0001's table: name order, not directory order, decides
      const dir = scratch({
        '0002_b.sql': 'CREATE TABLE b (a_id int REFERENCES a (id));',
        '0001_a.sql': 'CREATE TABLE a (id int PRIMARY KEY);',
        'notes.txt': 'not a migration',
      })
      expect((await migrate(db, dir)).applied).toEqual(['0001_a.sql', '0002_b.sql'])
      expect((await migrate(db, dir)).applied).toEqual([])
      writeFileSync(path.join(dir, '0003_c.sql'), 'CREATE TABLE c (id int);')
      expect((await migrate(db, dir)).applied).toEqual(['0003_c.sql'])
      expect((await recorded(db)).map((r) => [r.name, r.finished_at !== null])).toEqual([
        ['0001_a.sql', true],
        ['0002_b.sql', true],
        ['0003_c.sql', true],
      ])
    })

    it('refuses an applied file that changed, and applies nothing else in that run', startsWithin(3), async () => {
      db = await openRaw(await newLocation(backend))
      const dir = scratch({ '0001_a.sql': 'CREATE TABLE a (id int);' })
      await migrate(db, dir)
      writeFileSync(path.join(dir, '0001_a.sql'), 'CREATE TABLE a (id int); -- edited after it was applied')
      writeFileSync(path.join(dir, '0002_b.sql'), 'CREATE TABLE b (id int);')
      const run = migrate(db, dir)
      await expect(run).rejects.toBeInstanceOf(MigrationError)
      await expect(run).rejects.toThrow(/0001_a\.sql/)
      expect(await tableExists(db, 'b')).toBe(false)
      expect((await recorded(db)).map((r) => r.name)).toEqual(['0001_a.sql'])
    })

    it('refuses a row started but never finished, naming the file', startsWithin(3), async () => {
      db = await openRaw(await newLocation(backend))
      const dir = scratch({ '0001_a.sql': 'CREATE TABLE a (id int);' })
      await migrate(db, dir)
      await db.query(`UPDATE schema_migrations SET finished_at = NULL`)
      await expect(migrate(db, dir)).rejects.toThrow(
        new MigrationError('migration 0001_a.sql was started but never finished: repair the schema by hand, then delete its row from schema_migrations'),
      )
    })

    it('a migration that fails leaves no row and none of its statements behind, and runs once fixed', startsWithin(3), async () => {
      db = await openRaw(await newLocation(backend))
      const dir = scratch({ '0001_a.sql': 'CREATE TABLE a (id int);', '0002_half.sql': 'CREATE TABLE half (id int);\nSELECT no_such_function();' })
      await expect(migrate(db, dir)).rejects.toThrow(/no_such_function/)
      expect(await tableExists(db, 'half')).toBe(false)
      expect((await recorded(db)).map((r) => r.name)).not.toContain('0002_half.sql')
      writeFileSync(path.join(dir, '0002_half.sql'), 'CREATE TABLE half (id int);')
      expect((await migrate(db, dir)).applied).toContain('0002_half.sql')
      expect(await tableExists(db, 'half')).toBe(true)
    })

    it('skips a "-- requires: timescaledb" migration without recording it where TimescaleDB is missing', startsWithin(3), async () => {
      const at = await newLocation(backend)
      const available = await timescaleAvailable(backend, at)
      db = await openRaw(at)
      const dir = scratch({
        '0001_a.sql': 'CREATE TABLE a (time timestamptz NOT NULL);',
        '0002_ts.sql': "-- requires: timescaledb\nSELECT create_hypertable('a', by_range('time'));",
      })
      const report = await migrate(db, dir)
      expect(report.timescale).toBe(available)
      expect(report.applied).toEqual(available ? ['0001_a.sql', '0002_ts.sql'] : ['0001_a.sql'])
      expect(report.skipped).toEqual(available ? [] : ['0002_ts.sql'])
      expect((await recorded(db)).map((r) => r.name)).toEqual(report.applied)
    })

    it.runIf(backend === 'server')(
      'several processes starting together on a fresh database: all start, each migration applied once',
      startsWithin(3),
      async () => {
        const at = await newLocation(backend)
        const dir = scratch({ '0001_a.sql': 'CREATE TABLE a (id int);', '0002_b.sql': 'CREATE TABLE b (id int);' })
        const dbs = await Promise.all(Array.from({ length: 4 }, () => openRaw(at)))
        try {
          const reports = await Promise.allSettled(dbs.map((d) => migrate(d, dir)))
          expect(reports.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok'))).toEqual(['ok', 'ok', 'ok', 'ok'])
          const applied = reports.flatMap((r) => (r.status === 'fulfilled' ? r.value.applied : []))
          expect(applied.sort()).toEqual(['0001_a.sql', '0002_b.sql'])
        } finally {
          await Promise.all(dbs.map((d) => d.close()))
        }
      },
    )
  })
})
