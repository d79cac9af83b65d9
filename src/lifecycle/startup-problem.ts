// A start that cannot go on for a reason outside Faultline's control is said in one plain line, with status 2
// like bad configuration (issue 9): a busy port, a database that does not answer, a data dir in use.
import { CatalogError } from '../catalog/index.js'
import { ConfigError, type Config } from '../config/index.js'
import { DataDirLocked } from '../store/index.js'
import { DatabaseUnreachable } from './wait-for-database.js'

/** The line to print for a start-up failure the operator can fix, or undefined for a fault of Faultline's own. */
function startupProblem(err: unknown, config?: Pick<Config, 'mqttPort' | 'httpPort'>): string | undefined {
  if (err instanceof ConfigError || err instanceof CatalogError || err instanceof DataDirLocked || err instanceof DatabaseUnreachable) return err.message
  const { code, port, address } = err as { code?: string; port?: number; address?: string }
  if (code === 'EADDRINUSE' || code === 'EACCES') {
    const setting =
      port === config?.mqttPort ? 'FAULTLINE_MQTT_PORT (--mqtt-port)' : port === config?.httpPort ? 'FAULTLINE_HTTP_PORT (--http-port)' : 'the port settings'
    const problem = code === 'EADDRINUSE' ? 'is in use by another process' : 'may not be bound by this user'
    return `port ${port} on ${address} ${problem}: stop what holds it or choose another with ${setting}`
  }
  return undefined
}

/** Says a start-up problem the operator can fix in one line and exits with status 2; returns for anything else. */
export function exitIfCannotStart(err: unknown, config?: Pick<Config, 'mqttPort' | 'httpPort'>, command = 'faultline'): void {
  const problem = startupProblem(err, config)
  if (problem !== undefined) {
    process.stderr.write(`${command}: ${problem}\n`)
    process.exit(2)
  }
}
