// The HTTP API's contract: bearer auth on every /api route, the open operations routes, device registration
// and its validation errors, JSON 404s, pagination, and the telemetry query's parameters.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { API_TOKEN, backends, eventually, startTest, type TestInstance } from './support/faultline.js'
import { connectDevice, tcpUrl } from './support/mqtt.js'
import { fillParams, listApiRoutes } from './support/routes.js'

const registeredRoutes = await listApiRoutes()

describe.each(backends())('HTTP API on the %s backend', (backend) => {
  let fl: TestInstance
  let base: string
  beforeAll(async () => {
    fl = await startTest(backend)
    base = `http://127.0.0.1:${fl.faultline.httpPort}`
    await fl.registerDevice('x') // the routes below name it: a refusal is not a 404
  })
  afterAll(() => fl?.close())

  /** A request with exactly these headers: no default token. */
  async function request(method: string, url: string, headers: Record<string, string> = {}, body?: unknown) {
    const res = await fetch(base + url, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    return { status: res.status, contentType: res.headers.get('content-type'), body: await res.json() }
  }

  const newDevice = (id: string) => ({ id, model: 'BCD-516WDVL', serial: `SN-${id}`, purchasedAt: '2025-06-01' })

  describe('authentication', () => {
    // Every registered /api route, so a new one joins the matrix by itself; a valid body for POST /api/devices,
    // so the only thing wrong with the request is its credentials.
    const routes = registeredRoutes.map(({ method, url }) => {
      const path = fillParams(url, () => 'x')
      return [method, path, method === 'POST' && path === '/api/devices' ? newDevice('unauth-1') : method === 'POST' ? {} : undefined] as const
    })
    const credentials: [what: string, headers: Record<string, string>][] = [
      ['no Authorization header', {}],
      ['a wrong bearer token', { authorization: `Bearer ${API_TOKEN.replace(/.$/, 'X')}` }],
      ['an empty bearer token', { authorization: 'Bearer ' }],
      ['the right token in another scheme', { authorization: `Basic ${API_TOKEN}` }],
      ['a malformed Authorization header', { authorization: `Bearer${API_TOKEN}` }],
      ['the token alone', { authorization: API_TOKEN }],
    ]
    it('covers every /api route', () => expect(routes.length).toBeGreaterThanOrEqual(13))
    it.each(routes.flatMap(([method, url, body]) => credentials.map(([what, headers]) => [method, url, what, headers, body] as const)))(
      '%s %s answers 401 JSON with %s',
      async (method, url, _what, headers, body) => {
        const res = await request(method, url, headers, body)
        expect(res.status).toBe(401)
        expect(res.contentType).toMatch(/^application\/json/)
        expect(res.body).toEqual({ error: 'unauthorized', message: expect.any(String) })
      },
    )

    it('does not act on a refused request: no device registered, no token rotated, no ticket opened', async () => {
      const token = await fl.registerDevice('unauth-rot')
      for (const [what, headers] of credentials) {
        expect((await request('POST', '/api/devices', headers, newDevice('unauth-2'))).status, what).toBe(401)
        expect((await request('POST', '/api/devices/unauth-rot/token', headers)).status, what).toBe(401)
        expect((await request('POST', '/api/tickets', headers, { deviceId: 'unauth-rot', by: 'desk', title: 'refused' })).status, what).toBe(401)
      }
      expect((await fl.api('GET', '/api/devices/unauth-2')).status).toBe(404)
      expect((await fl.api('GET', '/api/tickets?deviceId=unauth-rot')).body.tickets).toEqual([])
      // The original token still connects: none of the refused POST /token requests rotated it.
      const client = await connectDevice(tcpUrl(fl.faultline.mqttPort), 'unauth-rot', token)
      await client.endAsync()
    })

    it('serves /healthz and /readyz without a token', async () => {
      expect(await request('GET', '/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } })
      expect(await request('GET', '/readyz')).toMatchObject({ status: 200, body: { status: 'ready', database: 'ok', broker: 'ok' } })
    })
  })

  describe('POST /api/devices', () => {
    it('answers 201 with the device and its token, and 409 for an id already registered', async () => {
      const input = { ...newDevice('reg-1'), installedAt: '2025-06-10', customer: { name: 'Ada', phone: '+1 555' }, site: 'Kitchen', region: 'EU' }
      const res = await fl.api('POST', '/api/devices', input)
      expect(res.status).toBe(201)
      expect(res.body).toEqual({
        device: { ...input, createdAt: expect.any(String), lastSeenAt: null },
        token: expect.stringMatching(/^[0-9a-f]{64}$/),
      })
      expect(await fl.api('GET', '/api/devices/reg-1')).toEqual({ status: 200, body: res.body.device })

      const again = await fl.api('POST', '/api/devices', { ...newDevice('reg-1'), model: 'LGV-37A-8' })
      expect(again.status).toBe(409)
      expect(again.body).toEqual({ error: 'conflict', message: expect.stringContaining('reg-1') })
      // The conflict changed nothing.
      expect((await fl.api('GET', '/api/devices/reg-1')).body.model).toBe('BCD-516WDVL')
    })

    it('answers 400 naming every bad field, in the message and in issues[].field', async () => {
      const res = await fl.api('POST', '/api/devices', { id: 'bad/id', model: '', serial: 'SN-1', purchasedAt: '2025-13-40', color: 'red' })
      expect(res.status).toBe(400)
      expect(res.body.error).toBe('bad_request')
      const fields = res.body.issues.map((i: { field: string }) => i.field)
      expect(fields).toEqual(expect.arrayContaining(['body.id', 'body.model', 'body.purchasedAt']))
      // The unknown key is reported on the body itself, by name.
      expect(res.body.issues).toContainEqual({ field: 'body', message: expect.stringContaining('color') })
      expect(res.body.issues).toHaveLength(4)
      for (const name of ['body.id', 'body.model', 'body.purchasedAt', 'color']) expect(res.body.message).toContain(name)
      expect((await fl.api('GET', '/api/devices?limit=1000')).body.devices.map((d: { id: string }) => d.id)).not.toContain('bad/id')
    })

    it('refuses a model the catalog does not know, naming the models it does', async () => {
      const res = await fl.api('POST', '/api/devices', { ...newDevice('reg-unknown-model'), model: 'XYZ-1' })
      expect(res.status).toBe(400)
      expect(res.body.message).toMatch(/^body\.model: unknown model XYZ-1; the catalog has .*BCD-516WDVL/)
      expect((await fl.api('GET', '/api/devices/reg-unknown-model')).status).toBe(404)
    })

    it('answers 400 for a missing required field and for a body that is not JSON', async () => {
      const missing = await fl.api('POST', '/api/devices', { id: 'reg-2', model: 'BCD-516WDVL', serial: 'SN' })
      expect(missing.status).toBe(400)
      expect(missing.body.issues).toEqual([{ field: 'body.purchasedAt', message: expect.any(String) }])

      const res = await fetch(`${base}/api/devices`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
        body: '{"id":',
      })
      expect(res.status).toBe(400)
      expect(await res.json()).toEqual({ error: expect.any(String), message: expect.any(String) })
    })
  })

  describe('not found', () => {
    it('answers 404 JSON for an unknown device, its token rotation, its telemetry and maintenance, and an unknown route', async () => {
      for (const [method, url] of [
        ['GET', '/api/devices/nobody'],
        ['POST', '/api/devices/nobody/token'],
        ['GET', '/api/devices/nobody/telemetry'],
        ['GET', '/api/devices/nobody/maintenance'],
      ] as const) {
        const res = await fl.api(method, url)
        expect(res).toEqual({ status: 404, body: { error: 'not_found', message: 'device nobody does not exist' } })
      }
      for (const url of ['/api/nothing-here', '/nothing-here']) {
        const res = await fl.api('GET', `${url}?q=1`)
        expect(res).toEqual({ status: 404, body: { error: 'not_found', message: `no route GET ${url}` } })
      }
    })

    it('answers 400, not 404, for a device id that could never exist', async () => {
      const res = await fl.api('GET', '/api/devices/a%2Fb')
      expect(res.status).toBe(400)
      expect(res.body.issues.map((i: { field: string }) => i.field)).toEqual(['params.id'])
    })
  })

  describe('GET /api/devices', () => {
    it('pages through every device in id order with limit, after and next', async () => {
      for (const id of ['page-c', 'page-a', 'page-e', 'page-b', 'page-d']) await fl.registerDevice(id)
      const all = (await fl.api('GET', '/api/devices?limit=1000')).body
      const ids: string[] = all.devices.map((d: { id: string }) => d.id)
      expect(all.next).toBeNull()
      expect(ids).toEqual([...ids].sort())
      expect(ids.filter((id) => id.startsWith('page-'))).toEqual(['page-a', 'page-b', 'page-c', 'page-d', 'page-e'])

      const walked: string[] = []
      let after: string | null = null
      for (let pages = 0; ; pages++) {
        expect(pages).toBeLessThan(ids.length + 2)
        const res: { status: number; body: { devices: { id: string }[]; next: string | null } } = await fl.api(
          'GET',
          `/api/devices?limit=2${after ? `&after=${after}` : ''}`,
        )
        expect(res.status).toBe(200)
        expect(res.body.devices.length).toBeLessThanOrEqual(2)
        walked.push(...res.body.devices.map((d) => d.id))
        // next is the last id of a full page, null once a page comes back short
        expect(res.body.next).toBe(res.body.devices.length === 2 ? res.body.devices[1]!.id : null)
        if (!res.body.next) break
        after = res.body.next
      }
      expect(walked).toEqual(ids)

      const page = (await fl.api('GET', '/api/devices?limit=2&after=page-b')).body
      expect(page).toMatchObject({ devices: [{ id: 'page-c' }, { id: 'page-d' }], next: 'page-d' })
    })

    it.each(['0', '1001', 'two'])('answers 400 for limit=%s', async (limit) => {
      const res = await fl.api('GET', `/api/devices?limit=${limit}`)
      expect(res.status).toBe(400)
      expect(res.body.issues.map((i: { field: string }) => i.field)).toEqual(['querystring.limit'])
    })
  })

  describe('GET /api/devices/:id/telemetry', () => {
    const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 2 * 3_600_000 // two hours ago, on the hour
    beforeAll(async () => {
      const client = await connectDevice(tcpUrl(fl.faultline.mqttPort), 'q-1', await fl.registerDevice('q-1'))
      const samples = Array.from({ length: 6 }, (_, i) => ({ ts: hour + i * 10 * 60_000, metrics: { temp: i } })) // every 10 minutes
      await client.publishAsync('devices/q-1/telemetry', JSON.stringify(samples), { qos: 1 })
      await client.endAsync()
      await eventually(async () => ((await fl.api('GET', `/api/devices/q-1/telemetry?from=${hour}`)).body.points.length === 6 ? true : undefined))
    })
    const values = async (query: string) => {
      const res = await fl.api('GET', `/api/devices/q-1/telemetry?${query}`)
      expect(res.status, query).toBe(200)
      return res.body.points.map((p: { value: number }) => p.value)
    }

    it('takes from and to as ISO-8601 strings or epoch milliseconds alike, from inclusive, to exclusive', async () => {
      const from = hour + 10 * 60_000
      const to = hour + 40 * 60_000
      const iso = (ms: number) => new Date(ms).toISOString()
      const offset = (ms: number) => new Date(ms + 2 * 3_600_000).toISOString().replace('Z', '+02:00')
      expect(await values(`from=${from}&to=${to}`)).toEqual([1, 2, 3])
      expect(await values(`from=${iso(from)}&to=${iso(to)}`)).toEqual([1, 2, 3])
      expect(await values(`from=${encodeURIComponent(offset(from))}&to=${to}`)).toEqual([1, 2, 3])
      expect(await values(`from=${iso(from)}&to=${to}`)).toEqual([1, 2, 3])
    })

    it('answers 400 for a bad bucket, a bad time, and from after to', async () => {
      const cases: [query: string, field: string][] = [
        ['bucket=7x', 'querystring.bucket'],
        ['bucket=0m', 'querystring.bucket'],
        ['from=yesterday', 'querystring.from'],
        ['to=2025-01-01T00:00:00', 'querystring.to'], // no offset: ambiguous
        ['metric=bad%20name', 'querystring.metric'],
      ]
      for (const [query, field] of cases) {
        const res = await fl.api('GET', `/api/devices/q-1/telemetry?${query}`)
        expect(res.status, query).toBe(400)
        expect(
          res.body.issues.map((i: { field: string }) => i.field),
          query,
        ).toEqual([field])
      }
      const reversed = await fl.api('GET', `/api/devices/q-1/telemetry?from=${hour + 60_000}&to=${hour}`)
      expect(reversed).toEqual({ status: 400, body: { error: 'bad_request', message: 'querystring.from: must not be after to' } })
    })

    it('buckets with a valid bucket spec', async () => {
      const res = await fl.api('GET', `/api/devices/q-1/telemetry?metric=temp&from=${hour}&to=${hour + 3_600_000}&bucket=30m`)
      expect(res.status).toBe(200)
      expect(res.body.bucketSeconds).toBe(1800)
      expect(res.body.points.map((p: { count: number; min: number; max: number }) => [p.count, p.min, p.max])).toEqual([
        [3, 0, 2],
        [3, 3, 5],
      ])
    })
  })
})
