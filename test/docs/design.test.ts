/**
 * docs/design.md's table of parts says which part may import which; this holds the code to it,
 * so the design page cannot drift from the import graph.
 */
import { describe, expect, test } from 'vitest'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

/** One row of the table: the paths that make up the part (files, or folders ending in /) and the paths it may import. */
interface Part {
  readonly paths: readonly string[]
  readonly allowed: readonly string[]
}

/** The backquoted paths of a table cell. */
const pathsIn = (cell: string): string[] => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!)

/** The rows of the table under "## Parts and imports". */
const table = (): Part[] => {
  const text = readFileSync(join(root, 'docs/design.md'), 'utf8')
  const start = text.indexOf('## Parts and imports')
  if (start < 0) throw new Error('docs/design.md has no "## Parts and imports" section')
  const section = text.slice(start, text.indexOf('\n## ', start + 1))
  return section
    .split('\n')
    .map((line) => line.split('|').map((c) => c.trim()))
    .filter((cells) => cells.length === 5 && cells[1]!.startsWith('`'))
    .map((cells) => ({ paths: pathsIn(cells[1]!), allowed: cells[3] === 'nothing' ? [] : pathsIn(cells[3]!) }))
}

/** The .ts files under a directory, relative to the repository. */
const files = (dir: string): string[] =>
  readdirSync(join(root, dir)).flatMap((name) => {
    const path = `${dir}/${name}`
    if (statSync(join(root, path)).isDirectory()) return files(path)
    return name.endsWith('.ts') ? [path] : []
  })

/** The part a file belongs to: the one with the longest path that is the file or a folder holding it. */
const partOf = (parts: readonly Part[], file: string): Part | undefined => {
  let best: { part: Part; length: number } | undefined
  for (const part of parts) {
    for (const p of part.paths) {
      const holds = file === p || (p.endsWith('/') && file.startsWith(p))
      if (holds && (best === undefined || p.length > best.length)) best = { part, length: p.length }
    }
  }
  return best?.part
}

/** The module specifiers a file imports or re-exports: `import … from '…'`, `export … from '…'` (clauses may span lines), `import '…'`. */
const specifiers = (file: string): string[] =>
  [...readFileSync(join(root, file), 'utf8').matchAll(/^(?:import|export)\s+[\w$*{},\s]+?\s+from\s+'([^']+)'|^import\s+'([^']+)'/gm)].map(
    (m) => (m[1] ?? m[2])!,
  )

describe('docs/design.md: the parts and their imports', () => {
  const parts = table()
  const code = [...files('src'), ...files('laws')]
  const named = (part: Part | undefined): string => (part === undefined ? 'no part' : part.paths.join(', '))

  test('every file of src/ and laws/ is in a part, and every part a row allows is a row of the table', () => {
    expect(parts.length).toBeGreaterThanOrEqual(10)
    expect(code.filter((f) => partOf(parts, f) === undefined)).toEqual([])
    const listed = new Set(parts.flatMap((p) => p.paths))
    expect(parts.flatMap((p) => p.allowed.filter((a) => !listed.has(a)))).toEqual([])
  })

  test("every import between parts is one the importing part's row allows", () => {
    const outside: string[] = []
    for (const file of code) {
      const from = partOf(parts, file)!
      const allowed = new Set(from.allowed.map((a) => partOf(parts, a)))
      for (const s of specifiers(file).filter((s) => s.startsWith('.'))) {
        const target = relative(root, resolve(root, dirname(file), s))
        const to = partOf(parts, target)
        if (to !== from && (to === undefined || !allowed.has(to))) outside.push(`${file} imports ${target} (part ${named(to)})`)
      }
    }
    expect(outside).toEqual([])
  })

  test('the core (src/ minus src/node/) imports nothing from Node', () => {
    const node = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]))
    const core = code.filter((f) => f.startsWith('src/') && !f.startsWith('src/node/'))
    expect(
      core.flatMap((f) =>
        specifiers(f)
          .filter((s) => node.has(s) || s.startsWith('node:'))
          .map((s) => `${f}: ${s}`),
      ),
    ).toEqual([])
  })
})
