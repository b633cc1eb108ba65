/**
 * Convolution benchmark: ms per batch of the forward product, the input gradient, the kernel
 * gradient and the whole backward pass (both gradients: what conv2d's vjp runs), in float64 and
 * float32 side by side, for the naive loops, im2col + the plain-TypeScript blocked GEMM ('js'),
 * and the WebAssembly kernels ('wasm': im2col, GEMM and col2im in WebAssembly; f64x2 for
 * float64, f32x4 for float32) on one thread and on two, on the two conv layers of the MNIST CNN
 * (examples/07-mnist-cnn.ts) at batch 64; then the whole CNN's training throughput (float64: the
 * layers have no float32 yet) per kernel configuration.
 *
 *   npx tsx bench/conv.ts                 # the tables
 *   npx tsx bench/conv.ts --rounds=9      # more rounds (default 5)
 *   npx tsx bench/conv.ts --no-naive      # skip the (slow) naive kernels
 *   npx tsx bench/conv.ts --no-train      # skip the training throughput
 *   npx tsx bench/conv.ts --no-f32        # float64 only
 *
 * Method: every kernel is warmed up first, then the implementations (both dtypes) are timed in
 * interleaved rounds (naive, js, wasm, wasm, js, naive, …) so a noisy, shared machine slows them
 * alike. Printed: median, min and max over the rounds, GFLOP/s at the median (2 FLOPs per
 * multiply-add), how many times faster than the naive loops of the same dtype (ratio of the
 * medians), and for float32 how many times faster than the same kernel in float64 (the median of
 * the per-round ratios, so drift cancels). The float32 operands are the float64 ones rounded.
 * Training: rounds of train steps on fixed random batches (the data does not change the work),
 * median/min/max samples/s, each round followed by a 256³ GEMM as a gauge of how fast the
 * machine runs at that moment; then one batch forward + backward through the whole CNN on the
 * naive and on the fast kernels.
 */
import { loadavg } from 'node:os'
import { Kernels, Key, L, Loss, Optim, T, Train } from '../src/index.ts'
import { fastConv, fastConvWasm, naiveConv, type ConvKernels, type ConvWindow } from '../src/kernels/conv.ts'
import { fastConv32, fastConv32Wasm, naiveConv32, type Conv32Kernels } from '../src/kernels/conv32.ts'
import { gemmBlocked, view } from '../src/kernels/gemm.ts'
import { planWindow } from '../src/kernels/window.ts'

const args = new Set(process.argv.slice(2))
const roundsArg = process.argv.find((s) => s.startsWith('--rounds='))
const ROUNDS = roundsArg === undefined ? 5 : Math.max(1, Number(roundsArg.slice('--rounds='.length)))
const SAMPLE_MS = 200
const BATCH = 64
const F32 = !args.has('--no-f32')

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

/** A conv layer's window at batch 64. */
const layerWindow = (C: number, H: number, W: number, F: number, k: number, pad: number): ConvWindow => {
  const p = planWindow({ kernel: [k, k], stride: [1, 1], dilation: [1, 1], padding: pad }, C, H, W, BATCH)
  if (typeof p === 'string') throw new Error(p)
  return { ...p.window, F }
}

const layers: readonly { readonly label: string; readonly g: ConvWindow }[] = [
  { label: 'conv1 1→8, 5x5 pad 2, 28x28', g: layerWindow(1, 28, 28, 8, 5, 2) },
  { label: 'conv2 8→16, 5x5 pad 2, 14x14', g: layerWindow(8, 14, 14, 16, 5, 2) },
]

type Op = 'forward' | 'inputGrad' | 'kernelGrad' | 'backward'
const ops: readonly Op[] = ['forward', 'inputGrad', 'kernelGrad', 'backward']

/** A family of conv kernels in one dtype (float64 `ConvKernels` or float32 `Conv32Kernels`: the same calls on other arrays). */
type Family =
  | { readonly name: string; readonly dtype: 'f64'; readonly k: ConvKernels; readonly threads: Kernels.ThreadCount }
  | { readonly name: string; readonly dtype: 'f32'; readonly k: Conv32Kernels; readonly threads: Kernels.ThreadCount }

const twoThreads = Kernels.wasmSimdAvailable() && (await Kernels.useThreads(2))
const naive = !args.has('--no-naive')
const simd = Kernels.wasmSimdAvailable()
const families: readonly Family[] = [
  ...(naive ? [{ name: 'naive', dtype: 'f64', k: naiveConv, threads: 1 } as const] : []),
  { name: 'js', dtype: 'f64', k: fastConv, threads: 1 },
  ...(simd ? [{ name: 'wasm 1T', dtype: 'f64', k: fastConvWasm, threads: 1 } as const] : []),
  ...(twoThreads ? [{ name: 'wasm 2T', dtype: 'f64', k: fastConvWasm, threads: 2 } as const] : []),
  ...(F32 && naive ? [{ name: 'naive', dtype: 'f32', k: naiveConv32, threads: 1 } as const] : []),
  ...(F32 ? [{ name: 'js', dtype: 'f32', k: fastConv32, threads: 1 } as const] : []),
  ...(F32 && simd ? [{ name: 'wasm 1T', dtype: 'f32', k: fastConv32Wasm, threads: 1 } as const] : []),
  ...(F32 && twoThreads ? [{ name: 'wasm 2T', dtype: 'f32', k: fastConv32Wasm, threads: 2 } as const] : []),
]

