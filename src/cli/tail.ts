// `faultline tail`: Faultline's live fault stream on a terminal, one coloured line per event, or the raw JSON frames
// for jq. Runs until Ctrl-C (exit 0); exits 2 for a bad option, a refused token or a query the server refuses.
import pc from 'picocolors'
import type { StreamEvent } from '../stream/index.js'
import { formatEvent } from './tail-format.js'
import { follow, StreamRefused } from './tail-follow.js'
import { parseTailArgs, TAIL_HELP, UsageError, type TailOptions } from './tail-options.js'

export async function runTail(argv: string[]): Promise<void> {
  let options: TailOptions | undefined
  try {
    options = parseTailArgs(argv)
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    process.stderr.write(`tail: ${err.message}\n\nfaultline tail --help for the options\n`)
    process.exit(2)
  }
  if (!options) return void process.stdout.write(TAIL_HELP)

  // Colour for a person at a terminal only (https://no-color.org): picocolors alone would colour a CI log too.
  const colours = pc.createColors(process.stdout.isTTY === true && !process.env.NO_COLOR)
  const { json } = options
  // A frame that does not fit this version's envelope is shown as it came: never lost, never the end of the tail.
  const readable = (e: StreamEvent, raw: string) => {
    try {
      return formatEvent(e, colours)
    } catch {
      return raw
    }
  }
  const stop = new AbortController()
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => stop.abort())
  // A reader that went away (`| head`) is the end of the tail, not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err
    stop.abort()
  })
  try {
    await follow(
      options.url,
      options.token,
      {
        event: (e, raw) => process.stdout.write(`${json ? raw : readable(e, raw)}\n`),
        status: (line) => process.stderr.write(`${colours.dim(`tail: ${line}`)}\n`),
      },
      stop.signal,
    )
  } catch (err) {
    if (!(err instanceof StreamRefused)) throw err
    process.stderr.write(`tail: ${err.message}\n`)
    process.exit(2)
  }
}
