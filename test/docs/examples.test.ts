import { describe, expect, test } from 'vitest'
import { allExamples, checkExamples, examplesIn, type Example } from './doc-examples.ts'

describe('doc comment @examples', () => {
  test('an example is the rest of the tag line and the lines up to the next tag or the end of the comment', () => {
    const text = [
      '/**',
      ' * Adds.',
      ' * @example add(1, 2) // 3',
      ' */',
      '/**',
      ' * @example',
      ' * const s = add(1, 2)',
      ' * s + 1',
      ' * @param a one',
      ' */',
    ].join('\n')
    expect(examplesIn('src/add.ts', text)).toEqual([
      { file: 'src/add.ts', line: 3, code: 'add(1, 2) // 3' },
      { file: 'src/add.ts', line: 7, code: 'const s = add(1, 2)\ns + 1' },
    ])
  })

  test('every @example in src/ and laws/ type-checks, and a wrong one is reported at its line', () => {
    const examples = allExamples()
    expect(examples.length).toBeGreaterThan(100)
    // planted beside the real ones, in the same compilation: one right, three wrong
    const planted: Example[] = [
      { file: 'src/layers/dense.ts', line: 100_001, code: 'pipe(dense(8), relu, dense(2)) // its folder, unqualified' },
      { file: 'src/layers/dense.ts', line: 100_002, code: "dense('8')" },
      { file: 'src/layers/dense.ts', line: 100_003, code: 'L.pipe(L.dense(8), notDeclaredAnywhere)' },
      { file: 'src/optim/alias.ts', line: 100_004, code: 'const opt = sgd({ lr: 0.1 })\nopt.update(grads, opt.init(params), params)[0].W' },
    ]
    const problems = checkExamples([...examples, ...planted])
    const real = problems.filter((p) => !/:10000\d/.test(p.at))
    expect(real.map((p) => `${p.at} ${p.message}`)).toEqual([])
    expect(problems.map((p) => p.at).filter((at) => at !== 'tsc')).toEqual([
      'src/layers/dense.ts:100002',
      'src/layers/dense.ts:100003',
      'src/optim/alias.ts:100005',
    ])
  })
})
