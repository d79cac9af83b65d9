// PostgreSQL servers for the server-backend tests: a fresh database in the cluster .ci/run started
// (FAULTLINE_TEST_DATABASE_URL), or a whole throwaway cluster for tests that stop and start the server.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, chownSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'

export const sharedClusterUrl = process.env.FAULTLINE_TEST_DATABASE_URL

/** A new, empty database in the shared cluster. */
export async function freshDatabase(): Promise<string> {
  if (!sharedClusterUrl) throw new Error('FAULTLINE_TEST_DATABASE_URL is not set: run the suite through .ci/run')
  const name = `faultline_test_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
  const admin = new pg.Client({ connectionString: sharedClusterUrl })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  const url = new URL(sharedClusterUrl)
  url.pathname = `/${name}`
  return url.toString()
}

function postgresBin(): string {
  const root = '/usr/lib/postgresql'
  const version = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a))[0] : undefined
  if (!version) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql: run .ci/run')
  return path.join(root, version, 'bin')
}

async function freePort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** initdb refuses root: the cluster belongs to the postgres user when we are root. */
function asPostgres(cmd: string, args: string[]) {
  const root = process.getuid?.() === 0
  execFileSync(root ? 'runuser' : cmd, root ? ['-u', 'postgres', '--', cmd, ...args] : args, { stdio: 'pipe' })
}

export interface ThrowawayCluster {
  url: string
  /** `pg_ctl stop -m immediate`: every backend killed at once, as in a crash */
  stop(): void
  /** starts it again after stop(); a no-op while it runs */
  start(): void
  /** SIGSTOP to the postmaster and every backend: connections stay open and nothing answers */
  freeze(): void
  /** SIGCONT to what freeze() stopped */
  thaw(): void
  destroy(): void
}

/** The postmaster (first line of postmaster.pid) and its children, from /proc. */
function serverProcesses(data: string): number[] {
  const postmaster = Number(readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0])
  const children = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        // pid (comm) state ppid ...: comm may hold spaces, so read after its closing parenthesis
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === postmaster
      } catch {
        return false // exited meanwhile
      }
    })
    .map(Number)
  return [postmaster, ...children]
}

/** A private cluster on a loopback port, for tests that take the database away. */
export async function throwawayCluster(): Promise<ThrowawayCluster> {
  const bin = postgresBin()
  const dir = mkdtempSync(path.join(os.tmpdir(), 'faultline-pg-'))
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim())
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim())
    chownSync(dir, uid, gid)
  }
  const data = path.join(dir, 'data')
  const port = await freePort()
  asPostgres(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'])
  const ctl = (...args: string[]) => asPostgres(path.join(bin, 'pg_ctl'), ['-D', data, '-w', '-t', '30', ...args])
  let running = false
  const start = () => {
    if (running) return
    ctl('-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, '-l', path.join(dir, 'log'), 'start')
    running = true
  }
  start()
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    stop: () => {
      ctl('-m', 'immediate', 'stop')
      running = false
    },
    start,
    // The postmaster first, so it forks nothing new while its children are being stopped.
    freeze: () => {
      for (const pid of serverProcesses(data)) process.kill(pid, 'SIGSTOP')
    },
    thaw: () => {
      for (const pid of serverProcesses(data)) process.kill(pid, 'SIGCONT')
    },
    destroy: () => {
      try {
        for (const pid of serverProcesses(data)) process.kill(pid, 'SIGCONT')
      } catch {
        // not running
      }
      try {
        ctl('-m', 'immediate', 'stop')
      } catch {
        // already stopped
      }
      execFileSync('rm', ['-rf', dir])
    },
  }
}
