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

/** The rows of the table under "## Parts and imports": each part and the parts it may import. */
const table = (): Map<string, Set<string>> => {
  const text = readFileSync(join(root, 'docs/design.md'), 'utf8')
  const start = text.indexOf('## Parts and imports')
  if (start < 0) throw new Error('docs/design.md has no "## Parts and imports" section')
  const section = text.slice(start, text.indexOf('\n## ', start + 1))
  const rows = new Map<string, Set<string>>()
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((c) => c.trim())
    const part = /^`([^`]+)`$/.exec(cells[1] ?? '')
    if (part === null) continue
    const allowed = cells[3] === 'nothing' ? [] : [...(cells[3] ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1]!)
    rows.set(part[1]!, new Set(allowed))
  }
  return rows
}

/** The .ts files under a directory, relative to the repository. */
const files = (dir: string): string[] =>
  readdirSync(join(root, dir)).flatMap((name) => {
    const path = `${dir}/${name}`
    if (statSync(join(root, path)).isDirectory()) return files(path)
    return name.endsWith('.ts') ? [path] : []
  })

/** The part a file belongs to: the longest part path that is the file or a folder holding it. */
const partOf = (parts: readonly string[], file: string): string | undefined =>
  parts.filter((p) => file === p || (p.endsWith('/') && file.startsWith(p))).sort((a, b) => b.length - a.length)[0]

/** The module specifiers a file imports or re-exports: `import … from '…'`, `export … from '…'` (clauses may span lines), `import '…'`. */
const specifiers = (file: string): string[] =>
  [...readFileSync(join(root, file), 'utf8').matchAll(/^(?:import|export)\s+[\w$*{},\s]+?\s+from\s+'([^']+)'|^import\s+'([^']+)'/gm)].map((m) => (m[1] ?? m[2])!)

describe('docs/design.md: the parts and their imports', () => {
  const rows = table()
  const parts = [...rows.keys()]
  const code = [...files('src'), ...files('laws')]

  test('the table lists the parts of the code, and every part it allows is itself a part', () => {
    expect(parts.length).toBeGreaterThanOrEqual(10)
    expect(code.filter((f) => partOf(parts, f) === undefined)).toEqual([])
    for (const allowed of rows.values()) for (const p of allowed) expect(parts).toContain(p)
  })

  test("every import between parts is one the importing part's row allows", () => {
    const outside: string[] = []
    for (const file of code) {
      const from = partOf(parts, file)!
      for (const s of specifiers(file).filter((s) => s.startsWith('.'))) {
        const target = relative(root, resolve(root, dirname(file), s))
        const to = partOf(parts, target)
        if (to !== from && (to === undefined || !rows.get(from)!.has(to))) outside.push(`${file} imports ${target} (${to ?? 'no part'})`)
      }
    }
    expect(outside).toEqual([])
  })

  test('the core (src/ minus src/node/) imports nothing from Node', () => {
    const node = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]))
    const core = code.filter((f) => f.startsWith('src/') && !f.startsWith('src/node/'))
    expect(core.flatMap((f) => specifiers(f).filter((s) => node.has(s) || s.startsWith('node:')).map((s) => `${f}: ${s}`))).toEqual([])
  })
})
