/**
 * The float32 Adam step (src/kernels/adam32.ts): the fused loop gives the chain's bits
 * (adamStep32Reference, one pass per transform), Adam and AdamW, applied or not; and the float32
 * step stays within the float32 bound of the same step in float64.
 *
 * The bound (scalars rounded to float32 in both; u = 2⁻²⁴, and γ_m = m·u/(1 − m·u) plus the same
 * for 2⁻⁵³, Higham §3.1 and §2.2). μ = β₁μ' + (1−β₁)g is a sum of two rounded products:
 * |Δμ| ≤ γ₂·M, M = |β₁μ'| + |(1−β₁)g|. ν is a sum of positive terms: |Δν| ≤ γ₃·ν. The
 * denominator √(ν/c2) + ε, a division, a square root and a positive add, is within γ₄ relative. So
 * d = (μ/c1)/den is off by at most (|Δμ| + γ₇·|μ|)/(c1·den) (two divisions and the denominator's
 * error, made generous); AdamW's + λp adds γ₂·(|d| + |λp|), the scale by −lr and the apply
 * γ₂ more relative to their magnitudes. The test evaluates these magnitudes in float64.
 */
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { kernels, useKernels } from '../../src/kernels/backend.ts'
import { adamStep32, adamStep32For, adamStep32Reference, type Adam32Arrays, type Adam32Settings } from '../../src/kernels/adam32.ts'
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
  readonly s: Adam32Settings
  readonly g: Float32Array
  readonly p: Float32Array
  readonly muPrev: Float32Array
  readonly nuPrev: Float32Array
}

const cases: fc.Arbitrary<Case> = fc
  .record({
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
    s: { rate: r.rate, b1: r.b1, b2: r.b2, eps: r.eps, c1: 1 - r.b1 ** r.t, c2: 1 - r.b2 ** r.t, lambda: r.lambda, apply: r.apply },
    g: array(r.n, r.seed),
    p: array(r.n, r.seed + 1),
    muPrev: array(r.n, r.seed + 2),
    nuPrev: array(r.n, r.seed + 3, true),
  }))

const run = (step: (a: Adam32Arrays, s: Adam32Settings) => void, c: Case): [Float32Array, Float32Array, Float32Array] => {
  const n = c.g.length
  const [out, mu, nu] = [new Float32Array(n).fill(NaN), new Float32Array(n).fill(NaN), new Float32Array(n).fill(NaN)]
  step({ g: c.g, p: c.p, muPrev: c.muPrev, nuPrev: c.nuPrev, out, mu, nu }, c.s)
  return [out, mu, nu]
}

const firstDifference = (x: Float32Array, y: Float32Array): number => {
  for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return i
  return -1
}

describe('the float32 Adam step', () => {
  test("adamStep32 (one fused loop) gives the chain's bits: Adam and AdamW, applied or not", () => {
    fc.assert(
      fc.property(cases, (c) => {
        const got = run(adamStep32, c)
        const want = run(adamStep32Reference, c)
        for (let q = 0; q < 3; q++) expect(firstDifference(got[q]!, want[q]!)).toBe(-1)
      }),
      { seed, numRuns: 200 },
    )
  })

  test('within the float32 bound of the same step in float64 (scalars rounded to float32 in both)', () => {
    fc.assert(
      fc.property(cases, (c) => {
        const [out, mu, nu] = run(adamStep32Reference, c)
        const f = Math.fround
        const [b1, b2, a1, a2, c1, c2, eps] = [c.s.b1, c.s.b2, 1 - c.s.b1, 1 - c.s.b2, c.s.c1, c.s.c2, c.s.eps].map(f) as number[]
        const [lambda, r] = [f(c.s.lambda ?? 0), f(-c.s.rate)]
        for (let i = 0; i < c.g.length; i++) {
          const g = c.g[i]!
          const m = b1! * c.muPrev[i]! + a1! * g
          const M = Math.abs(b1! * c.muPrev[i]!) + Math.abs(a1! * g)
          const v = b2! * c.nuPrev[i]! + a2! * g * g
          expect(Math.abs(mu[i]! - m)).toBeLessThanOrEqual(gamma32(2) * M)
          expect(Math.abs(nu[i]! - v)).toBeLessThanOrEqual(gamma32(3) * v)
          const den = Math.sqrt(v / c2!) + eps!
          const d = m / c1! / den
          const dErr = (gamma32(2) * M + gamma32(7) * Math.abs(m)) / (c1! * den)
          const { value, bound } = decayScaleApply(d, dErr, {
            lambda: c.s.lambda === undefined ? undefined : lambda,
            r,
            p: c.p[i]!,
            apply: c.s.apply,
          })
          expect(Math.abs(out[i]! - value)).toBeLessThanOrEqual(bound * (1 + 1e-9))
        }
      }),
      { seed, numRuns: 200 },
    )
  })

  test('adamStep32For follows the kernel switch; mismatched lengths throw', () => {
    const was = kernels()
    try {
      useKernels('reference')
      expect(adamStep32For()).toBe(adamStep32Reference)
      useKernels('js')
      expect(adamStep32For()).toBe(adamStep32)
    } finally {
      useKernels(was)
    }
    const x = new Float32Array(3)
    const s: Adam32Settings = { rate: 0.1, b1: 0.9, b2: 0.999, eps: 1e-8, c1: 0.1, c2: 0.001, lambda: undefined, apply: false }
    expect(() => adamStep32({ g: x, p: x, muPrev: x, nuPrev: new Float32Array(2), out: x, mu: x, nu: x }, s)).toThrow(/nuPrev has 2/)
  })
})
