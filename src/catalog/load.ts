// Reads the catalog folder: every *.yaml, *.yml and *.json file in it, each holding one model or a list of them.
import { readdir, readFile } from 'node:fs/promises'
import { extname, join } from 'node:path'
import { parseDocument } from 'yaml'
import { productModel, type Catalog, type ProductModel } from './schema.js'

/** Every problem found in the catalog, each as `file: path.inside: problem`. */
export class CatalogError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid product catalog:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'CatalogError'
  }
}

/** A catalog file's parsed content, before validation. */
export interface CatalogSource {
  file: string
  content: unknown
}

const catalogExtensions = new Set(['.yaml', '.yml', '.json'])

/** `faultCodes.E1.parts[0].partNo`; a list file's models start at `[i]`. */
function formatPath(path: readonly PropertyKey[]): string {
  return path.map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i > 0 ? '.' : ''}${String(key)}`)).join('')
}

function describe(file: string, path: readonly PropertyKey[], message: string): string {
  return path.length > 0 ? `${file}: ${formatPath(path)}: ${message}` : `${file}: ${message}`
}

/** Validates parsed catalog files and indexes the models by id; throws a CatalogError listing every problem. */
export function parseCatalog(sources: readonly CatalogSource[]): Catalog {
  const problems: string[] = []
  const models = new Map<string, ProductModel>()
  const fileOf = new Map<string, string>()
  for (const { file, content } of sources) {
    const entries: [unknown, PropertyKey[]][] = Array.isArray(content) ? content.map((entry, i) => [entry, [i]]) : [[content, []]]
    for (const [entry, at] of entries) {
      const parsed = productModel.safeParse(entry)
      if (!parsed.success) {
        problems.push(...parsed.error.issues.map((issue) => describe(file, [...at, ...issue.path], issue.message)))
        continue
      }
      const id = parsed.data.model
      const earlier = fileOf.get(id)
      if (earlier !== undefined) {
        problems.push(describe(file, [...at, 'model'], `duplicate model id "${id}", already defined in ${earlier}`))
        continue
      }
      models.set(id, parsed.data)
      fileOf.set(id, file)
    }
  }
  if (problems.length > 0) throw new CatalogError(problems)
  return models
}

function parseFile(file: string, text: string): unknown {
  if (extname(file).toLowerCase() === '.json') return JSON.parse(text)
  const doc = parseDocument(text)
  const [first] = doc.errors
  // The message names the problem with its line and column, then quotes the source: keep the first part.
  if (first) throw new Error(first.message.replace(/:\n[\s\S]*$/, ''))
  return doc.toJS()
}

/** Loads and validates every catalog file in `dir`; throws a CatalogError naming each problem and where it is. */
export async function loadCatalog(dir: string): Promise<Catalog> {
  let names: string[]
  try {
    names = (await readdir(dir)).filter((name) => catalogExtensions.has(extname(name).toLowerCase())).sort()
  } catch (err) {
    throw new CatalogError([`${dir}: cannot read the catalog folder: ${(err as Error).message}`])
  }
  if (names.length === 0) throw new CatalogError([`${dir}: no *.yaml, *.yml or *.json catalog files`])

  const sources: CatalogSource[] = []
  const problems: string[] = []
  for (const name of names) {
    const file = join(dir, name)
    try {
      sources.push({ file, content: parseFile(file, await readFile(file, 'utf8')) })
    } catch (err) {
      problems.push(`${file}: ${(err as Error).message}`)
    }
  }
  try {
    const catalog = parseCatalog(sources)
    if (problems.length === 0) return catalog
  } catch (err) {
    if (!(err instanceof CatalogError)) throw err
    problems.push(...err.problems)
  }
  throw new CatalogError(problems)
}
