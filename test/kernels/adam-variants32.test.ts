/**
 * The float32 NAdam, AMSGrad and Adamax steps (src/kernels/adam-variants32.ts): the fused loop
 * gives the chain's bits (adamVariantStep32Reference, one pass per transform), with and without
 * decoupled weight decay, applied or not; and the float32 step stays within the float32 bound of
 * the same step in float64.
 *
 * The bound, as test/kernels/adam32.test.ts derives it (γ_m for u = 2⁻²⁴ plus the same for 2⁻⁵³):
 * |Δμ| ≤ γ₂·M with M = |β₁μ'| + |(1−β₁)g|. AMSGrad and NAdam: ν within γ₃ relative (positive
 * terms; max keeps it), the denominator √(ν/c2) + ε within γ₄. Adamax: ν∞ = max(β₂ν∞', |g| + ε),
 * each candidate one rounding: γ₁ relative. AMSGrad and Adamax: d = (μ/c1)/den within
 * (|Δμ| + γ₇|μ|)/(c1·den). NAdam: the numerator β₁·(μ/c1Next) + (1−β₁)·(g/c1) adds β₁|Δμ|/c1Next
 * and three roundings on each of its two terms, the division and the denominator γ₅ more
 * relative: d within (β₁|Δμ|/c1Next + γ₉·(|β₁μ/c1Next| + |(1−β₁)g/c1|))/den (generous). Then
 * AdamW's + λp, −lr and the apply as in the Adam test.
 */
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { kernels, useKernels } from '../../src/kernels/backend.ts'
import {
  adamVariantStep32,
  adamVariantStep32For,
  adamVariantStep32Reference,
  type AdamVariant32Arrays,
  type AdamVariant32Settings,
} from '../../src/kernels/adam-variants32.ts'
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
  readonly s: AdamVariant32Settings
  readonly g: Float32Array
  readonly p: Float32Array
  readonly muPrev: Float32Array
  readonly nuPrev: Float32Array
  readonly nuMaxPrev: Float32Array
}

const cases: fc.Arbitrary<Case> = fc
  .record({
    variant: fc.constantFrom('nadam' as const, 'amsgrad' as const, 'adamax' as const),
    n: fc.integer({ min: 0, max: 200 }),
    rate: fc.double({ min: 1e-5, max: 0.1, noNaN: true }),
    b1: fc.double({ min: 0.5, max: 0.99, noNaN: true }),
    b2: fc.double({ min: 0.9, max: 0.9999, noNaN: true }),
    eps: fc.constantFrom(1e-8, 1e-7, 1e-3),
    t: fc.integer({ min: 1, max: 1000 }),
    lambda: fc.option(fc.double({ min: 1e-5, max: 0.1, noNaN: true }), { nil: undefined }),
    apply: fc.boolean(),
    seed: fc.integer({ min: 0, max: 2 ** 30 }),
  })
  .map((r) => ({
    s: {
      variant: r.variant,
      rate: r.rate,
      b1: r.b1,
      b2: r.b2,
      eps: r.eps,
      c1: 1 - r.b1 ** r.t,
      c2: 1 - r.b2 ** r.t,
      c1Next: 1 - r.b1 ** (r.t + 1),
      lambda: r.lambda,
      apply: r.apply,
    },
    g: array(r.n, r.seed),
    p: array(r.n, r.seed + 1),
    muPrev: array(r.n, r.seed + 2),
    nuPrev: array(r.n, r.seed + 3, true),
    nuMaxPrev: array(r.n, r.seed + 4, true),
  }))

/** out, μ, ν and ν_max of a step (outputs start as NaN; ν_max stays NaN but for AMSGrad). */
const run = (
  step: (a: AdamVariant32Arrays, s: AdamVariant32Settings) => void,
  c: Case,
): [Float32Array, Float32Array, Float32Array, Float32Array] => {
  const n = c.g.length
  const fresh = (): Float32Array => new Float32Array(n).fill(NaN)
  const [out, mu, nu, nuMax] = [fresh(), fresh(), fresh(), fresh()]
  step({ g: c.g, p: c.p, muPrev: c.muPrev, nuPrev: c.nuPrev, nuMaxPrev: c.nuMaxPrev, out, mu, nu, nuMax }, c.s)
  return [out, mu, nu, nuMax]
}

const firstDifference = (x: Float32Array, y: Float32Array): number => {
  for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return i
  return -1
}

