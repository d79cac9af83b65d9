export { SlaWatcher, type Alert, type AlertLevel } from './watcher.js'
