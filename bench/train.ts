/**
 * Whole training steps, end to end, in float64 and float32 side by side: MNIST MLP (784-128-64-10)
 * and the LeNet-like CNN (as written, where the pipe fuses each conv2d with the relu after it, and
 * with that fusion off), batch 64, SGD with Nesterov momentum, on each kernel configuration
 * (plain-TypeScript GEMM 'js', WebAssembly on one thread, WebAssembly on two threads) and in each
 * dtype, interleaved round by round so machine noise hits all alike. Batches are in the model's
 * dtype before the clock starts. Prints training samples/s (median, min-max), the float32 / float64
 * ratio within each round, the load average, and the peak memory of each dtype.
 *
 * Peak memory: one process's maxRSS is the peak of everything it ran, so it cannot tell the dtypes
 * apart. Each (model, dtype) pair therefore trains again in a child process of its own (this script
 * with --memory=MODEL:DTYPE, the default kernels on two threads, the same steps), which reports its
 * resident memory before the first step and its peak (process.resourceUsage().maxRSS) after the last.
 * The same data is loaded in every child, so the difference between dtypes is the model's own.
 *
 * Run: npx tsx bench/train.ts [--rounds=N] [--steps=N] [--no-memory]
 */
import { spawnSync } from 'node:child_process'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { Data, Kernels, Key, L, Loss, Optim, Train, Tree, type DType } from '../src/index.ts'
import { loadMnist } from '../src/node/index.ts'

const flag = (name: string, fallback: number): number => {
  const a = process.argv.find((s) => s.startsWith(`--${name}=`))
  return a === undefined ? fallback : Number(a.split('=')[1])
}
const ROUNDS = flag('rounds', 5)
const STEPS = flag('steps', 60)
const BATCH = 64
const memoryArg = process.argv.find((s) => s.startsWith('--memory='))?.slice('--memory='.length)

const { train } = loadMnist({ train: BATCH * STEPS, test: 1 })
const epoch = [...Data.batches(Key.fromSeed(0), train, BATCH, { dropLast: true })]
const dtypes: readonly DType[] = ['float64', 'float32']
/** The same batches in each dtype (cast once, here, not in the timed steps). */
const batches = new Map(dtypes.map((d) => [d, epoch.map((b) => Train.inDType(b, d))]))

const mlp = L.pipe(L.flatten, L.dense(128), L.relu, L.dense(64), L.relu, L.dense(10))
const cnn = L.pipe(
  L.conv2d(8, 5, { padding: 2 }),
  L.relu,
  L.maxPool2d(2),
  L.conv2d(16, 5, { padding: 2 }),
  L.relu,
  L.maxPool2d(2),
  L.flatten,
  L.dense(10),
)
// A copy of the relu layer is not the relu layer, so no conv2d fuses it: the same CNN, unfused.
const reluCopy = { ...L.relu }
const cnnUnfused = L.pipe(
  L.conv2d(8, 5, { padding: 2 }),
  reluCopy,
  L.maxPool2d(2),
  L.conv2d(16, 5, { padding: 2 }),
  reluCopy,
  L.maxPool2d(2),
  L.flatten,
  L.dense(10),
)

interface Config {
  readonly name: string
  readonly kernels: Kernels.Choice
  readonly threads: 1 | 2
}
const configs: Config[] = [
  { name: 'js', kernels: 'js', threads: 1 },
  { name: 'wasm, 1 thread', kernels: 'wasm', threads: 1 },
  { name: 'wasm, 2 threads', kernels: 'wasm', threads: 2 },
]

/** Samples/s of `steps` training steps of a model in a dtype under the current kernel settings. */
const measure = (model: L.AnyLayer, dtype: DType, steps: number): number => {
  const optimizer = Optim.sgd({ lr: 0.01, momentum: 0.9, nesterov: true, weightDecay: 5e-4 })
  let ts = Train.initState(model, optimizer, Key.fromSeed(1), [1, 28, 28], { dtype })
  const step = Train.trainStep(model, Loss.softmaxCrossEntropy, optimizer)
  const data = batches.get(dtype)!
  // Three untimed steps first: after a switch of configuration the worker may be asleep and
  // its caches cold; the figure is meant to be the steady state.
  for (let i = 0; i < 3; i++) [ts] = step(ts, data[i % data.length]!)
  const t0 = performance.now()
  for (let i = 0; i < steps; i++) [ts] = step(ts, data[i % data.length]!)
  return (steps * BATCH) / ((performance.now() - t0) / 1000)
}

const models: readonly (readonly [name: string, model: L.AnyLayer, steps: number])[] = [
  ['MLP', mlp, STEPS * 4],
  ['CNN', cnn, Math.max(8, Math.round(STEPS / 3))],
  ['CNN unfused', cnnUnfused, Math.max(8, Math.round(STEPS / 3))],
]

