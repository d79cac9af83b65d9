// A stored detection as a live stream event (issue 10). Its priority is the ticket's business (null here).
import type { ProductModel } from '../catalog/index.js'
import type { Detection } from '../detect/index.js'
import type { TicketDevice } from '../rules/index.js'
import type { NewStreamEvent } from './envelope.js'

export function detectionEvent(d: Detection, device: Pick<TicketDevice, 'id' | 'model' | 'region' | 'site'>, model: ProductModel | undefined): NewStreamEvent {
  return {
    type: d.state === 'raised' ? 'detection.raised' : 'detection.cleared',
    at: new Date(d.time).toISOString(),
    deviceId: d.deviceId,
    model: device.model,
    region: device.region ?? null,
    site: device.site ?? null,
    severity: d.severity,
    priority: null,
    detection: {
      condition: d.condition,
      trigger: d.trigger,
      code: d.code ?? null,
      ruleId: d.ruleId ?? null,
      title: d.title,
      component: d.component ?? null,
      severity: d.severity,
      value: d.value ?? null,
      limit: model?.thresholds.find((r) => d.ruleId !== undefined && r.id === d.ruleId)?.limit ?? null,
    },
  }
}
