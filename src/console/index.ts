export { consoleRoutes, CONTENT_SECURITY_POLICY } from './routes.js'
