/**
 * The float32 RMSprop and Adagrad steps (src/kernels/rms32.ts, src/kernels/wasm/rms32.ts): the
 * fused loop and its WebAssembly f32x4 version give the chain's bits (rmsStep32Reference, one pass
 * per transform), with and without momentum, applied or not, on one thread and split between two,
 * reading in place what the step before left in the float32 arena; an MLP trained so under 'wasm'
 * gives the 'reference' run's bits; and the float32 step stays within the float32 bound of the
 * same step in float64.
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
import { withKernels } from '../../src/kernels/backend.ts'
import {
  rmsStep32,
  rmsStep32Fast,
  rmsStep32For,
  rmsStep32Reference,
  type Rms32Arrays,
  type Rms32Settings,
} from '../../src/kernels/rms32.ts'
import { MIN_RMS32_ELEMENTS, MIN_RMS32_SPLIT, rmsStep32Wasm } from '../../src/kernels/wasm/rms32.ts'
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
  readonly s: Rms32Settings
  readonly g: Float32Array
  readonly p: Float32Array
  readonly accPrev: Float32Array
  readonly tracePrev: Float32Array
}

const caseOf = (length: fc.Arbitrary<number>, nonFinite = false): fc.Arbitrary<Case> =>
  fc
    .record({
      n: length,
      rate: fc.double({ min: 1e-5, max: 0.1, noNaN: true }),
      decay: fc.option(fc.double({ min: 0.5, max: 0.999, noNaN: true }), { nil: undefined }),
      eps: fc.constantFrom(1e-8, 1e-7, 1e-3),
      momentum: fc.oneof(fc.constant(0), fc.double({ min: 0.1, max: 0.99, noNaN: true })),
      apply: fc.boolean(),
      seed: fc.integer({ min: 0, max: 2 ** 30 }),
      // NaN, ±∞ or a value that overflows g·g, at a few places (the last one often in a vector's padding)
      bad: nonFinite ? fc.array(fc.tuple(fc.nat(), fc.constantFrom(NaN, Infinity, -Infinity, 3e38)), { maxLength: 3 }) : fc.constant([]),
    })
    .map((r) => {
      const g = array(r.n, r.seed)
      for (const [at, v] of r.bad) if (r.n > 0) g[at % 2 === 0 ? r.n - 1 : at % r.n] = v
      return {
        s: { rate: r.rate, decay: r.decay, eps: r.eps, momentum: r.momentum, apply: r.apply },
        g,
        p: array(r.n, r.seed + 1),
        accPrev: array(r.n, r.seed + 2, true),
        tracePrev: array(r.n, r.seed + 3),
      }
    })

const cases = caseOf(fc.integer({ min: 0, max: 200 }))

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
    expect(withKernels('reference', rmsStep32For)).toBe(rmsStep32Reference)
    expect(withKernels('js', rmsStep32For)).toBe(rmsStep32)
    const x = new Float32Array(3)
    const s: Rms32Settings = { rate: 0.1, decay: 0.9, eps: 1e-8, momentum: 0, apply: false }
    expect(() => rmsStep32({ g: x, p: x, accPrev: new Float32Array(2), out: x, acc: x }, s)).toThrow(/accPrev has 2/)
    expect(() => rmsStep32({ g: x, p: x, accPrev: x, out: x, acc: x }, { ...s, momentum: 0.9 })).toThrow(/needs tracePrev/)
  })
})

const wasmOnly =
  (threads: 1 | 2 = 1) =>
  (a: Rms32Arrays, s: Rms32Settings): void => {
    if (!rmsStep32Wasm(a, s, threads)) throw new Error('rmsStep32Wasm declined the job')
  }

const finite = (x: Float32Array): boolean => x.every((v) => Number.isFinite(v))

const settings: readonly Rms32Settings[] = [
  { rate: 1e-3, decay: 0.9, eps: 1e-8, momentum: 0, apply: true },
  { rate: 1e-2, decay: 0.99, eps: 1e-7, momentum: 0.9, apply: true },
  { rate: 1e-2, decay: undefined, eps: 1e-3, momentum: 0, apply: false },
]

/** `steps` steps from (p, ν, t), each reading the outputs of the one before (out as p unless the updates are not applied). */
const chain = (step: (a: Rms32Arrays, s: Rms32Settings) => void, s: Rms32Settings, n: number, steps: number, poison = false) => {
  let [p, acc, trace] = [array(n, 5), array(n, 6, true), array(n, 7)]
  const seen: Float32Array[][] = []
  for (let t = 1; t <= steps; t++) {
    const [out, accNew, traceNew] = [new Float32Array(n), new Float32Array(n), new Float32Array(n)]
    const g = array(n, 100 + t)
    if (poison) g[n - 2] = NaN
    step({ g, p, accPrev: acc, tracePrev: trace, out, acc: accNew, trace: traceNew }, s)
    seen.push(s.momentum === 0 ? [out, accNew] : [out, accNew, traceNew])
    ;[p, acc, trace] = [s.apply ? out : p, accNew, s.momentum === 0 ? trace : traceNew]
  }
  return seen
}

