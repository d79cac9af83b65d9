// The ops console's assets: console/ (TypeScript, preact + htm, uPlot, CSS) bundled by esbuild into dist/console/,
// from installed npm packages only (issue 10: no CDN, nothing fetched at run time). Run by `npm run build:console`
// (and so by `npm install`'s prepare), and by Faultline at start when dist/console is missing or older than its sources.
import { mkdir, readdir, rename, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = fileURLToPath(new URL('../../', import.meta.url))
export const consoleSources = path.join(root, 'console')
export const consoleDist = path.join(root, 'dist', 'console')
const entry = path.join(consoleSources, 'main.ts')
const indexHtml = path.join(consoleDist, 'index.html')

/** Newest modification time under `dir`, 0 when it does not exist. */
async function newestMtime(dir: string): Promise<number> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => [])
  const times = await Promise.all(entries.filter((e) => e.isFile()).map(async (e) => (await stat(path.join(e.parentPath, e.name))).mtimeMs))
  return Math.max(0, ...times)
}

const mtimeOf = (file: string) =>
  stat(file).then(
    (s) => s.mtimeMs,
    () => 0,
  )

/**
 * True when index.html is missing or older than a source or this file, which writes the page (index.html is written
 * last, so it dates the build).
 */
export async function consoleIsStale(): Promise<boolean> {
  const built = await mtimeOf(indexHtml)
  return built === 0 || Math.max(await newestMtime(consoleSources), await mtimeOf(fileURLToPath(import.meta.url))) > built
}

/** Writes through a temporary name and a rename, so two Faultlines building at once never serve a half-written file. */
async function writeAtomically(file: string, contents: Uint8Array | string): Promise<void> {
  const temp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`
  await writeFile(temp, contents)
  await rename(temp, file)
}

/** Bundles the console; asset names carry a content hash (cached for long), index.html names them (never cached). */
export async function buildConsole(): Promise<void> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    sourcemap: 'linked',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    entryNames: '[name]-[hash]',
    assetNames: '[name]-[hash]',
    outdir: consoleDist,
    metafile: true,
    write: false,
    logLevel: 'silent',
  })
  await mkdir(consoleDist, { recursive: true })
  for (const file of result.outputFiles) await writeAtomically(file.path, file.contents)
  // The script is the entry's output; the CSS it imports (its own and uPlot's) is bundled beside it.
  const [script, meta] = Object.entries(result.metafile.outputs).find(([, o]) => o.entryPoint !== undefined)!
  await writeAtomically(indexHtml, page(path.basename(script), path.basename(meta.cssBundle!)))
}

const page = (script: string, style: string) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="dark">
<title>Faultline ops</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/console/${style}">
<script type="module" src="/console/${script}"></script>
</head>
<body><div id="app"></div></body>
</html>
`

/** `npm run build:console`. Without sources (a Docker layer that installs packages before copying the tree) it has nothing to do. */
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if ((await mtimeOf(entry)) === 0) console.log(`console: no sources at ${entry} yet; Faultline builds them at start`)
  else {
    await buildConsole()
    console.log(`console: built into ${path.relative(process.cwd(), consoleDist) || consoleDist}`)
  }
}