/** Runs one op of a family once on the buffers of a layer (float32 families: the same values rounded). */
const runner = (f: Family, op: Op, g: ConvWindow): (() => void) => {
  const key = Key.fromSeed(7)
  const [k1, k2, k3, k4] = Key.split(key, 4) as [Key.Key, Key.Key, Key.Key, Key.Key]
  const x = Key.normal(k1, [g.N * g.C * g.H * g.W]).data
  const w = Key.normal(k2, [g.F * g.C * g.KH * g.KW]).data
  const b = Key.normal(k3, [g.F]).data
  const dy = Key.normal(k4, [g.N * g.F * g.OH * g.OW]).data
  if (f.dtype === 'f32') {
    const [x32, w32, b32, dy32] = [Float32Array.from(x), Float32Array.from(w), Float32Array.from(b), Float32Array.from(dy)]
    const [y, dx, dw] = [new Float32Array(dy.length), new Float32Array(x.length), new Float32Array(w.length)]
    const k = f.k
    switch (op) {
      case 'forward':
        return () => k.forward(g, x32, w32, b32, y)
      case 'inputGrad':
        return () => k.inputGrad(g, dy32, w32, dx)
      case 'kernelGrad':
        return () => k.kernelGrad(g, x32, dy32, dw)
      case 'backward':
        return () => k.backward(g, x32, dy32, w32, dx, dw)
    }
  }
  const k = f.k
  const y = T.buffer(dy.length)
  const dx = T.buffer(x.length)
  const dw = T.buffer(w.length)
  switch (op) {
    case 'forward':
      return () => k.forward(g, x, w, b, y)
    case 'inputGrad':
      return () => k.inputGrad(g, dy, w, dx)
    case 'kernelGrad':
      return () => k.kernelGrad(g, x, dy, dw)
    case 'backward':
      return () => k.backward(g, x, dy, w, dx, dw)
  }
}

/** Milliseconds per call of f, averaged over enough calls to fill ~SAMPLE_MS (at least one). */
const sample = (f: () => void, reps: number): number => {
  const t0 = performance.now()
  for (let r = 0; r < reps; r++) f()
  return (performance.now() - t0) / reps
}

const pad = (s: string, w: number, right = false): string => (right ? s.padStart(w) : s.padEnd(w))

const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')
console.log(
  `Conv kernels, ms per batch of ${BATCH}: median (min-max) over ${ROUNDS} interleaved rounds; Node ${process.version}; load ${load()}`,
)
const widths = [30, 11, 5, 7, 9, 15, 8, 9, 8]
console.log(
  ['layer', 'op', 'dtype', 'kernel', 'median', 'min-max', 'GFLOP/s', 'vs naive', 'vs f64']
    .map((h, i) => pad(h, widths[i]!, i >= 4))
    .join('  '),
)
console.log(widths.map((w) => '-'.repeat(w)).join('  '))
for (const { label, g } of layers) {
  const flops1 = 2 * g.N * g.F * g.OH * g.OW * g.C * g.KH * g.KW
  for (const op of ops) {
    const flops = op === 'backward' ? 2 * flops1 : flops1
    const fs = families.map((f) => {
      const run = runner(f, op, g)
      return () => {
        void Kernels.useThreads(f.threads) // the worker is started: this switches at once
        run()
      }
    })
    // Warm up and calibrate repetitions per sample.
    const reps = fs.map((f) => {
      f()
      const once = sample(f, 1)
      return Math.max(1, Math.round(SAMPLE_MS / Math.max(once, 1e-3)))
    })
    const times: number[][] = fs.map(() => [])
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? fs.map((_, i) => i) : fs.map((_, i) => fs.length - 1 - i)
      for (const i of order) times[i]!.push(sample(fs[i]!, reps[i]!))
    }
    const meds = times.map(median)
    families.forEach((f, i) => {
      const t = times[i]!
      const naiveAt = families.findIndex((h) => h.name === 'naive' && h.dtype === f.dtype)
      const vsNaive = naiveAt !== -1 && naiveAt !== i ? `${(meds[naiveAt]! / meds[i]!).toFixed(1)}x` : ''
      const twin = families.findIndex((h) => h.name === f.name && h.dtype === 'f64')
      const vsF64 = f.dtype === 'f32' && twin !== -1 ? `${median(t.map((ti, r) => times[twin]![r]! / ti)).toFixed(2)}x` : ''
      console.log(
        [
          label,
          op,
          f.dtype,
          f.name,
          meds[i]!.toFixed(2),
          `${Math.min(...t).toFixed(2)}-${Math.max(...t).toFixed(2)}`,
          (flops / (meds[i]! * 1e6)).toFixed(2),
          vsNaive,
          vsF64,
        ]
          .map((c, j) => pad(c, widths[j]!, j >= 4))
          .join('  '),
      )
    })
  }
}
console.log(`load after the kernels: ${load()}`)

