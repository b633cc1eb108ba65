/**
 * The two-thread WebAssembly GEMM (src/kernels/wasm/threads.ts): bit-identical to one thread
 * and to the reference whichever way a product is split, its worker surfaces errors as Errors
 * and never keeps a process alive, and the backend switch selects it with useThreads(2).
 *
 * The thresholds are lowered (minFlops 0, wakeFlops 0, chunks of 4 rows or columns) so small,
 * fast cases split too, into many chunks; the split counter checks they did. The back-off on a
 * busy machine is off (cooldownMs 0) so it cannot make the counts depend on the load. Which
 * thread computes which chunk varies from run to run; the results must not.
 */
import fc from 'fast-check'
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runs, values } from '../support/gemm-data.ts'
import { GENERATED_SHARED, generatedSharedModule } from '../../scripts/build-wasm.ts'
import { currentGemm, gemmFor, kernels, threads, useKernels, useThreads } from '../../src/kernels/backend.ts'
import { gemmBlocked, gemmReference, view, type Gemm, type MatView } from '../../src/kernels/gemm.ts'
import { gemmSharedWasmBase64 } from '../../src/kernels/wasm/gemm-shared-module.ts'
import { gemmWasm } from '../../src/kernels/wasm/gemm.ts'
import {
  configureThreads,
  gemmWasm2,
  makeGemmWasm2,
  runOnWorker,
  splitCount,
  startThreads,
  stopThreads,
  threadsRunning,
  workerChunkCount,
  type ThreadSettings,
} from '../../src/kernels/wasm/threads.ts'

interface Case {
  readonly m: number
  readonly n: number
  readonly k: number
  readonly transA: boolean
  readonly transB: boolean
  /** Spare elements per stored row (a padded view); 0 is dense. */
  readonly pad: number
  readonly cOffset: number
  readonly accumulate: boolean
  readonly seed: number
}

/** A rows×cols operand, stored row-major or (transposed) column-major with `pad` spare elements per stored row. */
function operand(rows: number, cols: number, transposed: boolean, pad: number, seed32: number): MatView {
  const ld = (transposed ? rows : cols) + pad
  const stored = transposed ? cols : rows
  const data = values(stored * ld, seed32)
  return transposed ? { data, offset: 0, rowStride: 1, colStride: ld } : { data, offset: 0, rowStride: ld, colStride: 1 }
}

/** Runs `gemm` on the case, returning the whole C array (sentinels around the m×n region). */
function run(gemm: Gemm, t: Case): Float64Array {
  const a = operand(t.m, t.k, t.transA, t.pad, t.seed)
  const b = operand(t.k, t.n, t.transB, t.pad, t.seed + 1)
  const c = new Float64Array(t.cOffset + t.m * t.n + 2).fill(-7.25)
  if (t.accumulate) c.set(values(t.m * t.n, t.seed + 2), t.cOffset)
  gemm(t.m, t.n, t.k, a, b, c, t.cOffset, t.accumulate)
  return c
}

/** Bit for bit, NaN payloads aside (toEqual would call -0 and 0 different anyway; this says where). */
function firstDifference(x: Float64Array, y: Float64Array): number {
  for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return i
  return -1
}

const caseOf = (m: fc.Arbitrary<number>, n: fc.Arbitrary<number>, k: fc.Arbitrary<number>): fc.Arbitrary<Case> =>
  fc.record({
    m,
    n,
    k,
    transA: fc.boolean(),
    transB: fc.boolean(),
    pad: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3 })),
    cOffset: fc.integer({ min: 0, max: 3 }),
    accumulate: fc.boolean(),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  })

let before: Readonly<ThreadSettings>

beforeAll(async () => {
  before = configureThreads()
  expect(await startThreads()).toBe(true)
  configureThreads({ minFlops: 0, wakeFlops: 0, minChunk: 4, cooldownMs: 0 })
})

afterAll(() => {
  configureThreads(before)
})