describe('the float32 RMSprop and Adagrad steps in WebAssembly (f32x4, in the float32 arena)', () => {
  for (const [name, step, lengths, numRuns] of [
    [
      'rmsStep32Wasm, lengths across 4-lane and part edges',
      wasmOnly(),
      fc.oneof(fc.integer({ min: 1, max: 40 }), fc.constantFrom(65535, 65537, 70001)),
      60,
    ],
    [
      `rmsStep32Fast (WebAssembly from ${MIN_RMS32_ELEMENTS} elements)`,
      rmsStep32Fast,
      fc.integer({ min: MIN_RMS32_ELEMENTS - 20, max: 3000 }),
      120,
    ],
  ] as const) {
    test(`${name} gives the chain's bits, NaN and ±∞ in g included: RMSprop with and without momentum, Adagrad, applied or not`, () => {
      fc.assert(
        fc.property(caseOf(lengths, true), (c) => {
          const got = run(step, c)
          const want = run(rmsStep32Reference, c)
          for (let q = 0; q < 3; q++) expect(firstDifference(got[q]!, want[q]!)).toBe(-1)
          if (c.s.momentum === 0) expect(got[2]!.every(Number.isNaN)).toBe(true) // no trace written
          const [gFinite, outFinite] = [finite(c.g), finite(got[0]!)]
          if (step !== rmsStep32Fast) expect([knownFinite(c.g), knownFinite(got[0]!)]).toEqual([gFinite && outFinite, gFinite && outFinite])
        }),
        { seed, numRuns },
      )
    })
  }

  test("chained steps, reading the params, accumulator and trace the step before left in place, give the chain's bits", () => {
    for (const n of [MIN_RMS32_ELEMENTS, 2051, 70001]) {
      for (const s of settings) {
        const want = chain(rmsStep32Reference, s, n, 4)
        const got = chain(wasmOnly(), s, n, 4)
        got.forEach((arrays, t) => arrays.forEach((x, q) => expect(firstDifference(x, want[t]![q]!)).toBe(-1)))
      }
    }
  })

  test("rmsStep32For follows the kernel switch: WebAssembly under 'wasm'", () => {
    expect(withKernels('wasm', rmsStep32For)).toBe(rmsStep32Fast)
  })
})

describe("the float32 RMSprop step on two threads (the arena in the worker's shared memory)", () => {
  splittingFloat32() // the worker up, splits on, no back-off; the settings before restored after

  test("chained steps split between the threads (big leaves, odd sizes, NaN in g): the chain's bits; the worker computes a part", () => {
    for (const mainComputes of [true, false]) {
      configureThreads({ mainComputes })
      try {
        for (const n of [MIN_RMS32_SPLIT, 784 * 128, MIN_RMS32_SPLIT + 13]) {
          for (const s of settings) {
            const [splits, chunks] = [splitCount(), workerChunkCount()]
            const split = (a: Rms32Arrays, st: Rms32Settings): void => {
              untilWorkerFree()
              wasmOnly(2)(a, st)
              expect(knownFinite(a.g)).toBe(false)
            }
            const got = chain(split, s, n, 3, true)
            const want = chain(rmsStep32Reference, s, n, 3, true)
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

  test("an MLP trained with float32 RMSprop and Adagrad by trainStep (reusing buffers) under 'wasm' gives the 'reference' run's bits", () => {
    const model = L.pipe(L.dense(96), L.relu, L.dense(48), L.relu, L.dense(10)) // leaves of 3,072, 4,608 and 480 values: WebAssembly
    const x = T.asTensor(T.fromData32([32, 32], array(32 * 32, 1)))
    const y = T.asTensor(
      T.cast(
        T.generate([32, 10], (i) => (i % 10 === (Math.floor(i / 10) * 7) % 10 ? 1 : 0)),
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
    sameBits(Optim.rmsprop({ lr: 1e-3 }))
    sameBits(Optim.rmsprop({ lr: 1e-3, decay: 0.8, momentum: 0.9 }))
    sameBits(Optim.adagrad({ lr: 1e-2, initialAccumulator: 0.1 }))
  })
})
