// Request fields the database cannot store are refused with a 400 naming the field, not a 500 from the
// database (issue 8, item 12); and a statement the database refuses leaves neither its parameters nor its
// values in the log.
import { mkdtempSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Writable } from 'node:stream'
import pg from 'pg'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFaultline, type Faultline } from '../src/main.js'
import { openStore, type Database } from '../src/store/index.js'
import { apiClient, type ApiCall } from './support/api-client.js'
import { API_TOKEN, backends, startTestInstance, testConfig, type Backend, type TestInstance } from './support/faultline.js'
import { freshDatabase } from './support/postgres.js'

const device = (id: string, extra: Record<string, unknown> = {}) => ({ id, model: 'BCD-516WDVL', serial: `SN-${id}`, purchasedAt: '2025-06-01', ...extra })

/** A logger whose lines the test reads back. */
function capturedLog() {
  const lines: string[] = []
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString())
      done()
    },
  })
  return { log: pino({ level: 'info' }, stream), text: () => lines.join('') }
}

describe.each(backends())('request fields on the %s backend', (backend) => {
  let fl: TestInstance
  let ticket: { id: number; number: string }
  beforeAll(async () => {
    fl = await startTestInstance(await testConfig(backend))
    await fl.registerDevice('in-1')
    const opened = await fl.api('POST', '/api/tickets', { deviceId: 'in-1', by: 'desk', title: 'Noisy compressor' })
    expect(opened.status).toBe(201)
    ticket = opened.body
  })
  afterAll(() => fl?.close())

  const expectBadField = (res: { status: number; body: unknown }, field: string) => {
    expect(res.status).toBe(400)
    expect(res.body).toMatchObject({ error: 'bad_request', message: expect.stringContaining(field) })
  }

  it('refuses a ticket id beyond int64 (or 0) with a 400, and answers 404 for the largest int64 that has no ticket', async () => {
    for (const id of ['9223372036854775808', '99999999999999999999', '0']) {
      expectBadField(await fl.api('GET', `/api/tickets/${id}`), 'params.id')
      expectBadField(await fl.api('POST', `/api/tickets/${id}/transitions`, { to: 'acknowledged', by: 'desk' }), 'params.id')
    }
    expect((await fl.api('GET', '/api/tickets/9223372036854775807')).status).toBe(404)
    expect((await fl.api('GET', `/api/tickets/${ticket.id}`)).status).toBe(200)
    expect((await fl.api('GET', `/api/tickets/${ticket.number}`)).status).toBe(200)
  })

  it.each([
    ['a NUL', 'a\u0000b'],
    ['a lone high surrogate', 'a\ud800b'],
    ['a lone low surrogate', '\udc00'],
  ])('refuses %s in any string field, naming it, and stores nothing of the request', async (_what, bad) => {
    const id = `str-${bad.codePointAt(1) ?? 0}`
    expectBadField(await fl.api('POST', '/api/devices', device(id, { serial: bad })), 'body.serial')
    expectBadField(await fl.api('POST', '/api/devices', device(id, { customer: { name: bad } })), 'body.customer.name')
    expectBadField(await fl.api('POST', '/api/devices', device(id, { site: bad })), 'body.site')
    expect((await fl.api('GET', `/api/devices/${id}`)).status).toBe(404)

    expectBadField(await fl.api('POST', '/api/tickets', { deviceId: 'in-1', by: 'desk', title: bad }), 'body.title')
    expectBadField(await fl.api('POST', '/api/tickets', { deviceId: 'in-1', by: 'desk', title: 'Leak', note: bad }), 'body.note')
    expectBadField(await fl.api('POST', `/api/tickets/${ticket.id}/transitions`, { to: 'acknowledged', by: bad }), 'body.by')
    // The refused transition changed nothing.
    expect((await fl.api('GET', `/api/tickets/${ticket.id}`)).body.status).toBe('open')
  })

  it('refuses dates in year 0000 and before 1900, and days that do not exist; accepts 9999-12-31', async () => {
    for (const date of ['0000-01-01', '0099-06-01', '1899-12-31', '2025-02-29']) {
      expectBadField(await fl.api('POST', '/api/devices', device('date-1', { purchasedAt: date })), 'body.purchasedAt')
      expectBadField(await fl.api('POST', '/api/devices', device('date-1', { warrantyExtendedUntil: date })), 'body.warrantyExtendedUntil')
    }
    expect((await fl.api('POST', '/api/devices', device('date-1', { warrantyExtendedUntil: '9999-12-31' }))).status).toBe(201)
  })

  it('refuses telemetry from/to outside the instant range, in either form, and answers within it', async () => {
    const outside = ['99999999999999999', '8640000000000001', '0000-01-01T00:00:00Z', '1969-12-31T23:59:59Z', '9999-12-31T23:59:59-01:00']
    for (const when of outside) {
      expectBadField(await fl.api('GET', `/api/devices/in-1/telemetry?from=${encodeURIComponent(when)}`), 'querystring.from')
      expectBadField(await fl.api('GET', `/api/devices/in-1/telemetry?to=${encodeURIComponent(when)}`), 'querystring.to')
    }
    const edges = await fl.api('GET', `/api/devices/in-1/telemetry?from=0&to=${encodeURIComponent('9999-12-31T23:59:59.999Z')}&bucket=1h`)
    expect(edges).toMatchObject({ status: 200, body: { points: [] } })
    // The default window, a day before `to`, reaches before the epoch: still a storable instant.
    expect((await fl.api('GET', '/api/devices/in-1/telemetry?to=0')).status).toBe(200)
  })

  it('refuses a phone report dated outside the instant range', async () => {
    for (const at of ['0000-01-01T00:00:00Z', '1969-12-31T23:59:59Z', '9999-12-31T23:59:59-01:00']) {
      expectBadField(await fl.api('POST', '/api/tickets', { deviceId: 'in-1', by: 'desk', title: 'Leak', at }), 'body.at')
    }
  })
})

