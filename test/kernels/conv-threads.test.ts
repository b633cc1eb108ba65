/**
 * Convolutions on two threads: the conv kernels read the thread count at each call
 * (src/kernels/conv.ts), so after `useThreads(2)` a conv2d layer, and a whole CNN, run their
 * parts (samples, or four fixed groups of samples for dW: src/kernels/wasm/conv.ts) on both threads, and
 * their results are bit-identical to one thread.
 *
 * Each comparison runs three ways on two threads: the default thresholds; thresholds lowered to
 * zero with the back-off off (the dense layer's products split too); and the worker computing
 * every chunk and part, this thread none (every product splits, whatever the load: the split
 * counter checks it). Which thread computes which part varies from run to run; the results must not.
 */
import fc from 'fast-check'
import { spawn } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Kernels, Key, L, type Layer, T, type Tensor, Tree } from '../../src/index.ts'
import { convKernels, fastConv, fastConvWasm, naiveConv } from '../../src/kernels/conv.ts'
import { convBackwardWasm, convForwardWasm, convInputGradWasm, convKernelGradWasm } from '../../src/kernels/wasm/conv.ts'
import { configureThreads, splitCount, workerChunkCount, type ThreadSettings } from '../../src/kernels/wasm/threads.ts'
import { casesUpTo, describeCase, operands } from '../support/conv-cases.ts'

const seed = Number(process.env['CHAINRULE_SEED'] ?? 42)

let before: Readonly<ThreadSettings>

beforeAll(async () => {
  before = configureThreads()
  expect(await Kernels.useThreads(2)).toBe(true) // Node 20: worker_threads and shared WebAssembly memory
  await Kernels.useThreads(1)
})

afterAll(async () => {
  configureThreads(before)
  Kernels.use('fast')
  await Kernels.useThreads(1)
})

