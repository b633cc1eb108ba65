/**
 * A real bug must not look like rounding noise: when shrinking leads to a case just past the
 * tolerance, the failure also reports the largest error seen, where, and how far past the
 * tolerance it was.
 */
import { describe, expect, test } from 'vitest'
import { L, T } from '../../src/index.ts'
import { checkLayer } from '../../laws/index.ts'

const k = Math.sqrt(2 / Math.PI)
const gelu = (x: number): number => 0.5 * x * (1 + Math.tanh(k * (x + 0.044715 * x ** 3)))
/** GELU's derivative with a planted bug: the cubic coefficient of the inner derivative 1.5 times too large. */
const WRONG = 0.044715 * 3 * 1.5
const geluSlopeBuggy = (x: number): number => {
  const t = Math.tanh(k * (x + 0.044715 * x ** 3))
  return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + WRONG * x * x)
}
const geluBuggy = L.define({
  name: 'geluBuggy',
  forward: (_p, x) => ({ y: T.map(gelu)(x), tape: x }),
  vjp: (_p, x, dy) => ({ dx: T.zipWith((v, d) => d * geluSlopeBuggy(v), x, dy), dp: L.none }),
})

/** GELU's true derivative, for checking what the report says independently of the law kit. */
const geluSlope = (x: number): number => {
  const t = Math.tanh(k * (x + 0.044715 * x ** 3))
  return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x)
}

const failure = (f: () => void): string => {
  try {
    f()
  } catch (e) {
    return e instanceof Error ? e.message : String(e)
  }
  throw new Error('expected the laws to fail')
}

describe('the law kit reports the largest error beside the shrunk case', () => {
  const message = failure(() => checkLayer(geluBuggy, { inShape: [3] }))
  const law1 = message.slice(message.indexOf('Law "1.'), message.indexOf('Law "2.'))

  test('law 1: the shrunk case is barely past the tolerance, the largest error far past it, with its input', () => {
    const shrunk = /Why: dx\[\d+,\d+\]: .*\(error ([\d.e+-]+) > 1e-6\), ([\d.e+-]+)× the tolerance/.exec(law1)
    const largest = /Largest error of any sample tried: ([\d.e+-]+), ([\d.e+-]+)× the tolerance/.exec(law1)
    const there = /Why there: dx\[(\d+),(\d+)\]: vjp gives ([\d.e+-]+), central differences give ([\d.e+-]+) \(error ([\d.e+-]+)/.exec(law1)
    const at = /At:\s+x = Tensor \[(\d+), 3\] \[([^\]]+)\][^]*?cotangent c = Tensor \[\d+, 3\] \[([^\]]+)\]/.exec(law1)
    expect(shrunk && largest && there && at, law1).toBeTruthy()
    const largestError = Number(largest![1])
    // The bug is real: the largest error is orders of magnitude past the tolerance and the shrunk one.
    expect(largestError).toBeGreaterThan(1e-3)
    expect(largestError).toBeGreaterThan(100 * Number(shrunk![1]))
    expect(Math.abs(Number(largest![2]) / (largestError / 1e-6) - 1)).toBeLessThan(0.05)
    // The input shown is where that error is: dx = c · slope(x) there, with the buggy and the true slope, gives the numbers reported.
    const i = Number(there![1]) * 3 + Number(there![2])
    const x = at![2]!.split(', ').map(Number)[i]!
    const c = at![3]!.split(', ').map(Number)[i]!
    expect(Math.abs(c * geluSlopeBuggy(x) - Number(there![3]))).toBeLessThan(1e-5)
    expect(Math.abs(c * geluSlope(x) - Number(there![4]))).toBeLessThan(1e-5)
  })

  test('law 2 reports its largest error too', () => {
    const law2 = message.slice(message.indexOf('Law "2.'))
    const largest = /Largest error of any sample tried: ([\d.e+-]+), ([\d.e+-]+)× the tolerance/.exec(law2)
    expect(largest, law2).not.toBeNull()
    expect(Number(largest![1])).toBeGreaterThan(1e-4)
  })

  test('the correct GELU passes, so the failure is the planted bug', () => {
    const geluRight = L.define({
      name: 'gelu',
      forward: (_p, x) => ({ y: T.map(gelu)(x), tape: x }),
      vjp: (_p, x, dy) => ({ dx: T.zipWith((v, d) => d * geluSlope(v), x, dy), dp: L.none }),
    })
    expect(() => checkLayer(geluRight, { inShape: [3] })).not.toThrow()
  })
})