if (!args.has('--no-train')) {
  // Training steps per kernel family, interleaved; each round is followed by a 256³ GEMM
  // (gemmBlocked) as a gauge of how fast the shared machine runs at that moment.
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
  const optimizer = Optim.sgd({ lr: 0.01, momentum: 0.9, nesterov: true })
  const step = Train.trainStep(model, Loss.softmaxCrossEntropy, optimizer)
  const batch = { x: Key.uniform(Key.fromSeed(1), [BATCH, 1, 28, 28]), y: Key.randint(Key.fromSeed(2), [BATCH], 0, 10) }
  const S = 256
  const a = Key.normal(Key.fromSeed(3), [S * S]).data
  const b = Key.normal(Key.fromSeed(4), [S * S]).data
  const c = T.buffer(S * S)
  const square = (): number => {
    const t0 = performance.now()
    for (let i = 0; i < 5; i++) gemmBlocked(S, S, S, view(a, S, S), view(b, S, S), c, 0, false)
    return (5 * 2 * S ** 3) / ((performance.now() - t0) * 1e6)
  }
  const configs = [
    { name: 'js', choice: 'js' as const, threads: 1 as const },
    { name: 'fast, 1 thread', choice: 'fast' as const, threads: 1 as const },
    ...(twoThreads ? [{ name: 'fast, 2 threads', choice: 'fast' as const, threads: 2 as const }] : []),
  ]
  const choices = configs.map((c) => ({
    ...c,
    state: Train.initState(model, optimizer, Key.fromSeed(0), [1, 28, 28]),
    rates: [] as number[],
  }))
  const stepsPerRound = 20
  for (const ch of choices) {
    void Kernels.useThreads(ch.threads)
    Kernels.using(ch.choice, () => {
      for (let i = 0; i < 5; i++) ch.state = step(ch.state, batch)[0]
    })
  }
  square()
  const gflops: number[] = []
  for (let round = 0; round < ROUNDS; round++) {
    for (const ch of round % 2 === 0 ? choices : [...choices].reverse()) {
      void Kernels.useThreads(ch.threads)
      Kernels.using(ch.choice, () => {
        const t0 = performance.now()
        for (let i = 0; i < stepsPerRound; i++) ch.state = step(ch.state, batch)[0]
        ch.rates.push((stepsPerRound * BATCH) / ((performance.now() - t0) / 1000))
      })
    }
    gflops.push(square())
  }
  const range = (xs: readonly number[], digits: number): string =>
    `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)})`
  console.log('')
  console.log(`MNIST CNN (conv 5x5x8 pad 2, relu, maxpool 2, conv 5x5x16 pad 2, relu, maxpool 2, flatten, dense 10), batch ${BATCH}, SGD;`)
  console.log(`training samples/s, median (min-max) over ${ROUNDS} interleaved rounds of ${stepsPerRound} steps:`)
  for (const ch of choices) console.log(`  ${pad(ch.name, 18)} ${range(ch.rates, 0)} samples/s`)
  console.log(`  machine check:     ${range(gflops, 2)} GFLOP/s for a 256³ gemmBlocked after each round`)

  // One batch, forward and backward through the whole network, on each kernel family.
  if (!args.has('--no-naive')) {
    const state = choices[0]!.state
    const ctx = { mode: 'train' as const, key: Key.fromSeed(5) }
    const dy = T.full([BATCH, 10], 1 / BATCH)
    const once = (): number => {
      const t0 = performance.now()
      const { tape } = model.forward(state.params, state.state, batch.x, ctx)
      model.vjp(state.params, tape, dy)
      return performance.now() - t0
    }
    const times = { reference: [] as number[], js: [] as number[], fast: [] as number[] }
    void Kernels.useThreads(twoThreads ? 2 : 1)
    for (let round = 0; round < Math.min(ROUNDS, 3); round++) {
      for (const choice of ['fast', 'js', 'reference'] as const) times[choice].push(Kernels.using(choice, once))
    }
    const naive = median(times.reference)
    console.log(
      `one batch, forward + backward: naive ${range(times.reference, 0)} ms, js ${range(times.js, 1)} ms (${(naive / median(times.js)).toFixed(1)}x), ` +
        `fast on ${twoThreads ? 'two threads' : 'one thread'} ${range(times.fast, 1)} ms (${(naive / median(times.fast)).toFixed(1)}x)`,
    )
  }
}

await Kernels.useThreads(1)
