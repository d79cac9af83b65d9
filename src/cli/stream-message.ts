// TEMPORARY until branch stream is merged: the contract's envelope, as far as tail reads it.
export interface StreamEvent {
  id: number
  type: string
  at: string
  deviceId: string
  model: string
  region: string | null
  site: string | null
  severity: 'critical' | 'major' | 'minor' | 'info' | null
  priority: 'P1' | 'P2' | 'P3' | 'P4' | null
  detection?: {
    condition: string
    trigger: string
    code: string | null
    ruleId: string | null
    title: string
    component: string | null
    severity: string
    value: number | null
    limit: number | null
  }
  ticket?: {
    id: number
    number: string
    kind: string
    status: string
    priority: string
    title: string
    condition: string
    warranty: string
    billing: string
    quoteTotal: number | null
    respondBy: string
    resolveBy: string
    occurrences: number
    technician: string | null
    action: string
    by: string
    note: string | null
  }
}
