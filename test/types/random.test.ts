/**
 * The compile-time shape rules agree with init at run time on a few hundred random networks:
 * scripts/shape-cases.ts generates them from the seed below and asks init for each output shape
 * (or the layer its ShapeError names); the type-test file it writes is checked by one tsc run with
 * the repository's settings. A case init accepts must compile with init's output shape as its
 * type; a case init rejects must not compile, and tsc's message must name the same layer.
 * The same run compiles docs/shapes.md's example of a mistake, so the errors it quotes are tsc's.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { generate, typeTests, type Case } from '../../scripts/shape-cases.ts'
import { codeBlocks } from '../docs/markdown.ts'

const seed = 19
const count = 300
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const cases: readonly Case[] = generate(seed, count)
const { source, firstLine } = typeTests(cases)
const guide = readFileSync(join(root, 'docs/shapes.md'), 'utf8')
/** docs/shapes.md's example of a mistake, without its @ts-expect-error lines, and the tsc errors the page says it gives. */
const mistake = codeBlocks('docs/shapes.md', guide).find((b) => b.lines.some((l) => l.includes('@ts-expect-error (the error below)')))
const quoted = [...guide.matchAll(/^> `(mnist\.ts\(.*)`$/gm)].map((m) => m[1]!)

let dir = ''
/** tsc's errors by line of the generated file. */
const errors = new Map<number, string[]>()
let output = ''

beforeAll(() => {
  dir = mkdtempSync(join(root, '.tmp-shape-cases-'))
  writeFileSync(join(dir, 'cases.ts'), source)
  writeFileSync(join(dir, 'mnist.ts'), `${(mistake?.lines ?? []).filter((l) => !l.includes('@ts-expect-error')).join('\n')}\n`)
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ extends: relative(dir, join(root, 'tsconfig.json')), include: ['./*.ts'] }))
  const tsc = join(root, 'node_modules/typescript/bin/tsc')
  const r = spawnSync(process.execPath, [tsc, '--noEmit', '--pretty', 'false', '-p', join(dir, 'tsconfig.json')], {
    cwd: root,
    encoding: 'utf8',
  })
  output = `${r.stdout}${r.stderr}`
  for (const m of output.matchAll(/cases\.ts\((\d+),\d+\): error (TS\d+: .*)/g)) {
    const line = Number(m[1])
    errors.set(line, [...(errors.get(line) ?? []), m[2]!])
  }
}, 120_000)

afterAll(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true })
})

describe(`the shape rules at compile time agree with init on ${count} random networks (seed ${seed})`, () => {
  test('the cases cover every layer and combinator, and both outcomes', () => {
    const ok = cases.filter((c) => c.outShape !== undefined).length
    expect(ok).toBeGreaterThanOrEqual(count / 2)
    expect(count - ok).toBeGreaterThanOrEqual(20)
    const kinds = ['dense', 'flatten', 'reshape', 'relu', 'tanh', 'sigmoid', 'softmax', 'elu', 'leakyRelu', 'dropout', 'batchNorm']
    const more = ['conv2d', 'maxPool2d', 'avgPool2d', 'globalAvgPool', 'identity', 'residual', 'branches', 'pipe', 'compose', 'andThen']
    for (const kind of [...kinds, ...more])
      expect(
        cases.some((c) => c.src.includes(`L.${kind}`)),
        kind,
      ).toBe(true)
  })

  test('tsc output holds no error outside the generated lines and the guide example', () => {
    const stray = output.split('\n').filter((l) => /error TS/.test(l) && !/(cases|mnist)\.ts\(\d+,\d+\)/.test(l))
    expect(stray).toEqual([])
  })

  test('every case init accepts compiles, with the output shape init gives as its type', () => {
    const wrong = cases.flatMap((c, i) =>
      c.outShape !== undefined && errors.has(firstLine + i)
        ? [`${c.src} on [${c.inShape.join(', ')}]: ${errors.get(firstLine + i)!.join(' / ')}`]
        : [],
    )
    expect(wrong).toEqual([])
  })

  test('every case init rejects is a compile error naming the layer init names', () => {
    const wrong = cases.flatMap((c, i) => {
      if (c.errorAt === undefined) return []
      const found = errors.get(firstLine + i) ?? []
      // the full path where initialize reports it; its tail where an argument of a pipe does (it names its own children)
      const segments = c.errorAt.split('.')
      const tails = segments.map((_, k) => `"${segments.slice(k).join('.')}:`)
      return found.some((e) => tails.some((t) => e.includes(t)))
        ? []
        : [`${c.src} on [${c.inShape.join(', ')}] (init: ${c.errorAt}): ${found.join(' / ') || 'compiles'}`]
    })
    expect(wrong).toEqual([])
  })
})

describe('docs/shapes.md', () => {
  test('the errors it quotes for its example of a mistake are what tsc prints, exactly', () => {
    expect(mistake).toBeDefined()
    expect(quoted.length).toBe(2)
    const printed = output.split('\n').flatMap((l) => {
      const m = /(?:^|\/)(mnist\.ts\(.*)$/.exec(l)
      return m === null ? [] : [m[1]!]
    })
    expect(printed).toEqual(quoted)
  })
})