describe('the shared-memory module', () => {
  it('imports only env.memory, shared, and instantiates on a shared memory of 1 GiB maximum', () => {
    const module = new WebAssembly.Module(Uint8Array.from(atob(gemmSharedWasmBase64), (ch) => ch.charCodeAt(0)))
    expect(WebAssembly.Module.imports(module)).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }])
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 16384, shared: true })
    expect(() => new WebAssembly.Instance(module, { env: { memory } })).not.toThrow()
    expect(atob(gemmSharedWasmBase64).length).toBeLessThan(24 * 1024) // the cap of the one-thread module (test/kernels/gemm-wasm.test.ts)
  })

  it(`rebuilding asm/ (gemm and conv) for shared memory gives ${GENERATED_SHARED} byte for byte`, async () => {
    const rebuilt = await generatedSharedModule()
    const committed = readFileSync(new URL(`../../${GENERATED_SHARED}`, import.meta.url), 'utf8')
    expect(rebuilt).toBe(committed)
  }, 60_000)
})

describe('gemmWasm2 is bit-identical to one thread and to the reference', () => {
  it('the worker is running here (Node 20 has worker_threads and shared WebAssembly memory)', () => {
    expect(threadsRunning()).toBe(true)
  })

  it('splitting by columns (m ≤ 128): random shapes, transposes, padding, offsets, accumulate or not', () => {
    const splitsBefore = splitCount()
    fc.assert(
      fc.property(caseOf(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 5, max: 70 }), fc.integer({ min: 1, max: 70 })), (t) => {
        const one = run(gemmWasm, t)
        const two = run(gemmWasm2, t)
        expect(firstDifference(one, two)).toBe(-1)
        expect(firstDifference(run(gemmReference, t), two)).toBe(-1)
      }),
      runs(120),
    )
    // Most split (one right after a product the worker never took runs on one thread). How
    // many chunks the worker computed depends on the machine's load, from none to most; the
    // next test makes it compute them all.
    expect(splitCount() - splitsBefore).toBeGreaterThan(0)
  })

  it('when the worker computes every chunk (this thread computing none), by rows and by columns', () => {
    configureThreads({ mainComputes: false })
    try {
      const splitsBefore = splitCount()
      const chunksBefore = workerChunkCount()
      fc.assert(
        fc.property(caseOf(fc.integer({ min: 1, max: 140 }), fc.integer({ min: 8, max: 60 }), fc.integer({ min: 1, max: 60 })), (t) => {
          expect(firstDifference(run(gemmReference, t), run(gemmWasm2, t))).toBe(-1)
        }),
        runs(80),
      )
      expect(splitCount() - splitsBefore).toBe(80) // every product split: this thread waits for the worker each time
      expect(workerChunkCount() - chunksBefore).toBeGreaterThanOrEqual(160)
    } finally {
      configureThreads({ mainComputes: true })
    }
  })

  it('splitting by rows (m > 128), with k past the 256-deep block', () => {
    fc.assert(
      fc.property(caseOf(fc.integer({ min: 129, max: 200 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 300 })), (t) => {
        expect(firstDifference(run(gemmWasm, t), run(gemmWasm2, t))).toBe(-1)
      }),
      runs(25),
    )
  })

  it('with tiny cache blocks, so both shares cross every mc, kc and nc edge', () => {
    const tiny = makeGemmWasm2({ mc: 8, kc: 5, nc: 12 })
    fc.assert(
      fc.property(caseOf(fc.integer({ min: 1, max: 150 }), fc.integer({ min: 5, max: 40 }), fc.integer({ min: 1, max: 30 })), (t) => {
        expect(firstDifference(run(gemmReference, t), run(tiny, t))).toBe(-1)
      }),
      runs(60),
    )
  })

  it('at the batch-64 MLP shapes, forward and backward, and at 256 (default thresholds)', () => {
    configureThreads({ minFlops: before.minFlops, wakeFlops: before.wakeFlops, minChunk: before.minChunk })
    try {
      const shapes: [number, number, number, boolean, boolean][] = [
        [64, 128, 784, false, false],
        [64, 64, 128, false, false],
        [784, 128, 64, true, false],
        [64, 784, 128, false, true],
        [128, 64, 64, true, false],
        [64, 128, 64, false, true],
        [256, 256, 256, false, false],
      ]
      for (const [m, n, k, transA, transB] of shapes) {
        const t: Case = { m, n, k, transA, transB, pad: 0, cOffset: 0, accumulate: false, seed: m + n + k }
        expect(firstDifference(run(gemmWasm, t), run(gemmWasm2, t))).toBe(-1)
      }
    } finally {
      configureThreads({ minFlops: 0, wakeFlops: 0, minChunk: 4 })
    }
  })

  it('while the worker sleeps between products (no spin), and products too small to split', () => {
    configureThreads({ spinMicros: 0, wakeFlops: 1e12 })
    try {
      fc.assert(
        fc.property(caseOf(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 })), (t) => {
          expect(firstDifference(run(gemmWasm, t), run(gemmWasm2, t))).toBe(-1)
        }),
        runs(60),
      )
    } finally {
      configureThreads({ spinMicros: before.spinMicros, wakeFlops: 0 })
    }
  })

  it('grows its shared memory across calls of increasing size (views rebuilt after each grow) and stays exact', () => {
    for (const s of [16, 64, 150, 260, 400]) {
      const t: Case = { m: s, n: s, k: s, transA: false, transB: s % 2 === 0, pad: 1, cOffset: 1, accumulate: true, seed: s }
      expect(firstDifference(run(gemmWasm, t), run(gemmWasm2, t))).toBe(-1)
    }
  })

  it('k = 0 and m or n = 0 behave as one thread does', () => {
    for (const [m, n, k] of [
      [3, 9, 0],
      [0, 9, 4],
      [9, 0, 4],
    ] as const) {
      for (const accumulate of [false, true]) {
        const t: Case = { m, n, k, transA: false, transB: false, pad: 0, cOffset: 1, accumulate, seed: 5 }
        expect(firstDifference(run(gemmWasm, t), run(gemmWasm2, t))).toBe(-1)
      }
    }
  })
})

