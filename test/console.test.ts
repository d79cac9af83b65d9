// The ops console in a real browser (Debian's Chromium, driven by playwright-core) against a real Faultline: a
// person signs in with the API token, a fault published over MQTT reaches the live feed and the open tickets, the
// ticket's page shows its history, the device's page draws its telemetry. Screenshots go to test-artifacts/console/.
import { existsSync } from 'node:fs'
import { mkdir, stat, utimes } from 'node:fs/promises'
import path from 'node:path'
import { chromium, type Browser, type Page, type WebSocketRoute } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildConsole, consoleDist, consoleIsStale, consoleSources } from '../src/console/build.js'
import { CONTENT_SECURITY_POLICY } from '../src/console/index.js'
import type { Fleet } from '../src/api/fleet.js'
import type { Ticket } from '../src/tickets/index.js'
import { API_TOKEN, backends, eventually, startTest, type TestInstance } from './support/faultline.js'
import { connectDevice, tcpUrl } from './support/mqtt.js'
import { OUTCOME_WAIT_MS } from './support/waits.js'

const CHROMIUM = '/usr/bin/chromium'
const present = existsSync(CHROMIUM)
if (!present) console.warn(`console.test: ${CHROMIUM} is absent (apt-get install chromium; .ci/run does): the browser test is skipped`)

const ARTIFACTS = 'test-artifacts/console'
const VIEWPORT = { width: 1600, height: 1000 }
const DEVICE = 'ac-console-01'
/** the air conditioner's E1, as its catalog entry names it */
const FAULT = 'High-pressure protection'

describe('the console build', () => {
  it('is stale when a source is newer than the built page, and fresh once rebuilt', async () => {
    if (await consoleIsStale()) await buildConsole()
    expect(await consoleIsStale()).toBe(false)
    // A source edited after the build (a `git pull`, say): `npm start` must not serve the old bundle.
    const { mtime } = await stat(path.join(consoleSources, 'app.ts'))
    const page = path.join(consoleDist, 'index.html')
    await utimes(page, new Date(), new Date(mtime.getTime() - 60_000))
    expect(await consoleIsStale()).toBe(true)
    await buildConsole()
    expect(await consoleIsStale()).toBe(false)
  })
})

