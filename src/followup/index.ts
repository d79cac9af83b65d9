export { followUpScheduler, FollowUps, FollowUpRefused, followUpChannels, followUpSchema, type FollowUp, type FollowUpAnswer } from './follow-ups.js'
export { FollowUpWatcher } from './watcher.js'
export { ratings, type Rating } from './rating.js'
export { Visits, VisitRefused, visitOutcomes, visitSchema, type NewVisit, type Visit } from './visits.js'
