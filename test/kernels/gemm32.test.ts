/**
 * float32 GEMM kernels (src/kernels/gemm32.ts, src/kernels/wasm/gemm32.ts): the reference rounds
 * as its contract says, every fast kernel (plain TypeScript, WebAssembly f32x4 on one thread and
 * on two) equals the reference bit for bit, and the float32 reference stays within the float32
 * rounding bound of the float64 reference.
 *
 * The bound. Both references compute s = c0 + Σ_p a_ip·b_pj (c0 the accumulator, or 0) on the
 * same float32 inputs, each product rounded once and the k + 1 terms summed left to right. For
 * such a sum |computed − s| ≤ γ_{k+1}·(|c0| + Σ_p |a_ip·b_pj|) with γ_n = n·u/(1 − n·u) (Higham,
 * Accuracy and Stability of Numerical Algorithms, §3.1), u = 2⁻²⁴ for float32 and 2⁻⁵³ for
 * float64. So |ref32 − ref64| ≤ (γ_{k+1}(2⁻²⁴) + γ_{k+1}(2⁻⁵³))·(|c0| + Σ_p |a_ip·b_pj|). The bound
 * is relative to the sum of magnitudes (cancellation can make s tiny); the inputs here never
 * reach float32's subnormals (|values| ≥ 2⁻⁸, products ≥ 2⁻¹⁶, or exactly 0).
 */
import fc from 'fast-check'
import { spawn } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runs, values } from '../support/gemm-data.ts'
import { gamma } from '../support/float32-bound.ts'
import { currentGemm32, gemm32For, kernels, useKernels } from '../../src/kernels/backend.ts'
import { gemmReference, view } from '../../src/kernels/gemm.ts'
import { gemm32Blocked, gemm32Reference, makeGemm32Blocked, view32, type Gemm32, type MatView32 } from '../../src/kernels/gemm32.ts'
import { forgetThreadTimes, gemm32Wasm, gemm32Wasm2, makeGemm32Wasm } from '../../src/kernels/wasm/gemm32.ts'
import { configureThreads, splitCount, startThreads, workerChunkCount, type ThreadSettings } from '../../src/kernels/wasm/threads.ts'

interface Case {
  readonly m: number
  readonly n: number
  readonly k: number
  readonly transA: boolean
  readonly transB: boolean
  /** Spare elements per stored row (a padded view); 0 is dense (from view32). */
  readonly pad: number
  readonly offset: number
  readonly cOffset: number
  readonly accumulate: boolean
  readonly seed: number
}

/** A rows×cols float32 operand, stored row-major or (transposed) as its transpose, with NaN around it. */
function operand(rows: number, cols: number, t: Case, seed32: number, transposed: boolean): MatView32 {
  const storedRows = transposed ? cols : rows
  const storedCols = transposed ? rows : cols
  const ld = storedCols + t.pad
  const data = new Float32Array(t.offset + storedRows * ld + 2).fill(NaN)
  const vals = values(storedRows * storedCols, seed32)
  for (let r = 0; r < storedRows; r++) for (let q = 0; q < storedCols; q++) data[t.offset + r * ld + q] = vals[r * storedCols + q]!
  if (t.pad === 0) return view32(data, storedRows, storedCols, transposed, t.offset)
  return transposed ? { data, offset: t.offset, rowStride: 1, colStride: ld } : { data, offset: t.offset, rowStride: ld, colStride: 1 }
}

const SENTINEL = -7.25

/** The operands of a case, and C before the call (sentinels around the m×n region, which holds the accumulator or NaN). */
function build(t: Case): { a: MatView32; b: MatView32; c: Float32Array } {
  const a = operand(t.m, t.k, t, t.seed, t.transA)
  const b = operand(t.k, t.n, t, t.seed + 1, t.transB)
  const c = new Float32Array(t.cOffset + t.m * t.n + 3).fill(SENTINEL)
  c.fill(NaN, t.cOffset, t.cOffset + t.m * t.n)
  if (t.accumulate) c.set(values(t.m * t.n, t.seed + 2), t.cOffset)
  return { a, b, c }
}

/** Runs `gemm` on the case and returns the whole C array. */
function run(gemm: Gemm32, t: Case): Float32Array {
  const { a, b, c } = build(t)
  gemm(t.m, t.n, t.k, a, b, c, t.cOffset, t.accumulate)
  return c
}

/** The first index where x and y differ bit for bit (Object.is: −0 ≠ +0), or −1. */
function firstDifference(x: Float32Array, y: Float32Array): number {
  for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return i
  return -1
}

