// Writes the device payload schemas, and the live stream's message schema, as JSON Schema files beside this one,
// for firmware teams and stream clients: `npm run schemas`.
import { writeFile } from 'node:fs/promises'
import { z } from 'zod'
import { streamMessage } from '../src/stream/index.js'
import { payloadSchemas } from './messages.js'

async function write(name: string, title: string, json: object) {
  const file = new URL(`./${name}.schema.json`, import.meta.url)
  await writeFile(file, JSON.stringify({ $id: `urn:faultline:schema:${name}`, title, ...json }, null, 2) + '\n')
  console.log(`wrote ${file.pathname}`)
}

for (const [channel, schema] of Object.entries(payloadSchemas)) {
  await write(channel, `devices/<id>/${channel}`, z.toJSONSchema(schema, { io: 'input' }))
}
// What the server sends: its output.
await write('stream-message', 'GET /ws/faults: one JSON text frame', z.toJSONSchema(streamMessage, { io: 'output' }))
