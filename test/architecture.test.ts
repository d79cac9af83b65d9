// The shape of src/: one folder per stage, each reached from outside only through its index.ts, and the folders'
// dependencies (type imports included) form no cycle, so data and knowledge flow one way.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'

const src = path.resolve(import.meta.dirname, '../src')

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name)
    return statSync(file).isDirectory() ? sourceFiles(file) : name.endsWith('.ts') ? [file] : []
  })
}

/** The folder directly under src/ that a file belongs to, or '' for a file at the top (main.ts, clock.ts...). */
const folderOf = (file: string) => {
  const [first, ...rest] = path.relative(src, file).split(path.sep)
  return rest.length > 0 ? first! : ''
}

/** Every relative import within src/ (schemas/ and the like, outside it, are not stages). */
const imports = sourceFiles(src)
  .flatMap((file) =>
    [...readFileSync(file, 'utf8').matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'(\.[^']+)'/gm)].map((m) => ({
      file,
      target: path.resolve(path.dirname(file), m[1]!.replace(/\.js$/, '.ts')),
    })),
  )
  .filter(({ target }) => !path.relative(src, target).startsWith('..'))

describe('src/ architecture', () => {
  it('reaches another folder only through its index.ts', () => {
    const deep = imports
      .filter(({ file, target }) => folderOf(target) !== '' && folderOf(target) !== folderOf(file))
      .filter(({ target }) => path.relative(path.join(src, folderOf(target)), target) !== 'index.ts')
      .map(({ file, target }) => `${path.relative(src, file)} → ${path.relative(src, target)}`)
    expect(deep).toEqual([])
  })

  it('has no cycle between folders', () => {
    const edges = new Map<string, Set<string>>()
    for (const { file, target } of imports) {
      const [from, to] = [folderOf(file), folderOf(target)]
      if (from !== '' && to !== '' && from !== to) edges.set(from, (edges.get(from) ?? new Set()).add(to))
    }
    // Depth first: an edge back to a folder still on the trail closes a cycle, reported in its order.
    const cycles: string[] = []
    const done = new Set<string>()
    const visit = (folder: string, trail: string[]) => {
      if (done.has(folder)) return
      const at = trail.indexOf(folder)
      if (at >= 0) return void cycles.push([...trail.slice(at), folder].join(' → '))
      for (const next of edges.get(folder) ?? []) visit(next, [...trail, folder])
      done.add(folder)
    }
    for (const folder of edges.keys()) visit(folder, [])
    expect(cycles).toEqual([])
  })
})
