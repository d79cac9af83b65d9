// The API token: FAULTLINE_API_TOKEN, or one generated on first start, printed once, and kept in the data dir
// only as a salted hash (delete the file to be given a new one).
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { hashSecret, newSecret } from '../devices/index.js'

export async function resolveApiTokenHash(configured: string | undefined, dataDir: string, announce: (token: string) => void): Promise<string> {
  if (configured) return hashSecret(configured)
  const file = path.join(dataDir, 'api-token.hash')
  try {
    return (await readFile(file, 'utf8')).trim()
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  const token = newSecret()
  const hash = hashSecret(token)
  await mkdir(dataDir, { recursive: true })
  await writeFile(file, hash + '\n', { mode: 0o600, flag: 'wx' })
  announce(token)
  return hash
}
