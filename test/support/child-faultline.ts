// Faultline as a separate process (`node --import tsx src/main.ts`), for tests that kill it or signal it.
// Ports are 0 (the OS picks); the real ones come from the 'Faultline listening' JSON log line.
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { API_TOKEN } from './faultline.js'

const root = fileURLToPath(new URL('../..', import.meta.url))

export interface ChildFaultline {
  readonly process: ChildProcess
  mqttPort: number
  httpPort: number
  /** Every JSON log line so far. */
  readonly logs: Record<string, unknown>[]
  /** Settles when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  api<T = any>(method: string, url: string, body?: unknown): Promise<{ status: number; body: T }>
  registerDevice(id: string): Promise<string>
}

/** Starts Faultline in a child process with the given FAULTLINE_* / DATABASE_URL settings and waits until it listens. */
export async function spawnFaultline(settings: Record<string, string>, timeoutMs = 60_000): Promise<ChildFaultline> {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('FAULTLINE_') && k !== 'DATABASE_URL') env[k] = v
  }
  Object.assign(env, {
    FAULTLINE_HOST: '127.0.0.1',
    FAULTLINE_MQTT_PORT: '0',
    FAULTLINE_HTTP_PORT: '0',
    FAULTLINE_API_TOKEN: API_TOKEN,
    FAULTLINE_LOG_LEVEL: 'info',
    ...settings,
  })
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] })
  const logs: Record<string, unknown>[] = []
  let stderr = ''
  child.stderr!.on('data', (d) => (stderr += d))
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
        } catch {
          // not a log line
        }
      }
    })
    void exited.then(({ code, signal }) => reject(new Error(`Faultline exited before listening (${code ?? signal}): ${stderr}`)))
    setTimeout(() => reject(new Error(`Faultline did not start within ${timeoutMs} ms: ${stderr}`)), timeoutMs).unref()
  })
  let ports: { mqtt: number; http: number }
  try {
    ports = await listening
  } catch (err) {
    child.kill('SIGKILL')
    throw err
  }

  const base = `http://127.0.0.1:${ports.http}`
  const api: ChildFaultline['api'] = async (method, url, body) => {
    const res = await fetch(base + url, {
      method,
      headers: { authorization: `Bearer ${API_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await res.text()
    return { status: res.status, body: text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : (text as any) }
  }
  return {
    process: child,
    mqttPort: ports.mqtt,
    httpPort: ports.http,
    logs,
    exited,
    api,
    async registerDevice(id) {
      const res = await api('POST', '/api/devices', { id, model: 'BCD-516WDVL', serial: `SN-${id}`, purchasedAt: '2025-06-01' })
      if (res.status !== 201) throw new Error(`registering ${id}: ${res.status} ${JSON.stringify(res.body)}`)
      return res.body.token as string
    },
  }
}
