export { SlaWatcher } from './watcher.js'
