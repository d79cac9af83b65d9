// The API as the console calls it: the signed-in token as a bearer header, JSON back. The token lives in
// sessionStorage only (issue 10: kept in the browser session, never in a URL that gets logged).
import type { z } from 'zod'
import type { Fleet } from '../src/api/fleet.js'
import type { Device } from '../src/devices/index.js'
import type { planStatusJson } from '../src/maintenance/index.js'
import type { Ticket, ticketWithHistorySchema } from '../src/tickets/index.js'

export type { Device, Fleet, Ticket }
export type TicketWithHistory = z.infer<typeof ticketWithHistorySchema>
export type ServicePlanStatus = z.infer<typeof planStatusJson>
export type Bucket = { time: string; metric: string; avg: number; min: number; max: number; count: number }

const TOKEN_KEY = 'faultline.token'

export const storedToken = () => sessionStorage.getItem(TOKEN_KEY)
export const keepToken = (token: string) => sessionStorage.setItem(TOKEN_KEY, token)
export const forgetToken = () => sessionStorage.removeItem(TOKEN_KEY)

/** A 401: the token is wrong or was changed; the console goes back to sign-in. */
export class Unauthorized extends Error {}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

const signOutListeners = new Set<() => void>()
export const onSignedOut = (listener: () => void) => (signOutListeners.add(listener), () => signOutListeners.delete(listener))

export async function getJson<T>(path: string, token = storedToken()): Promise<T> {
  const res = await fetch(path, { headers: { authorization: `Bearer ${token ?? ''}`, accept: 'application/json' } })
  if (res.status === 401) throw new Unauthorized('the API token was refused')
  const body = await res.json().catch(() => undefined)
  if (!res.ok) throw new ApiError(res.status, body?.message ?? `${res.status} ${res.statusText}`)
  return body as T
}

/** Reads for a view: a refused token signs the console out (every view then shows sign-in). */
export async function api<T>(path: string): Promise<T> {
  try {
    return await getJson<T>(path)
  } catch (err) {
    if (err instanceof Unauthorized) {
      forgetToken()
      for (const listener of signOutListeners) listener()
    }
    throw err
  }
}

/** Checks a token before keeping it: /api/fleet answers 200 only to the right one. */
export async function signIn(token: string): Promise<void> {
  await getJson('/api/fleet', token)
  keepToken(token)
}
