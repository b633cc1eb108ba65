/**
 * The float32 NAdam, AMSGrad and Adamax steps (src/kernels/adam-variants32.ts): the fused loop and
 * its WebAssembly f32x4 version (src/kernels/wasm/adam32.ts) give the chain's bits
 * (adamVariantStep32Reference, one pass per transform), with and without decoupled weight decay,
 * applied or not, on one thread and split between two, reading in place what the step before left
 * in the float32 arena; and the float32 step stays within the float32 bound of the same step in float64.
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
import { withKernels } from '../../src/kernels/backend.ts'
import {
  adamVariantStep32,
  adamVariantStep32Fast,
  adamVariantStep32For,
  adamVariantStep32Reference,
  type AdamVariant32Arrays,
  type AdamVariant32Settings,
} from '../../src/kernels/adam-variants32.ts'
import { adamVariantStep32Wasm, MIN_ADAM32_ELEMENTS, MIN_ADAM32_SPLIT } from '../../src/kernels/wasm/adam32.ts'
import { splitCount } from '../../src/kernels/wasm/threads.ts'
import { knownFinite } from '../../src/tensor/tensor.ts'
import { gamma32, decayScaleApply } from '../support/float32-bound.ts'
import { splittingFloat32, untilWorkerFree } from '../support/worker.ts'

const seed = Number(process.env['CHAINRULE_SEED'] ?? 42)

const array = (n: number, seed32: number, positive = false): Float32Array => {
  let s = seed32 >>> 0
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    const x = Math.fround((s / 2 ** 32 - 0.5) * 2 ** (((s >>> 7) % 9) - 4))
    return positive ? Math.fround(x * x) : x
  })
}

/** g with the values `bad` places at indices from their positions (n − 1 for even ones). */
const withBad = (g: Float32Array, bad: readonly (readonly [number, number])[]): Float32Array => {
  for (const [at, v] of bad) if (g.length > 0) g[at % 2 === 0 ? g.length - 1 : at % g.length] = v
  return g
}

interface Case {
  readonly s: AdamVariant32Settings
  readonly g: Float32Array
  readonly p: Float32Array
  readonly muPrev: Float32Array
  readonly nuPrev: Float32Array
  readonly nuMaxPrev: Float32Array
}

const caseOf = (length: fc.Arbitrary<number>, nonFinite = false): fc.Arbitrary<Case> =>
  fc
    .record({
      variant: fc.constantFrom('nadam' as const, 'amsgrad' as const, 'adamax' as const),
      n: length,
      rate: fc.double({ min: 1e-5, max: 0.1, noNaN: true }),
      b1: fc.double({ min: 0.5, max: 0.99, noNaN: true }),
      b2: fc.double({ min: 0.9, max: 0.9999, noNaN: true }),
      eps: fc.constantFrom(1e-8, 1e-7, 1e-3),
      t: fc.integer({ min: 1, max: 1000 }),
      lambda: fc.option(fc.double({ min: 1e-5, max: 0.1, noNaN: true }), { nil: undefined }),
      apply: fc.boolean(),
      seed: fc.integer({ min: 0, max: 2 ** 30 }),
      // NaN, ±∞ or a value that overflows g·g, at a few places (the last one often in a vector's padding)
      bad: nonFinite ? fc.array(fc.tuple(fc.nat(), fc.constantFrom(NaN, Infinity, -Infinity, 3e38)), { maxLength: 3 }) : fc.constant([]),
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
      g: withBad(array(r.n, r.seed), r.bad),
      p: array(r.n, r.seed + 1),
      muPrev: array(r.n, r.seed + 2),
      nuPrev: array(r.n, r.seed + 3, true),
      nuMaxPrev: array(r.n, r.seed + 4, true),
    }))

const cases = caseOf(fc.integer({ min: 0, max: 200 }))

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
    expect(withKernels('reference', adamVariantStep32For)).toBe(adamVariantStep32Reference)
    expect(withKernels('js', adamVariantStep32For)).toBe(adamVariantStep32)
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

const wasmOnly =
  (threads: 1 | 2 = 1) =>
  (a: AdamVariant32Arrays, s: AdamVariant32Settings): void => {
    if (!adamVariantStep32Wasm(a, s, threads)) throw new Error('adamVariantStep32Wasm declined the job')
  }

