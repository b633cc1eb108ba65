/**
 * float32 reductions (src/kernels/reduce32.ts): biasGrad32 gives biasGrad32Reference's bits; both
 * stay within γ_N·Σₙ|dy| of the float64 sum (a sum of N terms, Higham §3.1); and
 * softmaxCrossEntropy32 stays within the float32 bound below of src/loss.ts's float64 loss.
 *
 * The softmax cross-entropy bound, per row (u = 2⁻²⁴; first order in u, then doubled for the
 * higher-order terms; Math.exp and Math.log within 2⁻⁵⁰ relative): with dⱼ = zⱼ − m and
 * D = maxⱼ|dⱼ|, each fl32(e^fl32(dⱼ)) is within εₑ = u·(D + 1) + 2⁻⁵⁰ relative; s (C positive
 * terms) within εₑ + γ_C; so logZ = m + log s is within ΔlogZ = εₑ + γ_C + 2⁻⁵⁰ + u·(|log s| + |logZ|)
 * absolute. A loss term tⱼ·(zⱼ − logZ) is within |tⱼ|·(ΔlogZ + 2u·|zⱼ − logZ|), the sum of the N·C
 * terms adds γ_{N·C}·Σ|terms|, and the mean u·|L|. A gradient entry (pⱼ·Σt − tⱼ)/N, with
 * pⱼ = e^(zⱼ − logZ) within εₚ = ΔlogZ + u·|zⱼ − logZ| + u + 2⁻⁵⁰ relative and Σt within γ_C
 * (targets ≥ 0), is within (|pⱼΣt|·(εₚ + γ_C + u) + u·|pⱼΣt − tⱼ|)/N + u·|gradⱼ|.
 */
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { biasGrad32, biasGrad32Reference, softmaxCrossEntropy32 } from '../../src/kernels/reduce32.ts'
import { softmaxCrossEntropy } from '../../src/loss.ts'
import * as T from '../../src/tensor/index.ts'
import { gamma32 } from '../support/float32-bound.ts'

const seed = Number(process.env['CHAINRULE_SEED'] ?? 42)
const u = 2 ** -24

const firstDifference = (x: Float32Array, y: Float32Array): number => {
  for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return i
  return -1
}

/** n float32 values of magnitudes 2⁻⁶ … 2⁶, signed (or ≥ 0). */
const values = (n: number, seed32: number, positive = false): Float32Array => {
  let s = seed32 >>> 0
  const next = (): number => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32
  return Float32Array.from({ length: n }, () => {
    const v = (positive ? next() : next() * 2 - 1) * 2 ** Math.floor(next() * 12 - 6)
    return Math.fround(v)
  })
}

/** Each row of C positive values divided by its sum, rounded to float32: rows summing to 1 within rounding, as the loss takes. */
const probabilityRows = (v: Float32Array, C: number): Float32Array =>
  v.map((x, i) => {
    let sum = 0
    for (let j = i - (i % C); j < i - (i % C) + C; j++) sum += v[j]!
    return x / sum
  })

describe('float32 bias gradient', () => {
  const shapes = fc.record({
    N: fc.integer({ min: 0, max: 70 }),
    F: fc.integer({ min: 0, max: 40 }),
    seed: fc.integer({ min: 0, max: 2 ** 30 }),
  })

  test('biasGrad32 (rows in memory order) gives the reference (a column at a time) bit for bit, and stays within γ_N of float64', () => {
    fc.assert(
      fc.property(shapes, ({ N, F, seed: s }) => {
        const dy = values(N * F, s)
        const [db, dbRef] = [new Float32Array(F).fill(NaN), new Float32Array(F).fill(NaN)]
        biasGrad32(N, F, dy, db)
        biasGrad32Reference(N, F, dy, dbRef)
        expect(firstDifference(db, dbRef)).toBe(-1)
        for (let j = 0; j < F; j++) {
          let [sum, mag] = [0, 0]
          for (let n = 0; n < N; n++) {
            sum += dy[n * F + j]!
            mag += Math.abs(dy[n * F + j]!)
          }
          expect(Math.abs(db[j]! - sum)).toBeLessThanOrEqual(gamma32(N) * mag)
        }
      }),
      { seed, numRuns: 300 },
    )
  })

  test('adds in the stated order: rows ascending, each add rounded (2²⁴ + 1 is not a float32)', () => {
    const db = new Float32Array(1)
    biasGrad32(3, 1, Float32Array.of(2 ** 24, 1, 1), db)
    expect(db[0]).toBe(2 ** 24)
    biasGrad32(3, 1, Float32Array.of(1, 1, 2 ** 24), db)
    expect(db[0]).toBe(2 ** 24 + 2)
  })
})

