// One Faultline per data dir: two would replay and delete each other's write-ahead log, and the embedded
// engine's files take one writer only. The lock is a file holding the owner's pid; a lock whose process is
// gone (a crash, a SIGKILL) is taken over.
import { mkdir, readFile, unlink, writeFile } from 'node:fs/promises'
import path from 'node:path'

export class DataDirLocked extends Error {
  override name = 'DataDirLocked'
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Takes the data dir for this process; resolves to the function that gives it back. */
export async function lockDataDir(dir: string): Promise<() => Promise<void>> {
  await mkdir(dir, { recursive: true })
  const file = path.join(dir, 'faultline.lock')
  for (;;) {
    try {
      await writeFile(file, `${process.pid}\n`, { flag: 'wx' })
      return () => unlink(file).catch(() => {})
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    const owner = Number.parseInt(await readFile(file, 'utf8').catch(() => ''), 10)
    if (Number.isInteger(owner) && owner > 0 && alive(owner)) {
      throw new DataDirLocked(`the data dir ${dir} is in use by another Faultline (pid ${owner}): give each process its own FAULTLINE_DATA_DIR`)
    }
    await unlink(file).catch(() => {}) // left by a process that is gone
  }
}