/** A dimension in 1..max, biased toward 1, primes and the edges of both tiles (4x4 in TypeScript, 5x8 in WebAssembly). */
const dim = (max: number): fc.Arbitrary<number> =>
  fc.oneof(
    fc.constantFrom(...[1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 13, 15, 16, 17, 24, 31].filter((d) => d <= max)),
    fc.integer({ min: 1, max }),
  )

const caseOf = (m: fc.Arbitrary<number>, n: fc.Arbitrary<number>, k: fc.Arbitrary<number>): fc.Arbitrary<Case> =>
  fc.record({
    m,
    n,
    k,
    transA: fc.boolean(),
    transB: fc.boolean(),
    pad: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3 })),
    offset: fc.integer({ min: 0, max: 3 }),
    cOffset: fc.integer({ min: 0, max: 3 }),
    accumulate: fc.boolean(),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  })

const smallCase = caseOf(dim(60), dim(60), dim(60))

let before: Readonly<ThreadSettings>

beforeAll(async () => {
  before = configureThreads()
  expect(await startThreads()).toBe(true)
})

afterAll(() => {
  configureThreads(before)
})

describe('gemm32Reference rounds as its contract says', () => {
  const a = new Float32Array([1, 2, 3, 4, 5, 6])
  const b = new Float32Array([7, 8, 9, 10, 11, 12])

  for (const [name, gemm] of [
    ['gemm32Reference', gemm32Reference],
    ['gemm32Blocked', gemm32Blocked],
    ['gemm32Wasm', gemm32Wasm],
    ['gemm32Wasm2', gemm32Wasm2],
  ] as const) {
    it(`${name}: 2x3 · 3x2 worked by hand is [[58, 64], [139, 154]]; accumulated onto ones [[59, 65], [140, 155]]`, () => {
      const c = new Float32Array(4).fill(NaN)
      gemm(2, 2, 3, view32(a, 2, 3), view32(b, 3, 2), c, 0, false)
      expect([...c]).toEqual([58, 64, 139, 154])
      c.fill(1)
      gemm(2, 2, 3, view32(a, 2, 3), view32(b, 3, 2), c, 0, true)
      expect([...c]).toEqual([59, 65, 140, 155])
    })

    it(`${name}: each add is rounded to float32: 1 + 2⁻²⁴ + 2⁻²⁴ is 1 (float64 would give 1 + 2⁻²³)`, () => {
      const x = new Float32Array([1, 2 ** -24, 2 ** -24])
      const ones = new Float32Array([1, 1, 1])
      const c = new Float32Array(1)
      gemm(1, 1, 3, view32(x, 1, 3), view32(ones, 3, 1), c, 0, false)
      expect(c[0]).toBe(1)
      // In the other order the small terms add up first: 2⁻²³ + 1 is exact in float32.
      const y = new Float32Array([2 ** -24, 2 ** -24, 1])
      gemm(1, 1, 3, view32(y, 1, 3), view32(ones, 3, 1), c, 0, false)
      expect(c[0]).toBe(1 + 2 ** -23)
    })

    it(`${name}: each product is rounded to float32 before the add: (1 + 2⁻¹²)² − 1 loses its 2⁻²⁴`, () => {
      const e = 1 + 2 ** -12 // a float32; its square 1 + 2⁻¹¹ + 2⁻²⁴ is not (ties to even: 1 + 2⁻¹¹)
      const x = new Float32Array([e, -1])
      const y = new Float32Array([e, 1])
      const c = new Float32Array(1)
      gemm(1, 1, 2, view32(x, 1, 2), view32(y, 2, 1), c, 0, false)
      expect(c[0]).toBe(2 ** -11)
    })
  }

  it('equals an independent float32 evaluation: every product and every running sum stored in a Float32Array', () => {
    fc.assert(
      fc.property(smallCase, (t) => {
        const { a, b, c } = build(t)
        const expected = c.slice()
        const cell = new Float32Array(2) // [sum, product]: a store rounds to float32
        for (let i = 0; i < t.m; i++) {
          for (let j = 0; j < t.n; j++) {
            const ij = t.cOffset + i * t.n + j
            cell[0] = t.accumulate ? c[ij]! : 0
            for (let p = 0; p < t.k; p++) {
              cell[1] = a.data[a.offset + i * a.rowStride + p * a.colStride]! * b.data[b.offset + p * b.rowStride + j * b.colStride]!
              cell[0] = cell[0] + cell[1]
            }
            expected[ij] = cell[0]
          }
        }
        gemm32Reference(t.m, t.n, t.k, a, b, c, t.cOffset, t.accumulate)
        expect(firstDifference(c, expected)).toBe(-1)
      }),
      runs(100),
    )
  })
})

