// A small filesystem of its own (tmpfs) under a directory, for tests of what happens when the disk fills up.
// Mounting needs root (CI runs as root); where the machine cannot mount, `smallDiskUnavailable` says why.
import { execFileSync } from 'node:child_process'
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

function mount(dir: string, bytes: number): void {
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir], { stdio: 'pipe' })
}

export function unmount(dir: string): void {
  execFileSync('umount', [dir], { stdio: 'pipe' })
}

/** Why no small disk can be mounted here, or undefined when one can (tried once, on a scratch directory). */
export const smallDiskUnavailable: string | undefined = (() => {
  const probe = mkdtempSync(path.join(os.tmpdir(), 'faultline-mount-probe-'))
  try {
    mount(probe, 64 * 1024)
    unmount(probe)
    return undefined
  } catch (err) {
    return `cannot mount a tmpfs (needs root): ${String((err as { stderr?: Buffer }).stderr ?? (err as Error).message).trim()}`
  } finally {
    rmSync(probe, { recursive: true, force: true })
  }
})()

/** Mounts a tmpfs of `bytes` at dir (created if missing); returns the unmount. */
export function mountSmallDisk(dir: string, bytes: number): () => void {
  mkdirSync(dir, { recursive: true })
  mount(dir, bytes)
  return () => unmount(dir)
}

/** Writes a file until the filesystem refuses more (ENOSPC); returns the bytes it took. */
export function fillDisk(file: string): number {
  const fd = openSync(file, 'w')
  const chunk = Buffer.alloc(64 * 1024)
  let bytes = 0
  try {
    for (;;) bytes += writeSync(fd, chunk)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err
    return bytes
  } finally {
    closeSync(fd)
  }
}
