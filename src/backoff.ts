// Exponential backoff with jitter, for whatever retries a failure: waits that double from `firstMs` up to `maxMs`,
// ±25 % so many retrying clients do not come back in step.

/** The wait before retry number `attempt` (from 1). */
export const backoffMs = (attempt: number, firstMs: number, maxMs: number, random: () => number = Math.random) =>
  Math.min(firstMs * 2 ** (attempt - 1), maxMs) * (0.75 + random() / 2)
