export { DeviceRegistry, DeviceExistsError, device, deviceId, newDevice, type Device, type NewDevice } from './registry.js'
export { hashSecret, newSecret, secretMatches } from './secret.js'
