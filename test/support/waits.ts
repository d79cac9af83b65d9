// How long a test waits for one outcome (a CONNACK, a packet, a stored row, a ticket) before naming the wait that
// failed. Generous, because the CI machine is loaded and a wait must not fail while the outcome is still on its
// way; below the 60 s test timeout (vitest.config.ts), so that a failure says which wait it was.
export const OUTCOME_WAIT_MS = 45_000
