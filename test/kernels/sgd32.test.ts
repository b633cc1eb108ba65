/**
 * The float32 SGD step (src/kernels/sgd32.ts, src/kernels/wasm/sgd32.ts): the fused loop and
 * its WebAssembly f32x4 version give the chain's bits (sgdStep32Reference, one pass per
 * transform), for every combination of L2 term, momentum, Nesterov and apply; and the float32
 * step stays within the float32 bound of the same step in float64.
 *
 * The bound. With the scalars rounded to float32 in both, the float32 step differs from the
 * float64 one only by the rounding of its at most m = 8 operations (two for the L2 term, two for
 * the trace, two for Nesterov's look-ahead, the scale, the apply). Each is one expression tree of
 * adds and multiplies, so |out32 − out64| ≤ (γ_m(2⁻²⁴) + γ_m(2⁻⁵³))·(the same expression on the
 * absolute values of its inputs and scalars) (Higham §3.1, applied term by term); likewise t.
 */
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { kernels, useKernels } from '../../src/kernels/backend.ts'
import {
  sgdStep32,
  sgdStep32Fast,
  sgdStep32For,
  sgdStep32Reference,
  type Sgd32Arrays,
  type Sgd32Settings,
} from '../../src/kernels/sgd32.ts'
import { sgdStep32Wasm } from '../../src/kernels/wasm/sgd32.ts'
import { knownFinite } from '../../src/tensor/tensor.ts'
import * as T from '../../src/tensor/index.ts'
import { gamma } from '../support/float32-bound.ts'

const seed = Number(process.env['CHAINRULE_SEED'] ?? 42)

interface Case {
  readonly s: Sgd32Settings
  readonly g: Float32Array
  readonly p: Float32Array
  readonly tPrev: Float32Array
}

const array = (n: number, seed32: number): Float32Array => {
  let s = seed32 >>> 0
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return Math.fround((s / 2 ** 32 - 0.5) * 2 ** (((s >>> 7) % 9) - 4))
  })
}

const caseOf = (length: fc.Arbitrary<number>): fc.Arbitrary<Case> =>
  fc
    .record({
      n: length,
      rate: fc.double({ min: 1e-4, max: 1, noNaN: true }),
      lambda: fc.oneof(fc.constant(0), fc.double({ min: 1e-6, max: 0.1, noNaN: true })),
      beta: fc.oneof(fc.constant(0), fc.double({ min: 0.01, max: 0.99, noNaN: true })),
      nesterov: fc.boolean(),
      apply: fc.boolean(),
      seed: fc.integer({ min: 0, max: 2 ** 30 }),
    })
    .map((r) => ({
      s: { rate: r.rate, lambda: r.lambda, beta: r.beta, nesterov: r.nesterov, apply: r.apply },
      g: array(r.n, r.seed),
      p: array(r.n, r.seed + 1),
      tPrev: array(r.n, r.seed + 2),
    }))

/** Runs a step on fresh outputs (NaN-filled: every element must be written); returns [out, t]. */
const run = (step: (a: Sgd32Arrays, s: Sgd32Settings) => void, c: Case): [Float32Array, Float32Array | undefined] => {
  const n = c.g.length
  const momentum = c.s.beta > 0
  const out = new Float32Array(n).fill(NaN)
  const t = momentum ? new Float32Array(n).fill(NaN) : undefined
  step({ g: c.g, p: c.p, tPrev: momentum ? c.tPrev : undefined, out, t }, c.s)
  return [out, t]
}

const firstDifference = (x: Float32Array | undefined, y: Float32Array | undefined): number => {
  if (x === undefined || y === undefined) return x === y ? -1 : 0
  for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return i
  return -1
}

