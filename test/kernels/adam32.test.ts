/**
 * The float32 Adam step (src/kernels/adam32.ts, src/kernels/wasm/adam32.ts): the fused loop and its
 * WebAssembly f32x4 version give the chain's bits (adamStep32Reference, one pass per transform),
 * Adam and AdamW, applied or not, on one thread and split between two, reading in place what an
 * earlier step or a product left in the float32 arena; a float32 MLP trained with Adam under 'wasm'
 * gives the 'reference' run's bits; and the float32 step stays within the float32 bound of the same
 * step in float64.
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
import { withKernels } from '../../src/kernels/backend.ts'
import {
  adamStep32,
  adamStep32Fast,
  adamStep32For,
  adamStep32Reference,
  type Adam32Arrays,
  type Adam32Settings,
} from '../../src/kernels/adam32.ts'
import { view32 } from '../../src/kernels/gemm32.ts'
import { adamStep32Wasm, MIN_ADAM32_ELEMENTS, MIN_ADAM32_SPLIT } from '../../src/kernels/wasm/adam32.ts'
import { gemm32Resident } from '../../src/kernels/wasm/gemm32.ts'
import { configureThreads, splitCount, workerChunkCount } from '../../src/kernels/wasm/threads.ts'
import { Kernels, Key, L, Loss, Optim, T, Train, Tree } from '../../src/index.ts'
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

interface Case {
  readonly s: Adam32Settings
  readonly g: Float32Array
  readonly p: Float32Array
  readonly muPrev: Float32Array
  readonly nuPrev: Float32Array
}

const caseOf = (length: fc.Arbitrary<number>, nonFinite = false): fc.Arbitrary<Case> =>
  fc
    .record({
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
    .map((r) => {
      const g = array(r.n, r.seed)
      for (const [at, v] of r.bad) if (r.n > 0) g[at % 2 === 0 ? r.n - 1 : at % r.n] = v
      return {
        s: { rate: r.rate, b1: r.b1, b2: r.b2, eps: r.eps, c1: 1 - r.b1 ** r.t, c2: 1 - r.b2 ** r.t, lambda: r.lambda, apply: r.apply },
        g,
        p: array(r.n, r.seed + 1),
        muPrev: array(r.n, r.seed + 2),
        nuPrev: array(r.n, r.seed + 3, true),
      }
    })

const cases = caseOf(fc.integer({ min: 0, max: 200 }))

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
    expect(withKernels('reference', adamStep32For)).toBe(adamStep32Reference)
    expect(withKernels('js', adamStep32For)).toBe(adamStep32)
    const x = new Float32Array(3)
    const s: Adam32Settings = { rate: 0.1, b1: 0.9, b2: 0.999, eps: 1e-8, c1: 0.1, c2: 0.001, lambda: undefined, apply: false }
    expect(() => adamStep32({ g: x, p: x, muPrev: x, nuPrev: new Float32Array(2), out: x, mu: x, nu: x }, s)).toThrow(/nuPrev has 2/)
  })
})

const wasmOnly =
  (threads: 1 | 2 = 1) =>
  (a: Adam32Arrays, s: Adam32Settings): void => {
    if (!adamStep32Wasm(a, s, threads)) throw new Error('adamStep32Wasm declined the job')
  }

/** Whether every value of x is finite. */
const finite = (x: Float32Array): boolean => x.every((v) => Number.isFinite(v))

/** `steps` steps from (p, μ, ν), each reading the outputs of the one before (out as p unless the updates are not applied). */
const chain = (step: (a: Adam32Arrays, s: Adam32Settings) => void, s: Adam32Settings, n: number, steps: number, start?: Float32Array) => {
  let [p, mu, nu] = [start ?? array(n, 5), new Float32Array(n), new Float32Array(n)]
  const seen: Float32Array[][] = []
  for (let t = 1; t <= steps; t++) {
    const [out, muNew, nuNew] = [new Float32Array(n), new Float32Array(n), new Float32Array(n)]
    step({ g: array(n, 100 + t), p, muPrev: mu, nuPrev: nu, out, mu: muNew, nu: nuNew }, { ...s, c1: 1 - s.b1 ** t, c2: 1 - s.b2 ** t })
    seen.push([out, muNew, nuNew])
    ;[p, mu, nu] = [s.apply ? out : p, muNew, nuNew]
  }
  return seen
}

