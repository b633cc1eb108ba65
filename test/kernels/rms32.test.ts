/**
 * The float32 RMSprop and Adagrad steps (src/kernels/rms32.ts): the fused loop gives the chain's
 * bits (rmsStep32Reference, one pass per transform), with and without momentum, applied or not;
 * and the float32 step stays within the float32 bound of the same step in float64.
 *
 * The bound (scalars rounded to float32 in both; γ_m = m·u/(1 − m·u) for u = 2⁻²⁴ plus the same
 * for 2⁻⁵³, Higham §3.1). ν = ρν' + (1−ρ)g² (or Σ' + g²) is a sum of positive terms with at most
 * three roundings on a path: |Δν| ≤ γ₃·ν. The denominator √ν + ε (a square root halves ν's
 * relative error, then one rounding, then a positive add) and the division leave d = g/den within
 * γ₆ relative (γ₇ used, generous). The trace t = d + βt' adds γ₂·(|d| + |βt'|), the scale by −lr
 * γ₁ relative and the apply γ₁·(|p| + |u|). The test evaluates these magnitudes in float64.
 */
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { kernels, useKernels } from '../../src/kernels/backend.ts'
import { rmsStep32, rmsStep32For, rmsStep32Reference, type Rms32Arrays, type Rms32Settings } from '../../src/kernels/rms32.ts'
import { gamma32, decayScaleApply } from '../support/float32-bound.ts'

const seed = Number(process.env['CHAINRULE_SEED'] ?? 42)

const array = (n: number, seed32: number, positive = false): Float32Array => {
  let s = seed32 >>> 0
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    const x = Math.fround((s / 2 ** 32 - 0.5) * 2 ** (((s >>> 7) % 9) - 4))
    return positive ? Math.fround(x * x) : x
  })
}

interface Case {
  readonly s: Rms32Settings
  readonly g: Float32Array
  readonly p: Float32Array
  readonly accPrev: Float32Array
  readonly tracePrev: Float32Array
}

const cases: fc.Arbitrary<Case> = fc
  .record({
    n: fc.integer({ min: 0, max: 200 }),
    rate: fc.double({ min: 1e-5, max: 0.1, noNaN: true }),
    decay: fc.option(fc.double({ min: 0.5, max: 0.999, noNaN: true }), { nil: undefined }),
    eps: fc.constantFrom(1e-8, 1e-7, 1e-3),
    momentum: fc.oneof(fc.constant(0), fc.double({ min: 0.1, max: 0.99, noNaN: true })),
    apply: fc.boolean(),
    seed: fc.integer({ min: 0, max: 2 ** 30 }),
  })
  .map((r) => ({
    s: { rate: r.rate, decay: r.decay, eps: r.eps, momentum: r.momentum, apply: r.apply },
    g: array(r.n, r.seed),
    p: array(r.n, r.seed + 1),
    accPrev: array(r.n, r.seed + 2, true),
    tracePrev: array(r.n, r.seed + 3),
  }))

/** out, acc and trace of a step (outputs start as NaN, so each must be written; trace stays NaN without momentum). */
const run = (step: (a: Rms32Arrays, s: Rms32Settings) => void, c: Case): [Float32Array, Float32Array, Float32Array] => {
  const n = c.g.length
  const [out, acc, trace] = [new Float32Array(n).fill(NaN), new Float32Array(n).fill(NaN), new Float32Array(n).fill(NaN)]
  step({ g: c.g, p: c.p, accPrev: c.accPrev, tracePrev: c.tracePrev, out, acc, trace }, c.s)
  return [out, acc, trace]
}

const firstDifference = (x: Float32Array, y: Float32Array): number => {
  for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return i
  return -1
}

describe('the float32 RMSprop and Adagrad steps', () => {
  test("rmsStep32 (one fused loop) gives the chain's bits: RMSprop with and without momentum, Adagrad, applied or not", () => {
    fc.assert(
      fc.property(cases, (c) => {
        const got = run(rmsStep32, c)
        const want = run(rmsStep32Reference, c)
        for (let q = 0; q < 3; q++) expect(firstDifference(got[q]!, want[q]!)).toBe(-1)
        if (c.s.momentum === 0) expect(got[2]!.every(Number.isNaN)).toBe(true) // no trace written
      }),
      { seed, numRuns: 300 },
    )
  })

  test('within the float32 bound of the same step in float64 (scalars rounded to float32 in both)', () => {
    fc.assert(
      fc.property(cases, (c) => {
        const [out, acc, trace] = run(rmsStep32Reference, c)
        const f = Math.fround
        const rho = f(c.s.decay ?? 0)
        const a = f(1 - (c.s.decay ?? 0))
        const [eps, beta, r] = [f(c.s.eps), f(c.s.momentum), f(-c.s.rate)]
        for (let i = 0; i < c.g.length; i++) {
          const g = c.g[i]!
          const v = c.s.decay === undefined ? c.accPrev[i]! + g * g : rho * c.accPrev[i]! + a * g * g
          expect(Math.abs(acc[i]! - v)).toBeLessThanOrEqual(gamma32(3) * v)
          let d = g / (Math.sqrt(v) + eps)
          let dErr = gamma32(7) * Math.abs(d)
          if (c.s.momentum !== 0) {
            const t = d + beta * c.tracePrev[i]!
            dErr += gamma32(2) * (Math.abs(d) + Math.abs(beta * c.tracePrev[i]!))
            d = t
            expect(Math.abs(trace[i]! - t)).toBeLessThanOrEqual(dErr * (1 + 1e-9))
          }
          const { value, bound } = decayScaleApply(d, dErr, { lambda: undefined, r, p: c.p[i]!, apply: c.s.apply })
          expect(Math.abs(out[i]! - value)).toBeLessThanOrEqual(bound * (1 + 1e-9))
        }
      }),
      { seed, numRuns: 300 },
    )
  })

  test('rmsStep32For follows the kernel switch; mismatched lengths and a missing trace throw', () => {
    const was = kernels()
    try {
      useKernels('reference')
      expect(rmsStep32For()).toBe(rmsStep32Reference)
      useKernels('js')
      expect(rmsStep32For()).toBe(rmsStep32)
    } finally {
      useKernels(was)
    }
    const x = new Float32Array(3)
    const s: Rms32Settings = { rate: 0.1, decay: 0.9, eps: 1e-8, momentum: 0, apply: false }
    expect(() => rmsStep32({ g: x, p: x, accPrev: new Float32Array(2), out: x, acc: x }, s)).toThrow(/accPrev has 2/)
    expect(() => rmsStep32({ g: x, p: x, accPrev: x, out: x, acc: x }, { ...s, momentum: 0.9 })).toThrow(/needs tracePrev/)
  })
})
