// Bounds on the shape of device JSON, checked before anything else walks it: a payload small in bytes can
// still be deep enough to overflow a recursive walk (zod, JSON.stringify, the embedded engine's jsonb) or to
// exhaust the WASM engine's memory. The walk itself is iterative, so no depth can overflow it.
import { MAX_JSON_DEPTH, reservedNames } from '../../schemas/messages.js'

/** per object; a sample has at most 256 metrics */
export const MAX_JSON_KEYS = 1024
/** per array; a backlog has at most 1,000 samples */
export const MAX_JSON_ITEMS = 1000
/** per string, keys included */
export const MAX_JSON_STRING = 4096

// Reserved names are refused here, before zod copies objects (which would drop `__proto__` without a word).
const reserved = new Set(reservedNames)

const at = (path: string[]) => (path.length > 0 ? path.join('.') : '(payload)')

/** The first way value breaks the bounds, with where; undefined when it keeps them. */
export function jsonBoundsProblem(value: unknown): string | undefined {
  const stack: { value: unknown; path: string[] }[] = [{ value, path: [] }]
  for (let item = stack.pop(); item; item = stack.pop()) {
    const { value: v, path } = item
    if (typeof v === 'string') {
      if (v.length > MAX_JSON_STRING) return `${at(path)}: a string longer than ${MAX_JSON_STRING} characters`
      continue
    }
    if (typeof v !== 'object' || v === null) continue
    if (path.length >= MAX_JSON_DEPTH) return `${at(path.slice(0, 3))}…: nested deeper than ${MAX_JSON_DEPTH} levels`
    if (Array.isArray(v)) {
      if (v.length > MAX_JSON_ITEMS) return `${at(path)}: an array of more than ${MAX_JSON_ITEMS} items`
      v.forEach((child, i) => stack.push({ value: child, path: [...path, String(i)] }))
      continue
    }
    const keys = Object.keys(v)
    if (keys.length > MAX_JSON_KEYS) return `${at(path)}: an object of more than ${MAX_JSON_KEYS} keys`
    for (const key of keys) {
      if (key.length > MAX_JSON_STRING) return `${at(path)}: a key longer than ${MAX_JSON_STRING} characters`
      if (reserved.has(key)) return `${at([...path, key])}: "${key}" is a reserved name`
      stack.push({ value: (v as Record<string, unknown>)[key], path: [...path, key] })
    }
  }
  return undefined
}
