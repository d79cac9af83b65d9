// A ticket's life: open → acknowledged → assigned → in_progress → resolved → closed, or cancelled.
// A resolved ticket goes back to in_progress when the follow-up call finds the fault is not fixed.

export const statuses = ['open', 'acknowledged', 'assigned', 'in_progress', 'resolved', 'closed', 'cancelled'] as const
export type Status = (typeof statuses)[number]

export const allowedTransitions: Record<Status, readonly Status[]> = {
  open: ['acknowledged', 'assigned', 'cancelled'],
  acknowledged: ['assigned', 'cancelled'],
  assigned: ['assigned', 'in_progress', 'cancelled'],
  in_progress: ['resolved', 'cancelled'],
  resolved: ['closed', 'in_progress'],
  closed: [],
  cancelled: [],
}

/** Statuses in which a ticket no longer counts as open for its device and condition (see tickets_one_open). */
export const finishedStatuses: readonly Status[] = ['resolved', 'closed', 'cancelled']
