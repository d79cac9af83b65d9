// Small pieces the views share: priority and severity marks, SLA countdowns, the tickets table, panels.
import { html } from 'htm/preact'
import type { ComponentChildren } from 'preact'
import type { Ticket } from './api.js'
import { countdown, money, responded, resolvedOrClosed, slaState, statusLabel, warrantyLabel } from './format.js'

export const Priority = ({ p }: { p: string | null }) => (p ? html`<span class="prio prio-${p}">${p}</span>` : null)
export const Severity = ({ s }: { s: string | null }) => (s ? html`<span class="sev sev-${s}">${s}</span>` : null)

export const deviceLink = (id: string) => html`<a href=${`#/devices/${encodeURIComponent(id)}`}>${id}</a>`
export const ticketLink = (number: string, text: ComponentChildren = number) => html`<a href=${`#/tickets/${encodeURIComponent(number)}`}>${text}</a>`

export function Panel({ title, extra, children, class: cls = '' }: { title: string; extra?: ComponentChildren; children: ComponentChildren; class?: string }) {
  return html`<section class=${`panel ${cls}`}>
    <header class="panel-head">
      <h2>${title}</h2>
      ${extra}
    </header>
    <div class="panel-body">${children}</div>
  </section>`
}

/** A deadline as a countdown: "2:05:17" left, "−0:12:03" past, coloured as it nears (≥ 80 % of the time allowed) and passes. */
export function Sla({ label, start, due, done, now }: { label?: string; start: string; due: string; done: boolean; now: number }) {
  const state = slaState(start, due, done, now)
  const left = Date.parse(due) - now
  const text = state === 'met' ? 'met' : state === 'breached' ? `−${countdown(left)}` : countdown(left)
  return html`<span class=${`sla sla-${state}`} title=${`due ${new Date(due).toLocaleString()}`}>${label ? html`<small>${label}</small>` : null}${text}</span>`
}

export const respondSla = (t: Ticket, now: number, label?: string) =>
  html`<${Sla} label=${label} start=${t.createdAt} due=${t.sla.respondBy} done=${responded(t)} now=${now} />`
export const resolveSla = (t: Ticket, now: number, label?: string) =>
  html`<${Sla} label=${label} start=${t.createdAt} due=${t.sla.resolveBy} done=${resolvedOrClosed(t)} now=${now} />`

export const Warranty = ({ t }: { t: Ticket }) =>
  html`<span class=${`warranty w-${t.warranty.decision}`} title=${t.warranty.reason}>${warrantyLabel[t.warranty.decision]}</span>`
export const quoteTotal = (t: Ticket) => (t.quote ? money(t.quote.total, t.quote.currency) : t.billing === 'free' ? '—' : 'to quote')

export function TicketsTable({ tickets, now, showDevice = true, empty }: { tickets: Ticket[]; now: number; showDevice?: boolean; empty: string }) {
  if (tickets.length === 0) return html`<p class="empty">${empty}</p>`
  return html`<table class="tickets">
    <thead>
      <tr>
        <th>Pri</th>
        <th>Ticket</th>
        <th>Fault</th>
        ${showDevice ? html`<th>Device</th>` : null}
        <th>Status</th>
        <th class="num">Respond</th>
        <th class="num">Resolve</th>
        <th>Warranty</th>
        <th class="num">Quote</th>
      </tr>
    </thead>
    <tbody>
      ${tickets.map(
        (t) =>
          html`<tr key=${t.id} data-ticket=${t.number}>
            <td><${Priority} p=${t.priority} /></td>
            <td class="mono">${ticketLink(t.number)}</td>
            <td class="title">${t.title}${t.occurrences > 1 ? html` <span class="occ">×${t.occurrences}</span>` : null}</td>
            ${
              showDevice
                ? html`<td class="device">
                    ${deviceLink(t.deviceId)}
                    <div class="sub">${t.model}${t.region ? ` · ${t.region}` : ''}</div>
                  </td>`
                : null
            }
            <td><span class=${`status st-${t.status}`}>${statusLabel(t.status)}</span></td>
            <td class="num">${respondSla(t, now)}</td>
            <td class="num">${resolveSla(t, now)}</td>
            <td>
              <${Warranty} t=${t} />
              <div class=${`sub billing b-${t.billing}`}>${t.billing}</div>
            </td>
            <td class="num">${quoteTotal(t)}</td>
          </tr>`,
      )}
    </tbody>
  </table>`
}
