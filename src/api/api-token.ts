// The API token: FAULTLINE_API_TOKEN, or one generated on first start, printed once, and kept in the data dir
// only as a salted hash (delete the file to be given a new one).
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { hashSecret, newSecret } from '../devices/index.js'

export interface ApiToken {
  /** what the API checks bearer tokens against */
  hash: string
  /**
   * Called once the start has succeeded: a generated token's hash is written and the token announced only
   * then, so a start that fails after generating it burns nothing and the next start offers a token again
   * (issue 9). A no-op for a configured or an already stored token.
   */
  keep(): Promise<void>
}

export async function resolveApiToken(configured: string | undefined, dataDir: string, announce: (token: string) => void): Promise<ApiToken> {
  const kept = async () => {}
  if (configured) return { hash: hashSecret(configured), keep: kept }
  const file = path.join(dataDir, 'api-token.hash')
  try {
    return { hash: (await readFile(file, 'utf8')).trim(), keep: kept }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  const token = newSecret()
  const hash = hashSecret(token)
  return {
    hash,
    async keep() {
      await mkdir(dataDir, { recursive: true })
      await writeFile(file, hash + '\n', { mode: 0o600, flag: 'wx' })
      announce(token)
    },
  }
}
