// Configuration: defaults, environment and flags as one setting, a ConfigError naming every bad value, the
// exit code of a misconfigured start, and MQTT over TLS when a certificate is configured.
import { execFile } from 'node:child_process'
import { mkdtemp, readFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import mqtt, { type IClientOptions } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../src/config/index.js'
import { backends, eventually, startTest, type TestInstance } from './support/faultline.js'
import { closeWhenTestEnds } from './support/cleanup.js'
import { OUTCOME_WAIT_MS } from './support/waits.js'

const run = promisify(execFile)

/** The ConfigError loadConfig throws, or a failure when it throws none. */
function configError(env: Record<string, string>, argv: string[] = []): ConfigError {
  try {
    loadConfig(env, argv)
  } catch (err) {
    if (err instanceof ConfigError) return err
    throw err
  }
  throw new Error('expected a ConfigError')
}

describe('loadConfig', () => {
  it('has a default for every setting but the optional ones', () => {
    // toMatchObject: settings added later bring their own tests
    expect(loadConfig({}, [])).toMatchObject({
      databaseUrl: undefined,
      dataDir: './data',
      host: '0.0.0.0',
      mqttPort: 1883,
      httpPort: 8080,
      apiToken: undefined,
      logLevel: 'info',
      logFormat: 'auto',
      databaseWaitMs: 30_000,
      tls: undefined,
      maxPayloadBytes: 65536,
      maxFutureMs: 300_000,
      maxAgeMs: 30 * 24 * 3600_000,
      writer: { queueRows: 100_000, batchRows: undefined, flushMs: 50 },
      aclViolationsMax: 5,
      retentionDays: 365,
      shutdownTimeoutMs: 30_000,
    })
  })

  it('reads each setting from the environment, and takes an empty variable as unset', () => {
    const config = loadConfig(
      {
        DATABASE_URL: 'postgresql://u@db:5432/faultline',
        FAULTLINE_MQTT_PORT: '1884',
        FAULTLINE_HTTP_PORT: '0',
        FAULTLINE_LOG_LEVEL: 'warn',
        FAULTLINE_API_TOKEN: '0123456789abcdef',
        FAULTLINE_TLS_CERT: '/etc/c.pem',
        FAULTLINE_TLS_KEY: '/etc/k.pem',
        FAULTLINE_WRITER_BATCH_ROWS: '500',
        FAULTLINE_ACL_VIOLATIONS_MAX: '3',
        FAULTLINE_HOST: '',
      },
      [],
    )
    expect(config).toMatchObject({
      databaseUrl: 'postgresql://u@db:5432/faultline',
      mqttPort: 1884,
      httpPort: 0,
      logLevel: 'warn',
      apiToken: '0123456789abcdef',
      tls: { certFile: '/etc/c.pem', keyFile: '/etc/k.pem' },
      writer: { batchRows: 500 },
      aclViolationsMax: 3,
      host: '0.0.0.0',
    })
  })

  it('takes the same setting as a flag, and the flag wins over the environment', () => {
    expect(loadConfig({ FAULTLINE_MQTT_PORT: '1999' }, ['--mqtt-port', '1884']).mqttPort).toBe(1884)
    expect(loadConfig({}, ['--mqtt-port=1885', '--log-level', 'debug', '--database-url', 'postgres://h/db'])).toMatchObject({
      mqttPort: 1885,
      logLevel: 'debug',
      databaseUrl: 'postgres://h/db',
    })
    // ...and a bad flag is reported even when the environment has a good value.
    expect(configError({ FAULTLINE_MQTT_PORT: '1884' }, ['--mqtt-port', 'abc']).problems).toEqual([
      'FAULTLINE_MQTT_PORT (--mqtt-port): Invalid input: expected number, received NaN; got "abc"',
    ])
  })

  it('throws one ConfigError that names every bad value', () => {
    const err = configError({
      FAULTLINE_MQTT_PORT: 'abc',
      FAULTLINE_HTTP_PORT: '70000',
      FAULTLINE_LOG_LEVEL: 'loud',
      DATABASE_URL: 'mysql://x',
      FAULTLINE_API_TOKEN: 'short',
      FAULTLINE_TLS_CERT: '/etc/cert.pem',
      FAULTLINE_MAX_PAYLOAD_BYTES: '-1',
    })
    const named = ['FAULTLINE_MQTT_PORT', 'FAULTLINE_HTTP_PORT', 'FAULTLINE_LOG_LEVEL', 'DATABASE_URL', 'FAULTLINE_API_TOKEN', 'FAULTLINE_MAX_PAYLOAD_BYTES']
    expect(err.problems).toHaveLength(named.length + 1)
    for (const name of named)
      expect(
        err.problems.filter((p) => p.startsWith(`${name} (--`)),
        name,
      ).toHaveLength(1)
    expect(err.problems).toContain('FAULTLINE_TLS_CERT and FAULTLINE_TLS_KEY go together: set both or neither')
    const problem = (name: string) => err.problems.find((p) => p.startsWith(`${name} (`))!
    expect(problem('FAULTLINE_MQTT_PORT')).toMatch(/got "abc"$/)
    expect(problem('FAULTLINE_HTTP_PORT')).toMatch(/65535.*got "70000"$/)
    expect(problem('DATABASE_URL')).toContain('expected a postgres:// or postgresql:// URL')
    expect(problem('FAULTLINE_API_TOKEN')).toContain('must be at least 16 characters')
    // The message lists them all, one per line.
    expect(err.message.split('\n')).toHaveLength(err.problems.length + 1)
    for (const p of err.problems) expect(err.message).toContain(p)
  })

  it('reads the SLA watch settings, and names each bad one', () => {
    expect(loadConfig({}, [])).toMatchObject({ sla: { warnAt: 0.8, calendar: undefined, escalation: 'supervisor' }, slaIntervalMs: 15_000 })
    const set = loadConfig({ FAULTLINE_SLA_WARN_AT: '0.5', FAULTLINE_SLA_CALENDAR: '{"hours":"08:30-17:30"}', FAULTLINE_SLA_ESCALATE: 'priority' }, [])
    expect(set.sla).toMatchObject({ warnAt: 0.5, escalation: 'priority', calendar: { opensMs: 8.5 * 3600_000, closesMs: 17.5 * 3600_000 } })
    const err = configError({
      FAULTLINE_SLA_WARN_AT: '1',
      FAULTLINE_SLA_CALENDAR: '{"hours":"18:00-09:00"}',
      FAULTLINE_SLA_ESCALATE: 'shout',
      FAULTLINE_SLA_INTERVAL_MS: '0',
    })
    expect(err.problems.map((p) => p.split(' ')[0])).toEqual([
      'FAULTLINE_SLA_WARN_AT',
      'FAULTLINE_SLA_CALENDAR',
      'FAULTLINE_SLA_ESCALATE',
      'FAULTLINE_SLA_INTERVAL_MS',
    ])
    expect(configError({ FAULTLINE_SLA_CALENDAR: 'weekdays' }).problems[0]).toContain('expected JSON such as {"hours":"09:00-18:00"')
  })

  it('reports cross-setting problems: a TLS key without a cert, a max age beyond retention', () => {
    expect(configError({ FAULTLINE_TLS_KEY: '/k.pem' }).problems).toEqual(['FAULTLINE_TLS_CERT and FAULTLINE_TLS_KEY go together: set both or neither'])
    expect(configError({ FAULTLINE_RETENTION_DAYS: '10', FAULTLINE_MAX_AGE_MS: String(11 * 24 * 3600_000) }).problems).toEqual([
      expect.stringContaining('FAULTLINE_MAX_AGE_MS must be shorter than the retention period'),
    ])
  })

  it('refuses an unknown flag and a positional argument', () => {
    // A misspelt flag does not take the value after it: that value is reported as stray too.
    expect(configError({}, ['--mqtt-prot', '1884']).problems).toEqual(['unknown flag --mqtt-prot', 'unexpected argument "1884"'])
    expect(configError({}, ['serve']).problems).toEqual(['unexpected argument "serve"'])
    expect(configError({}, ['--mqtt-port']).problems).toEqual(['--mqtt-port needs a value'])
  })

  it('names an unknown flag together with the bad values, not instead of them', () => {
    const err = configError({ FAULTLINE_HTTP_PORT: '70000' }, ['--verbose', '--mqtt-port', 'abc'])
    expect(err.problems).toEqual([
      'unknown flag --verbose',
      expect.stringMatching(/^FAULTLINE_MQTT_PORT \(--mqtt-port\): .*got "abc"$/),
      expect.stringMatching(/^FAULTLINE_HTTP_PORT \(--http-port\): .*got "70000"$/),
    ])
  })

  it('does not echo secrets in a ConfigError: the API token, the database password', () => {
    // The message goes to stderr, and from there to whatever collects the container's output.
    const err = configError({ FAULTLINE_API_TOKEN: 'hunter2-secret', DATABASE_URL: 'mysql://admin:s3cr3t-pw@db/x' })
    expect(err.problems.map((p) => p.split(' ')[0])).toEqual(['DATABASE_URL', 'FAULTLINE_API_TOKEN'])
    expect(err.message).not.toContain('hunter2-secret')
    expect(err.message).not.toContain('s3cr3t-pw')
  })

  it('exits with code 2 and names the problem on stderr when started with a bad flag', async () => {
    const started = await run('npx', ['tsx', 'src/main.ts', '--mqtt-port', 'abc'], {
      cwd: path.resolve(import.meta.dirname, '..'),
      env: { ...process.env, FAULTLINE_DATA_DIR: await mkdtemp(path.join(os.tmpdir(), 'faultline-cfg-')) },
      timeout: 30_000,
    }).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => ({ code: err.code, stderr: err.stderr }),
    )
    expect(started.code).toBe(2)
    expect(started.stderr).toContain('faultline: invalid configuration:')
    expect(started.stderr).toContain('FAULTLINE_MQTT_PORT (--mqtt-port)')
    expect(started.stderr).toContain('got "abc"')
  })
})

