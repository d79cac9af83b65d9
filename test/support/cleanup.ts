// A failed test closes what it opened: connections register their forced close here when they open, so the
// close runs when the test ends however it ends, and no later close (of Faultline, of the file) waits on them.
import { onTestFinished } from 'vitest'

/** Runs `close` when the current test ends. Outside a test (in a beforeAll) the hook that opened it closes it. */
export function closeWhenTestEnds(close: () => unknown): void {
  try {
    onTestFinished(async () => {
      await close()
    })
  } catch {
    // "can only be called inside a test": opened by a hook
  }
}
