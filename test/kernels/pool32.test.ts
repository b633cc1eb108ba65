/**
 * float32 max-pooling (src/kernels/pool32.ts): the 2x2 straight-line loop equals the naive loop
 * bit for bit (values, argmax), and the naive float32 loops equal the float64 ones of
 * src/kernels/pool.ts on the same values: the forward pass only compares and copies, and the
 * backward pass adds dy onto zeros, so nothing rounds differently (the bound is 0), NaNs and ties
 * included; overlapping windows add in the same order, each add rounded to float32. The
 * WebAssembly passes (src/kernels/wasm/pool32.ts: f32x4, four windows at once) give the TypeScript
 * loops' bits on one thread and on two, read their inputs only, and leave other windows to the
 * TypeScript loop.
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { kernels, useKernels, useThreads } from '../../src/kernels/backend.ts'
import { maxPoolBackwardNaive, maxPoolNaive } from '../../src/kernels/pool.ts'
import {
  maxPool32,
  maxPool32For,
  maxPool32Reference,
  maxPool32Wasm,
  maxPoolBackward32,
  maxPoolBackward32For,
  maxPoolBackward32Wasm,
} from '../../src/kernels/pool32.ts'
import { maxPool2x2Wasm32, maxPoolBackwardWasm32 } from '../../src/kernels/wasm/pool32.ts'
import { configureThreads, splitCount, type ThreadSettings } from '../../src/kernels/wasm/threads.ts'
import { planWindow, type Window2d } from '../../src/kernels/window.ts'
import { untilWorkerFree } from '../support/worker.ts'

const seed = Number(process.env['CHAINRULE_SEED'] ?? 42)

const firstDifference = (x: ArrayLike<number>, y: ArrayLike<number>): number => {
  for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return i
  return x.length === y.length ? -1 : x.length
}

/** A random pooling window and input: few distinct values (so ties happen), sometimes a NaN; planes up to `maxSide` square. */
const poolCase = (twoByTwo: boolean, maxSide = 9) =>
  fc
    .record({
      N: fc.integer({ min: 1, max: 3 }),
      C: fc.integer({ min: 1, max: 3 }),
      H: fc.integer({ min: 2, max: maxSide }),
      W: fc.integer({ min: 2, max: maxSide }),
      k: fc.integer({ min: 1, max: 3 }),
      s: fc.integer({ min: 1, max: 3 }),
      pad: fc.integer({ min: 0, max: 1 }),
      seed: fc.integer({ min: 0, max: 2 ** 30 }),
    })
    .map((r) => {
      const k = twoByTwo ? 2 : Math.min(r.k, r.H, r.W)
      const plan = planWindow(
        { kernel: [k, k], stride: twoByTwo ? [2, 2] : [r.s, r.s], dilation: [1, 1], padding: twoByTwo ? 'valid' : [r.pad, r.pad] },
        r.C,
        r.H,
        r.W,
        r.N,
      )
      if (typeof plan === 'string') throw new Error(plan)
      const g: Window2d = plan.window
      let s = r.seed
      const next = (): number => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32
      const x = Float32Array.from({ length: g.N * g.C * g.H * g.W }, () => {
        const u = next()
        return u < 0.03 ? NaN : Math.fround(Math.floor(next() * 7 - 3) * 0.1)
      })
      const dy = Float32Array.from({ length: g.N * g.C * g.OH * g.OW }, () => Math.fround(next() * 2 - 1))
      return { g, x, dy }
    })

