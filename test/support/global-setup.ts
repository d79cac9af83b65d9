// One temporary directory per test run, removed when the run ends: every data dir, log and cluster a test makes
// under os.tmpdir() goes in it (os.tmpdir() reads TMPDIR), so a run leaves nothing behind on the disk.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

export default function setup(): () => void {
  const root = mkdtempSync(path.join(os.tmpdir(), 'faultline-run-'))
  // As /tmp is: the throwaway PostgreSQL clusters run as the postgres user, who must reach their directories.
  chmodSync(root, 0o1777)
  // Set before the workers start, so they and every child process they spawn inherit it.
  process.env.TMPDIR = root
  return () => rmSync(root, { recursive: true, force: true })
}