describe('every float32 kernel equals gemm32Reference bit for bit', () => {
  const kernels32: readonly (readonly [string, Gemm32])[] = [
    ['gemm32Blocked', gemm32Blocked],
    ['gemm32Blocked, tiny blocks (mc 8, kc 5, nc 12)', makeGemm32Blocked({ mc: 8, kc: 5, nc: 12 })],
    ['gemm32Wasm', gemm32Wasm],
    ['gemm32Wasm, tiny blocks (mc 10, kc 7, nc 16)', makeGemm32Wasm(1, { blocks: { mc: 10, kc: 7, nc: 16 } })],
    ['gemm32Wasm2', gemm32Wasm2],
  ]
  for (const [name, gemm] of kernels32) {
    it(`${name}: random shapes (1, primes, tile remainders), transposes, padding, offsets, accumulate or not; nothing else written`, () => {
      fc.assert(
        fc.property(smallCase, (t) => {
          expect(firstDifference(run(gemm, t), run(gemm32Reference, t))).toBe(-1)
        }),
        runs(150),
      )
    })
  }

  it('gemm32Wasm across its default blocks: k past 512, m past 160, and the batch-64 MLP products', () => {
    const shapes = [
      [170, 33, 600],
      [64, 128, 784],
      [64, 10, 64],
      [784, 128, 64],
      [64, 784, 128],
    ] as const
    for (const [m, n, k] of shapes) {
      for (const transA of [false, true]) {
        for (const transB of [false, true]) {
          const t: Case = { m, n, k, transA, transB, pad: 0, offset: 0, cOffset: 0, accumulate: false, seed: m + n + k }
          expect(firstDifference(run(gemm32Wasm, t), run(gemm32Reference, t))).toBe(-1)
          expect(firstDifference(run(gemm32Blocked, t), run(gemm32Reference, t))).toBe(-1)
        }
      }
    }
  })

  it('transposed operands packed four k steps at a time: every k mod 4, tile edges, tiny k blocks; inputs left unchanged', () => {
    const kernels = [gemm32Wasm, makeGemm32Wasm(1, { blocks: { mc: 10, kc: 7, nc: 16 } })] // two threads: below, with random transposes
    for (const [m, n] of [
      [4, 7],
      [5, 8],
      [6, 9],
      [11, 17],
      [64, 128],
    ] as const) {
      for (const k of [1, 3, 4, 5, 6, 7, 8, 13, 64]) {
        for (const [transA, transB] of [
          [true, false],
          [false, true],
          [true, true],
        ] as const) {
          for (const pad of [0, 2]) {
            const t: Case = { m, n, k, transA, transB, pad, offset: 1, cOffset: 2, accumulate: k % 2 === 1, seed: m * 31 + n + k }
            const want = run(gemm32Reference, t)
            for (const gemm of kernels) {
              const { a, b, c } = build(t)
              const [aBefore, bBefore] = [a.data.slice(), b.data.slice()]
              gemm(t.m, t.n, t.k, a, b, c, t.cOffset, t.accumulate)
              expect(firstDifference(c, want)).toBe(-1)
              expect(firstDifference(a.data, aBefore)).toBe(-1)
              expect(firstDifference(b.data, bBefore)).toBe(-1)
            }
          }
        }
      }
    }
  })

  it('k = 0 gives zeros (or leaves C when accumulating); m or n = 0 writes nothing', () => {
    for (const gemm of [gemm32Reference, gemm32Blocked, gemm32Wasm, gemm32Wasm2]) {
      const c = new Float32Array([5, 5, 5, 5])
      gemm(2, 2, 0, view32(new Float32Array(0), 2, 0), view32(new Float32Array(0), 0, 2), c, 0, true)
      expect([...c]).toEqual([5, 5, 5, 5])
      gemm(2, 2, 0, view32(new Float32Array(0), 2, 0), view32(new Float32Array(0), 0, 2), c, 0, false)
      expect([...c]).toEqual([0, 0, 0, 0])
      c.fill(5)
      gemm(0, 2, 3, view32(new Float32Array(0), 0, 3), view32(new Float32Array(6), 3, 2), c, 0, false)
      expect([...c]).toEqual([5, 5, 5, 5])
    }
  })

  it('bad arguments throw a RangeError before anything is written, the same for every kernel', () => {
    const a = new Float32Array(6)
    const b = new Float32Array(6)
    for (const gemm of [gemm32Reference, gemm32Blocked, gemm32Wasm, gemm32Wasm2]) {
      const c = new Float32Array(4).fill(3)
      expect(() => gemm(2, 2, 3, view32(a, 2, 3), view32(b, 3, 2), c, 1, false)).toThrow(RangeError)
      expect(() => gemm(2, 2, 4, { data: a, offset: 0, rowStride: 3, colStride: 1 }, view32(b, 3, 2), c, 0, false)).toThrow(RangeError)
      expect(() => gemm(2.5, 2, 3, view32(a, 2, 3), view32(b, 3, 2), c, 0, false)).toThrow(RangeError)
      expect([...c]).toEqual([3, 3, 3, 3])
    }
  })
})