/** `steps` steps of a variant from (p, μ, ν, ν_max), each reading the outputs of the one before; a NaN in g with `poison`. */
const chain = (
  step: (a: AdamVariant32Arrays, s: AdamVariant32Settings) => void,
  s: AdamVariant32Settings,
  n: number,
  steps: number,
  poison = false,
) => {
  let [p, mu, nu, nuMax] = [array(n, 5), array(n, 6), array(n, 7, true), array(n, 8, true)]
  const seen: Float32Array[][] = []
  for (let t = 1; t <= steps; t++) {
    const fresh = (): Float32Array => new Float32Array(n)
    const [out, muNew, nuNew, nuMaxNew] = [fresh(), fresh(), fresh(), fresh()]
    const g = array(n, 100 + t)
    if (poison) g[n - 2] = NaN
    const st = { ...s, c1: 1 - s.b1 ** t, c2: 1 - s.b2 ** t, c1Next: 1 - s.b1 ** (t + 1) }
    step({ g, p, muPrev: mu, nuPrev: nu, nuMaxPrev: nuMax, out, mu: muNew, nu: nuNew, nuMax: nuMaxNew }, st)
    seen.push(s.variant === 'amsgrad' ? [out, muNew, nuNew, nuMaxNew] : [out, muNew, nuNew])
    ;[p, mu, nu, nuMax] = [s.apply ? out : p, muNew, nuNew, s.variant === 'amsgrad' ? nuMaxNew : nuMax]
  }
  return seen
}

const variants: readonly AdamVariant32Settings[] = (['nadam', 'amsgrad', 'adamax'] as const).flatMap((variant) => [
  { variant, rate: 1e-3, b1: 0.9, b2: 0.999, eps: 1e-8, c1: 0, c2: 0, c1Next: 0, lambda: undefined, apply: true },
  { variant, rate: 1e-2, b1: 0.8, b2: 0.99, eps: 1e-7, c1: 0, c2: 0, c1Next: 0, lambda: 0.05, apply: false },
])

describe('the float32 NAdam, AMSGrad and Adamax steps in WebAssembly (f32x4, in the float32 arena)', () => {
  for (const [name, step, lengths, numRuns] of [
    [
      'adamVariantStep32Wasm, lengths across 4-lane and part edges',
      wasmOnly(),
      fc.oneof(fc.integer({ min: 1, max: 40 }), fc.constantFrom(65535, 65537, 70001)),
      60,
    ],
    [
      `adamVariantStep32Fast (WebAssembly from ${MIN_ADAM32_ELEMENTS} elements)`,
      adamVariantStep32Fast,
      fc.integer({ min: MIN_ADAM32_ELEMENTS - 20, max: 3000 }),
      120,
    ],
  ] as const) {
    test(`${name} gives the chain's bits, NaN and ±∞ in g included: each variant, with and without λ, applied or not`, () => {
      fc.assert(
        fc.property(caseOf(lengths, true), (c) => {
          const got = run(step, c)
          const want = run(adamVariantStep32Reference, c)
          for (let q = 0; q < 4; q++) expect(firstDifference(got[q]!, want[q]!)).toBe(-1)
          if (c.s.variant !== 'amsgrad') expect(got[3]!.every(Number.isNaN)).toBe(true)
          const ok = c.g.every(Number.isFinite) && got[0]!.every(Number.isFinite)
          if (step !== adamVariantStep32Fast) expect([knownFinite(c.g), knownFinite(got[0]!)]).toEqual([ok, ok])
        }),
        { seed, numRuns },
      )
    })
  }

  test("chained steps, reading the params and moments the step before left in place, give the chain's bits", () => {
    for (const n of [MIN_ADAM32_ELEMENTS, 2051, 70001]) {
      for (const s of variants) {
        const want = chain(adamVariantStep32Reference, s, n, 4)
        const got = chain(wasmOnly(), s, n, 4)
        got.forEach((arrays, t) => arrays.forEach((x, q) => expect(firstDifference(x, want[t]![q]!)).toBe(-1)))
      }
    }
  })

  test("adamVariantStep32For follows the kernel switch: WebAssembly under 'wasm'", () => {
    expect(withKernels('wasm', adamVariantStep32For)).toBe(adamVariantStep32Fast)
  })
})

describe("the float32 NAdam, AMSGrad and Adamax steps on two threads (the arena in the worker's shared memory)", () => {
  splittingFloat32() // the worker up, splits on, no back-off; the settings before restored after

  test("chained steps split between the threads (big leaves, odd sizes, NaN in g): the chain's bits", () => {
    for (const n of [MIN_ADAM32_SPLIT, MIN_ADAM32_SPLIT + 13]) {
      for (const s of variants) {
        const splits = splitCount()
        const split = (a: AdamVariant32Arrays, st: AdamVariant32Settings): void => {
          untilWorkerFree()
          wasmOnly(2)(a, st)
        }
        const got = chain(split, s, n, 3, true)
        const want = chain(adamVariantStep32Reference, s, n, 3, true)
        got.forEach((arrays, t) => arrays.forEach((x, q) => expect(firstDifference(x, want[t]![q]!)).toBe(-1)))
        expect(splitCount() - splits).toBe(3)
      }
    }
  })
})
