/**
 * float32 ReLU (src/kernels/relu32.ts): the branch-free loops equal the readable ones bit for bit,
 * special values included, and both equal the float64 ReLU on the same values exactly (ReLU
 * rounds nothing, so the float32-vs-float64 bound is 0).
 */
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { kernels, useKernels } from '../../src/kernels/backend.ts'
import { reluForwardFast, reluVjpFast } from '../../src/kernels/relu.ts'
import { relu32Kernels, reluFast32, reluReference32 } from '../../src/kernels/relu32.ts'

const seed = Number(process.env['CHAINRULE_SEED'] ?? 42)

/** float32 values, with ±0, ±∞, NaN and subnormals often. */
const values = fc
  .array(
    fc.oneof(
      fc.float({ noDefaultInfinity: false, noNaN: false }),
      fc.constantFrom(0, -0, Infinity, -Infinity, NaN, 1e-45, -1e-45, 3.4028234663852886e38),
    ),
    { maxLength: 70 },
  )
  .map((xs) => Float32Array.from(xs))

const firstDifference = (x: ArrayLike<number>, y: ArrayLike<number>): number => {
  for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return i
  return x.length === y.length ? -1 : x.length
}

describe('float32 ReLU', () => {
  test('forward: the branch-free loop gives the readable max(x, 0) bit for bit, and float64 ReLU the same values', () => {
    fc.assert(
      fc.property(values, (x) => {
        const want = new Float32Array(x.length)
        const got = new Float32Array(x.length).fill(7)
        reluReference32.forward(x, want)
        reluFast32.forward(x, got)
        expect(firstDifference(got, want)).toBe(-1)
        expect(firstDifference(want, reluForwardFast(Float64Array.from(x)))).toBe(-1)
      }),
      { seed, numRuns: 300 },
    )
  })

  test('vjp: the branch-free loop gives the readable (x > 0 ? dy : 0) bit for bit, and float64 ReLU the same values', () => {
    fc.assert(
      fc.property(
        values.chain((x) =>
          fc.tuple(
            fc.constant(x),
            values.map((d) => Float32Array.from({ length: x.length }, (_, i) => d[i] ?? 1)),
          ),
        ),
        ([x, dy]) => {
          const want = new Float32Array(x.length)
          const got = new Float32Array(x.length).fill(7)
          reluReference32.vjp(x, dy, want)
          reluFast32.vjp(x, dy, got)
          expect(firstDifference(got, want)).toBe(-1)
          expect(firstDifference(want, reluVjpFast(Float64Array.from(x), Float64Array.from(dy)))).toBe(-1)
        },
      ),
      { seed, numRuns: 300 },
    )
  })

  test('worked values: −0 and −∞ give +0, NaN stays NaN; the vjp is +0 wherever x ≤ 0, even for dy = NaN or ∞', () => {
    for (const k of [reluReference32, reluFast32]) {
      const y = new Float32Array(5)
      k.forward(Float32Array.of(-0, -Infinity, NaN, 2.5, -1), y)
      expect([...y]).toEqual([0, 0, NaN, 2.5, 0])
      expect(Object.is(y[0], 0)).toBe(true)
      const dx = new Float32Array(4)
      k.vjp(Float32Array.of(-1, 0, 3, NaN), Float32Array.of(NaN, Infinity, -0, 5), dx)
      expect([...dx]).toEqual([0, 0, -0, 0])
      expect(Object.is(dx[2], -0)).toBe(true)
    }
  })

  test('relu32Kernels follows the kernel switch; a wrong-sized output throws', () => {
    const was = kernels()
    try {
      useKernels('reference')
      expect(relu32Kernels()).toBe(reluReference32)
      useKernels('wasm')
      expect(relu32Kernels()).toBe(reluFast32)
    } finally {
      useKernels(was)
    }
    expect(() => reluFast32.forward(new Float32Array(3), new Float32Array(2))).toThrow(RangeError)
  })
})