describe('two threads give the bits of one', () => {
  let settings: Readonly<ThreadSettings>
  beforeAll(() => {
    settings = configureThreads() // the settings to restore (configureThreads returns those in force after a change)
    configureThreads({ minFlops: 0, wakeFlops: 0, minChunk: 4, cooldownMs: 0 })
    forgetThreadTimes() // a back-off an earlier test started (two slow splits) must not keep these products on one thread
  })
  afterAll(() => {
    configureThreads(settings)
  })

  it('split by columns (m ≤ 128) and by rows (m > 128): random shapes, transposes, accumulate or not', () => {
    const splitsBefore = splitCount()
    fc.assert(
      fc.property(
        caseOf(dim(40), fc.integer({ min: 9, max: 70 }), dim(70)),
        caseOf(fc.integer({ min: 129, max: 200 }), dim(20), dim(40)),
        (t, u) => {
          for (const c of [t, u]) {
            const one = run(gemm32Wasm, c)
            expect(firstDifference(run(gemm32Wasm2, c), one)).toBe(-1)
            expect(firstDifference(one, run(gemm32Reference, c))).toBe(-1)
          }
        },
      ),
      runs(60),
    )
    expect(splitCount() - splitsBefore).toBeGreaterThan(0)
  })

  it('when the worker computes every chunk (this thread none)', () => {
    configureThreads({ mainComputes: false })
    try {
      const chunksBefore = workerChunkCount()
      for (const [m, n, k] of [
        [20, 67, 33],
        [150, 9, 41],
        [64, 784, 128],
      ] as const) {
        const t: Case = { m, n, k, transA: false, transB: true, pad: 1, offset: 2, cOffset: 1, accumulate: true, seed: m * n }
        run(gemm32Wasm, t) // a one-thread time for this size, which two threads are tried against
        expect(firstDifference(run(gemm32Wasm2, t), run(gemm32Reference, t))).toBe(-1)
      }
      expect(workerChunkCount() - chunksBefore).toBeGreaterThan(3)
    } finally {
      configureThreads({ mainComputes: true })
    }
  })
})

describe('gemm32Reference is within the float32 bound of gemmReference (float64)', () => {
  it('|ref32 − ref64| ≤ (γ_{k+1}(2⁻²⁴) + γ_{k+1}(2⁻⁵³))·(|c0| + Σ_p |a_ip·b_pj|), on the same float32 inputs', () => {
    fc.assert(
      fc.property(caseOf(dim(40), dim(40), fc.oneof(dim(40), fc.integer({ min: 100, max: 1000 }))), (t) => {
        const { a, b, c } = build(t)
        const c64 = Float64Array.from(c)
        const a64 = { ...a, data: Float64Array.from(a.data) }
        const b64 = { ...b, data: Float64Array.from(b.data) }
        const magnitudes = new Float64Array(c.length)
        for (let i = 0; i < t.m; i++) {
          for (let j = 0; j < t.n; j++) {
            const ij = t.cOffset + i * t.n + j
            let s = t.accumulate ? Math.abs(c64[ij]!) : 0
            for (let p = 0; p < t.k; p++) {
              s += Math.abs(
                a64.data[a.offset + i * a.rowStride + p * a.colStride]! * b64.data[b.offset + p * b.rowStride + j * b.colStride]!,
              )
            }
            magnitudes[ij] = s
          }
        }
        gemm32Reference(t.m, t.n, t.k, a, b, c, t.cOffset, t.accumulate)
        gemmReference(t.m, t.n, t.k, a64, b64, c64, t.cOffset, t.accumulate)
        const bound = gamma(t.k + 1, 2 ** -24) + gamma(t.k + 1, 2 ** -53)
        for (let ij = t.cOffset; ij < t.cOffset + t.m * t.n; ij++) {
          // The magnitudes sum is itself rounded in float64: a factor 1 + 1e-12 covers it.
          expect(Math.abs(c[ij]! - c64[ij]!)).toBeLessThanOrEqual(bound * magnitudes[ij]! * (1 + 1e-12))
        }
      }),
      runs(100),
    )
  })

  it('the bound is not vacuous: float32 and float64 differ on most long sums, by at most it', () => {
    const t: Case = { m: 8, n: 8, k: 500, transA: false, transB: false, pad: 0, offset: 0, cOffset: 0, accumulate: false, seed: 9 }
    const { a, b, c } = build(t)
    const c64 = Float64Array.from(c)
    gemm32Reference(8, 8, 500, a, b, c, 0, false)
    gemmReference(8, 8, 500, view(Float64Array.from(a.data), 8, 500), view(Float64Array.from(b.data), 500, 8), c64, 0, false)
    const differing = c.filter((x, i) => x !== c64[i]).length
    expect(differing).toBeGreaterThan(32)
  })
})

