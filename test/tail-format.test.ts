// `faultline tail`'s line for each kind of stream event, on sample envelopes: what a duty engineer reads at a glance.
import pc from 'picocolors'
import { describe, expect, it } from 'vitest'
import { formatEvent } from '../src/cli/tail-format.js'
import type { StreamEvent } from '../src/stream/index.js'

const plain = pc.createColors(false)
const coloured = pc.createColors(true)
/** 12:03:04 local time on 2 December 2026, whatever the test machine's time zone */
const at = new Date(2026, 11, 2, 12, 3, 4).toISOString()
const now = new Date(2026, 11, 2, 18, 0, 0)

const ticket: NonNullable<StreamEvent['ticket']> = {
  id: 7,
  number: 'SR20261202-0007',
  kind: 'repair',
  status: 'open',
  priority: 'P1',
  title: 'Compressor fault',
  condition: 'fault:E1',
  warranty: 'in_warranty',
  billing: 'free',
  quoteTotal: null,
  respondBy: at,
  resolveBy: at,
  occurrences: 1,
  technician: null,
  action: 'opened',
  by: 'faultline',
  note: null,
}
const opened: StreamEvent = {
  id: 42,
  type: 'ticket.opened',
  at,
  deviceId: 'fridge-001',
  model: 'RF-520',
  region: 'east',
  site: 'store-9',
  severity: 'critical',
  priority: 'P1',
  ticket,
}
const raised: StreamEvent = {
  id: 41,
  type: 'detection.raised',
  at,
  deviceId: 'cp-002',
  model: 'LGV-37A-8',
  region: null,
  site: null,
  severity: 'major',
  priority: null,
  detection: {
    condition: 'threshold:discharge-hot',
    trigger: 'threshold',
    code: null,
    ruleId: 'discharge-hot',
    title: 'Discharge temperature high',
    component: 'compressor',
    severity: 'major',
    value: 112.5,
    limit: 105,
  },
}

describe('faultline tail: one line per event', () => {
  it('a ticket opened: time, id, type, priority, number, device, model, region, then title, code, warranty and billing', () => {
    expect(formatEvent(opened, plain, now)).toBe(
      '12:03:04 #42 ticket.opened P1 SR20261202-0007 fridge-001 RF-520 east  Compressor fault E1 (in_warranty, free)',
    )
  })

  it('a chargeable ticket shows its quote; an occurrence its count; a transition the new status, who, the technician and the note', () => {
    const chargeable = { ...opened, ticket: { ...ticket, warranty: 'out_of_warranty' as const, billing: 'chargeable' as const, quoteTotal: 286 } }
    expect(formatEvent(chargeable, plain, now)).toMatch(/ {2}Compressor fault E1 \(out_of_warranty, chargeable, quote 286\.00\)$/)
    const again = { ...opened, id: 43, type: 'ticket.occurrence', ticket: { ...ticket, occurrences: 3, action: 'occurrence' } }
    expect(formatEvent(again, plain, now)).toMatch(/#43 ticket\.occurrence P1 .* {2}Compressor fault E1 ×3$/)
    const assigned = {
      ...opened,
      id: 44,
      type: 'ticket.transitioned',
      ticket: { ...ticket, status: 'assigned', technician: 'Wang Fang', action: 'assigned', by: 'dispatch', note: 'on site by 14:00' },
    }
    expect(formatEvent(assigned, plain, now)).toMatch(/ {2}Compressor fault E1 → assigned \(Wang Fang\) by dispatch: on site by 14:00$/)
  })

  it('a detection: severity where a ticket has its priority, no number, the reading and its limit; a missing region is a dash', () => {
    expect(formatEvent(raised, plain, now)).toBe('12:03:04 #41 detection.raised major cp-002 LGV-37A-8 -  Discharge temperature high 112.5 (limit 105)')
    expect(formatEvent({ ...raised, type: 'detection.cleared' }, plain, now)).toMatch(/ {2}Discharge temperature high cleared$/)
  })

  it('a type this version does not know still gets its line, from the envelope', () => {
    const later = { ...opened, id: 50, type: 'ticket.sla_warning', ticket: { ...ticket, action: 'sla_warning', by: 'faultline' } }
    expect(formatEvent(later, plain, now)).toBe(
      '12:03:04 #50 ticket.sla_warning P1 SR20261202-0007 fridge-001 RF-520 east  Compressor fault E1 sla_warning by faultline',
    )
    const bare = { id: 51, type: 'fleet.note', at, deviceId: 'd', model: 'm', region: null, site: null, severity: null, priority: null }
    expect(formatEvent(bare, plain, now)).toBe('12:03:04 #51 fleet.note - d m -')
  })

  it('gives the date too for an event of another day (a backfill)', () => {
    expect(formatEvent(opened, plain, new Date(2026, 11, 3, 9, 0, 0))).toMatch(/^2026-12-02 12:03:04 #42 /)
  })

  it('keeps escape sequences and line breaks sent in a note out of the terminal', () => {
    const hostile = { ...opened, ticket: { ...ticket, action: 'noted', note: 'fixed\u001b[2J\u001b]0;owned\u0007\nrm -rf' } }
    const line = formatEvent(hostile, coloured, now)
    // eslint-disable-next-line no-control-regex -- the control characters it must not let through
    expect(line).not.toMatch(/\n|\u001b\[2J|\u001b\]|\u0007/)
    expect(line).toContain('fixed [2J ]0;owned rm -rf')
  })

  it('colours by priority, then severity, and not at all when colours are off', () => {
    const line = formatEvent(opened, coloured, now)
    expect(line).toContain(coloured.bold(coloured.red('P1')))
    expect(formatEvent(raised, coloured, now)).toContain(coloured.red('major'))
    expect(formatEvent({ ...opened, priority: 'P3' }, coloured, now)).toContain(coloured.yellow('P3'))
    // eslint-disable-next-line no-control-regex -- no escape at all
    expect(formatEvent(opened, plain, now)).not.toMatch(/\u001b/)
  })
})
