export { buildApi } from './app.js'
export { resolveApiToken } from './api-token.js'