describe('the backend switch', () => {
  it('gemm32For gives the float32 kernel of each family and thread count; currentGemm32 follows useKernels', () => {
    const was = kernels()
    try {
      expect(gemm32For('reference')).toBe(gemm32Reference)
      expect(gemm32For('js')).toBe(gemm32Blocked)
      expect(gemm32For('wasm', 1)).toBe(gemm32Wasm)
      expect(gemm32For('fast', 2)).toBe(gemm32Wasm2)
      useKernels('js')
      expect(currentGemm32()).toBe(gemm32Blocked)
      useKernels('reference')
      expect(currentGemm32()).toBe(gemm32Reference)
    } finally {
      useKernels(was)
    }
  })
})

/**
 * A child whose worker dies during a float32 product: the worker's `part` calls process.exit
 * after computing its first chunk. The Worker class is wrapped through process.getBuiltinModule,
 * where ./threads.ts finds it, so the library runs unchanged.
 */
const dyingChild = `
import { view32 } from ${JSON.stringify(new URL('../../src/kernels/gemm32.ts', import.meta.url).href)}
import { gemm32Wasm, gemm32Wasm2 } from ${JSON.stringify(new URL('../../src/kernels/wasm/gemm32.ts', import.meta.url).href)}
import * as W from ${JSON.stringify(new URL('../../src/kernels/wasm/threads.ts', import.meta.url).href)}
const builtin = process.getBuiltinModule.bind(process)
const dieInPart = '{ const I = WebAssembly.Instance; WebAssembly.Instance = function (m, imports) { const e = new I(m, imports).exports; ' +
  'return { exports: { ...e, part: (...a) => { e.part(...a); process.exit(7) } } } } }\\n'
process.getBuiltinModule = (name) => {
  const m = builtin(name)
  if (name !== 'node:worker_threads') return m
  class Dying extends m.Worker {
    constructor(code, options) {
      super(dieInPart + code, options)
    }
  }
  return { ...m, Worker: Dying }
}
W.configureThreads({ minFlops: 0, wakeFlops: 0, minChunk: 8, cooldownMs: 0, mainComputes: false })
const started = await W.startThreads()
const s = 160
const a = Float32Array.from({ length: s * s }, (_, i) => Math.sin(i) * 3)
const b = Float32Array.from({ length: s * s }, (_, i) => Math.cos(i * 0.7))
const product = (gemm) => {
  const c = Float32Array.from({ length: s * s }, (_, i) => Math.sin(i * 0.3)) // accumulated onto: a chunk run again must start from these
  gemm(s, s, s, view32(a, s, s), view32(b, s, s), c, 0, true)
  return c
}
const want = product(gemm32Wasm) // also the one-thread time two threads are tried against
const splits = W.splitCount()
const c1 = product(gemm32Wasm2)
const c2 = product(gemm32Wasm2)
const same = (x, y) => x.every((v, i) => Object.is(v, y[i]))
const identical = same(c1, want) && same(c2, want)
console.log(JSON.stringify({ started, identical, splits: W.splitCount() - splits, running: W.threadsRunning() }))
`

describe('a worker that dies', () => {
  it('during a float32 product (C += A·B): the product completes on this thread, bit for bit; later ones run on one thread', async () => {
    const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const p = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', dyingChild], { stdio: ['ignore', 'pipe', 'pipe'] })
      let out = ''
      p.stdout.on('data', (d: Buffer) => (out += d.toString()))
      const timer = setTimeout(() => p.kill('SIGKILL'), 20_000)
      p.on('close', (code) => {
        clearTimeout(timer)
        resolve({ code, out })
      })
    })
    expect(r.code).toBe(0)
    const got = JSON.parse(r.out.trim().split('\n').pop()!)
    expect(got).toEqual({ started: true, identical: true, splits: 1, running: false })
  }, 30_000)
})