describe('float32 max-pooling', () => {
  test('maxPool32 (2x2, stride 2) gives the naive loop bit for bit, values and argmax', () => {
    fc.assert(
      fc.property(poolCase(true), ({ g, x }) => {
        const n = g.N * g.C * g.OH * g.OW
        const [y, a, y2, a2] = [new Float32Array(n), new Int32Array(n), new Float32Array(n).fill(9), new Int32Array(n).fill(-9)]
        maxPool32Reference(g, x, y, a)
        maxPool32(g, x, y2, a2)
        expect(firstDifference(y2, y)).toBe(-1)
        expect(firstDifference(a2, a)).toBe(-1)
      }),
      { seed, numRuns: 200 },
    )
  })

  for (const twoByTwo of [true, false]) {
    const windows = twoByTwo ? '2x2' : 'any window, overlapping, padded'
    test(`float32 vs float64 on the same values: forward equal, backward within the float32 bound (${windows})`, () => {
      fc.assert(
        fc.property(poolCase(twoByTwo), ({ g, x, dy }) => {
          const n = g.N * g.C * g.OH * g.OW
          const [y, a, y64, a64] = [new Float32Array(n), new Int32Array(n), new Float64Array(n), new Int32Array(n)]
          maxPool32(g, x, y, a)
          maxPoolNaive(g, Float64Array.from(x), y64, a64)
          expect(firstDifference(y, y64)).toBe(-1)
          expect(firstDifference(a, a64)).toBe(-1)
          const dx = new Float32Array(x.length).fill(5)
          const dx64 = new Float64Array(x.length)
          maxPoolBackward32(g, dy, a, dx)
          maxPoolBackwardNaive(g, Float64Array.from(dy), a64, dx64)
          // Overlapping windows add several dy onto one input: float32 rounds each add (in output order), float64 hardly
          // at all; for m terms |dx32 − dx64| ≤ (γ_m(2⁻²⁴) + γ_m(2⁻⁵³))·Σ|dy| (Higham §3.1).
          for (let i = 0; i < dx.length; i++) {
            let sum32 = 0
            let magnitude = 0
            let m = 0
            for (let q = 0; q < n; q++) {
              if (a[q] !== i) continue
              sum32 = Math.fround(sum32 + dy[q]!)
              magnitude += Math.abs(dy[q]!)
              m++
            }
            expect(dx[i]).toBe(sum32)
            const gamma = (u: number): number => (m * u) / (1 - m * u)
            expect(Math.abs(dx[i]! - dx64[i]!)).toBeLessThanOrEqual((gamma(2 ** -24) + gamma(2 ** -53)) * magnitude)
          }
        }),
        { seed, numRuns: 200 },
      )
    })
  }

  test('worked example: a tie goes to the first tap, a NaN wins; maxPool32For follows the kernel switch', () => {
    const g = planWindow({ kernel: [2, 2], stride: [2, 2], dilation: [1, 1], padding: 'valid' }, 1, 2, 4, 1)
    if (typeof g === 'string') throw new Error(g)
    const y = new Float32Array(2)
    const a = new Int32Array(2)
    maxPool32(g.window, Float32Array.of(1, 3, 0, NaN, 3, 2, 5, 1), y, a)
    expect([...y]).toEqual([3, NaN])
    expect([...a]).toEqual([1, 3])
    const was = kernels()
    try {
      useKernels('reference')
      expect(maxPool32For()).toBe(maxPool32Reference)
      useKernels('js')
      expect(maxPool32For()).toBe(maxPool32)
    } finally {
      useKernels(was)
    }
  })

  describe('in WebAssembly (f32x4)', () => {
    let before: Readonly<ThreadSettings>
    beforeAll(async () => {
      before = configureThreads()
      expect(await useThreads(2)).toBe(true)
      configureThreads({ minFlops: 0, wakeFlops: 0, minChunk: 4, cooldownMs: 0 })
    })
    afterAll(() => {
      configureThreads(before)
    })

    for (const threads of [1, 2] as const) {
      test(`on ${threads} thread${threads === 1 ? '' : 's'}: the 2x2 forward and any window's backward give the TypeScript loops' bits, inputs unchanged`, () => {
        fc.assert(
          fc.property(fc.boolean(), fc.boolean(), (twoByTwo, big) => {
            fc.assert(
              fc.property(poolCase(twoByTwo, big ? 40 : 9), ({ g, x, dy }) => {
                const n = g.N * g.C * g.OH * g.OW
                const [x0, dy0] = [Float32Array.from(x), Float32Array.from(dy)]
                const [y, a] = [new Float32Array(n), new Int32Array(n)]
                maxPool32Reference(g, x, y, a)
                if (twoByTwo) {
                  const [y2, a2] = [new Float32Array(n).fill(9), new Int32Array(n).fill(-9)]
                  expect(maxPool2x2Wasm32(threads, g, x, y2, a2)).toBe(true)
                  expect(firstDifference(y2, y)).toBe(-1)
                  expect(firstDifference(a2, a)).toBe(-1)
                }
                const a0 = Int32Array.from(a)
                const [dx, dx2] = [new Float32Array(x.length), new Float32Array(x.length).fill(7)]
                maxPoolBackward32(g, dy, a, dx)
                expect(maxPoolBackwardWasm32(threads, g, dy, a, dx2)).toBe(true)
                expect(firstDifference(dx2, dx)).toBe(-1)
                expect(firstDifference(x, x0)).toBe(-1)
                expect(firstDifference(dy, dy0)).toBe(-1)
                expect(firstDifference(a, a0)).toBe(-1)
              }),
              { seed, numRuns: 20 },
            )
          }),
          { seed, numRuns: 8 },
        )
      })
    }

    test('two threads share the planes of a batch of MNIST-sized activations (64 planes of 28x28), the same bits', () => {
      const plan = planWindow({ kernel: [2, 2], stride: [2, 2], dilation: [1, 1], padding: 'valid' }, 8, 28, 28, 8)
      if (typeof plan === 'string') throw new Error(plan)
      const g = plan.window
      const x = Float32Array.from({ length: g.N * g.C * g.H * g.W }, (_, i) => Math.fround(Math.sin(i * 0.37) * (i % 5)))
      const dy = Float32Array.from({ length: g.N * g.C * g.OH * g.OW }, (_, i) => Math.fround(Math.cos(i)))
      const n = dy.length
      const [y, a, y2, a2] = [new Float32Array(n), new Int32Array(n), new Float32Array(n), new Int32Array(n)]
      const [dx, dx2] = [new Float32Array(x.length), new Float32Array(x.length)]
      maxPool32Reference(g, x, y, a)
      maxPoolBackward32(g, dy, a, dx)
      const splits = splitCount()
      untilWorkerFree()
      expect(maxPool2x2Wasm32(2, g, x, y2, a2)).toBe(true)
      untilWorkerFree()
      expect(maxPoolBackwardWasm32(2, g, dy, a, dx2)).toBe(true)
      expect(splitCount()).toBe(splits + 2)
      expect(firstDifference(y2, y)).toBe(-1)
      expect(firstDifference(a2, a)).toBe(-1)
      expect(firstDifference(dx2, dx)).toBe(-1)
    })

    test("maxPool32Wasm and maxPoolBackward32Wasm: WebAssembly from 4,096 values for 2x2 windows, the TypeScript loops for other windows and small inputs; maxPool32For and maxPoolBackward32For pick them under 'wasm'", () => {
      for (const [k, s, C, H, W] of [
        [2, 2, 8, 28, 28], // the MNIST CNN's first pool (4,096 values and more: WebAssembly)
        [2, 2, 3, 31, 27], // odd sides: a last row and column no window covers, 13 windows a row (4 + 4 + 4 + 1)
        [3, 2, 8, 28, 28], // overlapping 3x3 windows: the forward pass falls back to the TypeScript loop
        [2, 2, 1, 6, 6], // small: the TypeScript loop
      ] as const) {
        const plan = planWindow({ kernel: [k, k], stride: [s, s], dilation: [1, 1], padding: 'valid' }, C, H, W, 2)
        if (typeof plan === 'string') throw new Error(plan)
        const g = plan.window
        const x = Float32Array.from({ length: g.N * g.C * g.H * g.W }, (_, i) => Math.fround(Math.sin(i * 0.37) * (i % 5)))
        const dy = Float32Array.from({ length: g.N * g.C * g.OH * g.OW }, (_, i) => Math.fround(Math.cos(i)))
        const n = dy.length
        const [y, a, y2, a2] = [new Float32Array(n), new Int32Array(n), new Float32Array(n), new Int32Array(n)]
        maxPool32Reference(g, x, y, a)
        maxPool32Wasm(g, x, y2, a2)
        expect(firstDifference(y2, y)).toBe(-1)
        expect(firstDifference(a2, a)).toBe(-1)
        const [dx, dx2] = [new Float32Array(x.length), new Float32Array(x.length)]
        maxPoolBackward32(g, dy, a, dx)
        maxPoolBackward32Wasm(g, dy, a, dx2)
        expect(firstDifference(dx2, dx)).toBe(-1)
      }
      const was = kernels()
      try {
        useKernels('wasm')
        expect(maxPool32For()).toBe(maxPool32Wasm)
        expect(maxPoolBackward32For()).toBe(maxPoolBackward32Wasm)
        useKernels('js')
        expect(maxPoolBackward32For()).toBe(maxPoolBackward32)
      } finally {
        useKernels(was)
      }
    })
  })
})
