/**
 * The WebAssembly arena the one-thread float32 tensor products and the SGD step share
 * (src/kernels/wasm/arena32.ts): a product that reads operands already there in place, copies the
 * others in and keeps them, and keeps dW for the step, gives gemm32Reference's bits; so does the
 * SGD step reading a gradient or params a product left there; blocks given back and reused (more
 * products than the arena keeps) never change a result; and no input is written.
 */
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { gemm32Reference, view32 } from '../../src/kernels/gemm32.ts'
import { gemm32Resident } from '../../src/kernels/wasm/gemm32.ts'
import { sgdStep32, type Sgd32Settings } from '../../src/kernels/sgd32.ts'
import { sgdStep32Wasm } from '../../src/kernels/wasm/sgd32.ts'
import { runs, values } from '../support/gemm-data.ts'

const f32 = (n: number, seed: number): Float32Array => Float32Array.from(values(n, seed))
const firstDifference = (x: Float32Array, y: Float32Array): number => {
  for (let i = 0; i < Math.max(x.length, y.length); i++) if (!Object.is(x[i], y[i])) return i
  return -1
}

/** An m×k or (transposed) k×m stored matrix's data, as a tensor holds it: the whole array is the matrix. */
interface Stored {
  readonly data: Float32Array
  readonly rows: number
  readonly cols: number
}
const stored = (rows: number, cols: number, seed: number): Stored => ({ data: f32(rows * cols, seed), rows, cols })

/** op(A)·op(B) by the arena product (keep: C stays in the arena) and by the reference; both results. */
function both(a: Stored, ta: boolean, b: Stored, tb: boolean, keep: boolean): [Float32Array, Float32Array] {
  const [m, k] = ta ? [a.cols, a.rows] : [a.rows, a.cols]
  const n = tb ? b.rows : b.cols
  const va = view32(a.data, a.rows, a.cols, ta)
  const vb = view32(b.data, b.rows, b.cols, tb)
  const [aBefore, bBefore] = [a.data.slice(), b.data.slice()]
  const got = new Float32Array(m * n)
  expect(gemm32Resident(m, n, k, va, vb, got, keep)).toBe(true)
  expect(firstDifference(a.data, aBefore)).toBe(-1)
  expect(firstDifference(b.data, bBefore)).toBe(-1)
  const want = new Float32Array(m * n)
  gemm32Reference(m, n, k, va, vb, want, 0, false)
  return [got, want]
}

describe('the float32 arena (tensor products and the SGD step in one WebAssembly memory)', () => {
  test("the MLP's products in a step's order: x read by x·W and again (in place) by xᵀ·dy; dW kept; the reference's bits", () => {
    for (const [batch, inputs, units] of [
      [64, 784, 128],
      [7, 13, 9],
      [5, 8, 8],
      [1, 1, 1],
    ] as const) {
      const x = stored(batch, inputs, 1)
      const W = stored(inputs, units, 2)
      const [y, yRef] = both(x, false, W, false, false)
      expect(firstDifference(y, yRef)).toBe(-1)
      const dy = stored(batch, units, 3)
      const [dx, dxRef] = both(dy, false, W, true, false)
      expect(firstDifference(dx, dxRef)).toBe(-1)
      const [dW, dWRef] = both(x, true, dy, false, true)
      expect(firstDifference(dW, dWRef)).toBe(-1)
      // dW (kept) as an operand: read in place
      const [again, againRef] = both({ data: dW, rows: inputs, cols: units }, false, dy, true, false)
      expect(firstDifference(again, againRef)).toBe(-1)
    }
  })

  test('random shapes, transposes and operands used again, past the number of blocks the arena keeps', () => {
    const pool: Stored[] = []
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 40 }),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        fc.nat(),
        (m, n, k, ta, tb, keep, pick) => {
          // an operand of the right shape from the pool (held, or given back since) or a new one
          const find = (rows: number, cols: number, seed: number): Stored => {
            const old = pool.filter((s) => s.rows === rows && s.cols === cols)
            if (old.length > 0 && pick % 2 === 0) return old[pick % old.length]!
            const s = stored(rows, cols, seed)
            pool.push(s)
            return s
          }
          const a = ta ? find(k, m, pick) : find(m, k, pick)
          const b = tb ? find(n, k, pick + 1) : find(k, n, pick + 1)
          const [got, want] = both(a, ta, b, tb, keep)
          expect(firstDifference(got, want)).toBe(-1)
          if (keep) pool.push({ data: got, rows: m, cols: n })
        },
      ),
      runs(300),
    )
  })

  test("the SGD step reads a product's dW and params in place: the TypeScript loop's bits; later products unchanged", () => {
    const s: Sgd32Settings = { rate: 0.05, lambda: 5e-4, beta: 0.9, nesterov: true, apply: true }
    const [batch, inputs, units] = [16, 97, 40] // W has 3,880 values: the WebAssembly step takes it
    const x = stored(batch, inputs, 5)
    const dy = stored(batch, units, 6)
    let W = stored(inputs, units, 7) // copied into the arena by x·W, kept by the products
    let t = f32(inputs * units, 8)
    for (let step = 0; step < 4; step++) {
      expect(firstDifference(...both(x, false, W, false, false))).toBe(-1)
      const [g, gRef] = both(x, true, dy, false, true) // dW, kept for the step
      expect(firstDifference(g, gRef)).toBe(-1)
      const n = g.length
      const [out, tNew, outRef, tRef] = [new Float32Array(n), new Float32Array(n), new Float32Array(n), new Float32Array(n)]
      const [pBefore, gBefore] = [W.data.slice(), g.slice()]
      expect(sgdStep32Wasm({ g, p: W.data, tPrev: t, out, t: tNew }, s)).toBe(true)
      sgdStep32({ g, p: W.data, tPrev: t, out: outRef, t: tRef }, s)
      expect(firstDifference(out, outRef)).toBe(-1)
      expect(firstDifference(tNew, tRef)).toBe(-1)
      expect(firstDifference(W.data, pBefore)).toBe(-1)
      expect(firstDifference(g, gBefore)).toBe(-1)
      // the old params and gradient, used again after the step gave its blocks back: still the same bits
      for (let i = 0; i < 14; i++) expect(firstDifference(...both(stored(batch, inputs, 100 + i), false, W, false, false))).toBe(-1)
      expect(firstDifference(...both({ data: g, rows: inputs, cols: units }, true, x, true, false))).toBe(-1)
      W = { data: out, rows: inputs, cols: units }
      t = tNew
    }
  })
})
