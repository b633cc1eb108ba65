/**
 * The WebAssembly arena the one-thread float32 tensor products and the SGD step share
 * (src/kernels/wasm/arena32.ts): a product that reads operands already there in place, copies the
 * others in and keeps them, and keeps dW for the step, gives gemm32Reference's bits; so does the
 * SGD step reading a gradient or params a product left there; blocks given back and reused (more
 * products than the arena keeps) never change a result; and no input is written. On two threads
 * (the arena in the worker's shared memory, products and SGD steps split between the threads) the
 * bits are the same, whichever thread computes which block.
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { gemm32Reference, view32 } from '../../src/kernels/gemm32.ts'
import { forgetThreadTimes, gemm32Resident, recordRun, twoThreadsPay, VERDICT_RUNS } from '../../src/kernels/wasm/gemm32.ts'
import { sgdStep32, type Sgd32Settings } from '../../src/kernels/sgd32.ts'
import { MIN_SGD32_SPLIT, sgdStep32Wasm } from '../../src/kernels/wasm/sgd32.ts'
import { configureThreads, splitCount, startThreads, workerChunkCount, type ThreadSettings } from '../../src/kernels/wasm/threads.ts'
import { runs, values } from '../support/gemm-data.ts'
import { withAllocator, type Allocator } from '../../src/tensor/tensor.ts'
import { untilWorkerFree } from '../support/worker.ts'

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

/** op(A)·op(B) by the arena product (keep: C stays in the arena) on `threads` threads and by the reference; both results. */
function both(a: Stored, ta: boolean, b: Stored, tb: boolean, keep: boolean, threads: 1 | 2 = 1): [Float32Array, Float32Array] {
  const [m, k] = ta ? [a.cols, a.rows] : [a.rows, a.cols]
  const n = tb ? b.rows : b.cols
  const va = view32(a.data, a.rows, a.cols, ta)
  const vb = view32(b.data, b.rows, b.cols, tb)
  const [aBefore, bBefore] = [a.data.slice(), b.data.slice()]
  const got = new Float32Array(m * n)
  expect(gemm32Resident(m, n, k, va, vb, got, keep, threads)).toBe(true)
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

describe("the float32 arena on two threads (in the worker's shared memory: products and SGD steps split)", () => {
  let before: Readonly<ThreadSettings>
  beforeAll(async () => {
    expect(await startThreads()).toBe(true)
    before = configureThreads() // the settings to restore (configureThreads returns those in force after a change)
    configureThreads({ minFlops: 0, wakeFlops: 0, minChunk: 8, cooldownMs: 0, float32Split: true })
    forgetThreadTimes() // no back-off left by an earlier test: every product below may split
  })
  afterAll(() => {
    configureThreads(before)
  })

  test("the MLP's products, split: one thread's bits and the reference's; the worker computes blocks", () => {
    for (const mainComputes of [true, false]) {
      configureThreads({ mainComputes })
      const [splits, chunks] = [splitCount(), workerChunkCount()]
      try {
        const [batch, inputs, units] = [64, 784, 128]
        for (const threads of [1, 2] as const) {
          // One thread first (the time two threads are tried against), on other values: a block of C it gave
          // back and two threads take again holds other bits, so a block they left unwritten would show.
          const x = stored(batch, inputs, 11 * threads)
          const W = stored(inputs, units, 12 * threads)
          const dy = stored(batch, units, 13 * threads)
          expect(firstDifference(...both(x, false, W, false, false, threads))).toBe(-1) // x·W, by columns
          expect(firstDifference(...both(dy, false, W, true, false, threads))).toBe(-1) // dy·Wᵀ, by columns
          expect(firstDifference(...both(x, true, dy, false, true, threads))).toBe(-1) // xᵀ·dy (784 rows), by rows, kept
        }
      } finally {
        configureThreads({ mainComputes: true })
      }
      // Leaving every block to the worker, each product waits for it: three products of four blocks each.
      // (Sharing them, a product finding the worker still asleep on a withdrawn job runs alone: not counted.)
      if (!mainComputes) expect([splitCount() - splits, workerChunkCount() - chunks]).toEqual([3, 12])
    }
  })

  test("random shapes, transposes and operands used again: two threads give the bits of one, and the reference's", () => {
    const splits = splitCount()
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 1, max: 90 }),
        fc.integer({ min: 1, max: 300 }),
        fc.boolean(),
        fc.boolean(),
        fc.nat(),
        (m, n, k, ta, tb, seed) => {
          const operands = (at: number): [Stored, Stored] => [
            ta ? stored(k, m, at) : stored(m, k, at),
            tb ? stored(n, k, at + 1) : stored(k, n, at + 1),
          ]
          const [a0, b0] = operands(seed + 2)
          both(a0, ta, b0, tb, false, 1) // a one-thread time to beat, and a free block of C holding other bits
          const [a, b] = operands(seed)
          const [two, want] = both(a, ta, b, tb, false, 2)
          const [one] = both(a, ta, b, tb, false, 1) // a and b now resident: read in place
          expect(firstDifference(two, want)).toBe(-1)
          expect(firstDifference(one, two)).toBe(-1)
        },
      ),
      runs(120),
    )
    expect(splitCount() - splits).toBeGreaterThan(0)
  })

  test("chained SGD steps split between the threads (big leaves, odd sizes): the TypeScript loop's bits", () => {
    const s: Sgd32Settings = { rate: 0.05, lambda: 5e-4, beta: 0.9, nesterov: false, apply: true }
    for (const mainComputes of [true, false]) {
      configureThreads({ mainComputes })
      try {
        for (const n of [MIN_SGD32_SPLIT, 784 * 128, MIN_SGD32_SPLIT + 13]) {
          const [splits, chunks] = [splitCount(), workerChunkCount()]
          let p: Float32Array = f32(n, 21)
          let t: Float32Array = f32(n, 22)
          let [pRef, tRef] = [p, t]
          for (let step = 0; step < 3; step++) {
            const g = f32(n, 30 + step)
            const [out, tNew, outRef, tNewRef] = [new Float32Array(n), new Float32Array(n), new Float32Array(n), new Float32Array(n)]
            expect(sgdStep32Wasm({ g, p, tPrev: t, out, t: tNew }, s, 2)).toBe(true) // p and t read in place after the first step
            sgdStep32({ g, p: pRef, tPrev: tRef, out: outRef, t: tNewRef }, s)
            expect(firstDifference(out, outRef)).toBe(-1)
            expect(firstDifference(tNew, tNewRef)).toBe(-1)
            ;[p, t, pRef, tRef] = [out, tNew, outRef, tNewRef]
          }
          if (!mainComputes) expect([splitCount() - splits, workerChunkCount() - chunks]).toEqual([3, 6])
        }
      } finally {
        configureThreads({ mainComputes: true })
      }
    }
  })

  test('float32Split off (the default): products and SGD steps stay on this thread, with the same bits', () => {
    expect(before.float32Split).toBe(false)
    configureThreads({ float32Split: false })
    try {
      const [x, W] = [stored(64, 784, 41), stored(784, 128, 42)]
      both(x, false, W, false, false, 1) // a one-thread time to beat
      const splits = splitCount()
      expect(firstDifference(...both(x, false, W, false, false, 2))).toBe(-1)
      const n = MIN_SGD32_SPLIT
      const s: Sgd32Settings = { rate: 0.05, lambda: 0, beta: 0.9, nesterov: false, apply: true }
      const [g, p, t] = [f32(n, 43), f32(n, 44), f32(n, 45)]
      const [out, tNew, outRef, tRef] = [new Float32Array(n), new Float32Array(n), new Float32Array(n), new Float32Array(n)]
      expect(sgdStep32Wasm({ g, p, tPrev: t, out, t: tNew }, s, 2)).toBe(true)
      sgdStep32({ g, p, tPrev: t, out: outRef, t: tRef }, s)
      expect(firstDifference(out, outRef)).toBe(-1)
      expect(splitCount() - splits).toBe(0)
    } finally {
      configureThreads({ float32Split: true })
    }
  })

  test('float32Split off, while a reusing step draws on its recycler (withAllocator): products and SGD steps split, with the same bits', () => {
    configureThreads({ float32Split: false })
    const fresh: Allocator = { take: () => undefined, made: () => undefined } // what a recycler with nothing free does
    try {
      const [x, W] = [stored(64, 784, 46), stored(784, 128, 47)]
      const [one] = both(x, false, W, false, false, 1)
      const splits = splitCount()
      untilWorkerFree()
      const [two, want] = withAllocator(fresh, () => both(x, false, W, false, false, 2))
      expect(splitCount() - splits).toBe(1)
      expect([firstDifference(two, one), firstDifference(two, want)]).toEqual([-1, -1])
      const n = MIN_SGD32_SPLIT
      const s: Sgd32Settings = { rate: 0.05, lambda: 1e-3, beta: 0.9, nesterov: true, apply: true }
      const [g, p, t] = [f32(n, 48), f32(n, 49), f32(n, 50)]
      const [out, tNew, outRef, tRef] = [new Float32Array(n), new Float32Array(n), new Float32Array(n), new Float32Array(n)]
      const before = splitCount()
      untilWorkerFree()
      expect(withAllocator(fresh, () => sgdStep32Wasm({ g, p, tPrev: t, out, t: tNew }, s, 2))).toBe(true)
      expect(splitCount() - before).toBe(1)
      sgdStep32({ g, p, tPrev: t, out: outRef, t: tRef }, s)
      expect([firstDifference(out, outRef), firstDifference(tNew, tRef)]).toEqual([-1, -1])
    } finally {
      configureThreads({ float32Split: true })
    }
  })

  test('the back-off: two threads only with a one-thread time to beat, and off for cooldownMs after a batch slower on average', () => {
    const sizeClass = 99 // no product is this big: only the times recorded here count
    configureThreads({ cooldownMs: 60_000 })
    try {
      forgetThreadTimes()
      expect(twoThreadsPay(sizeClass)).toBe(false) // nothing to beat yet
      recordRun(1, sizeClass, 1)
      expect(twoThreadsPay(sizeClass)).toBe(true)
      for (let i = 0; i < VERDICT_RUNS - 1; i++) recordRun(2, sizeClass, 0.5)
      recordRun(2, sizeClass, 5) // one slow run in the batch: the average 0.78 still beats 1
      expect(twoThreadsPay(sizeClass)).toBe(true)
      for (let i = 0; i < VERDICT_RUNS - 1; i++) recordRun(2, sizeClass, 1.5)
      expect(twoThreadsPay(sizeClass)).toBe(true) // no verdict before the batch is full
      recordRun(2, sizeClass, 1.5)
      expect(twoThreadsPay(sizeClass)).toBe(false) // a batch averaging 1.5 > 1
      expect(twoThreadsPay(sizeClass - 1)).toBe(false) // every product is on one thread during the back-off
      forgetThreadTimes()
      configureThreads({ cooldownMs: 0 }) // no back-off at all
      recordRun(1, sizeClass, 1)
      for (let i = 0; i < 3 * VERDICT_RUNS; i++) recordRun(2, sizeClass, 5)
      expect(twoThreadsPay(sizeClass)).toBe(true)
    } finally {
      configureThreads({ cooldownMs: 0 })
      forgetThreadTimes()
    }
  })
})
