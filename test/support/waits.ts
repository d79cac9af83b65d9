// How long a test waits for one outcome (a CONNACK, a packet, a stored row, a ticket) before naming the wait that
// failed. Generous, because the CI machine is loaded and a wait must not fail while the outcome is still on its
// way; below the 60 s test timeout (vitest.config.ts), so that a failure says which wait it was.
export const OUTCOME_WAIT_MS = 45_000

/** What one start of Faultline, or one opening of its embedded database, may take on a loaded machine: the hook timeout (vitest.config.ts). */
export const START_MS = 120_000

/** The options of a test that starts Faultline (or opens a database) itself `starts` times: 60 s for the rest, and each start's time. */
export const startsWithin = (starts: number) => ({ timeout: 60_000 + starts * START_MS })