if (memoryArg !== undefined) {
  // A child of the peak-memory part: one model, one dtype, the default kernels on two threads.
  const [name, dtype] = memoryArg.split(':')
  const entry = models.find(([n]) => n === name)
  if (entry === undefined || (dtype !== 'float64' && dtype !== 'float32')) throw new Error(`--memory=MODEL:DTYPE, got ${memoryArg}`)
  await Kernels.useThreads(2)
  const before = process.memoryUsage().rss
  measure(entry[1], dtype, entry[2])
  await Kernels.useThreads(1)
  // The exact bytes of what a training state holds from step to step: params and optimizer state.
  const ts = Train.initState(entry[1], Optim.sgd({ lr: 0.01, momentum: 0.9 }), Key.fromSeed(1), [1, 28, 28], { dtype })
  const stateBytes = [...Tree.leaves(ts.params), ...Tree.leaves(ts.optState)].reduce((n, t) => n + t.data.byteLength, 0)
  console.log(JSON.stringify({ rssBeforeKb: before / 1024, maxRssKb: process.resourceUsage().maxRSS, stateBytes }))
  process.exit(0)
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}
const fmt = (v: number): string => Math.round(v).toLocaleString('en-US')
const load = (): string =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(', ')

const loadBefore = load()
const results = new Map<string, number[]>()
const keyOf = (model: string, c: Config, dtype: DType): string => `${model}|${c.name}|${dtype}`
for (const [modelName, model, steps] of models) {
  const cells = configs.flatMap((c) => dtypes.map((dtype) => ({ c, dtype })))
  for (const { c, dtype } of cells) {
    Kernels.use(c.kernels)
    await Kernels.useThreads(c.threads)
    measure(model, dtype, Math.min(steps, 10)) // warm up: let the JIT and the worker settle
  }
  for (let r = 0; r < ROUNDS; r++) {
    for (const { c, dtype } of r % 2 === 0 ? cells : [...cells].reverse()) {
      Kernels.use(c.kernels)
      await Kernels.useThreads(c.threads)
      const key = keyOf(modelName, c, dtype)
      results.set(key, [...(results.get(key) ?? []), measure(model, dtype, steps)])
    }
  }
}
await Kernels.useThreads(1)
Kernels.use('fast')

console.log(`training samples/s, batch ${BATCH}, median (min-max) over ${ROUNDS} interleaved rounds; Node ${process.version}`)
console.log(`load average (1, 5, 15 min): ${loadBefore} before, ${load()} after`)
console.log(
  `${'model'.padEnd(12)}${'kernels'.padEnd(18)}${'dtype'.padEnd(9)}${'samples/s'.padStart(10)}   ${'range'.padEnd(17)}float32 / float64`,
)
for (const [modelName] of models) {
  for (const c of configs) {
    for (const dtype of dtypes) {
      const rates = results.get(keyOf(modelName, c, dtype))!
      const f64 = results.get(keyOf(modelName, c, 'float64'))!
      // The ratio within each round (drift cancels), median (min-max), on the float32 row.
      const ratios = rates.map((v, r) => v / f64[r]!)
      const ratio =
        dtype === 'float32' ? `${median(ratios).toFixed(2)}x (${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)})` : ''
      const range = `${fmt(Math.min(...rates))}-${fmt(Math.max(...rates))}`
      console.log(
        `${modelName.padEnd(12)}${c.name.padEnd(18)}${dtype.padEnd(9)}${fmt(median(rates)).padStart(10)}   ${range.padEnd(17)}${ratio}`,
      )
    }
  }
}

if (!process.argv.includes('--no-memory')) {
  console.log('\npeak memory per dtype, each (model, dtype) trained in a process of its own (default kernels, two threads):')
  const head = ['before the first step', 'peak (maxRSS)', 'peak - before', 'params + momentum']
  console.log(`${'model'.padEnd(12)}${'dtype'.padEnd(9)}${head.map((h) => h.padStart(22)).join('')}`)
  const script = fileURLToPath(import.meta.url)
  for (const [modelName] of models) {
    for (const dtype of dtypes) {
      const child = spawnSync(process.execPath, ['--import', 'tsx', script, `--memory=${modelName}:${dtype}`, `--steps=${STEPS}`], {
        encoding: 'utf8',
      })
      if (child.status !== 0) throw new Error(`the memory child for ${modelName} ${dtype} failed:\n${child.stderr}`)
      const last = child.stdout.trim().split('\n').pop()!
      const { rssBeforeKb, maxRssKb, stateBytes } = JSON.parse(last) as { rssBeforeKb: number; maxRssKb: number; stateBytes: number }
      const mb = (kb: number): string => `${(kb / 1024).toFixed(0)} MB`
      const cells = [mb(rssBeforeKb), mb(maxRssKb), mb(maxRssKb - rssBeforeKb), `${(stateBytes / 2 ** 20).toFixed(2)} MB`]
      console.log(`${modelName.padEnd(12)}${dtype.padEnd(9)}${cells.map((c) => c.padStart(22)).join('')}`)
    }
  }
}