/** Every array a forward + vjp produces: y, dx, then each parameter gradient, in tree order. */
interface Run {
  readonly y: Float64Array
  readonly dx: Float64Array
  readonly dp: readonly Float64Array[]
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any layer: the params are only passed back to it
type AnyLayer = Layer<any, any, any>

function forwardBackward(model: AnyLayer, inShape: readonly number[], batch: number, seed: number): () => Run {
  const { params, state, outShape } = model.init(Key.fromSeed(seed), inShape)
  const x = Key.normal(Key.fromSeed(seed + 1), [batch, ...inShape])
  const dy = Key.normal(Key.fromSeed(seed + 2), [batch, ...outShape])
  const ctx = { mode: 'train' as const, key: Key.fromSeed(seed + 3) }
  return () => {
    const { y, tape } = model.forward(params, state, x, ctx)
    const { dx, dp } = model.vjp(params, tape, dy)
    return { y: y.data, dx: dx.data, dp: Tree.leaves(dp).map((t) => t.data) }
  }
}

/** Bit for bit (Object.is per element: -0 and 0 differ); the first differing index, or -1. */
function firstDifference(x: Float64Array, y: Float64Array): number {
  if (x.length !== y.length) return -2
  for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return i
  return -1
}

function expectIdentical(one: Run, two: Run): void {
  expect(firstDifference(one.y, two.y)).toBe(-1)
  expect(firstDifference(one.dx, two.dx)).toBe(-1)
  expect(two.dp.length).toBe(one.dp.length)
  one.dp.forEach((g, i) => expect(firstDifference(g, two.dp[i]!)).toBe(-1))
}

/**
 * Thresholds 0, chunks of 4, back-off off; then waits out any cool-down a product under the
 * default settings may have started (while it lasts every product runs on one thread).
 */
async function lowerThresholds(): Promise<void> {
  configureThreads({ minFlops: 0, wakeFlops: 0, minChunk: 4, cooldownMs: 0 })
  await new Promise((resolve) => setTimeout(resolve, before.cooldownMs + 20))
}

/** One thread, then two threads three ways (see the header); restores one thread and the defaults. */
async function compareThreads(run: () => Run): Promise<void> {
  await Kernels.useThreads(1)
  expect(Kernels.threads()).toBe(1)
  const splits1 = splitCount()
  const one = run()
  expect(splitCount()).toBe(splits1) // one thread: nothing split
  expect(await Kernels.useThreads(2)).toBe(true)
  try {
    expectIdentical(one, run()) // default thresholds: splits or not, as the load decides
    await lowerThresholds()
    expectIdentical(one, run()) // most products split, unless the worker is descheduled (a busy machine)
    configureThreads({ mainComputes: false })
    const splits2 = splitCount()
    expectIdentical(one, run())
    expect(splitCount()).toBeGreaterThan(splits2) // the conv products did run on two threads
  } finally {
    configureThreads(before)
    await Kernels.useThreads(1)
  }
}

describe('conv2d on two threads is bit-identical to one thread', () => {
  test('a conv2d layer (batch 16, 8 → 16 channels, 14x14, 5x5, padding 2): y, dx, dW and db', async () => {
    const run = forwardBackward(L.conv2d(16, 5, { padding: 2 }), [8, 14, 14], 16, 11)
    await compareThreads(run)
  })

  test('a strided, dilated conv2d without bias (batch 16, 3 → 12 channels, 17x15)', async () => {
    const run = forwardBackward(L.conv2d(12, 3, { stride: 2, dilation: [1, 2], padding: 'same', bias: false }), [3, 17, 15], 16, 21)
    await compareThreads(run)
  })

  test('the MNIST CNN of examples/07 on a batch of 64 random inputs: y, dx and every parameter gradient', async () => {
    const model = L.pipe(
      L.conv2d(8, 5, { padding: 2 }),
      L.relu,
      L.maxPool2d(2),
      L.conv2d(16, 5, { padding: 2 }),
      L.relu,
      L.maxPool2d(2),
      L.flatten,
      L.dense(10),
    )
    const run = forwardBackward(model, [1, 28, 28], 64, 31)
    await compareThreads(run)
  })
})

describe('the WebAssembly conv parts on two threads (random geometries)', () => {
  test('one thread, two threads, and the worker running every part: bit-identical y, dx and dW', async () => {
    expect(await Kernels.useThreads(2)).toBe(true)
    configureThreads({ minFlops: 0 }) // these small jobs split too
    try {
      fc.assert(
        fc.property(casesUpTo(9), (c) => {
          const { x, w, b, dy } = operands(c)
          const g = c.g
          const runAll = (threadCount: 1 | 2): Float64Array[] => {
            const y = T.buffer(g.N * g.F * g.OH * g.OW)
            const dx = T.buffer(x.length)
            const dw = T.buffer(w.length)
            const dx2 = T.buffer(x.length)
            const dw2 = T.buffer(w.length)
            expect(convForwardWasm(threadCount, g, x, w, b, y)).toBe(true)
            expect(convInputGradWasm(threadCount, g, dy, w, dx)).toBe(true)
            expect(convKernelGradWasm(threadCount, g, x, dy, dw)).toBe(true)
            expect(convBackwardWasm(threadCount, g, x, dy, w, dx2, dw2)).toBe(true)
            return [y, dx, dw, dx2, dw2]
          }
          const one = runAll(1)
          const check = (two: Float64Array[]): void => {
            two.forEach((a, i) => {
              const at = firstDifference(one[i]!, a)
              if (at !== -1) throw new Error(`${describeCase(c)}: ${['y', 'dx', 'dW', 'backward dx', 'backward dW'][i]} differs at ${at}`)
            })
          }
          check(runAll(2)) // both threads take parts
          configureThreads({ mainComputes: false })
          try {
            const before = workerChunkCount()
            check(runAll(2)) // the worker runs every part
            expect(workerChunkCount()).toBeGreaterThan(before)
          } finally {
            configureThreads({ mainComputes: true })
          }
        }),
        { seed, numRuns: 60 },
      )
    } finally {
      configureThreads(before)
      await Kernels.useThreads(1)
    }
  })
})

describe('the conv kernels follow the switches at call time', () => {
  test('fastConvWasm splits after Kernels.useThreads(2) and not after Kernels.useThreads(1); the same object either way', async () => {
    const run = forwardBackward(L.conv2d(16, 5, { padding: 2 }), [8, 14, 14], 4, 41)
    await lowerThresholds()
    configureThreads({ mainComputes: false }) // this thread waits for the worker: every product splits, whatever the load
    try {
      await Kernels.useThreads(2)
      expect(convKernels()).toBe(fastConvWasm)
      let s = splitCount()
      run()
      expect(splitCount()).toBeGreaterThan(s)
      await Kernels.useThreads(1)
      expect(convKernels()).toBe(fastConvWasm)
      s = splitCount()
      run()
      expect(splitCount()).toBe(s)
    } finally {
      configureThreads(before)
      await Kernels.useThreads(1)
    }
  })

  test("with two threads, 'reference' still selects the naive loops and 'js' the plain-TypeScript GEMM (no splits)", async () => {
    const run = forwardBackward(L.conv2d(16, 5, { padding: 2 }), [8, 14, 14], 2, 51)
    await lowerThresholds()
    configureThreads({ mainComputes: false })
    try {
      await Kernels.useThreads(2)
      for (const [choice, k] of [
        ['reference', naiveConv],
        ['js', fastConv],
      ] as const) {
        Kernels.using(choice, () => {
          expect(convKernels()).toBe(k)
          const s = splitCount()
          run()
          expect(splitCount()).toBe(s)
        })
      }
    } finally {
      configureThreads(before)
      await Kernels.useThreads(1)
    }
  })
})

/**
 * A child whose worker dies in the middle of a job's parts: its `part` export is wrapped (through
 * process.getBuiltinModule, where the library finds Worker) to call process.exit after its first
 * part. This thread leaves every part to the worker (mainComputes false), so the worker surely
 * holds the job when it dies. The layer's forward runs with the worker dying in it; then a new
 * worker (useThreads(2)) dies in its vjp, the forward having run on one thread (minFlops above the
 * job). Each result is compared bit for bit with the same call on one thread.
 */
const dyingPartsChild = (layer: string, inShape: readonly number[]): string => `
import { Kernels, Key, L, Tree } from ${JSON.stringify(new URL('../../src/index.ts', import.meta.url).href)}
import * as W from ${JSON.stringify(new URL('../../src/kernels/wasm/threads.ts', import.meta.url).href)}
const builtin = process.getBuiltinModule.bind(process)
const dieInPart =
  '{ const I = WebAssembly.Instance; WebAssembly.Instance = function (m, imports) { const e = new I(m, imports).exports; ' +
  'return { exports: { ...e, part: (...a) => { e.part(...a); process.exit(7) } } } } }\\n'
process.getBuiltinModule = (name) => {
  const m = builtin(name)
  if (name !== 'node:worker_threads') return m
  return { ...m, Worker: class extends m.Worker { constructor(code, options) { super(dieInPart + code, options) } } }
}
const split = { minFlops: 0, wakeFlops: 0, minChunk: 4, cooldownMs: 0, mainComputes: false }
W.configureThreads(split)
const layer = ${layer}
const { params, state, outShape } = layer.init(Key.fromSeed(1), ${JSON.stringify(inShape)})
const x = Key.normal(Key.fromSeed(2), [8, ...${JSON.stringify(inShape)}])
const dy = Key.normal(Key.fromSeed(4), [8, ...outShape])
const ctx = { mode: 'train', key: Key.fromSeed(3) }
const forward = () => layer.forward(params, state, x, ctx)
const vjp = (tape) => { const { dx, dp } = layer.vjp(params, tape, dy); return [dx, ...Tree.leaves(dp)].map((t) => [...t.data]) }
const same = (a, b) => a.length === b.length && a.every((v, i) => (Array.isArray(v) ? same(v, b[i]) : Object.is(v, b[i])))
const timed = (f) => { const t0 = performance.now(); const r = f(); return [r, (performance.now() - t0) / W.WORKER_DEADLINE_MS] }
const report = {}
for (const stage of ['forward', 'vjp']) {
  report[stage + 'Started'] = await Kernels.useThreads(2)
  let before = W.splitCount()
  let result, ratio
  if (stage === 'forward') [result, ratio] = timed(() => [...forward().y.data])
  else {
    W.configureThreads({ minFlops: 1e300 })
    const { tape } = forward()
    W.configureThreads(split)
    before = W.splitCount()
    ;[result, ratio] = timed(() => vjp(tape))
  }
  report[stage + 'Split'] = W.splitCount() - before
  report[stage + 'Ratio'] = ratio
  report[stage + 'Running'] = W.threadsRunning()
  report[stage + 'Why'] = W.threadsUnavailable()
  before = W.splitCount()
  const again = stage === 'forward' ? [...forward().y.data] : vjp(forward().tape)
  report[stage + 'LaterSplits'] = W.splitCount() - before
  await Kernels.useThreads(1)
  const one = stage === 'forward' ? [...forward().y.data] : vjp(forward().tape)
  report[stage + 'Identical'] = same(result, one) && same(again, one)
}
console.log(JSON.stringify(report))
`

const runChild = (code: string): Promise<{ code: number | null; out: string; err: string }> =>
  new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    p.stdout.on('data', (d: Buffer) => (out += d.toString()))
    p.stderr.on('data', (d: Buffer) => (err += d.toString()))
    const timer = setTimeout(() => p.kill('SIGKILL'), 40_000)
    p.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, out, err })
    })
  })

