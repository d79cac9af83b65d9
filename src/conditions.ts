// What a ticket is about on its device, one format for every source: detectors, phone reports and service plans.
// The condition is the ticket's dedupe key (tickets_one_open), so two sources naming the same fault must spell it
// the same way: a phone report of E1 and a device's E1 are one fault.

export const faultCondition = (code: string) => `fault:${code}`
export const thresholdCondition = (ruleId: string) => `threshold:${ruleId}`
export const offlineCondition = 'offline'
/** a phone report without a fault code: its own condition */
export const manualCondition = (ref: string) => `manual:${ref}`
/** one due occurrence of a service plan */
export const planCondition = (planId: string, occurrence: string) => `plan:${planId}:${occurrence}`

/** One in-memory key per device and a name on it (a condition, a plan, a counter); JSON keeps any device id unambiguous. */
export const conditionKey = (deviceId: string, name: string) => JSON.stringify([deviceId, name])
