// `#/tickets/<number>`: one ticket, its SLA clocks, warranty and quote, and its history.
import { html } from 'htm/preact'
import type { TicketWithHistory } from './api.js'
import { dateTime, money, statusLabel } from './format.js'
import { useApi, useNow } from './hooks.js'
import { deviceLink, Panel, Priority, resolveSla, respondSla, Severity, Warranty } from './parts.js'

const fact = (label: string, value: unknown) =>
  value === null || value === undefined || value === ''
    ? null
    : html`<div class="fact">
        <dt>${label}</dt>
        <dd>${value}</dd>
      </div>`

export function TicketView({ number }: { number: string }) {
  const now = useNow()
  const { data: t, error } = useApi<TicketWithHistory>(`/api/tickets/${encodeURIComponent(number)}`, 15_000)
  if (!t) return html`<main class="page"><p class="empty">${error ?? 'Loading…'}</p></main>`
  const q = t.quote
  return html`<main class="page ticket-page">
    <div class="page-head">
      <div>
        <div class="crumbs"><a href="#/">Overview</a> / ticket</div>
        <h1><${Priority} p=${t.priority} /> <span class="mono">${t.number}</span> ${t.title}</h1>
        <div class="sub">${deviceLink(t.deviceId)} · ${t.model} · ${t.kind} · <span class=${`status st-${t.status}`}>${statusLabel(t.status)}</span></div>
      </div>
      <div class="clocks">${respondSla(t, now, 'respond')}${resolveSla(t, now, 'resolve')}</div>
    </div>
    <div class="columns">
      <div class="stack">
        <${Panel} title="Fault">
          <dl class="facts">
            ${fact('condition', t.condition)} ${fact('code', t.code)} ${fact('severity', t.severity && html`<${Severity} s=${t.severity} />`)}
            ${fact('component', t.component)} ${fact('trigger', t.trigger.replace('_', ' '))} ${fact('occurrences', t.occurrences)}
            ${fact('first seen', dateTime(t.firstSeen))} ${fact('last seen', dateTime(t.lastSeen))} ${fact('cleared', t.clearedAt && dateTime(t.clearedAt))}
            ${fact('cause', t.cause)} ${fact('repeat of', t.repeatOf?.number)} ${fact('technician', t.technician)} ${fact('resolution', t.resolution)}
          </dl>
        <//>
        <${Panel} title="Customer">
          <dl class="facts">
            ${fact('name', t.customer?.name)} ${fact('phone', t.customer?.phone)} ${fact('address', t.customer?.address)} ${fact('site', t.site)}
            ${fact('region', t.region)} ${fact('serial', t.serial)}
          </dl>
        <//>
        <${Panel} title="Warranty and billing">
          <dl class="facts">
            ${fact('decision', html`<${Warranty} t=${t} />`)} ${fact('why', t.warranty.reason)} ${fact('coverage ends', t.warranty.coverageEnds)}
            ${fact('billing', html`<span class=${`billing b-${t.billing}`}>${t.billing}</span>`)}
          </dl>
          ${
            q
              ? html`<table class="quote">
                  <thead>
                    <tr>
                      <th>Quote</th>
                      <th class="num">Qty</th>
                      <th class="num">Unit</th>
                      <th class="num">Amount</th>
                    </tr>
                  </thead>
                  <tbody>
                    ${q.parts.map(
                      (p) =>
                        html`<tr>
                          <td>${p.name} <span class="sub mono">${p.partNo}</span></td>
                          <td class="num">${p.qty}</td>
                          <td class="num">${p.unitPrice.toFixed(2)}</td>
                          <td class="num">${p.amount.toFixed(2)}</td>
                        </tr>`,
                    )}
                    <tr>
                      <td>Labour</td>
                      <td class="num">${q.labourHours} h</td>
                      <td class="num">${q.labourRate.toFixed(2)}</td>
                      <td class="num">${q.labour.toFixed(2)}</td>
                    </tr>
                    <tr>
                      <td>Call-out</td>
                      <td></td>
                      <td></td>
                      <td class="num">${q.callOut.toFixed(2)}</td>
                    </tr>
                  </tbody>
                  <tfoot>
                    <tr>
                      <td colspan="3">Total</td>
                      <td class="num">${money(q.total, q.currency)}</td>
                    </tr>
                  </tfoot>
                </table>`
              : null
          }
        <//>
      </div>
      <${Panel} title="History" class="history">
        <ol class="timeline">
          ${[...t.history].reverse().map(
            (h) =>
              html`<li>
                <time>${dateTime(h.at)}</time>
                <div>
                  <strong>${h.action.replace(/_/g, ' ')}</strong> <span class=${`status st-${h.status}`}>${statusLabel(h.status)}</span>
                  <span class="muted">by ${h.by}</span>
                </div>
                ${h.note ? html`<div class="note">${h.note}</div>` : null}
              </li>`,
          )}
        </ol>
      <//>
    </div>
  </main>`
}
