// The live fault feed: /ws/faults, newest first, with the stream's own filters (a change reconnects with them).
import { html } from 'htm/preact'
import { useEffect, useState } from 'preact/hooks'
import { storedToken } from './api.js'
import { clockTime } from './format.js'
import { deviceLink, Panel, Priority, Severity, ticketLink } from './parts.js'
import { followStream, type FeedFilters, type StreamEvent, type StreamEventType, type StreamState } from './stream.js'

/** What a wall screen keeps: older events are in the tickets and the API. */
const KEEP = 200

const typeGroups: { label: string; types: StreamEventType[] }[] = [
  { label: 'Detections', types: ['detection.raised', 'detection.cleared'] },
  { label: 'Tickets', types: ['ticket.opened', 'ticket.occurrence', 'ticket.transitioned', 'ticket.changed'] },
  { label: 'Maintenance', types: ['maintenance.opened'] },
]

const typeLabel: Record<StreamEventType, string> = {
  'detection.raised': 'raised',
  'detection.cleared': 'cleared',
  'ticket.opened': 'ticket opened',
  'ticket.occurrence': 'again',
  'ticket.transitioned': 'ticket moved',
  'ticket.changed': 'ticket changed',
  'maintenance.opened': 'service due',
}

const stateLabel: Record<StreamState, string> = {
  connecting: 'connecting…',
  live: 'live',
  reconnecting: 'reconnecting…',
  refused: 'stream unavailable, retrying',
}

const noFilters: FeedFilters = { minSeverity: '', minPriority: '', device: '', model: '', region: '', types: [] }

function describe(e: StreamEvent): string {
  if (e.detection) {
    const d = e.detection
    const reading = d.value != null && d.limit != null ? ` (${d.value} vs ${d.limit})` : ''
    return `${d.code ? `${d.code} ` : ''}${d.title}${reading}`
  }
  if (e.ticket) return `${e.ticket.title}${e.type === 'ticket.transitioned' ? ` → ${e.ticket.status.replace('_', ' ')}` : ''}`
  return e.type
}

function FeedRow({ e }: { e: StreamEvent }) {
  return html`<li class=${`feed-row t-${e.type.replace('.', '-')}`} data-event=${e.type} data-id=${e.id}>
    <time>${clockTime(e.at)}</time>
    <span class="feed-marks"><${Severity} s=${e.severity} /><${Priority} p=${e.priority} /></span>
    <span class="feed-what">
      <span class="feed-type">${typeLabel[e.type as StreamEventType] ?? e.type}</span>
      ${describe(e)}
      <div class="sub">
        ${deviceLink(e.deviceId)} · ${e.model}${e.region ? ` · ${e.region}` : ''}${e.ticket ? html` · ${ticketLink(e.ticket.number)}` : null}
      </div>
    </span>
  </li>`
}

function Filters({ value, onChange }: { value: FeedFilters; onChange: (f: FeedFilters) => void }) {
  const [draft, setDraft] = useState(value)
  const set = (patch: Partial<FeedFilters>) => setDraft({ ...draft, ...patch })
  const toggle = (types: StreamEventType[]) => {
    const on = types.every((t) => draft.types.includes(t))
    set({ types: on ? draft.types.filter((t) => !types.includes(t)) : [...draft.types, ...types] })
  }
  return html`<form
    class="filters"
    onSubmit=${(ev: Event) => {
      ev.preventDefault()
      onChange(draft)
    }}
  >
    <select
      aria-label="minimum severity"
      value=${draft.minSeverity}
      onChange=${(ev: Event) => set({ minSeverity: (ev.target as HTMLSelectElement).value as FeedFilters['minSeverity'] })}
    >
      <option value="">any severity</option>
      ${['critical', 'major', 'minor', 'info'].map((s) => html`<option value=${s}>≥ ${s}</option>`)}
    </select>
    <select
      aria-label="minimum priority"
      value=${draft.minPriority}
      onChange=${(ev: Event) => set({ minPriority: (ev.target as HTMLSelectElement).value as FeedFilters['minPriority'] })}
    >
      <option value="">any priority</option>
      ${['P1', 'P2', 'P3', 'P4'].map((p) => html`<option value=${p}>${p === 'P1' ? 'P1' : `P1–${p}`}</option>`)}
    </select>
    ${(['device', 'model', 'region'] as const).map(
      (key) =>
        html`<input
          aria-label=${key}
          placeholder=${key}
          value=${draft[key]}
          onInput=${(ev: Event) => set({ [key]: (ev.target as HTMLInputElement).value })}
        />`,
    )}
    <span class="type-toggles">
      ${typeGroups.map(
        (g) =>
          html`<label><input type="checkbox" checked=${g.types.every((t) => draft.types.includes(t))} onChange=${() => toggle(g.types)} />${g.label}</label>`,
      )}
    </span>
    <button type="submit">Apply</button>
  </form>`
}

export function LiveFeed({ onEvent }: { onEvent: (e: StreamEvent) => void }) {
  const [filters, setFilters] = useState(noFilters)
  const [events, setEvents] = useState<StreamEvent[]>([])
  const [state, setState] = useState<StreamState>('connecting')
  useEffect(() => {
    setEvents([])
    return followStream(
      storedToken() ?? '',
      filters,
      (e) => {
        setEvents((list) => [e, ...list].slice(0, KEEP))
        onEvent(e)
      },
      setState,
    )
  }, [filters])
  return html`<${Panel} title="Live faults" class="feed" extra=${html`<span class=${`stream stream-${state}`}>${stateLabel[state]}</span>`}>
    <${Filters} value=${filters} onChange=${setFilters} />
    ${
      events.length === 0
        ? html`<p class="empty">No events yet${state === 'live' ? ': all quiet' : ''}.</p>`
        : html`<ol class="feed-list">
            ${events.map((e) => html`<${FeedRow} key=${e.id} e=${e} />`)}
          </ol>`
    }
  <//>`
}