describe('errors in the worker', () => {
  it('a job reading outside the memory throws a clear Error in the caller, and the worker keeps working', () => {
    // C at byte 2^31 - 64: far beyond the memory (a few MB), so the kernel traps in the worker.
    const bad = [4, 4, 4, 0, 4, 1, 0, 4, 1, 2 ** 31 - 64, 4, 0, 4, 4, 4, 4096, 8192]
    expect(() => runOnWorker(bad)).toThrow(/chainrule: the GEMM worker failed: RuntimeError: memory access out of bounds/)
    expect(() => runOnWorker(bad)).toThrow(Error)
    const t: Case = { m: 40, n: 40, k: 40, transA: false, transB: false, pad: 0, cOffset: 0, accumulate: false, seed: 9 }
    configureThreads({ mainComputes: false }) // so the worker computes this product
    try {
      const chunksBefore = workerChunkCount()
      expect(firstDifference(run(gemmWasm, t), run(gemmWasm2, t))).toBe(-1)
      expect(workerChunkCount()).toBeGreaterThan(chunksBefore)
    } finally {
      configureThreads({ mainComputes: true })
    }
  })

  it('bad arguments throw the same RangeError as one thread, before anything is posted', () => {
    const a = view(new Float64Array(6), 2, 3)
    const b = view(new Float64Array(6), 3, 2)
    const c = new Float64Array(3) // too short for 2×2
    const message = (g: Gemm): string => {
      try {
        g(2, 2, 3, a, b, c, 0, false)
      } catch (e) {
        return (e as Error).message
      }
      return 'no error'
    }
    expect(message(gemmWasm2)).toBe(message(gemmBlocked))
    expect(message(gemmWasm2)).not.toBe('no error')
  })
})

/**
 * The child: starts the worker, runs three products on it (hot: it just started), lets it
 * fall asleep, runs a fourth (16 MFLOP: big enough to wake it),
 * checks all against one thread, prints, and falls off the end without stopping anything. It
 * must exit by itself.
 */
