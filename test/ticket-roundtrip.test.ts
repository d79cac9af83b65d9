// One ticket shape (issue 9): a ticket opened from a draft with every field set, moved through every column the
// lifecycle writes, reads back field for field through the repository and through GET /api/tickets. A column
// dropped from the tickets column map, mapped to another field or encoded wrongly fails here, on each backend.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DeviceRegistry } from '../src/devices/index.js'
import { createLogger } from '../src/main.js'
import type { TicketDevice, TicketDraft } from '../src/rules/index.js'
import { openStore, type Store } from '../src/store/index.js'
import { inStreamTransaction } from '../src/stream/index.js'
import { TicketRepository, type Ticket, type TransitionRequest } from '../src/tickets/index.js'
import { ManualClock } from './support/clock.js'
import { backends, startTestInstance, testConfig, type TestInstance } from './support/faultline.js'
import type { Config } from '../src/config/index.js'

const MINUTE = 60_000
const iso = (ms: number) => new Date(ms).toISOString()

/** Every optional field set, so that none can read back as absent by accident. */
const device: Required<TicketDevice> = {
  id: 'rt-0001',
  model: 'BCD-516WDVL',
  serial: 'BCD516-22-000187',
  purchasedAt: '2025-03-14',
  warrantyExtendedUntil: '2027-03-14',
  customer: { name: 'Li Wei', phone: '+86 138 0000 0000', address: '88 Nanjing Road' },
  site: 'Kitchen 2',
  region: 'East',
  timeZone: 'Asia/Shanghai',
}

const opened = Date.parse('2026-06-01T08:00:00Z')

/** A draft with every field set, of either kind; values all distinct so that two fields swapped show. */
function fullDraft(kind: TicketDraft['kind'], repeatOf: { id: number; number: string }): Required<TicketDraft> {
  const repair = kind === 'repair'
  return {
    kind,
    trigger: repair ? 'fault_code' : 'usage',
    channel: repair ? 'walk_in' : 'iot',
    urgency: repair ? 'urgent' : 'low',
    device,
    condition: repair ? 'fault:E1' : 'plan:filter:run_hours-2000',
    code: repair ? 'E1' : 'SVC',
    ruleId: repair ? 'fan-current' : 'usage-rule',
    title: repair ? 'Condenser fan motor fault' : 'Filter change',
    component: repair ? 'fan_motor' : 'filter',
    severity: repair ? 'major' : 'minor',
    cause: repair ? 'bearing wear' : 'due by usage',
    priority: repair ? 'P2' : 'P4',
    respondBy: opened + 120 * MINUTE,
    startBy: opened + 480 * MINUTE,
    resolveBy: opened + 1440 * MINUTE,
    respondWarnAt: opened + 96 * MINUTE,
    startWarnAt: opened + 384 * MINUTE,
    resolveWarnAt: opened + 1152 * MINUTE,
    warranty: { decision: 'out_of_warranty', reason: 'the 12 months ended 2026-03-14', coverageEnds: '2026-03-14', chargeable: true, basis: 'default_policy' },
    billing: 'chargeable',
    quote: {
      currency: 'CNY',
      parts: [{ partNo: 'FM-516', name: 'fan motor', qty: 2, unitPrice: 78, amount: 156 }],
      partsTotal: 156,
      labourHours: 1.5,
      labourRate: 80,
      labour: 120,
      callOut: 50,
      transport: 12.5,
      other: [{ name: 'disposal', amount: 8 }],
      total: 346.5,
    },
    firstSeen: opened - 5 * MINUTE,
    openedAt: opened,
    repeatOf,
    plan: {
      id: repair ? 'repair-plan' : 'filter',
      tasks: ['replace filter', 'clean coil'],
      due: repair ? { date: '2026-06-10', until: '2026-06-20' } : { counter: 'run_hours', usage: 2000, projected: '2026-06-15' },
    },
  }
}

/** The ticket the draft should read back as, once the steps below have run. */
function expected(
  d: Required<TicketDraft>,
  id: number,
  number: string,
  times: { lastSeen: number; clearedAt: number; resolvedAt: number; closedAt: number },
): Ticket {
  return {
    id,
    number,
    kind: d.kind,
    trigger: d.trigger,
    deviceId: d.device.id,
    model: d.device.model,
    serial: d.device.serial,
    customer: d.device.customer!,
    site: d.device.site!,
    region: d.device.region!,
    condition: d.condition,
    code: d.code,
    ruleId: d.ruleId,
    title: d.title,
    component: d.component,
    severity: d.severity,
    cause: d.cause,
    priority: d.priority,
    sla: {
      respondBy: iso(d.respondBy),
      startBy: iso(d.startBy),
      resolveBy: iso(d.resolveBy),
      respondWarnAt: iso(d.respondWarnAt),
      startWarnAt: iso(d.startWarnAt),
      resolveWarnAt: iso(d.resolveWarnAt),
      pausedAt: null,
      pausedMs: 0,
      // closed: every deadline met
      state: { respond: 'met', start: 'met', resolve: 'met' },
    },
    warranty: d.warranty,
    billing: d.billing,
    quote: d.quote,
    occurrences: 2,
    firstSeen: iso(d.firstSeen),
    lastSeen: iso(times.lastSeen),
    clearedAt: iso(times.clearedAt),
    status: 'closed',
    repeatOf: d.repeatOf,
    technician: 'tech-07',
    // a name typed by hand, not a directory technician; dispatch never ran (the repository was used directly)
    technicianId: null,
    dispatch: null,
    resolution: 'replaced the fan motor',
    partsUsed: [{ partNo: 'FM-516', qty: 2, name: 'fan motor' }],
    labourHours: 1.25,
    satisfaction: 4,
    comment: 'quick and tidy',
    createdAt: iso(d.openedAt),
    updatedAt: iso(times.closedAt),
    resolvedAt: iso(times.resolvedAt),
    closedAt: iso(times.closedAt),
    planId: d.plan.id,
    tasks: d.plan.tasks,
    due: d.plan.due,
    channel: d.channel,
    urgency: d.urgency,
  }
}

