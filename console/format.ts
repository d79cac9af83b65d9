// How the console writes times, durations, money and SLA states: one place, so every view reads the same.
import type { Ticket } from './api.js'

const pad = (n: number) => String(n).padStart(2, '0')

/** 14:03:27, in the browser's zone (a wall screen shows local time). */
export const clockTime = (iso: string | number) => {
  const d = new Date(iso)
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
}

/** 2026-12-02 14:03 */
export const dateTime = (iso: string) => {
  const d = new Date(iso)
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`
}

/** 3d 04h, 2h 05m, 4m 09s, 12s: the two largest units, for countdowns read from across a room. */
export function duration(ms: number): string {
  const s = Math.floor(Math.abs(ms) / 1000)
  const [d, h, m] = [Math.floor(s / 86400), Math.floor(s / 3600) % 24, Math.floor(s / 60) % 60]
  if (d > 0) return `${d}d ${pad(h)}h`
  if (h > 0) return `${h}h ${pad(m)}m`
  if (m > 0) return `${m}m ${pad(s % 60)}s`
  return `${s % 60}s`
}

/** 1:59:42 under a day (it visibly ticks every second), 3d 04h beyond. */
export function countdown(ms: number): string {
  const s = Math.floor(Math.abs(ms) / 1000)
  if (s >= 86400) return duration(ms)
  return `${Math.floor(s / 3600)}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`
}

/** "5m ago", "never" */
export const ago = (iso: string | null, now: number) => (iso ? `${duration(now - Date.parse(iso))} ago` : 'never')

export const money = (amount: number, currency: string) => `${amount.toFixed(2)} ${currency}`

export type SlaState = 'met' | 'ok' | 'near' | 'breached'

/** Near at 80 % of the time allowed (issue 10), breached once the deadline has passed, met once the step is done. */
export function slaState(startIso: string, dueIso: string, done: boolean, now: number): SlaState {
  if (done) return 'met'
  const start = Date.parse(startIso)
  const due = Date.parse(dueIso)
  if (now >= due) return 'breached'
  return (now - start) / (due - start) >= 0.8 ? 'near' : 'ok'
}

/** Responding is done once someone has acknowledged the ticket; resolving once it is resolved or closed. */
export const responded = (t: Pick<Ticket, 'status'>) => t.status !== 'open'
export const resolvedOrClosed = (t: Pick<Ticket, 'status'>) => ['resolved', 'closed', 'cancelled'].includes(t.status)

export const warrantyLabel: Record<Ticket['warranty']['decision'], string> = {
  in_warranty: 'In warranty',
  out_of_warranty: 'Out of warranty',
  excluded: 'Excluded',
}

export const statusLabel = (s: string) => s.replace('_', ' ')
