// When a failed delivery is tried again: the one backoff formula (src/backoff.ts), from 1 s doubling up to 5 min,
// jittered so a receiver coming back is not met by every Faultline's retries at the same instant.
export interface BackoffPolicy {
  baseMs: number
  capMs: number
}

export const defaultBackoff: BackoffPolicy = { baseMs: 1_000, capMs: 5 * 60_000 }