describe.skipIf(!present).each(backends())('the ops console at / (%s backend)', (backend) => {
  let fl: TestInstance
  let base: string
  let browser: Browser
  let page: Page
  /** the page's stream connections in order, each connected to Faultline unless the test held it */
  const sockets: { route: WebSocketRoute; connect: () => void }[] = []
  let holdNextSocket = false
  const shot = (name: string) => page.screenshot({ path: `${ARTIFACTS}/${backend}-${name}.png`, fullPage: true })
  /** every host the page asked for: nothing but Faultline itself (no CDN) */
  const hosts = new Set<string>()
  /** what the page said went wrong: a CSP refusal or an uncaught error shows here */
  const pageErrors: string[] = []

  beforeAll(async () => {
    fl = await startTest(backend)
    base = `http://127.0.0.1:${fl.faultline.httpPort}`
    await mkdir(ARTIFACTS, { recursive: true })
    browser = await chromium.launch({ executablePath: CHROMIUM })
    page = await browser.newPage({ viewport: VIEWPORT })
    page.setDefaultTimeout(OUTCOME_WAIT_MS)
    // Every /ws/faults connection passes through the test, so it can drop one as a network would, and hold the next.
    await page.routeWebSocket(/\/ws\/faults/, (route) => {
      const connect = () => void route.connectToServer()
      sockets.push({ route, connect })
      if (holdNextSocket) holdNextSocket = false
      else connect()
    })
    page.on('request', (req) => void hosts.add(new URL(req.url()).host))
    page.on('pageerror', (err) => void pageErrors.push(err.message))
    // Every answer over 400 but the refused sign-in's 401, and every console error but the browser's line for that 401.
    page.on(
      'response',
      (res) => void (res.status() >= 400 && !(res.status() === 401 && res.url().endsWith('/api/fleet')) && pageErrors.push(`${res.status()} ${res.url()}`)),
    )
    page.on('console', (msg) => void (msg.type() === 'error' && !/status of 401/.test(msg.text()) && pageErrors.push(msg.text())))

    // An air conditioner (a model with a service plan) past its 72-month warranty, with an hour of telemetry
    // behind it, one sample a minute and every reading normal, so the chart has rollups to draw and nothing breaches.
    const token = await fl.registerDevice(DEVICE, {
      model: 'KFR-35GW-BP3DN1',
      customer: { name: 'Li Wei', phone: '138 0000 0187' },
      site: 'Jing’an store 3',
      region: 'Shanghai',
      purchasedAt: '2019-05-20',
    })
    const device = await connectDevice(tcpUrl(fl.faultline.mqttPort), DEVICE, token)
    const now = Date.now()
    const samples = Array.from({ length: 60 }, (_, i) => ({
      ts: now - (59 - i) * 60_000,
      metrics: {
        discharge_pressure: 2.8 + Math.sin(i / 6) * 0.3,
        suction_pressure: 0.85 + Math.cos(i / 9) * 0.05,
        discharge_temp: 78 + Math.sin(i / 4) * 4,
        indoor_coil_temp: 9 + Math.cos(i / 7) * 1.5,
      },
    }))
    await device.publishAsync(`devices/${DEVICE}/telemetry`, JSON.stringify(samples), { qos: 1 })
    // The fault is published once the page is up: it must arrive live, not in the first read.
    deviceClient = device
    // Two more of the fleet with tickets phoned in, so the wall screen has its usual company to sort among.
    for (const [id, model, code, purchasedAt] of [
      ['washer-console-02', 'XQG100-B14376', 'E2', '2025-11-02'],
      ['compressor-console-03', 'LGV-37A-8', 'E01', '2024-01-15'],
    ] as const) {
      await fl.registerDevice(id, { model, purchasedAt, region: 'Suzhou', site: 'Plant 2' })
      const opened = await fl.api('POST', '/api/tickets', { deviceId: id, by: 'call centre', code, note: 'customer phoned' })
      expect(opened.status).toBe(201)
    }
  })
  let deviceClient: Awaited<ReturnType<typeof connectDevice>>

  afterAll(async () => {
    await browser?.close()
    await fl?.close()
  })

  it('serves the page with a strict CSP, hashed assets cached for long, the page itself never cached', async () => {
    const res = await fetch(`${base}/`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY)
    expect(res.headers.get('cache-control')).toBe('no-cache')
    const html = await res.text()
    const script = html.match(/src="(\/console\/main-[A-Z0-9]{8}\.js)"/)?.[1]
    expect(script).toBeDefined()
    const asset = await fetch(base + script)
    expect(asset.status).toBe(200)
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
    expect(asset.headers.get('content-type')).toMatch(/javascript/)
  })

  it('refuses a wrong token with a clear message and keeps nothing', async () => {
    await page.goto(`${base}/`)
    await page.getByLabel('API token').fill('not-the-token-0123456789')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('alert').filter({ hasText: 'That token was refused' }).waitFor()
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0)
    await shot('sign-in-refused')
  })

  it('signs in, and a fault published over MQTT appears in the live feed and the open tickets', async () => {
    await page.getByLabel('API token').fill(API_TOKEN)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('heading', { name: 'Open tickets' }).first().waitFor()
    // Kept for the tab only, and never put in a URL.
    expect(await page.evaluate(() => sessionStorage.getItem('faultline.token'))).toBe(API_TOKEN)
    expect(page.url()).not.toContain(API_TOKEN)
    await page.locator('.stream-live').waitFor()

    await deviceClient.publishAsync(`devices/${DEVICE}/events`, JSON.stringify({ type: 'fault', code: 'E1' }), { qos: 1 })
    const feedRow = page.locator('.feed-row[data-event="ticket.opened"]', { hasText: FAULT })
    await feedRow.waitFor()
    const ticketRow = page.locator('table.tickets tr', { hasText: FAULT })
    await ticketRow.waitFor()
    // The row says what the API says of the ticket: priority, warranty, billing, the quote's total.
    const { body } = await fl.api<{ tickets: Ticket[] }>('GET', `/api/tickets?deviceId=${DEVICE}`)
    const [ticket] = body.tickets
    expect(ticket).toMatchObject({ warranty: { decision: 'out_of_warranty' }, billing: 'chargeable' })
    const row = await ticketRow.innerText()
    expect(row).toContain(ticket!.number)
    expect(row).toContain(ticket!.priority)
    expect(row).toContain('Out of warranty')
    expect(row).toMatch(/chargeable/i)
    expect(row).toContain(`${ticket!.quote!.total.toFixed(2)} ${ticket!.quote!.currency}`)
    // Both countdowns tick in the browser: the respond one reads less from one second to the next.
    const respond = ticketRow.locator('.sla').first()
    const first = await respond.innerText()
    expect(first).toMatch(/^\d:\d\d:\d\d$/)
    await page.waitForFunction((before) => document.querySelector('table.tickets .sla')?.textContent !== before, first)
    await page.locator('table.tickets tbody tr').nth(2).waitFor() // the phoned-in two and this one
    // The fleet at a glance counts what the API counts: three devices, one heard from; the tickets by priority.
    const { body: fleet } = await fl.api<Fleet>('GET', '/api/fleet')
    expect(fleet.devices).toEqual({ online: 1, silent: 0, neverSeen: 2 })
    expect(Object.values(fleet.openTickets).reduce((a, b) => a + b)).toBe(3)
    const counts = { online: 1, silent: 0, 'never seen': 2, ...fleet.openTickets }
    for (const [label, n] of Object.entries(counts)) await page.locator(`[data-kpi="${label}"] .kpi-value`, { hasText: new RegExp(`^${n}$`) }).waitFor()
    await shot('overview')
  })

  it('after a dropped connection, resumes from the last id it saw: what happened meanwhile arrives, nothing twice', async () => {
    const lastId = await page.locator('.feed-row').first().getAttribute('data-id')
    const opened = sockets.length
    holdNextSocket = true
    await sockets.at(-1)!.route.close()
    await page.locator('.stream-reconnecting').waitFor()
    await expect.poll(() => sockets.length, { timeout: OUTCOME_WAIT_MS }).toBe(opened + 1)
    const resumed = sockets.at(-1)!
    expect(new URL(resumed.route.url()).searchParams.get('after')).toBe(lastId)
    // While the console is away a second fault opens a ticket (the E2 anti-freeze protection, minor: P3)...
    await deviceClient.publishAsync(`devices/${DEVICE}/events`, JSON.stringify({ type: 'fault', code: 'E2' }), { qos: 1 })
    await eventually(async () => {
      const { body } = await fl.api<{ tickets: Ticket[] }>('GET', `/api/tickets?deviceId=${DEVICE}`)
      return body.tickets.length === 2 ? true : undefined
    })
    // ...and reaches the feed once the connection is back, from storage; the first fault is not shown again.
    resumed.connect()
    await page.locator('.feed-row[data-event="ticket.opened"]', { hasText: 'Indoor coil anti-freeze protection' }).waitFor()
    await page.locator('.stream-live').waitFor()
    expect(await page.locator('.feed-row[data-event="ticket.opened"]', { hasText: FAULT }).count()).toBe(1)
    const ids = await page.locator('.feed-row').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-id'))))
    expect(ids).toEqual([...ids].sort((a, b) => b - a)) // newest first
    expect(new Set(ids).size).toBe(ids.length)
  })

  it("opens the ticket's page with its history", async () => {
    await page
      .locator('table.tickets tr', { hasText: FAULT })
      .getByRole('link', { name: /^SR\d{11,}$/ })
      .click()
    await page.locator('.ticket-page h1', { hasText: FAULT }).waitFor()
    await page.locator('.timeline li', { hasText: 'opened' }).first().waitFor()
    const quote = await page.locator('table.quote').innerText()
    expect(quote).toContain('Total')
    expect(quote).toMatch(/\d+\.\d\d CNY/)
    await shot('ticket')
  })

  it("opens the device's page: its chart drawn from the rollups, its ticket, its service plans", async () => {
    await page.locator('.ticket-page .sub').getByRole('link', { name: DEVICE }).click()
    await page.locator('.device-page h1', { hasText: DEVICE }).waitFor()
    // The avg line's colour on the canvas: the chart holds data, not just its axes.
    await page.waitForFunction(() => {
      const canvas = document.querySelector<HTMLCanvasElement>('.telemetry canvas')
      const pixels = canvas?.getContext('2d')?.getImageData(0, 0, canvas.width, canvas.height).data
      let drawn = 0
      for (let i = 0; pixels && i < pixels.length; i += 4) if (pixels[i]! < 110 && pixels[i + 1]! > 170 && pixels[i + 2]! > 210) drawn++
      return drawn > 200
    })
    expect(await page.getByLabel('metric').inputValue()).toBe('discharge_pressure')
    await page.getByLabel('metric').selectOption('indoor_coil_temp')
    await page.locator('.device-page table.tickets', { hasText: FAULT }).waitFor()
    const plan = page.locator('.plans li', { hasText: 'Pre-season cleaning and check' })
    await plan.waitFor()
    expect(await plan.innerText()).toMatch(/next due\s+\d{4}-\d\d-\d\d/i)
    await shot('device')
  })

  it('fetched nothing from another host and broke no policy', () => {
    expect([...hosts]).toEqual([new URL(base).host])
    expect(pageErrors).toEqual([])
  })
})
