/**
 * Type-checks the `@example`s of the doc comments in src/ and laws/, as fp-ts's docs-ts does:
 * each example becomes a file of its own, compiled by the repository's tsc.
 *
 * What an example may use without importing it (the convention the examples are written to):
 * - what its own file and its folder's index export, unqualified, as if written inside that
 *   namespace (`dense(10)` in src/layers/dense.ts, `chain(...)` in src/optim/*, `fromSeed(0)` in src/key.ts);
 * - the public namespaces and types of `chainrule` (T, Tree, Key, L, Loss, Gradcheck, Data, Train,
 *   Optim, Schedule, Plot, IO, Kernels, Tensor, Shape, Layer, Ctx, Spec), everything `chainrule/node`
 *   and `chainrule/laws` export, `fc` (fast-check), `E` (fp-ts/Either) and `t` (io-ts);
 * - the names declared in ./fixtures.ts (`key`, `x`, `y`, `net`, `params`, `history`, ...): the
 *   values a training script has at hand, so a one-line example needs no set-up.
 * An example may import anything else itself (a relative path is relative to the file it
 * documents); its own declarations shadow all of the above. Each example is compiled as a module
 * of its own, its code in a block, with the repository's tsconfig.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

/** One `@example`: the file it documents (relative to the root), the line its code starts on, and the code. */
export interface Example {
  readonly file: string
  readonly line: number
  readonly code: string
}

/** A tsc error in an example, placed at the source line of the doc comment. */
export interface Problem {
  readonly at: string
  readonly message: string
}

const walk = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  )

/** Every `@example` in the doc comments of a file: the rest of the tag's line, and the lines up to the next tag or the comment's end. */
export const examplesIn = (file: string, text: string): Example[] => {
  const lines = text.split('\n')
  const found: Example[] = []
  lines.forEach((l, i) => {
    const m = /^\s*\*\s?@example\b ?(.*)$/.exec(l)
    if (m === null) return
    const sameLine = m[1]!.trim() !== ''
    const body: string[] = sameLine ? [m[1]!] : []
    for (let j = i + 1; j < lines.length; j++) {
      const t = lines[j]!
      if (/^\s*\*\//.test(t) || /^\s*\*\s?@\w/.test(t)) break
      body.push(t.replace(/^\s*\*( |$)/, ''))
    }
    const code = body.join('\n').replace(/^```\w*\n|\n```\s*$/g, '')
    found.push({ file, line: sameLine ? i + 1 : i + 2, code })
  })
  return found
}

/** Every example in src/ and laws/. */
export const allExamples = (): Example[] =>
  [...walk(join(root, 'src')), ...walk(join(root, 'laws'))]
    .sort()
    .flatMap((f) => examplesIn(relative(root, f).split('\\').join('/'), readFileSync(f, 'utf8')))

/** The names a module exports (declarations, export lists, `export * as`, and `export *` followed into its file). */
export const exportsOf = (file: string, seen: Set<string> = new Set()): Set<string> => {
  const names = new Set<string>()
  if (seen.has(file)) return names
  seen.add(file)
  const text = readFileSync(file, 'utf8')
  for (const m of text.matchAll(
    /^export\s+(?:declare\s+)?(?:async\s+)?(?:abstract\s+)?(?:const|let|var|function\*?|class|enum|interface|type|namespace)\s+([A-Za-z_$][\w$]*)/gm,
  ))
    names.add(m[1]!)
  for (const m of text.matchAll(/^export\s+(?:type\s+)?\{([^}]*)\}/gm)) {
    for (const part of m[1]!.split(',')) {
      const name = part
        .trim()
        .replace(/^type\s+/, '')
        .split(/\s+as\s+/)
        .pop()!
        .trim()
      if (name !== '') names.add(name)
    }
  }
  for (const m of text.matchAll(/^export\s+\*\s+as\s+([A-Za-z_$][\w$]*)/gm)) names.add(m[1]!)
  for (const m of text.matchAll(/^export\s+\*\s+from\s+['"](\.[^'"]+)['"]/gm))
    for (const n of exportsOf(resolve(dirname(file), m[1]!), seen)) names.add(n)
  return names
}

const exportsCache = new Map<string, Set<string>>()
const exportsCached = (file: string): Set<string> => {
  let names = exportsCache.get(file)
  if (names === undefined) {
    names = exportsOf(file)
    exportsCache.set(file, names)
  }
  return names
}

const PUBLIC = [
  'T',
  'Tree',
  'Key',
  'L',
  'Loss',
  'Gradcheck',
  'Data',
  'Train',
  'Optim',
  'Schedule',
  'Plot',
  'IO',
  'Kernels',
  'Tensor',
  'Shape',
  'Layer',
  'Ctx',
  'Spec',
]

