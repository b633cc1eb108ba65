/**
 * The README's and the guides' code is code: it compiles, runs and quotes the source truly.
 *
 * - README.md: every ```ts block is type-checked and run, except a ```ts quote=PATH block, which
 *   must appear verbatim in PATH (up to leading indentation).
 * - docs/*.md: ```ts run blocks are type-checked and run, ```ts check blocks type-checked,
 *   ```ts quote=PATH blocks compared with PATH; other blocks are illustrations.
 *
 * The blocks are written to a git-ignored directory inside the repository, so `chainrule`,
 * `chainrule/laws` and `chainrule/node` resolve as they do for the examples, then type-checked by
 * one tsc run with the repository's tsconfig (its strict settings), and run with tsx.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { codeBlocks, quotedIn, type Block } from './markdown.ts'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const read = (file: string): string => readFileSync(join(root, file), 'utf8')
const guides = readdirSync(join(root, 'docs'))
  .filter((f) => f.endsWith('.md'))
  .sort()
  .map((f) => `docs/${f}`)
const markdownFiles = ['README.md', ...guides]
const blocks: Block[] = markdownFiles.flatMap((file) => codeBlocks(file, read(file)))

const isTs = (b: Block): boolean => b.lang === 'ts' || b.lang === 'typescript'
const quoteOf = (b: Block): string | undefined => b.attrs.find((a) => a.startsWith('quote='))?.slice('quote='.length)
const runs = (b: Block): boolean => isTs(b) && quoteOf(b) === undefined && (b.file === 'README.md' || b.attrs.includes('run'))
const checks = (b: Block): boolean => runs(b) || (isTs(b) && quoteOf(b) === undefined && b.attrs.includes('check'))
const where = (b: Block): string => `${b.file}:${b.line}`
/** The file name a block is written to: its Markdown file and line, so a compiler message points back to it. */
const fileName = (b: Block): string => `${b.file.replace(/[/.]/g, '-')}-line-${b.line}.ts`

// Links to guides other branches add; each entry must go once the file exists (the test below says so).
const pending = new Set<string>([])

let dir = ''
let compiled: { status: number | null; output: string } = { status: null, output: '' }
const outputs = new Map<Block, string>()

/** Runs one written block with tsx, from the repository root, and returns what it printed; throws with its stderr if it fails. */
const runBlock = (b: Block): string => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(dir, fileName(b))], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  })
  if (r.status !== 0) throw new Error(`${where(b)} (${b.heading}) failed to run (exit ${r.status}):\n${r.stderr}${r.stdout}`)
  return r.stdout
}

const outputOf = (b: Block): string => {
  const seen = outputs.get(b)
  if (seen !== undefined) return seen
  const out = runBlock(b)
  outputs.set(b, out)
  return out
}

/** The anchors GitHub gives a file's headings: lower case, punctuation dropped, spaces to hyphens. */
const headingAnchors = (text: string): Set<string> =>
  new Set(
    [...text.matchAll(/^#{1,6}\s+(.*)$/gm)].map((m) =>
      m[1]!
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, '')
        .replace(/\s/g, '-'),
    ),
  )

const readmeBlock = (heading: string): Block => {
  const b = blocks.find((x) => x.file === 'README.md' && runs(x) && x.heading === heading)
  if (b === undefined) throw new Error(`README.md has no ts block under the heading "${heading}"`)
  return b
}

beforeAll(() => {
  dir = mkdtempSync(join(root, '.tmp-docs-check-'))
  for (const b of blocks.filter(checks)) writeFileSync(join(dir, fileName(b)), `${b.lines.join('\n')}\nexport {}\n`) // a module, whatever the block holds
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ extends: relative(dir, join(root, 'tsconfig.json')), include: ['./*.ts'] }))
  const tsc = join(root, 'node_modules/typescript/bin/tsc')
  const r = spawnSync(process.execPath, [tsc, '--noEmit', '-p', join(dir, 'tsconfig.json')], { cwd: root, encoding: 'utf8' })
  compiled = { status: r.status, output: `${r.stdout}${r.stderr}` }
})

afterAll(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true })
})