describe('the float32 Adam step in WebAssembly (f32x4, in the float32 arena)', () => {
  for (const [name, step, lengths, numRuns] of [
    [
      'adamStep32Wasm, lengths across 4-lane and part edges',
      wasmOnly(),
      fc.oneof(fc.integer({ min: 1, max: 40 }), fc.constantFrom(65535, 65537, 70001)),
      60,
    ],
    [
      `adamStep32Fast (WebAssembly from ${MIN_ADAM32_ELEMENTS} elements)`,
      adamStep32Fast,
      fc.integer({ min: MIN_ADAM32_ELEMENTS - 20, max: 3000 }),
      120,
    ],
  ] as const) {
    test(`${name} gives the chain's bits, NaN and ±∞ in g included: Adam and AdamW, applied or not`, () => {
      fc.assert(
        fc.property(caseOf(lengths, true), (c) => {
          const got = run(step, c)
          const want = run(adamStep32Reference, c)
          for (let q = 0; q < 3; q++) expect(firstDifference(got[q]!, want[q]!)).toBe(-1)
        }),
        { seed, numRuns },
      )
    })
  }

  test('g and out are recorded as finite (markFinite) exactly when every value of both is', () => {
    fc.assert(
      fc.property(caseOf(fc.oneof(fc.integer({ min: 1, max: 40 }), fc.constantFrom(2051, 70001)), true), (c) => {
        const [out] = run(wasmOnly(), c)
        const both = finite(c.g) && finite(out)
        expect([knownFinite(c.g), knownFinite(out)]).toEqual([both, both])
      }),
      { seed, numRuns: 80 },
    )
    // p + u overflowing to ∞ while g is finite: nothing is recorded
    const n = 2051
    const c: Case = {
      s: { rate: 1e38, b1: 0.9, b2: 0.999, eps: 1e-8, c1: 0.1, c2: 0.001, lambda: undefined, apply: true },
      g: array(n, 1).fill(-1),
      p: array(n, 2).fill(3e38),
      muPrev: new Float32Array(n),
      nuPrev: new Float32Array(n),
    } // d = (−0.1/0.1) / (√(0.001/0.001) + ε) ≈ −1, u ≈ 1e38, p + u > 3.4e38
    const [out] = run(wasmOnly(), c)
    expect(out[0]).toBe(Infinity)
    expect([knownFinite(c.g), knownFinite(out)]).toEqual([false, false])
    // ε = 0: the padding lanes compute 0/0, NaN, which must not count; a second step reads them in place
    const s0 = { ...c.s, rate: 0.1, eps: 0 }
    const [p1, mu1, nu1] = run(wasmOnly(), { s: s0, g: array(n, 5), p: array(n, 6), muPrev: array(n, 7), nuPrev: array(n, 8, true) })
    const [p2] = run(wasmOnly(), { s: s0, g: array(n, 9), p: p1, muPrev: mu1, nuPrev: nu1 })
    expect([finite(p1), finite(p2)]).toEqual([true, true])
    expect([knownFinite(p1), knownFinite(p2)]).toEqual([true, true])
  })

  const settings: readonly Adam32Settings[] = [
    { rate: 1e-3, b1: 0.9, b2: 0.999, eps: 1e-8, c1: 0, c2: 0, lambda: undefined, apply: true },
    { rate: 1e-2, b1: 0.8, b2: 0.99, eps: 1e-7, c1: 0, c2: 0, lambda: 0.05, apply: true },
    { rate: 1e-2, b1: 0.9, b2: 0.999, eps: 1e-3, c1: 0, c2: 0, lambda: 1e-3, apply: false },
  ]

  test("chained steps, reading the params and moments the step before left in place, give the chain's bits", () => {
    for (const n of [MIN_ADAM32_ELEMENTS, 2051, 70001]) {
      for (const s of settings) {
        // the first step's μ' and ν' are one array (a zero state shared), as is its g with p in a second run
        const want = chain(adamStep32Reference, s, n, 4)
        const got = chain(wasmOnly(), s, n, 4)
        got.forEach((arrays, t) => arrays.forEach((x, q) => expect(firstDifference(x, want[t]![q]!)).toBe(-1)))
        // arrays read once already (their blocks reused since) are copied in again: still the same bits
        const again = [new Float32Array(n), new Float32Array(n), new Float32Array(n)] as const
        const againRef = [new Float32Array(n), new Float32Array(n), new Float32Array(n)] as const
        const from = (k: number, arrays: readonly Float32Array[], out: readonly Float32Array[]): Adam32Arrays => ({
          g: arrays[0]!,
          p: arrays[0]!, // g and p one array
          muPrev: arrays[1]!,
          nuPrev: arrays[1]!, // μ' and ν' one array
          out: out[0]!,
          mu: out[1]!,
          nu: out[2]!,
        })
        wasmOnly()(from(1, got[1]!, again), { ...s, c1: 0.5, c2: 0.25 })
        adamStep32Reference(from(1, want[1]!, againRef), { ...s, c1: 0.5, c2: 0.25 })
        again.forEach((x, q) => expect(firstDifference(x, againRef[q]!)).toBe(-1))
      }
    }
  })

  test("a gradient a product left in the arena (dW = xᵀ·dy) is read in place: the chain's bits, the product's dW intact", () => {
    const [batch, inputs, units] = [16, 97, 40] // dW has 3,880 values: the WebAssembly step takes it
    const n = inputs * units
    const x = array(batch * inputs, 7)
    const dy = array(batch * units, 8)
    for (const s of settings) {
      let [p, mu, nu, pRef, muRef, nuRef] = [array(n, 9), array(n, 10), array(n, 11, true), array(n, 9), array(n, 10), array(n, 11, true)]
      for (let t = 1; t <= 3; t++) {
        const g = new Float32Array(n)
        expect(gemm32Resident(inputs, units, batch, view32(x, batch, inputs, true), view32(dy, batch, units), g, true)).toBe(true)
        const gBefore = g.slice()
        const st = { ...s, c1: 1 - s.b1 ** t, c2: 1 - s.b2 ** t }
        const fresh = (): Float32Array => new Float32Array(n)
        const [out, muNew, nuNew, outRef, muNewRef, nuNewRef] = [fresh(), fresh(), fresh(), fresh(), fresh(), fresh()]
        wasmOnly()({ g, p, muPrev: mu, nuPrev: nu, out, mu: muNew, nu: nuNew }, st)
        adamStep32Reference({ g, p: pRef, muPrev: muRef, nuPrev: nuRef, out: outRef, mu: muNewRef, nu: nuNewRef }, st)
        for (const [a, b] of [
          [out, outRef],
          [muNew, muNewRef],
          [nuNew, nuNewRef],
        ] as const)
          expect(firstDifference(a, b)).toBe(-1)
        expect(firstDifference(g, gBefore)).toBe(-1)
        // dW again as a product's operand, after the step read it: the same bits as a copy of it gives
        const [c1, c2] = [new Float32Array(units * units), new Float32Array(units * units)]
        expect(gemm32Resident(units, units, inputs, view32(g, inputs, units, true), view32(g, inputs, units), c1, false)).toBe(true)
        const copy = g.slice()
        expect(gemm32Resident(units, units, inputs, view32(copy, inputs, units, true), view32(copy, inputs, units), c2, false)).toBe(true)
        expect(firstDifference(c1, c2)).toBe(-1)
        ;[p, mu, nu, pRef, muRef, nuRef] = [s.apply ? out : p, muNew, nuNew, s.apply ? outRef : pRef, muNewRef, nuNewRef]
      }
    }
  })

  test("adamStep32For follows the kernel switch: WebAssembly under 'wasm'", () => {
    expect(withKernels('wasm', adamStep32For)).toBe(adamStep32Fast)
  })
})