describe.each(backends())('MQTT over TLS on the %s backend', (backend) => {
  let fl: TestInstance
  let cert: Buffer
  beforeAll(async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'faultline-tls-'))
    const [keyFile, certFile] = [path.join(dir, 'key.pem'), path.join(dir, 'cert.pem')]
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1', '-keyout', keyFile, '-out', certFile])
    cert = await readFile(certFile)
    fl = await startTest(backend, { FAULTLINE_TLS_CERT: certFile, FAULTLINE_TLS_KEY: keyFile })
  })
  afterAll(() => fl?.close())

  /** How a connection attempt ended: connected, refused with an error, or closed without a CONNACK. */
  const attempt = (url: string, options: IClientOptions) =>
    new Promise<{ outcome: 'connected' | 'error' | 'closed'; client: mqtt.MqttClient; code?: number }>((resolve) => {
      const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: OUTCOME_WAIT_MS, ...options })
      closeWhenTestEnds(() => client.endAsync(true))
      client.once('connect', () => resolve({ outcome: 'connected', client }))
      client.once('error', (err) => resolve({ outcome: 'error', client, code: (err as { code?: number }).code }))
      client.once('close', () => resolve({ outcome: 'closed', client }))
    })

  it('accepts a device over mqtts, verified against the certificate, and stores what it publishes', async () => {
    const token = await fl.registerDevice('tls-1')
    const { outcome, client } = await attempt(`mqtts://127.0.0.1:${fl.faultline.mqttPort}`, {
      username: 'tls-1',
      password: token,
      ca: cert,
      servername: 'localhost',
    })
    expect(outcome).toBe('connected')
    await client.publishAsync('devices/tls-1/telemetry', JSON.stringify({ metrics: { secure: 1 } }), { qos: 1 })
    await client.endAsync()
    const points = await eventually(async () => {
      const p = (await fl.api('GET', '/api/devices/tls-1/telemetry')).body.points
      return p.length > 0 ? p : undefined
    })
    expect(points).toEqual([expect.objectContaining({ metric: 'secure', value: 1 })])
  })

  it('does not speak plain MQTT on the TLS port', async () => {
    const token = await fl.registerDevice('tls-2')
    const { outcome, client } = await attempt(`mqtt://127.0.0.1:${fl.faultline.mqttPort}`, { username: 'tls-2', password: token })
    client.end(true)
    expect(outcome).not.toBe('connected')
    expect((await fl.api('GET', '/api/devices/tls-2')).body.lastSeenAt).toBeNull()
  })

  it('refuses a wrong token over TLS just as over TCP', async () => {
    await fl.registerDevice('tls-3')
    const { outcome, client, code } = await attempt(`mqtts://127.0.0.1:${fl.faultline.mqttPort}`, {
      username: 'tls-3',
      password: 'f'.repeat(64),
      ca: cert,
      servername: 'localhost',
    })
    client.end(true)
    expect({ outcome, code }).toEqual({ outcome: 'error', code: 5 })
  })
})