const CHILD = `
import { configureThreads, gemmWasm2, splitCount, startThreads } from ${JSON.stringify(new URL('../../src/kernels/wasm/threads.ts', import.meta.url).href)}
import { gemmWasm } from ${JSON.stringify(new URL('../../src/kernels/wasm/gemm.ts', import.meta.url).href)}
import { view } from ${JSON.stringify(new URL('../../src/kernels/gemm.ts', import.meta.url).href)}
if (!(await startThreads())) throw new Error('no threads')
configureThreads({ mainComputes: false }) // the worker computes every chunk: every product splits, whatever the load
const s = 200
const a = Float64Array.from({ length: s * s }, (_, i) => Math.sin(i))
const b = Float64Array.from({ length: s * s }, (_, i) => Math.cos(i))
const one = new Float64Array(s * s)
const two = new Float64Array(s * s)
let identical = true
for (let r = 0; r < 3; r++) {
  gemmWasm(s, s, s, view(a, s, s), view(b, s, s), one, 0, false)
  gemmWasm2(s, s, s, view(a, s, s), view(b, s, s), two, 0, false)
  identical &&= one.every((x, i) => Object.is(x, two[i]))
}
// Let the worker fall asleep in Atomics.wait, then wake it with a product big enough to split anyway.
await new Promise((resolve) => setTimeout(resolve, 50))
gemmWasm(s, s, s, view(a, s, s), view(b, s, s), one, 0, false)
gemmWasm2(s, s, s, view(a, s, s), view(b, s, s), two, 0, false)
identical &&= one.every((x, i) => Object.is(x, two[i]))
console.log('split', splitCount(), 'identical', identical)
`

/**
 * A child with the default settings (nobody calls useThreads): a conv layer's forward and
 * backward, first with the worker not yet started (the first run starts it in the background),
 * then again and again in a synchronous loop (no await, as in training: the worker's 'ready'
 * message never gets through) until the worker is up; compared with one thread, bit for bit.
 */
const DEFAULT_CHILD = `
import { Key, L, Tree } from ${JSON.stringify(new URL('../../src/index.ts', import.meta.url).href)}
import { threads, threadsRunning, useThreads } from ${JSON.stringify(new URL('../../src/kernels/backend.ts', import.meta.url).href)}
import { splitCount } from ${JSON.stringify(new URL('../../src/kernels/wasm/threads.ts', import.meta.url).href)}
const layer = L.conv2d(16, 5, { padding: 2 })
const { params, state } = layer.init(Key.fromSeed(1), [8, 14, 14])
const x = Key.normal(Key.fromSeed(2), [32, 8, 14, 14])
const dy = Key.normal(Key.fromSeed(3), [32, 16, 14, 14])
const run = () => {
  const f = layer.forward(params, state, x, { mode: 'train', key: Key.fromSeed(4) })
  const b = layer.vjp(params, f.tape, dy)
  return [f.y, b.dx, ...Tree.leaves(b.dp)].map((t) => t.data)
}
const same = (a, b) => a.every((t, i) => t.every((v, j) => Object.is(v, b[i][j])))
const defaultThreads = threads()
const before = threadsRunning()
const first = run() // starts the worker in the background
const t0 = performance.now()
while (!threadsRunning() && performance.now() - t0 < 10000) run()
const up = threadsRunning()
const splits = splitCount()
const second = run() // on two threads
const split = splitCount() > splits
await useThreads(1)
const one = run()
console.log('default', defaultThreads, 'before', before, 'up', up, 'split', split, 'identical', same(first, one) && same(second, one))
`

/** A child that runs one big product (which starts the worker in the background) and ends at once: it must not wait for the worker. */
const QUICK_CHILD = `
import { currentGemm } from ${JSON.stringify(new URL('../../src/kernels/backend.ts', import.meta.url).href)}
import { view } from ${JSON.stringify(new URL('../../src/kernels/gemm.ts', import.meta.url).href)}
const s = 200
const a = new Float64Array(s * s).fill(1)
const c = new Float64Array(s * s)
currentGemm()(s, s, s, view(a, s, s), view(a, s, s), c, 0, false)
console.log('sum', c[0])
`

const runChild = (code: string): Promise<{ code: number | null; out: string; err: string; seconds: number }> => {
  const t0 = performance.now()
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    p.stdout.on('data', (d: Buffer) => (out += d.toString()))
    p.stderr.on('data', (d: Buffer) => (err += d.toString()))
    const timer = setTimeout(() => p.kill('SIGKILL'), 20_000)
    p.on('close', (exit) => {
      clearTimeout(timer)
      resolve({ code: exit, out, err, seconds: (performance.now() - t0) / 1000 })
    })
  })
}

/** A child that asks for two threads twice (the worker is up the second time), then ends: asking again must not pin the worker. */
const TWICE_CHILD = `
import { useThreads, threadsRunning } from ${JSON.stringify(new URL('../../src/kernels/backend.ts', import.meta.url).href)}
import { startThreads } from ${JSON.stringify(new URL('../../src/kernels/wasm/threads.ts', import.meta.url).href)}
const first = await useThreads(2)
const second = await startThreads()
const third = await useThreads(2)
console.log('started', first, second, third, threadsRunning())
`

