// The HTTP API as the tests and the bench call it: JSON in, JSON (or text) out, a bearer token by default.
// The body is JSON from whichever route was called: a caller names T for the shape it relies on, or reads what it
// asserts on as it comes (typing every response here would re-declare the API's own shapes).
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above
export type ApiCall = <T = any>(method: string, url: string, body?: unknown, token?: string) => Promise<{ status: number; body: T }>

export function apiClient(base: string, defaultToken: string): ApiCall {
  return async (method, url, body, token = defaultToken) => {
    const res = await fetch(base + url, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await res.text()
    return { status: res.status, body: text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text || undefined }
  }
}

/** Registers a device (a refrigerator bought 2025-06-01 unless `extra` says otherwise) and returns its MQTT token. */
export async function registerDevice(api: ApiCall, id: string, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await api('POST', '/api/devices', { id, model: 'BCD-516WDVL', serial: `SN-${id}`, purchasedAt: '2025-06-01', ...extra })
  if (res.status !== 201) throw new Error(`registering ${id}: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body.token as string
}
