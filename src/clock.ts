// Where Faultline reads the time for SLAs, ticket numbers and schedules: tests drive it by hand.
export interface Clock {
  now(): number
}

export const systemClock: Clock = { now: () => Date.now() }
