/**
 * float32 max-pooling (src/kernels/pool32.ts): the 2x2 straight-line loop equals the naive loop
 * bit for bit (values, argmax), and the naive float32 loops equal the float64 ones of
 * src/kernels/pool.ts on the same values: the forward pass only compares and copies, and the
 * backward pass adds dy onto zeros, so nothing rounds differently (the bound is 0), NaNs and ties
 * included; overlapping windows add in the same order, each add rounded to float32.
 */
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { kernels, useKernels } from '../../src/kernels/backend.ts'
import { maxPoolBackwardNaive, maxPoolNaive } from '../../src/kernels/pool.ts'
import { maxPool32, maxPool32For, maxPool32Reference, maxPoolBackward32 } from '../../src/kernels/pool32.ts'
import { planWindow, type Window2d } from '../../src/kernels/window.ts'

const seed = Number(process.env['CHAINRULE_SEED'] ?? 42)

const firstDifference = (x: ArrayLike<number>, y: ArrayLike<number>): number => {
  for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return i
  return x.length === y.length ? -1 : x.length
}

/** A random pooling window and input: few distinct values (so ties happen), sometimes a NaN. */
const poolCase = (twoByTwo: boolean) =>
  fc
    .record({
      N: fc.integer({ min: 1, max: 3 }),
      C: fc.integer({ min: 1, max: 3 }),
      H: fc.integer({ min: 2, max: 9 }),
      W: fc.integer({ min: 2, max: 9 }),
      k: fc.integer({ min: 1, max: 3 }),
      s: fc.integer({ min: 1, max: 3 }),
      pad: fc.integer({ min: 0, max: 1 }),
      seed: fc.integer({ min: 0, max: 2 ** 30 }),
    })
    .map((r) => {
      const k = twoByTwo ? 2 : Math.min(r.k, r.H, r.W)
      const plan = planWindow(
        { kernel: [k, k], stride: twoByTwo ? [2, 2] : [r.s, r.s], dilation: [1, 1], padding: twoByTwo ? 'valid' : [r.pad, r.pad] },
        r.C,
        r.H,
        r.W,
        r.N,
      )
      if (typeof plan === 'string') throw new Error(plan)
      const g: Window2d = plan.window
      let s = r.seed
      const next = (): number => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32
      const x = Float32Array.from({ length: g.N * g.C * g.H * g.W }, () => {
        const u = next()
        return u < 0.03 ? NaN : Math.fround(Math.floor(next() * 7 - 3) * 0.1)
      })
      const dy = Float32Array.from({ length: g.N * g.C * g.OH * g.OW }, () => Math.fround(next() * 2 - 1))
      return { g, x, dy }
    })

describe('float32 max-pooling', () => {
  test('maxPool32 (2x2, stride 2) gives the naive loop bit for bit, values and argmax', () => {
    fc.assert(
      fc.property(poolCase(true), ({ g, x }) => {
        const n = g.N * g.C * g.OH * g.OW
        const [y, a, y2, a2] = [new Float32Array(n), new Int32Array(n), new Float32Array(n).fill(9), new Int32Array(n).fill(-9)]
        maxPool32Reference(g, x, y, a)
        maxPool32(g, x, y2, a2)
        expect(firstDifference(y2, y)).toBe(-1)
        expect(firstDifference(a2, a)).toBe(-1)
      }),
      { seed, numRuns: 200 },
    )
  })

  for (const twoByTwo of [true, false]) {
    const windows = twoByTwo ? '2x2' : 'any window, overlapping, padded'
    test(`float32 vs float64 on the same values: forward equal, backward within the float32 bound (${windows})`, () => {
      fc.assert(
        fc.property(poolCase(twoByTwo), ({ g, x, dy }) => {
          const n = g.N * g.C * g.OH * g.OW
          const [y, a, y64, a64] = [new Float32Array(n), new Int32Array(n), new Float64Array(n), new Int32Array(n)]
          maxPool32(g, x, y, a)
          maxPoolNaive(g, Float64Array.from(x), y64, a64)
          expect(firstDifference(y, y64)).toBe(-1)
          expect(firstDifference(a, a64)).toBe(-1)
          const dx = new Float32Array(x.length).fill(5)
          const dx64 = new Float64Array(x.length)
          maxPoolBackward32(g, dy, a, dx)
          maxPoolBackwardNaive(g, Float64Array.from(dy), a64, dx64)
          // Overlapping windows add several dy onto one input: float32 rounds each add (in output order), float64 hardly
          // at all; for m terms |dx32 − dx64| ≤ (γ_m(2⁻²⁴) + γ_m(2⁻⁵³))·Σ|dy| (Higham §3.1).
          for (let i = 0; i < dx.length; i++) {
            let sum32 = 0
            let magnitude = 0
            let m = 0
            for (let q = 0; q < n; q++) {
              if (a[q] !== i) continue
              sum32 = Math.fround(sum32 + dy[q]!)
              magnitude += Math.abs(dy[q]!)
              m++
            }
            expect(dx[i]).toBe(sum32)
            const gamma = (u: number): number => (m * u) / (1 - m * u)
            expect(Math.abs(dx[i]! - dx64[i]!)).toBeLessThanOrEqual((gamma(2 ** -24) + gamma(2 ** -53)) * magnitude)
          }
        }),
        { seed, numRuns: 200 },
      )
    })
  }

  test('worked example: a tie goes to the first tap, a NaN wins; maxPool32For follows the kernel switch', () => {
    const g = planWindow({ kernel: [2, 2], stride: [2, 2], dilation: [1, 1], padding: 'valid' }, 1, 2, 4, 1)
    if (typeof g === 'string') throw new Error(g)
    const y = new Float32Array(2)
    const a = new Int32Array(2)
    maxPool32(g.window, Float32Array.of(1, 3, 0, NaN, 3, 2, 5, 1), y, a)
    expect([...y]).toEqual([3, NaN])
    expect([...a]).toEqual([1, 3])
    const was = kernels()
    try {
      useKernels('reference')
      expect(maxPool32For()).toBe(maxPool32Reference)
      useKernels('js')
      expect(maxPool32For()).toBe(maxPool32)
    } finally {
      useKernels(was)
    }
  })
})