describe('two threads are the default', () => {
  it('a fresh process runs on two threads without asking: the worker starts in the background, results bit-identical to one thread', async () => {
    const r = await runChild(DEFAULT_CHILD)
    expect(r.err).toBe('')
    expect(r.out.trim()).toBe('default 2 before false up true split true identical true')
    expect(r.code).toBe(0)
  }, 30_000)

  it('asking for two threads again once the worker is up does not keep the process alive', async () => {
    const r = await runChild(TWICE_CHILD)
    expect(r.err).toBe('')
    expect(r.out.trim()).toBe('started true true true true')
    expect(r.code).toBe(0)
    expect(r.seconds).toBeLessThan(10)
  }, 30_000)

  it('a process that ends while the background start is still in flight exits at once, with code 0', async () => {
    const r = await runChild(QUICK_CHILD)
    expect(r.err).toBe('')
    expect(r.out.trim()).toBe('sum 200')
    expect(r.code).toBe(0)
    expect(r.seconds).toBeLessThan(10)
  }, 30_000)
})

/**
 * A child whose worker dies: 'mid-job' makes the worker's kernel call process.exit after computing
 * its first chunk (it dies holding a product, before saying it is done); 'between' has this thread
 * terminate the worker between two products. The Worker class is wrapped through
 * process.getBuiltinModule, where threads.ts finds it, so the library runs unchanged.
 */
const dyingChild = (how: 'mid-job' | 'between'): string => `
import { view } from ${JSON.stringify(new URL('../../src/kernels/gemm.ts', import.meta.url).href)}
import { gemmWasm } from ${JSON.stringify(new URL('../../src/kernels/wasm/gemm.ts', import.meta.url).href)}
import * as W from ${JSON.stringify(new URL('../../src/kernels/wasm/threads.ts', import.meta.url).href)}
const builtin = process.getBuiltinModule.bind(process)
let worker
const dieInKernel = ${JSON.stringify(how === 'mid-job')}
  ? '{ const I = WebAssembly.Instance; WebAssembly.Instance = function (m, imports) { const e = new I(m, imports).exports; ' +
    'return { exports: { ...e, gemm: (...a) => { e.gemm(...a); process.exit(7) } } } } }\\n'
  : ''
process.getBuiltinModule = (name) => {
  const m = builtin(name)
  if (name !== 'node:worker_threads') return m
  class Watched extends m.Worker {
    constructor(code, options) {
      super(dieInKernel + code, options)
      worker = this
    }
  }
  return { ...m, Worker: Watched }
}
W.configureThreads({ minFlops: 0, wakeFlops: 0, minChunk: 4, cooldownMs: 0, mainComputes: ${how === 'between'} })
const started = await W.startThreads()
const s = 192
const a = Float64Array.from({ length: s * s }, (_, i) => Math.sin(i) * 3)
const b = Float64Array.from({ length: s * s }, (_, i) => Math.cos(i * 0.7))
const product = (gemm) => {
  const c = new Float64Array(s * s)
  gemm(s, s, s, view(a, s, s), view(b, s, s), c, 0, false)
  return c
}
const want = product(gemmWasm)
const same = (x, y) => x.every((v, i) => Object.is(v, y[i]))
if (${JSON.stringify(how === 'between')}) {
  const before = W.splitCount()
  const first = same(product(W.gemmWasm2), want) && W.splitCount() > before
  await worker.terminate()
  await new Promise((r) => setImmediate(r))
  console.log(JSON.stringify({ started, first }))
}
const splits = W.splitCount()
const t0 = performance.now()
const c1 = product(W.gemmWasm2)
const ms = performance.now() - t0
const c2 = product(W.gemmWasm2)
console.log(JSON.stringify({ started, identical: same(c1, want) && same(c2, want), ratio: ms / W.WORKER_DEADLINE_MS,
  laterSplits: W.splitCount() - splits, running: W.threadsRunning(), why: W.threadsUnavailable() }))
`

