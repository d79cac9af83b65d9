#!/usr/bin/env node
// The `faultline` command. It runs the TypeScript sources through tsx in this same process: no build step, and
// no wrapper process between a SIGTERM and Faultline's graceful shutdown (issue 9).
import { register } from 'tsx/esm/api'

register()
const { runCli } = await import('../src/cli/index.ts')
await runCli(process.argv.slice(2))
