// Process lifecycle, as main.ts and the demo need it: the close stack, the wait for the database, start-up problems.
export { Closers } from './closers.js'
export { exitIfCannotStart } from './startup-problem.js'
export { waitForDatabase } from './wait-for-database.js'