/** The names after `import` in an import line: `{ a, b as c }`, a default, or `* as ns`. */
const importedNames = (line: string): string[] => {
  const m = /^import\s+(?:type\s+)?(?:\*\s+as\s+(\w+)|(\w+)|\{([^}]*)\})/.exec(line)
  if (m === null) return []
  if (m[3] === undefined) return [m[1] ?? m[2]!]
  return m[3].split(',').map((p) =>
    p
      .trim()
      .replace(/^type\s+/, '')
      .split(/\s+as\s+/)
      .pop()!
      .trim(),
  )
}

/** The text of the generated file for one example, and the number of lines before the example's code. */
export const exampleModule = (ex: Example, dir: string, fixtures: string): { readonly text: string; readonly offset: number } => {
  const source = join(root, ex.file)
  const importPath = (file: string): string => relative(dir, file).split('\\').join('/')
  const folderIndex = join(dirname(source), 'index.ts')
  const folder = folderIndex === source || !ex.file.includes('/') ? new Set<string>() : exportsCached(folderIndex)
  // the example's own imports, moved to the top; a relative path is relative to the file it documents
  const imports = ex.code
    .split('\n')
    .filter((l) => /^import\s/.test(l))
    .map((l) =>
      l.replace(/(['"])(\.\.?\/[^'"]+)\1/, (_m, q: string, path: string) => `${q}${importPath(resolve(dirname(source), path))}${q}`),
    )
  const taken = new Set<string>(imports.flatMap(importedNames))
  const header: string[] = [`// ${ex.file}:${ex.line}`]
  /** Imports those of `names` no earlier source gave. */
  const give = (names: Iterable<string>, from: string): void => {
    const fresh = [...names].filter((n) => !taken.has(n)).sort()
    for (const n of fresh) taken.add(n)
    if (fresh.length > 0) header.push(`import { ${fresh.join(', ')} } from '${from}'`)
  }
  give(exportsCached(source), importPath(source))
  give(folder, importPath(folderIndex))
  give(PUBLIC, 'chainrule')
  give(exportsCached(join(root, 'src/node/index.ts')), 'chainrule/node')
  give(exportsCached(join(root, 'laws/index.ts')), 'chainrule/laws')
  for (const [name, line] of [
    ['fc', `import fc from 'fast-check'`],
    ['E', `import * as E from 'fp-ts/Either'`],
    ['t', `import * as t from 'io-ts'`],
  ] as const) {
    if (!taken.has(name)) header.push(line)
    taken.add(name)
  }
  // the fixtures' declarations (one a line), but for names the example already has
  for (const l of fixtures.split('\n')) {
    const name = /^declare\s+(?:const|let|function)\s+([A-Za-z_$][\w$]*)/.exec(l)?.[1]
    if (name !== undefined && !taken.has(name)) header.push(l)
  }
  const lines = [...header, ...imports, '{']
  const body = ex.code.split('\n').map((l) => (/^import\s/.test(l) ? '' : l))
  return { text: [...lines, ...body, '}', ''].join('\n'), offset: lines.length }
}

/** Compiles the examples with the repository's tsc and returns each error at its doc comment's line. */
export const checkExamples = (examples: readonly Example[]): Problem[] => {
  const dir = mkdtempSync(join(root, '.tmp-doc-examples-'))
  try {
    const fixtures = readFileSync(join(root, 'test/docs/fixtures.ts'), 'utf8')
    const offsets = examples.map((ex, i) => {
      const { text, offset } = exampleModule(ex, dir, fixtures)
      writeFileSync(join(dir, `example-${i}.ts`), text)
      return offset
    })
    const config = {
      extends: relative(dir, join(root, 'tsconfig.json')).split('\\').join('/'),
      compilerOptions: { noEmit: true, verbatimModuleSyntax: false, isolatedModules: false },
      files: examples.map((_, i) => `example-${i}.ts`),
    }
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(config))
    let out = ''
    try {
      execFileSync(
        process.execPath,
        [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.json'), '--pretty', 'false'],
        { encoding: 'utf8', stdio: 'pipe' },
      )
    } catch (e) {
      out = String((e as { stdout?: unknown }).stdout ?? '') + String((e as { stderr?: unknown }).stderr ?? '')
      if (out.trim() === '') throw e
    }
    const problems: Problem[] = []
    for (const line of out.split('\n')) {
      const m = /example-(\d+)\.ts\((\d+),(\d+)\): (.*)$/.exec(line)
      if (m === null) {
        const last = problems.at(-1)
        if (last !== undefined && /^\s/.test(line))
          problems[problems.length - 1] = { ...last, message: `${last.message}\n${line.trim()}` } // a message's next line
        else if (line.trim() !== '') problems.push({ at: 'tsc', message: line })
        continue
      }
      const ex = examples[Number(m[1])]!
      const l = Number(m[2]) - offsets[Number(m[1])]!
      problems.push({ at: l >= 1 ? `${ex.file}:${ex.line + l - 1}` : `${ex.file}:${ex.line} (generated line ${m[2]})`, message: m[4]! })
    }
    return problems
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
