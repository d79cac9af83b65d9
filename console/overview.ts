// `#/`: the wall screen. The fleet at a glance across the top, open tickets with their SLA clocks, the live feed.
import { html } from 'htm/preact'
import { useMemo, useRef } from 'preact/hooks'
import type { Fleet, Ticket } from './api.js'
import { Chart } from './chart.js'
import { LiveFeed } from './feed.js'
import { useApi, useNow } from './hooks.js'
import { Panel, TicketsTable } from './parts.js'

const UNFINISHED = 'open,acknowledged,assigned,in_progress'

function Kpi({ label, value, tone }: { label: string; value: number | undefined; tone: string }) {
  return html`<div class=${`kpi kpi-${tone}`} data-kpi=${label}>
    <div class="kpi-value">${value ?? '–'}</div>
    <div class="kpi-label">${label}</div>
  </div>`
}

function FleetStrip({ fleet }: { fleet: Fleet | undefined }) {
  const faults = fleet?.faultsPerHour
  const data = useMemo(
    () => (faults ? ([faults.map((h) => Date.parse(h.hour) / 1000), faults.map((h) => h.count)] as [number[], number[]]) : undefined),
    [faults],
  )
  const total = faults?.reduce((sum, h) => sum + h.count, 0)
  return html`<div class="strip">
    <${Panel} title="Devices" class="kpis">
      <${Kpi} label="online" value=${fleet?.devices.online} tone="ok" />
      <${Kpi} label="silent" value=${fleet?.devices.silent} tone=${fleet && fleet.devices.silent > 0 ? 'warn' : 'quiet'} />
      <${Kpi} label="never seen" value=${fleet?.devices.neverSeen} tone="quiet" />
    <//>
    <${Panel} title="Open tickets" class="kpis">
      ${(['P1', 'P2', 'P3', 'P4'] as const).map((p) => html`<${Kpi} label=${p} value=${fleet?.openTickets[p]} tone=${fleet?.openTickets[p] ? p : 'quiet'} />`)}
    <//>
    <${Panel} title="Faults per hour" class="faults" extra=${html`<span class="muted">${total ?? '–'} in 24 h</span>`}>
      ${data ? html`<${Chart} data=${data} height=${110} bars label="faults raised per hour, last 24 hours" series=${FAULT_SERIES} />` : null}
    <//>
  </div>`
}

const FAULT_SERIES = [{ label: 'faults', stroke: 'transparent', fill: 'rgba(255,159,67,0.7)' }]

export function Overview() {
  const now = useNow()
  const fleet = useApi<Fleet>('/api/fleet', 15_000)
  const open = useApi<{ tickets: Ticket[] }>(`/api/tickets?status=${UNFINISHED}&limit=200`, 15_000)
  // A ticket event on the stream: read the tickets and counts again, at most once a second.
  const pending = useRef<ReturnType<typeof setTimeout>>(undefined)
  const onEvent = () => {
    pending.current ??= setTimeout(() => {
      pending.current = undefined
      open.reload()
      fleet.reload()
    }, 1000)
  }
  const tickets = open.data?.tickets
  const sorted = useMemo(
    () => tickets && [...tickets].sort((a, b) => a.priority.localeCompare(b.priority) || Date.parse(a.sla.resolveBy) - Date.parse(b.sla.resolveBy)),
    [tickets],
  )
  return html`<main class="overview">
    <${FleetStrip} fleet=${fleet.data} />
    <div class="columns">
      <${Panel}
        title="Open tickets"
        class="open-tickets"
        extra=${html`<span class="muted">${tickets ? `${tickets.length} open` : ''}${open.error ? ` · ${open.error}` : ''}</span>`}
      >
        ${sorted ? html`<${TicketsTable} tickets=${sorted} now=${now} empty="No open tickets." />` : html`<p class="empty">Loading…</p>`}
      <//>
      <${LiveFeed} onEvent=${onEvent} />
    </div>
  </main>`
}