describe('a worker that dies in the middle of a job of parts', () => {
  test.each([
    ['a convolution (forward: a part per sample; vjp: dW groups and dx samples)', 'L.conv2d(4, 3, { padding: 1 })', [2, 12, 12]],
    ['relu (element-wise forward and backward)', 'L.relu', [16, 32, 32]],
    ['2x2 max-pooling (forward and backward)', 'L.maxPool2d(2)', [16, 32, 32]],
  ])(
    '%s: noticed at once, the job completes on this thread bit for bit, later jobs on one thread, one warning',
    async (_, layer, inShape) => {
      const r = await runChild(dyingPartsChild(layer, inShape))
      expect(r.code, r.err).toBe(0)
      const got = JSON.parse(r.out.trim())
      for (const stage of ['forward', 'vjp']) {
        expect(got[`${stage}Started`]).toBe(true)
        expect(got[`${stage}Split`]).toBe(1) // the job went to the worker, which died in it
        expect(got[`${stage}Identical`]).toBe(true) // ... and it completed here with the one-thread bits
        expect(got[`${stage}Ratio`]).toBeLessThan(0.2) // noticed from the worker's exit, a small fraction of the deadline
        expect(got[`${stage}LaterSplits`]).toBe(0)
        expect(got[`${stage}Running`]).toBe(false)
        expect(got[`${stage}Why`]).toMatch(/^the GEMM worker exited during a job; products run on one thread/)
      }
      expect(r.err.match(/chainrule: two threads are off: /g)).toHaveLength(1)
    },
    60_000,
  )
})