describe('the float32 SGD step', () => {
  const wasmOnly = (a: Sgd32Arrays, s: Sgd32Settings): void => {
    if (!sgdStep32Wasm(a, s)) throw new Error('sgdStep32Wasm declined the job')
  }
  for (const [name, step, lengths] of [
    ['sgdStep32 (one fused loop)', sgdStep32, fc.integer({ min: 0, max: 300 })],
    [
      'sgdStep32Wasm (f32x4), lengths across 4-lane and part edges',
      wasmOnly,
      fc.oneof(fc.integer({ min: 1, max: 40 }), fc.constantFrom(65535, 65537, 70001)),
    ],
    ['sgdStep32Fast (WebAssembly past 1024 elements)', sgdStep32Fast, fc.integer({ min: 1000, max: 3000 })],
  ] as const) {
    test(`${name} gives the chain's bits: every combination of L2, momentum, Nesterov, apply`, () => {
      fc.assert(
        fc.property(caseOf(lengths), (c) => {
          const [out, t] = run(step, c)
          const [outRef, tRef] = run(sgdStep32Reference, c)
          expect(firstDifference(out, outRef)).toBe(-1)
          expect(firstDifference(t, tRef)).toBe(-1)
        }),
        { seed, numRuns: name.startsWith('sgdStep32Wasm') ? 40 : 120 },
      )
    })
  }

  test('one step worked by hand: −lr is rounded to float32 first, and p + u is rounded again', () => {
    const s: Sgd32Settings = { rate: 0.1, lambda: 0, beta: 0, nesterov: false, apply: false }
    for (const step of [sgdStep32Reference, sgdStep32, sgdStep32Fast]) {
      const out = new Float32Array(1)
      step({ g: Float32Array.of(1), p: Float32Array.of(0), tPrev: undefined, out, t: undefined }, s)
      expect(out[0]).toBe(Math.fround(-0.1)) // −lr rounded to float32, times 1
      const applied = new Float32Array(1)
      step({ g: Float32Array.of(1), p: Float32Array.of(1), tPrev: undefined, out: applied, t: undefined }, { ...s, apply: true })
      expect(applied[0]).toBe(Math.fround(1 + Math.fround(-0.1)))
    }
  })

  test('within the float32 bound of the same step in float64 (scalars rounded to float32 in both)', () => {
    const bound = (gamma(8, 2 ** -24) + gamma(8, 2 ** -53)) * (1 + 1e-12)
    fc.assert(
      fc.property(caseOf(fc.integer({ min: 1, max: 200 })), (c) => {
        const [out, t] = run(sgdStep32Reference, c)
        const f = Math.fround
        const [lambda, beta, minusRate] = [f(c.s.lambda), f(c.s.beta), f(-c.s.rate)]
        for (let i = 0; i < c.g.length; i++) {
          const step = (g: number, p: number, tp: number, l: number, b: number, r: number) => {
            const d = c.s.lambda > 0 ? g + l * p : g
            const tr = d + b * tp
            const u = r * (c.s.beta > 0 ? (c.s.nesterov ? d + b * tr : tr) : d)
            return { out: c.s.apply ? p + u : u, t: tr }
          }
          const exact = step(c.g[i]!, c.p[i]!, c.tPrev[i]!, lambda, beta, minusRate)
          const mag = step(Math.abs(c.g[i]!), Math.abs(c.p[i]!), Math.abs(c.tPrev[i]!), lambda, beta, Math.abs(minusRate))
          expect(Math.abs(out[i]! - exact.out)).toBeLessThanOrEqual(bound * mag.out)
          if (t !== undefined) expect(Math.abs(t[i]! - exact.t)).toBeLessThanOrEqual(bound * mag.t)
        }
      }),
      { seed, numRuns: 150 },
    )
  })

  test('the WebAssembly step records g and out as finite (markFinite) only when every value of both is', () => {
    const s: Sgd32Settings = { rate: 0.1, lambda: 1e-3, beta: 0.9, nesterov: true, apply: true }
    const n = 2051 // not a multiple of 4: the padding lanes must not count
    const fresh = (g: Float32Array, p: Float32Array): { g: Float32Array; out: Float32Array } => {
      const out = new Float32Array(n)
      expect(sgdStep32Wasm({ g, p, tPrev: array(n, 3), out, t: new Float32Array(n) }, s)).toBe(true)
      return { g, out }
    }
    const ok = fresh(array(n, 1), array(n, 2))
    expect([knownFinite(ok.g), knownFinite(ok.out)]).toEqual([true, true])
    for (const bad of [NaN, Infinity, -Infinity]) {
      const g = array(n, 1)
      g[n - 1] = bad // in the last, partly padded, vector
      const r = fresh(g, array(n, 2))
      expect([knownFinite(r.g), knownFinite(r.out)]).toEqual([false, false])
      expect(T.allFinite(T.asTensor(T.fromData32([n], r.g)))).toBe(false)
    }
    const huge = array(n, 2)
    huge[5] = 3.3e38 // p + u overflows to Infinity while g is finite: nothing is recorded
    const g = array(n, 1).fill(-1e38)
    const r = fresh(g, huge)
    expect(r.out[5]).toBe(Infinity)
    expect([knownFinite(r.g), knownFinite(r.out)]).toEqual([false, false])
    expect(T.allFinite(T.asTensor(T.fromData32([n], r.g)))).toBe(true) // the scan still answers
  })

  test("chained WebAssembly steps, reading the params and trace they left in place, give the TypeScript loop's bits", () => {
    for (const n of [1024, 2051, 70001]) {
      for (const s of [
        { rate: 0.05, lambda: 5e-4, beta: 0.9, nesterov: true, apply: true },
        { rate: 0.1, lambda: 0, beta: 0.5, nesterov: false, apply: true },
        { rate: 0.1, lambda: 1e-3, beta: 0, nesterov: false, apply: true },
      ] satisfies Sgd32Settings[]) {
        const momentum = s.beta > 0
        const start = { p: array(n, 5), t: momentum ? array(n, 6) : undefined }
        const chain = (step: (a: Sgd32Arrays, s: Sgd32Settings) => void, steps: number) => {
          let { p, t } = start
          const seen: Float32Array[] = []
          for (let k = 0; k < steps; k++) {
            const out = new Float32Array(n)
            const tNew = momentum ? new Float32Array(n) : undefined
            step({ g: array(n, 100 + k), p, tPrev: t, out, t: tNew }, s)
            seen.push(out)
            p = out
            t = tNew
          }
          return seen
        }
        const wasm = (a: Sgd32Arrays, st: Sgd32Settings): void => {
          if (!sgdStep32Wasm(a, st)) throw new Error('sgdStep32Wasm declined the job')
        }
        const js = chain(sgdStep32, 4)
        const fromWasm = chain(wasm, 4)
        fromWasm.forEach((out, k) => expect(firstDifference(out, js[k])).toBe(-1))
        // Params read once already (their block reused since) are copied in again: still the same bits.
        const again = new Float32Array(n)
        const againT = momentum ? new Float32Array(n) : undefined
        const againRef = new Float32Array(n)
        const againRefT = momentum ? new Float32Array(n) : undefined
        const g = array(n, 9)
        wasm({ g, p: fromWasm[1]!, tPrev: momentum ? start.t : undefined, out: again, t: againT }, s)
        sgdStep32({ g, p: js[1]!, tPrev: momentum ? start.t : undefined, out: againRef, t: againRefT }, s)
        expect(firstDifference(again, againRef)).toBe(-1)
        expect(firstDifference(againT, againRefT)).toBe(-1)
        // p as its own trace (the same array twice)
        const both = array(n, 11)
        const o1 = new Float32Array(n)
        const o2 = new Float32Array(n)
        const t1 = momentum ? new Float32Array(n) : undefined
        const t2 = momentum ? new Float32Array(n) : undefined
        wasm({ g, p: both, tPrev: momentum ? both : undefined, out: o1, t: t1 }, s)
        sgdStep32({ g, p: both, tPrev: momentum ? both : undefined, out: o2, t: t2 }, s)
        expect(firstDifference(o1, o2)).toBe(-1)
        expect(firstDifference(t1, t2)).toBe(-1)
      }
    }
  })

  test('sgdStep32For follows the kernel switch; mismatched lengths and a missing trace throw', () => {
    const was = kernels()
    try {
      useKernels('reference')
      expect(sgdStep32For()).toBe(sgdStep32Reference)
      useKernels('js')
      expect(sgdStep32For()).toBe(sgdStep32)
      useKernels('wasm')
      expect(sgdStep32For()).toBe(sgdStep32Fast)
    } finally {
      useKernels(was)
    }
    const s: Sgd32Settings = { rate: 0.1, lambda: 0, beta: 0.9, nesterov: false, apply: false }
    const x = new Float32Array(3)
    expect(() => sgdStep32({ g: x, p: new Float32Array(2), tPrev: x, out: x, t: x }, s)).toThrow(/p has 2 values/)
    expect(() => sgdStep32({ g: x, p: x, tPrev: undefined, out: x, t: undefined }, s)).toThrow(RangeError)
  })
})