describe('float32 softmax cross-entropy', () => {
  const cases = fc.record({
    N: fc.integer({ min: 1, max: 20 }),
    C: fc.integer({ min: 2, max: 12 }),
    oneHot: fc.boolean(),
    seed: fc.integer({ min: 0, max: 2 ** 30 }),
  })

  test('within the float32 bound of the float64 loss of src/loss.ts (value and gradient), one-hot and probability targets', () => {
    fc.assert(
      fc.property(cases, ({ N, C, oneHot, seed: s }) => {
        const z = values(N * C, s)
        const t = oneHot ? new Float32Array(N * C) : probabilityRows(values(N * C, s + 1, true), C)
        if (oneHot) for (let n = 0; n < N; n++) t[n * C + ((s + n) % C)] = 1
        const grad = new Float32Array(N * C).fill(NaN)
        const L = softmaxCrossEntropy32(N, C, z, t, grad)
        const want = softmaxCrossEntropy(T.fromData([N, C], Float64Array.from(z)), T.fromData([N, C], Float64Array.from(t)))
        let lossErr = 0
        let terms = 0
        for (let n = 0; n < N; n++) {
          const r = n * C
          let m = -Infinity
          for (let j = 0; j < C; j++) m = Math.max(m, z[r + j]!)
          let [D, sum, tsum] = [0, 0, 0]
          for (let j = 0; j < C; j++) {
            D = Math.max(D, Math.abs(z[r + j]! - m))
            sum += Math.exp(z[r + j]! - m)
            tsum += t[r + j]!
          }
          const logZ = m + Math.log(sum)
          const eE = u * (D + 1) + 2 ** -50
          const dLogZ = eE + gamma32(C) + 2 ** -50 + u * (Math.abs(Math.log(sum)) + Math.abs(logZ))
          for (let j = 0; j < C; j++) {
            const tj = t[r + j]!
            const zl = Math.abs(z[r + j]! - logZ)
            lossErr += Math.abs(tj) * (dLogZ + 2 * u * zl)
            terms += Math.abs(tj * (z[r + j]! - logZ))
            const p = Math.exp(z[r + j]! - logZ)
            const eP = dLogZ + u * zl + u + 2 ** -50
            const g = (p * tsum - tj) / N
            const gErr = (Math.abs(p * tsum) * (eP + gamma32(C) + u) + u * Math.abs(p * tsum - tj)) / N + u * Math.abs(g)
            expect(Math.abs(grad[r + j]! - want.grad.data[r + j]!)).toBeLessThanOrEqual(2 * gErr)
          }
        }
        const bound = 2 * (lossErr / N + (gamma32(N * C) * terms) / N + u * Math.abs(want.value))
        expect(Math.abs(L - want.value)).toBeLessThanOrEqual(bound)
      }),
      { seed, numRuns: 300 },
    )
  })

  test('the worked example: logits [2, 0], class 0: L = log(1 + e⁻²) and grad = [σ − 1, 1 − σ], σ = 1/(1 + e⁻²), to float32', () => {
    const grad = new Float32Array(2)
    const L = softmaxCrossEntropy32(1, 2, Float32Array.of(2, 0), Float32Array.of(1, 0), grad)
    const sigma = 1 / (1 + Math.exp(-2))
    expect(Math.abs(L - Math.log(1 + Math.exp(-2)))).toBeLessThan(4 * u)
    expect(Math.abs(grad[0]! - (sigma - 1))).toBeLessThan(4 * u)
    expect(Math.abs(grad[1]! - (1 - sigma))).toBeLessThan(4 * u)
    expect(() => softmaxCrossEntropy32(1, 2, Float32Array.of(2, 0), Float32Array.of(1), grad)).toThrow(/t has 1 values/)
  })
})
