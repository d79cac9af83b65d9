// A fault that comes back soon after its repair counts against the repair (返修): the new ticket is escalated.

/** The same fault on the same device within this long after its ticket was resolved is a repeat repair. */
export const repeatRepairWindowMs = 7 * 24 * 3_600_000

/** Whether a fault at `at` repeats a repair resolved at `resolvedAt` (epoch ms); exactly 7 days later still does. */
export function isRepeatRepair(resolvedAt: number, at: number, windowMs = repeatRepairWindowMs): boolean {
  return at >= resolvedAt && at - resolvedAt <= windowMs
}
