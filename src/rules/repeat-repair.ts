// A fault that comes back soon after its repair counts against the repair (返修): the new ticket is escalated.

/**
 * The same fault on the same device within this long after its ticket was resolved is a repeat repair; exactly
 * this long later still is. The one source of truth: the ticket repository passes it to its SQL.
 */
export const repeatRepairWindowMs = 7 * 24 * 3_600_000