describe('a worker that dies', () => {
  it('mid-product: noticed at once, the product completes on this thread bit for bit, two threads off with one warning', async () => {
    const r = await runChild(dyingChild('mid-job'))
    expect(r.code).toBe(0)
    const got = JSON.parse(r.out.trim().split('\n').pop()!)
    expect(got.started).toBe(true)
    expect(got.identical).toBe(true)
    expect(got.laterSplits).toBe(1) // the product it died in went to it; the next one did not
    // Noticed from the worker's exit, not at the deadline: the product took a small fraction of it.
    expect(got.ratio).toBeLessThan(0.2)
    expect(got.running).toBe(false)
    expect(got.why).toMatch(/^the GEMM worker exited during a job; products run on one thread/)
    expect(r.err.match(/chainrule: two threads are off: /g)).toHaveLength(1)
  }, 30_000)

  it('between products (terminated): the exit event turns two threads off with one warning; later products are right', async () => {
    const r = await runChild(dyingChild('between'))
    expect(r.code).toBe(0)
    const [first, after] = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(first).toEqual({ started: true, first: true })
    expect(after.identical).toBe(true)
    expect(after.laterSplits).toBe(0)
    expect(after.running).toBe(false)
    expect(after.why).toMatch(/^the GEMM worker exited \(code 1\); products run on one thread/)
    expect(r.err.match(/chainrule: two threads are off: /g)).toHaveLength(1)
  }, 30_000)
})

describe('the worker never keeps a process alive', () => {
  it('a child process that runs two-thread products exits by itself, promptly, with code 0', async () => {
    const t0 = performance.now()
    const result = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const p = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], { stdio: ['ignore', 'pipe', 'pipe'] })
      let out = ''
      let err = ''
      p.stdout.on('data', (d: Buffer) => (out += d.toString()))
      p.stderr.on('data', (d: Buffer) => (err += d.toString()))
      const timer = setTimeout(() => p.kill('SIGKILL'), 15_000)
      p.on('close', (code) => {
        clearTimeout(timer)
        resolve({ code, out, err })
      })
    })
    const seconds = (performance.now() - t0) / 1000
    expect(result.err).toBe('')
    expect(result.out.trim()).toBe('split 4 identical true')
    expect(result.code).toBe(0)
    expect(seconds).toBeLessThan(10)
  }, 20_000)
})

describe('the backend switch', () => {
  it("useThreads(2) makes 'wasm' and 'fast' two-threaded, useThreads(1) undoes it (the default of 2 is checked in a fresh process below)", async () => {
    await useThreads(1)
    expect(threads()).toBe(1)
    expect(kernels()).toBe('fast')
    expect(currentGemm()).toBe(gemmWasm)
    try {
      expect(await useThreads(2)).toBe(true)
      expect(threads()).toBe(2)
      expect(currentGemm()).toBe(gemmWasm2)
      expect(gemmFor('wasm')).toBe(gemmWasm2)
      expect(gemmFor('js')).toBe(gemmBlocked)
      expect(gemmFor('reference')).toBe(gemmReference)
      expect(gemmFor('wasm', 1)).toBe(gemmWasm)
      useKernels('js')
      expect(currentGemm()).toBe(gemmBlocked)
    } finally {
      useKernels('fast')
      await useThreads(1)
    }
    expect(threads()).toBe(1)
    expect(currentGemm()).toBe(gemmWasm)
  })

  it('stopThreads ends the worker (asleep or not) and startThreads starts a new one that computes the same', async () => {
    const t: Case = { m: 60, n: 60, k: 60, transA: true, transB: false, pad: 0, cOffset: 0, accumulate: false, seed: 3 }
    const expected = run(gemmWasm, t)
    await stopThreads()
    expect(threadsRunning()).toBe(false)
    const splitsBefore = splitCount()
    expect(firstDifference(expected, run(gemmWasm2, t))).toBe(-1) // one thread, no worker
    expect(splitCount()).toBe(splitsBefore)
    expect(await startThreads()).toBe(true)
    configureThreads({ mainComputes: false })
    try {
      expect(firstDifference(expected, run(gemmWasm2, t))).toBe(-1)
      expect(workerChunkCount()).toBeGreaterThan(0) // the new worker's count
    } finally {
      configureThreads({ mainComputes: true })
    }
  })

  it('useThreads rejects anything but 1 or 2 and keeps the setting', () => {
    expect(() => useThreads(3 as 1)).toThrow('useThreads: expected 1 or 2, got 3')
    expect(threads()).toBe(1)
  })
})
