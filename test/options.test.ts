/** checkOptions' "did you mean": the known key a misspelt one most likely meant, and none for a key far from every one. */
import { describe, expect, test } from 'vitest'
import { checkOptions } from '../src/options.ts'

describe('an unknown option gets the key it most likely meant', () => {
  const known = ['numRuns', 'seed', 'inShape', 'momentum', 'lr'] as const
  const message = (options: object): string => {
    try {
      checkOptions('f', options as Record<(typeof known)[number], unknown>, [...known])
    } catch (e) {
      return (e as Error).message
    }
    return 'no error'
  }
  test('case only, one letter, two letters (long keys), a transposition', () => {
    expect(message({ inshape: [2] })).toBe(
      "f: unknown option 'inshape' (did you mean 'inShape'?); the options are numRuns, seed, inShape, momentum, lr",
    )
    expect(message({ numRun: 3 })).toMatch(/^f: unknown option 'numRun' \(did you mean 'numRuns'\?\);/)
    expect(message({ momentun: 0.9 })).toMatch(/\(did you mean 'momentum'\?\)/)
    expect(message({ mometnum: 0.9 })).toMatch(/\(did you mean 'momentum'\?\)/)
  })
  test('no guess for a key far from every known one, or two letters off a short key', () => {
    expect(message({ weights: true })).toBe("f: unknown option 'weights'; the options are numRuns, seed, inShape, momentum, lr")
    expect(message({ xy: 1 })).not.toContain('did you mean')
    expect(message({ seeds: 1 })).toMatch(/\(did you mean 'seed'\?\)/)
  })
})