describe('the float32 NAdam, AMSGrad and Adamax steps', () => {
  test("adamVariantStep32 (one fused loop) gives the chain's bits: each variant, with and without λ, applied or not", () => {
    fc.assert(
      fc.property(cases, (c) => {
        const got = run(adamVariantStep32, c)
        const want = run(adamVariantStep32Reference, c)
        for (let q = 0; q < 4; q++) expect(firstDifference(got[q]!, want[q]!)).toBe(-1)
        if (c.s.variant !== 'amsgrad') expect(got[3]!.every(Number.isNaN)).toBe(true)
      }),
      { seed, numRuns: 300 },
    )
  })

  test('within the float32 bound of the same step in float64 (scalars rounded to float32 in both)', () => {
    fc.assert(
      fc.property(cases, (c) => {
        const [out, mu, nu, nuMax] = run(adamVariantStep32Reference, c)
        const f = Math.fround
        const [b1, b2, a1, a2, c1, c2, c1Next, eps] = [c.s.b1, c.s.b2, 1 - c.s.b1, 1 - c.s.b2, c.s.c1, c.s.c2, c.s.c1Next, c.s.eps].map(
          f,
        ) as number[]
        const [lambda, r] = [f(c.s.lambda ?? 0), f(-c.s.rate)]
        for (let i = 0; i < c.g.length; i++) {
          const g = c.g[i]!
          const m = b1! * c.muPrev[i]! + a1! * g
          const M = Math.abs(b1! * c.muPrev[i]!) + Math.abs(a1! * g)
          expect(Math.abs(mu[i]! - m)).toBeLessThanOrEqual(gamma32(2) * M)
          let d: number
          let dErr: number
          if (c.s.variant === 'adamax') {
            const vInf = Math.max(b2! * c.nuPrev[i]!, Math.abs(g) + eps!)
            expect(Math.abs(nu[i]! - vInf)).toBeLessThanOrEqual(gamma32(1) * vInf)
            d = m / c1! / vInf
            dErr = (gamma32(2) * M + gamma32(7) * Math.abs(m)) / (c1! * vInf)
          } else {
            const v = b2! * c.nuPrev[i]! + a2! * g * g
            expect(Math.abs(nu[i]! - v)).toBeLessThanOrEqual(gamma32(3) * v)
            const vHat = c.s.variant === 'amsgrad' ? Math.max(c.nuMaxPrev[i]!, v) : v
            if (c.s.variant === 'amsgrad') expect(Math.abs(nuMax[i]! - vHat)).toBeLessThanOrEqual(gamma32(3) * vHat)
            const den = Math.sqrt(vHat / c2!) + eps!
            if (c.s.variant === 'amsgrad') {
              d = m / c1! / den
              dErr = (gamma32(2) * M + gamma32(7) * Math.abs(m)) / (c1! * den)
            } else {
              const t1 = b1! * (m / c1Next!)
              const t2 = a1! * (g / c1!)
              d = (t1 + t2) / den
              dErr = ((b1! * gamma32(2) * M) / c1Next! + gamma32(9) * (Math.abs(t1) + Math.abs(t2))) / den
            }
          }
          const { value, bound } = decayScaleApply(d, dErr, {
            lambda: c.s.lambda === undefined ? undefined : lambda,
            r,
            p: c.p[i]!,
            apply: c.s.apply,
          })
          expect(Math.abs(out[i]! - value)).toBeLessThanOrEqual(bound * (1 + 1e-9))
        }
      }),
      { seed, numRuns: 300 },
    )
  })

  test('adamVariantStep32For follows the kernel switch; mismatched lengths and a missing ν_max throw', () => {
    const was = kernels()
    try {
      useKernels('reference')
      expect(adamVariantStep32For()).toBe(adamVariantStep32Reference)
      useKernels('js')
      expect(adamVariantStep32For()).toBe(adamVariantStep32)
    } finally {
      useKernels(was)
    }
    const x = new Float32Array(3)
    const s: AdamVariant32Settings = {
      variant: 'nadam',
      rate: 0.1,
      b1: 0.9,
      b2: 0.999,
      eps: 1e-8,
      c1: 0.1,
      c2: 0.001,
      c1Next: 0.19,
      lambda: undefined,
      apply: false,
    }
    const a = { g: x, p: x, muPrev: x, nuPrev: new Float32Array(2), out: x, mu: x, nu: x }
    expect(() => adamVariantStep32(a, s)).toThrow(/nuPrev has 2/)
    expect(() => adamVariantStep32({ ...a, nuPrev: x }, { ...s, variant: 'amsgrad' })).toThrow(/needs nuMaxPrev/)
  })
})
