export { buildApi } from './app.js'
export { resolveApiTokenHash } from './api-token.js'
