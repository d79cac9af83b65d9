// The OpenAPI document (issue 9): served at /openapi.json without a token, valid OpenAPI 3, listing every
// registered route with the response schema of its success status, the bearer scheme declared for /api; and
// Swagger UI at /docs rendering it in a real browser from Faultline's own assets, with no request to another host.
import { execFileSync } from 'node:child_process'
import { mkdir } from 'node:fs/promises'
import { chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTest, type TestInstance } from './support/faultline.js'
import { listApiRoutes } from './support/routes.js'

/** The operations routes, outside /api (src/api/operations.ts). */
const operationsRoutes = [
  { method: 'GET', url: '/healthz' },
  { method: 'GET', url: '/readyz' },
  { method: 'GET', url: '/metrics' },
]
const apiRoutes = await listApiRoutes()

/** /api/devices/:id → /api/devices/{id}, as OpenAPI names path parameters. */
const openApiPath = (url: string) => url.replace(/:(\w+)/g, '{$1}')

interface Operation {
  security?: Record<string, string[]>[]
  responses: Record<string, { content?: Record<string, { schema?: object }> }>
}
interface Document {
  openapi: string
  info: { title: string; version: string }
  paths: Record<string, Record<string, Operation>>
  components?: { securitySchemes?: Record<string, { type: string; scheme?: string }> }
}

/** Debian's Chromium, found at run time; undefined where it is not installed. */
function findChromium(): string | undefined {
  try {
    return execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim() || undefined
  } catch {
    return undefined
  }
}
const chromiumPath = findChromium()
if (!chromiumPath && !process.env.CI) console.warn('openapi.test: chromium is not installed (apt-get install chromium): the /docs browser test is skipped')

describe('the OpenAPI document and /docs', () => {
  let fl: TestInstance
  let base: string
  let doc: Document
  beforeAll(async () => {
    // The document is built from the routes alone: one backend is enough.
    fl = await startTest('embedded')
    base = `http://127.0.0.1:${fl.faultline.httpPort}`
    const res = await fetch(`${base}/openapi.json`) // no token: it describes, it holds no data
    expect(res.status).toBe(200)
    doc = (await res.json()) as Document
  })
  afterAll(() => fl?.close())

  it('is OpenAPI 3 with paths', () => {
    expect(doc.openapi).toMatch(/^3\.\d+\.\d+$/)
    expect(doc.info.title).toBe('Faultline')
    expect(typeof doc.info.version).toBe('string')
    expect(Object.keys(doc.paths).length).toBeGreaterThan(0)
    // Documentation routes describe the API; they are not part of it.
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/docs') || p === '/openapi.json')).toEqual([])
  })

  it.each([...apiRoutes, ...operationsRoutes].map((r) => [`${r.method} ${r.url}`, r] as const))(
    'lists %s with the response schema of its success status',
    (_, route) => {
      const operation = doc.paths[openApiPath(route.url)]?.[route.method.toLowerCase()]
      expect(operation, `${route.method} ${route.url} is missing from /openapi.json`).toBeDefined()
      const success = Object.entries(operation!.responses).filter(([status]) => /^2\d\d$/.test(status))
      expect(success.length, `${route.method} ${route.url} declares no 2xx response`).toBeGreaterThan(0)
      for (const [status, response] of success) {
        const schemas = Object.values(response.content ?? {}).map((c) => c.schema)
        expect(schemas.length, `${route.method} ${route.url} ${status} has no schema`).toBeGreaterThan(0)
        for (const schema of schemas) expect(schema).toEqual(expect.any(Object))
      }
    },
  )

  it('declares the bearer scheme, required by every /api operation and by no operations route', () => {
    expect(doc.components?.securitySchemes).toEqual({ bearer: expect.objectContaining({ type: 'http', scheme: 'bearer' }) })
    for (const { method, url } of apiRoutes) {
      const operation = doc.paths[openApiPath(url)]?.[method.toLowerCase()]
      expect(operation?.security, `${method} ${url}`).toEqual([{ bearer: [] }])
      expect(Object.keys(operation?.responses ?? {}), `${method} ${url} can answer 401`).toContain('401')
    }
    for (const { method, url } of operationsRoutes) expect(doc.paths[url]?.[method.toLowerCase()]?.security, `${method} ${url}`).toBeUndefined()
  })

  it('declares the shared error body for the errors a route gives', () => {
    const notFound = doc.paths['/api/devices/{id}']?.get?.responses['404']?.content?.['application/json']?.schema
    expect(notFound).toMatchObject({ type: 'object', properties: { error: { type: 'string' }, message: { type: 'string' } }, required: ['error', 'message'] })
  })

  it.skipIf(!chromiumPath && !process.env.CI)('/docs renders the operations in a real browser, from Faultline alone', async () => {
    if (!chromiumPath) throw new Error('chromium is not installed (apt-get install chromium): the /docs browser test cannot run in CI')
    const browser = await chromium.launch({ executablePath: chromiumPath })
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 2000 } })
      const hosts = new Set<string>()
      page.on('request', (req) => {
        const url = new URL(req.url())
        if (url.protocol === 'http:' || url.protocol === 'https:' || url.protocol === 'ws:' || url.protocol === 'wss:') hosts.add(url.hostname)
      })
      const res = await page.goto(`${base}/docs`)
      expect(res?.status()).toBe(200)
      // Swagger UI fetches the document and renders one block per operation.
      const register = page.locator('.opblock-post', { has: page.locator('[data-path="/api/devices"]') })
      await register.first().waitFor({ state: 'visible' })
      expect(await register.count()).toBe(1)
      expect(await page.locator('.opblock').count()).toBeGreaterThanOrEqual(apiRoutes.length + operationsRoutes.length)
      await expect(page.locator('.btn.authorize').isVisible()).resolves.toBe(true)
      await mkdir('test-artifacts', { recursive: true })
      await page.screenshot({ path: 'test-artifacts/docs.png' })
      expect([...hosts]).toEqual(['127.0.0.1'])
    } finally {
      await browser.close()
    }
  })
})
