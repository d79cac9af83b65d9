// The `faultline` command line: a subcommand (start, the default, demo, sim, tail), each with its own --help, and
// --version. A new subcommand is one more entry in `commands`.
import { readFileSync } from 'node:fs'

interface Command {
  /** one line for `faultline --help` */
  summary: string
  /** runs the subcommand with the arguments after its name (its --help included) */
  run(argv: string[]): Promise<void>
}

// Loaded on use: `faultline sim` does not load Faultline's stages, nor `start` the simulator.
const commands: Record<string, Command> = {
  start: { summary: 'run Faultline (the default)', run: async (argv) => (await import('../main.js')).main(argv) },
  demo: {
    summary: 'Faultline and a simulated fleet in one process, each ticket printed as it opens',
    run: async (argv) => (await import('../../device-sim/demo.js')).runDemo(argv),
  },
  sim: { summary: 'a simulated fleet against a running Faultline', run: async (argv) => (await import('../../device-sim/main.js')).runSim(argv) },
  tail: { summary: 'follow the live fault stream of a running Faultline', run: async (argv) => (await import('./tail.js')).runTail(argv) },
}
const DEFAULT_COMMAND = 'start'

const version = (): string => (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version

const usage = () =>
  `Faultline ${version()}: IoT telemetry gateway and auto-ticketing\n\n` +
  `  faultline [command] [flags]\n\nCommands\n` +
  Object.entries(commands)
    .map(([name, c]) => `  ${name.padEnd(8)}${c.summary}`)
    .join('\n') +
  `\n\n  faultline <command> --help   the flags of a command, with their defaults and environment variables\n  faultline --version\n`

export async function runCli(argv: string[]): Promise<void> {
  const [first, ...rest] = argv
  if (first === '--version' || first === '-v') return void process.stdout.write(`${version()}\n`)
  if (first === '--help' || first === '-h' || first === 'help') return void process.stdout.write(usage())
  if (first === undefined || first.startsWith('-')) return commands[DEFAULT_COMMAND]!.run(argv)
  const command = commands[first]
  if (!command) {
    process.stderr.write(`faultline: unknown command ${JSON.stringify(first)}\n\n${usage()}`)
    process.exit(2)
  }
  return command.run(rest)
}