describe.each(backends())('a ticket round trip on the %s backend', (backend) => {
  const clock = new ManualClock(opened)
  let config: Config
  let store: Store | undefined
  let fl: TestInstance
  /** per kind: the ticket as the repository read it back, and what it should be */
  const readBack = new Map<TicketDraft['kind'], { read: Ticket & { history: { action: string }[] }; want: Ticket }>()

  beforeAll(async () => {
    config = await testConfig(backend)
    store = await openStore(config, createLogger('silent'))
    try {
      await new DeviceRegistry(store.db).register({ ...device, installedAt: '2025-03-20' })
      const repo = new TicketRepository(store.db, clock, 'UTC')
      for (const kind of ['repair', 'maintenance'] as const) {
        clock.set(iso(opened))
        // the resolved ticket the full draft repeats: repeat_of is a reference, its number read through it
        const earlier = await repo.open(
          { deviceId: device.id, condition: `manual:earlier-${kind}`, at: opened },
          () => ({ ...fullDraft(kind, { id: 0, number: '' }), condition: `manual:earlier-${kind}`, repeatOf: undefined }),
          'hotline',
        )
        const draft = fullDraft(kind, { id: earlier.id, number: earlier.number })
        const ticket = await repo.open({ deviceId: device.id, condition: draft.condition, at: draft.firstSeen }, () => draft, 'hotline')
        // the same condition again later (occurrences, last seen), then cleared (cleared at)
        const lastSeen = opened + 3 * MINUTE
        clock.set(iso(opened + 4 * MINUTE))
        await repo.open({ deviceId: device.id, condition: draft.condition, at: lastSeen }, () => draft, 'hotline')
        const clearedAt = opened + 6 * MINUTE
        clock.set(iso(opened + 7 * MINUTE))
        await inStreamTransaction(store.db, (tx) =>
          repo.applyDetection(
            tx,
            {
              state: 'cleared',
              deviceId: device.id,
              condition: draft.condition,
              time: clearedAt,
              trigger: 'fault_code',
              severity: 'major',
              title: draft.title,
            },
            () => draft,
          ),
        )
        // every column the lifecycle writes, each at its own time
        let at = opened + 10 * MINUTE
        const times = { lastSeen, clearedAt, resolvedAt: 0, closedAt: 0 }
        const steps: Omit<TransitionRequest, 'by'>[] = [
          { to: 'assigned', technician: 'tech-07' },
          { to: 'in_progress' },
          { to: 'resolved', resolution: 'replaced the fan motor', partsUsed: [{ partNo: 'FM-516', qty: 2, name: 'fan motor' }], labourHours: 1.25 },
          { to: 'closed', satisfaction: 4, comment: 'quick and tidy' },
        ]
        for (const step of steps) {
          clock.set(iso((at += MINUTE)))
          if (step.to === 'resolved') times.resolvedAt = at
          if (step.to === 'closed') times.closedAt = at
          await repo.transition(String(ticket.id), { by: 'dispatcher', ...step })
        }
        readBack.set(kind, { read: (await repo.get(ticket.number))!, want: expected(draft, ticket.id, ticket.number, times) })
      }
    } finally {
      await store.db.close()
      store = undefined
    }
    // The same database served by Faultline: the API shows what the repository read.
    fl = await startTestInstance(config, clock)
  })
  afterAll(async () => {
    await store?.db.close()
    await fl?.close()
  })

  it.each(['repair', 'maintenance'] as const)('a %s ticket with every field set reads back field for field through the repository', (kind) => {
    const { read, want } = readBack.get(kind)!
    const { history, ...fields } = read
    expect(fields).toStrictEqual(want)
    expect(history.map((h) => h.action)).toEqual(['opened', 'occurrence', 'condition_cleared', 'assigned', 'in_progress', 'resolved', 'closed'])
  })

  it.each(['repair', 'maintenance'] as const)('a %s ticket with every field set reads back through GET /api/tickets/:id and the list', async (kind) => {
    const ticket = readBack.get(kind)!.read
    const one = await fl.api('GET', `/api/tickets/${ticket.id}`)
    expect(one.status).toBe(200)
    // the detail adds the ticket's money (src/billing), its visits and follow-up calls (src/followup); this one was
    // moved by the repository alone: never approved, billed, visited or called
    expect(one.body).toStrictEqual({
      ...JSON.parse(JSON.stringify(ticket)),
      diagnosis: null,
      approval: { state: 'pending', last: null },
      bill: null,
      visits: [],
      followUps: [],
    })
    const list = await fl.api('GET', `/api/tickets?kind=${kind}&deviceId=${device.id}`)
    expect(list.status).toBe(200)
    const { history: _history, ...fields } = ticket
    expect(list.body.tickets.find((t: Ticket) => t.id === ticket.id)).toStrictEqual(fields)
  })
})
