export { DeviceRegistry, DeviceExistsError, deviceId, newDevice, type Device, type NewDevice } from './registry.js'
export { hashSecret, newSecret, secretMatches } from './secret.js'
