// Faultline as a separate process (`node --import tsx src/main.ts`), for tests that kill it or signal it, and for
// the benchmark (bench/run.ts), which runs it with a preloaded probe, an IPC channel and extra node flags.
// Ports are 0 (the OS picks); the real ones come from the 'Faultline listening' JSON log line.
//
// This module imports nothing from src/ (nor ./faultline.ts, which does): the benchmark may run another checkout.
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { apiClient, registerDevice, type ApiCall } from './api-client.js'

const root = fileURLToPath(new URL('../..', import.meta.url))

/** The API token the child is given unless told otherwise; the same as ./faultline.ts's API_TOKEN. */
export const CHILD_API_TOKEN = 'test-api-token-0123456789abcdef'

export interface SpawnOptions {
  /** how long to wait for 'Faultline listening' (default 60 s) */
  timeoutMs?: number
  /** node flags before `--import tsx` (e.g. --cpu-prof, --max-old-space-size=...) */
  nodeArgs?: string[]
  /** modules to preload after tsx (`--import <module>`), e.g. a probe written in TypeScript */
  imports?: string[]
  /** open an IPC channel to the child (child.process.send / 'message') */
  ipc?: boolean
  /** the Faultline checkout to run (default this one) */
  cwd?: string
  /** FAULTLINE_API_TOKEN and the bearer token api() sends (default CHILD_API_TOKEN) */
  apiToken?: string
  /** how to run it instead of `node --import tsx src/main.ts`, e.g. ['npm', 'start'] (nodeArgs and imports then unused) */
  command?: [string, ...string[]]
}

export interface ChildFaultline {
  readonly process: ChildProcess
  mqttPort: number
  httpPort: number
  /** Every JSON log line so far. */
  readonly logs: Record<string, unknown>[]
  /** The distinct messages of warning level and above logged so far (at most 20). */
  readonly warnings: string[]
  /** Settles when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  api: ApiCall
  /** Registers a device (model BCD-516WDVL unless `extra` says otherwise) and returns its token. */
  registerDevice(id: string, extra?: Record<string, unknown>): Promise<string>
  /** SIGTERM (a graceful shutdown), SIGKILL if it has not exited within `killAfterMs`; resolves once it has exited. */
  stop(killAfterMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

const WARN = 40

/** Starts Faultline in a child process with the given FAULTLINE_* / DATABASE_URL settings and waits until it listens. */
export async function spawnFaultline(settings: Record<string, string>, options: number | SpawnOptions = {}): Promise<ChildFaultline> {
  const {
    timeoutMs = 60_000,
    nodeArgs = [],
    imports = [],
    ipc = false,
    cwd = root,
    apiToken = CHILD_API_TOKEN,
    command,
  } = typeof options === 'number' ? { timeoutMs: options } : options
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('FAULTLINE_') && k !== 'DATABASE_URL') env[k] = v
  }
  Object.assign(env, {
    FAULTLINE_HOST: '127.0.0.1',
    FAULTLINE_MQTT_PORT: '0',
    FAULTLINE_HTTP_PORT: '0',
    FAULTLINE_API_TOKEN: apiToken,
    FAULTLINE_LOG_LEVEL: 'info',
    FAULTLINE_LOG_FORMAT: 'json',
    ...settings,
  })
  const [file, ...args] = command ?? [process.execPath, ...nodeArgs, '--import', 'tsx', ...imports.flatMap((m) => ['--import', m]), 'src/main.ts']
  const child = spawn(file, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe', ...(ipc ? (['ipc'] as const) : [])] })
  const logs: Record<string, unknown>[] = []
  const warnings: string[] = []
  let stderr = ''
  child.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-8_000)))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  )

  const listening = new Promise<{ mqtt: number; http: number }>((resolve, reject) => {
    let buffered = ''
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8')
      let nl: number
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl)
        buffered = buffered.slice(nl + 1)
        if (!line.startsWith('{')) continue
        try {
          const entry = JSON.parse(line) as Record<string, unknown>
          logs.push(entry)
          if (entry.msg === 'Faultline listening') resolve({ mqtt: entry.mqtt as number, http: entry.http as number })
          const msg = String(entry.msg)
          if ((entry.level as number) >= WARN && warnings.length < 20 && !warnings.includes(msg)) warnings.push(msg)
        } catch {
          // not a log line
        }
      }
    })
    void exited.then(({ code, signal }) => reject(new Error(`Faultline exited before listening (${code ?? signal}): ${stderr.slice(-2_000)}`)))
    setTimeout(() => reject(new Error(`Faultline did not start within ${timeoutMs} ms: ${stderr.slice(-2_000)}`)), timeoutMs).unref()
  })
  let ports: { mqtt: number; http: number }
  try {
    ports = await listening
  } catch (err) {
    // SIGTERM first: a launcher in between (npm) passes it on, where a SIGKILL would orphan Faultline under it.
    child.kill('SIGTERM')
    setTimeout(() => child.kill('SIGKILL'), 5_000).unref()
    throw err
  }

  const api = apiClient(`http://127.0.0.1:${ports.http}`, apiToken)
  return {
    process: child,
    mqttPort: ports.mqtt,
    httpPort: ports.http,
    logs,
    warnings,
    exited,
    api,
    registerDevice: (id, extra) => registerDevice(api, id, extra),
    async stop(killAfterMs = 60_000) {
      if (child.connected) child.disconnect()
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      const killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs)
      try {
        return await exited
      } finally {
        clearTimeout(killer)
      }
    },
  }
}