describe("the float32 Adam step on two threads (the arena in the worker's shared memory)", () => {
  splittingFloat32() // the worker up, splits on, no back-off; the settings before restored after

  test("chained steps split between the threads (big leaves, odd sizes, NaN in g): the chain's bits; the worker computes a part", () => {
    for (const mainComputes of [true, false]) {
      configureThreads({ mainComputes })
      try {
        for (const n of [MIN_ADAM32_SPLIT, 784 * 128, MIN_ADAM32_SPLIT + 13]) {
          for (const s of [
            { rate: 1e-3, b1: 0.9, b2: 0.999, eps: 1e-8, c1: 0, c2: 0, lambda: 0.01, apply: true },
            { rate: 1e-3, b1: 0.9, b2: 0.999, eps: 1e-8, c1: 0, c2: 0, lambda: undefined, apply: false },
          ] satisfies Adam32Settings[]) {
            const [splits, chunks] = [splitCount(), workerChunkCount()]
            const split = (a: Adam32Arrays, st: Adam32Settings): void => {
              untilWorkerFree()
              if (a.g.length === n) a.g[n - 2] = NaN // one NaN: still the reference's bits, and nothing marked finite
              wasmOnly(2)(a, st)
              expect(knownFinite(a.g)).toBe(false)
            }
            const step = (a: Adam32Arrays, st: Adam32Settings): void => {
              if (a.g.length === n) a.g[n - 2] = NaN
              adamStep32Reference(a, st)
            }
            const got = chain(split, s, n, 3)
            const want = chain(step, s, n, 3)
            got.forEach((arrays, t) => arrays.forEach((x, q) => expect(firstDifference(x, want[t]![q]!)).toBe(-1)))
            if (!mainComputes) expect([splitCount() - splits, workerChunkCount() - chunks]).toEqual([3, 6])
            else expect(splitCount() - splits).toBe(3)
          }
        }
      } finally {
        configureThreads({ mainComputes: true })
      }
    }
  })

  test('a leaf below MIN_ADAM32_SPLIT, or float32Split off, stays on this thread, with the same bits', () => {
    const s: Adam32Settings = { rate: 1e-3, b1: 0.9, b2: 0.999, eps: 1e-8, c1: 0.1, c2: 0.001, lambda: undefined, apply: true }
    for (const [n, float32Split] of [
      [MIN_ADAM32_SPLIT - 4, true],
      [MIN_ADAM32_SPLIT, false],
    ] as const) {
      configureThreads({ float32Split })
      try {
        const c: Case = { s, g: array(n, 1), p: array(n, 2), muPrev: array(n, 3), nuPrev: array(n, 4, true) }
        untilWorkerFree()
        const splits = splitCount()
        const got = run(wasmOnly(2), c)
        expect(splitCount() - splits).toBe(0)
        const want = run(adamStep32Reference, c)
        for (let q = 0; q < 3; q++) expect(firstDifference(got[q]!, want[q]!)).toBe(-1)
      } finally {
        configureThreads({ float32Split: true })
      }
    }
  })

  test("an MLP trained with float32 Adam and AdamW by trainStep (reusing buffers) under 'wasm' gives the 'reference' run's bits", () => {
    const model = L.pipe(L.dense(96), L.relu, L.dense(48), L.relu, L.dense(10)) // leaves of 3,072, 4,608 and 480 values: WebAssembly
    const x = T.asTensor(T.fromData32([32, 32], array(32 * 32, 1)))
    const labels = Array.from({ length: 32 }, (_, i) => (i * 7) % 10)
    const y = T.asTensor(
      T.cast(
        T.generate([32, 10], (i) => (i % 10 === labels[Math.floor(i / 10)] ? 1 : 0)),
        'float32',
      ),
    )
    const sameBits = <S extends Tree.Tree>(optimizer: Optim.GradientTransformation<S>): void => {
      const train = (family: Kernels.Choice) =>
        Kernels.using(family, () => {
          const step = Train.trainStep(model, Loss.softmaxCrossEntropy, optimizer, { reuseBuffers: true })
          let ts = Train.initState(model, optimizer, Key.fromSeed(3), [32], { dtype: 'float32' })
          for (let i = 0; i < 6; i++) ts = step(ts, { x, y })[0]
          return Train.copyState(ts)
        })
      const bits = (t: Tree.Tree) => Tree.leaves(t).map((leaf) => [T.dtypeOf(leaf), ...leaf.data])
      const [readable, fast] = [train('reference'), train('wasm')]
      expect(Tree.dtypeOfTree(fast.params)).toBe('float32')
      expect(bits(fast.params)).toEqual(bits(readable.params))
      expect(bits(fast.optState)).toEqual(bits(readable.optState))
    }
    sameBits(Optim.adam({ lr: 1e-2 }))
    sameBits(Optim.adamw({ lr: 1e-2, weightDecay: 0.05 }))
  })
})