describe('README.md and docs/: every checked code block type-checks and runs', () => {
  test('there are blocks to check: the README has a tour and a custom layer, the guides have run blocks', () => {
    expect(blocks.filter((b) => b.file === 'README.md' && runs(b)).length).toBeGreaterThanOrEqual(2)
    expect(blocks.filter((b) => b.file !== 'README.md' && runs(b)).length).toBeGreaterThanOrEqual(5)
  })

  test('one tsc run, with the repository strict settings, accepts every ts block of the README and every run/check block of docs/', () => {
    expect(compiled.output, compiled.output).toBe('')
    expect(compiled.status).toBe(0)
  })

  test('the README tour trains the spiral: its initial loss is near ln 3 and its training accuracy is at least 90%', () => {
    const out = outputOf(readmeBlock('A tour'))
    const loss = /initial loss (\d+\.\d+), ‖dp‖ (\d+\.\d+)/.exec(out)
    const accuracy = /training accuracy after 200 epochs: (\d+\.\d)%/.exec(out)
    expect(loss, out).not.toBeNull()
    expect(accuracy, out).not.toBeNull()
    expect(Math.abs(Number(loss![1]) - Math.log(3))).toBeLessThan(0.5)
    expect(Number(loss![2])).toBeGreaterThan(0)
    expect(Number(accuracy![1])).toBeGreaterThanOrEqual(90)
    expect(Number(accuracy![1])).toBeLessThanOrEqual(100)
  })

  test("the README's first lines learn XOR: the predictions printed are the XOR of the inputs", () => {
    expect(outputOf(readmeBlock('Install')).trim()).toBe('[ 0, 1, 1, 0 ]')
  })

  test("the README's custom layer passes checkLayer", () => {
    expect(outputOf(readmeBlock('Your own layer, law-tested'))).toContain('swish obeys the layer laws')
  })

  test('every other run block exits cleanly', () => {
    for (const b of blocks.filter(runs)) outputOf(b)
  })
})

describe('README.md and docs/: quotes, links, commands and widths', () => {
  test("the README quotes pipe's vjp from src/layers/pipe.ts", () => {
    const quote = blocks.find((b) => b.file === 'README.md' && quoteOf(b) === 'src/layers/pipe.ts')
    expect(quote, 'README.md has no ```ts quote=src/layers/pipe.ts block').toBeDefined()
    expect(quote!.lines.some((l) => l.trimStart().startsWith('vjp:'))).toBe(true)
    expect(quote!.lines.some((l) => l.includes('.vjp('))).toBe(true)
  })

  test('every quote block appears verbatim in the file it names, up to leading indentation', () => {
    const quotes = blocks.filter((b) => quoteOf(b) !== undefined)
    for (const b of quotes) {
      const path = quoteOf(b)!
      expect(existsSync(join(root, path)), `${where(b)} quotes ${path}, which does not exist`).toBe(true)
      expect(b.lines.filter((l) => l.trim() !== '').length, `${where(b)}: an empty quote`).toBeGreaterThan(0)
      expect(quotedIn(b.lines, read(path)), `${where(b)}: this block is not (or no longer) in ${path}`).toBe(true)
    }
  })

  test('the README is a front door: at most 200 lines', () => {
    expect(read('README.md').split('\n').length).toBeLessThanOrEqual(200)
  })

  test('no line of a code block is longer than 140 characters', () => {
    const long = blocks.flatMap((b) =>
      b.lines.flatMap((l, k) => ([...l].length > 140 ? [`${b.file}:${b.line + k} (${[...l].length})`] : [])),
    )
    expect(long).toEqual([])
  })

  test('relative links point to files that exist, and #anchors to headings in them', () => {
    const missing: string[] = []
    const landed: string[] = []
    for (const file of markdownFiles) {
      for (const m of read(file).matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(m[1]!)) continue
        const [target = '', anchor] = m[1]!.split('#')
        const path = target === '' ? file : relative(root, resolve(root, dirname(file), target))
        if (pending.has(path)) {
          if (existsSync(join(root, path))) landed.push(path)
        } else if (!existsSync(join(root, path))) missing.push(`${file}: ${m[1]}`)
        else if (anchor !== undefined && !headingAnchors(read(path)).has(anchor)) missing.push(`${file}: ${m[1]} (no such heading)`)
      }
    }
    expect(missing).toEqual([])
    expect(landed, 'these files exist now: remove them from `pending` in this test').toEqual([])
  })

  test('every `npm run` script the docs name exists in package.json', () => {
    const scripts = Object.keys((JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts)
    const named = new Set(markdownFiles.flatMap((file) => [...read(file).matchAll(/npm run ([\w:-]+)/g)].map((m) => m[1]!)))
    expect([...named].filter((s) => !scripts.includes(s))).toEqual([])
  })
})
