// Writes the device payload schemas as JSON Schema files beside this one, for firmware teams: `npm run schemas`.
import { writeFile } from 'node:fs/promises'
import { z } from 'zod'
import { payloadSchemas } from './messages.js'

for (const [channel, schema] of Object.entries(payloadSchemas)) {
  const file = new URL(`./${channel}.schema.json`, import.meta.url)
  const json = { $id: `urn:faultline:schema:${channel}`, title: `devices/<id>/${channel}`, ...z.toJSONSchema(schema, { io: 'input' }) }
  await writeFile(file, JSON.stringify(json, null, 2) + '\n')
  console.log(`wrote ${file.pathname}`)
}
