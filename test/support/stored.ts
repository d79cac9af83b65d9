// A Faultline's database read directly, while no Faultline runs on it: for what no API serves (events, status)
// and for what must be on disk rather than merely acknowledged.
import path from 'node:path'
import type { Config } from '../../src/config/index.js'
import { openEmbeddedDatabase } from '../../src/store/embedded/index.js'
import { openServerDatabase } from '../../src/store/server/index.js'
import type { Queryable } from '../../src/store/index.js'

export async function readStored<T>(config: Pick<Config, 'databaseUrl' | 'dataDir'>, read: (db: Queryable) => Promise<T>): Promise<T> {
  const db = config.databaseUrl ? await openServerDatabase(config.databaseUrl, () => {}) : await openEmbeddedDatabase(path.join(config.dataDir, 'pglite'))
  try {
    return await read(db)
  } finally {
    await db.close()
  }
}