/** Parameters that must never reach a log: a device's salted token hash and its customer's personal data. */
const SECRET_HASH = 'c0ffee'.repeat(5) + '00:' + 'ab'.repeat(32)
const CUSTOMER = { name: 'Wang Xiaoming', phone: '+86 138 0013 8000', address: 'No. 8 Jianguo Road' }
const personal = [SECRET_HASH, CUSTOMER.name, CUSTOMER.phone, CUSTOMER.address]

describe.each(backends())('database errors on the %s backend', (backend: Backend) => {
  let db: Database
  beforeAll(async () => {
    const store = await openStore(
      {
        databaseUrl: backend === 'server' ? await freshDatabase() : undefined,
        dataDir: mkdtempSync(path.join(os.tmpdir(), 'faultline-dberr-')),
        retentionDays: 365,
      },
      pino({ level: 'silent' }),
    )
    db = store.db
    await db.query(`ALTER TABLE devices ADD CONSTRAINT refuse_wang CHECK (customer->>'name' <> 'Wang Xiaoming') NOT VALID`)
  })
  afterAll(() => db?.close())

  const insert = `INSERT INTO devices (id, model, serial, purchased_at, customer, token_hash) VALUES ($1, $2, $3, $4, $5, $6)`
  const params = (id: string) => [id, 'BCD-516WDVL', 'SN-1', '2025-06-01', JSON.stringify(CUSTOMER), SECRET_HASH]

  /** The log line an `err` makes (as the HTTP error handler and the writer log them), and the error itself. */
  async function logged(statement: Promise<unknown>): Promise<{ line: string; err: Record<string, unknown> }> {
    const err = await statement.then(
      () => expect.unreachable('the statement should have failed'),
      (e: unknown) => e as Record<string, unknown>,
    )
    const { log, text } = capturedLog()
    log.error({ err }, 'request failed')
    return { line: text(), err }
  }

  const expectNoValues = (line: string) => {
    for (const value of personal) expect(line).not.toContain(value)
    expect(line).not.toContain('INSERT INTO')
    expect(line).not.toContain('Failing row')
  }

  it('logs a check violation with its SQLSTATE and constraint, without the row, the statement or its parameters', async () => {
    const { line, err } = await logged(db.query(insert, params('err-1')))
    expectNoValues(line)
    // What the pipeline and an operator need survives: the SQLSTATE class, the constraint, the table.
    expect(err).toMatchObject({ code: '23514', constraint: 'refuse_wang', table: 'devices' })
    expect(JSON.parse(line).err.message).toMatch(/violates check constraint "refuse_wang"/)
  })

  it('logs a unique violation without the key value, also from inside a transaction', async () => {
    const other = [...params('err-2')]
    other[4] = JSON.stringify({ ...CUSTOMER, name: 'someone else' })
    await db.query(insert, other)
    const { line, err } = await logged(db.transaction((tx) => tx.query(insert, other)))
    expectNoValues(line)
    expect(line).not.toContain('err-2')
    expect(err).toMatchObject({ code: '23505' })
  })

  it('masks a parameter the message quotes', async () => {
    const { line, err } = await logged(db.query('SELECT $1::int', [CUSTOMER.name]))
    expectNoValues(line)
    expect(err).toMatchObject({ code: '22P02' })
  })
})

// The whole path on a server whose table refuses a row: the HTTP 500's log line has none of the request's values.
describe.runIf(backends().includes('server'))('a failed registration over HTTP on the server backend', () => {
  let faultline: Faultline
  let api: ApiCall
  const captured = capturedLog()
  beforeAll(async () => {
    const url = await freshDatabase()
    faultline = await startFaultline(await testConfig('server', { DATABASE_URL: url }), captured.log)
    api = apiClient(`http://127.0.0.1:${faultline.httpPort}`, API_TOKEN)
    const admin = new pg.Client({ connectionString: url })
    await admin.connect()
    await admin.query(`ALTER TABLE devices ADD CONSTRAINT refuse_wang CHECK (customer->>'name' <> 'Wang Xiaoming') NOT VALID`)
    await admin.end()
  })
  afterAll(() => faultline?.close())

  it('answers 500 and logs the failure without the customer, the token hash or the statement', async () => {
    const res = await api('POST', '/api/devices', device('leak-1', { customer: CUSTOMER }))
    expect(res).toMatchObject({ status: 500, body: { error: 'internal_error' } })
    const line = captured
      .text()
      .split('\n')
      .find((l) => l.includes('request failed'))
    expect(line).toBeDefined()
    for (const value of [CUSTOMER.name, CUSTOMER.phone, CUSTOMER.address, 'SN-leak-1', 'INSERT INTO', 'Failing row']) expect(line).not.toContain(value)
    // The stored token hash has this shape; none may appear.
    expect(line).not.toMatch(/[0-9a-f]{32}:[0-9a-f]{64}/)
  })
})
