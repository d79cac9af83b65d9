// The process's lifecycle: the close stack, the wait for the database, and start-ups that cannot go on.
export { Closers } from './closers.js'
export { exitIfCannotStart } from './startup-problem.js'
export { waitForDatabase } from './wait-for-database.js'
