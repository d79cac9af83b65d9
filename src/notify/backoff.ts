// When a failed delivery is tried again: exponential, capped, jittered, so a receiver coming back is not met by
// every Faultline's retries at the same instant.
export interface BackoffPolicy {
  baseMs: number
  capMs: number
}

export const defaultBackoff: BackoffPolicy = { baseMs: 1_000, capMs: 5 * 60_000 }

/** The wait after the n-th failed attempt (n ≥ 1): base·2^(n−1), at most cap, then between half and all of it. */
export function retryDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(attempt - 1, 30))
  return Math.round(ceiling * (0.5 + random() / 2))
}
