// `#/devices/<id>`: the device, its telemetry from the rollups (pick metric and range), its tickets, its service plans.
import { html } from 'htm/preact'
import { useMemo, useState } from 'preact/hooks'
import type { Bucket, Device, ServicePlanStatus, Ticket } from './api.js'
import { Chart } from './chart.js'
import { ago, dateTime, resolvedOrClosed } from './format.js'
import { useApi, useNow } from './hooks.js'
import { Panel, ticketLink, TicketsTable } from './parts.js'

/** Ranges to pick, each read from the rollup that gives it a few hundred to a couple of thousand points. */
const ranges = [
  { label: '1 h', ms: 3_600_000, bucket: '1m' },
  { label: '6 h', ms: 6 * 3_600_000, bucket: '1m' },
  { label: '24 h', ms: 24 * 3_600_000, bucket: '1m' },
  { label: '7 d', ms: 7 * 24 * 3_600_000, bucket: '1h' },
] as const

const LINES = [
  { label: 'avg', stroke: '#4cc9f0', width: 2 },
  { label: 'min', stroke: '#4cc9f066', width: 1, dash: [4, 4] },
  { label: 'max', stroke: '#4cc9f066', width: 1, dash: [4, 4] },
]

function Telemetry({ id }: { id: string }) {
  const [range, setRange] = useState<(typeof ranges)[number]>(ranges[0])
  const [picked, setPicked] = useState<string>()
  // The range ends at the next minute: the current minute's rollup is real-time and included.
  const to = Math.ceil(Date.now() / 60_000) * 60_000
  const window = `from=${new Date(to - range.ms).toISOString()}&to=${new Date(to).toISOString()}`
  const { data, error } = useApi<{ points: Bucket[] }>(`/api/devices/${encodeURIComponent(id)}/telemetry?bucket=${range.bucket}&${window}&limit=20000`, 60_000)
  const points = data?.points
  const metrics = useMemo(() => [...new Set(points?.map((p) => p.metric))].sort(), [points])
  const metric = picked && metrics.includes(picked) ? picked : metrics[0]
  const series = useMemo(() => {
    const of = points?.filter((p) => p.metric === metric) ?? []
    return [of.map((p) => Date.parse(p.time) / 1000), of.map((p) => p.avg), of.map((p) => p.min), of.map((p) => p.max)] as [
      number[],
      number[],
      number[],
      number[],
    ]
  }, [points, metric])
  return html`<${Panel}
    title="Telemetry"
    class="telemetry"
    extra=${html`<div class="controls">
      <select aria-label="metric" value=${metric} onChange=${(e: Event) => setPicked((e.target as HTMLSelectElement).value)}>
        ${metrics.map((m) => html`<option value=${m}>${m}</option>`)}
      </select>
      <span class="seg"
        >${ranges.map((r) => html`<button type="button" class=${r === range ? 'on' : ''} onClick=${() => setRange(r)}>${r.label}</button>`)}</span
      >
    </div>`}
  >
    ${
      !points
        ? html`<p class="empty">${error ?? 'Loading…'}</p>`
        : series[0].length === 0
          ? html`<p class="empty">No telemetry in the last ${range.label}.</p>`
          : html`<${Chart}
              data=${series}
              series=${LINES}
              height=${320}
              label=${`${metric}, per ${range.bucket === '1m' ? 'minute' : 'hour'}, last ${range.label}`}
            />`
    }
  <//>`
}

const dueText = (due: ServicePlanStatus['nextDue']) =>
  !due
    ? '—'
    : due.kind === 'usage'
      ? `at ${due.dueUsage}${due.current !== undefined ? ` (now ${Math.round(due.current)})` : ''}${due.projectedDue ? ` ≈ ${due.projectedDue}` : ''}`
      : html`${due.dueDate}${due.windowEnds ? ` – ${due.windowEnds}` : ''}
          <div class="sub">${due.open ? 'due now' : `ticket opens ${due.opensOn}`}</div>`

function Plans({ id }: { id: string }) {
  const { data, error } = useApi<{ plans: ServicePlanStatus[] }>(`/api/devices/${encodeURIComponent(id)}/maintenance`, 60_000)
  if (!data) return html`<p class="empty">${error ?? 'Loading…'}</p>`
  if (data.plans.length === 0) return html`<p class="empty">No service plans for this model.</p>`
  return html`<ul class="plans">
    ${data.plans.map(
      (p) =>
        html`<li>
          <div class="plan-head">
            <strong>${p.title}</strong>
            <span class="mono">${p.ticket ? ticketLink(p.ticket.number) : null}</span>
          </div>
          <dl class="facts">
            <div class="fact">
              <dt>next due</dt>
              <dd>${dueText(p.nextDue)}</dd>
            </div>
            <div class="fact">
              <dt>last service</dt>
              <dd>${p.lastService ? dateTime(p.lastService.at) : 'none yet'}</dd>
            </div>
          </dl>
          <div class="sub">${p.tasks.join(' · ')}</div>
        </li>`,
    )}
  </ul>`
}

export function DeviceView({ id }: { id: string }) {
  const now = useNow()
  const device = useApi<Device>(`/api/devices/${encodeURIComponent(id)}`, 30_000)
  const tickets = useApi<{ tickets: Ticket[] }>(`/api/tickets?deviceId=${encodeURIComponent(id)}&limit=100`, 30_000)
  const d = device.data
  if (!d) return html`<main class="page"><p class="empty">${device.error ?? 'Loading…'}</p></main>`
  const all = tickets.data?.tickets ?? []
  const open = all.filter((t) => !resolvedOrClosed(t))
  const past = all.filter(resolvedOrClosed)
  return html`<main class="page device-page">
    <div class="page-head">
      <div>
        <div class="crumbs"><a href="#/">Overview</a> / device</div>
        <h1><span class="mono">${d.id}</span> <span class="muted">${d.model}</span></h1>
        <div class="sub">${[`serial ${d.serial}`, d.customer?.name, d.site, d.region, `purchased ${d.purchasedAt}`].filter(Boolean).join(' · ')}</div>
      </div>
      <div class="clocks">
        <span class="sla sla-ok"><small>last heard</small>${ago(d.lastSeenAt, now)}</span>
      </div>
    </div>
    <${Telemetry} id=${id} />
    <div class="columns">
      <div class="stack">
        <${Panel} title=${`Open tickets (${open.length})`}><${TicketsTable} tickets=${open} now=${now} showDevice=${false} empty="No open tickets." /><//>
        <${Panel} title=${`Past tickets (${past.length})`}><${TicketsTable} tickets=${past} now=${now} showDevice=${false} empty="No past tickets." /><//>
      </div>
      <${Panel} title="Service plans"><${Plans} id=${id} /><//>
    </div>
  </main>`
}
