/**
 * Whole training steps, end to end: MNIST MLP (784-128-64-10) and the LeNet-like CNN (as
 * written, where the pipe fuses each conv2d with the relu after it, and with that fusion off), batch 64,
 * on each kernel configuration — plain-TypeScript GEMM ('js'), WebAssembly on one thread, and
 * WebAssembly on two threads — interleaved round by round so machine noise hits all alike.
 * Prints training samples/s (median, min-max) and the process's peak memory. Not a test.
 *
 * Run: npx tsx bench/train.ts [--rounds=N] [--steps=N]
 */
import { Data, Kernels, Key, L, Loss, Optim, Train } from '../src/index.ts'
import { loadMnist } from '../src/node/index.ts'

const flag = (name: string, fallback: number): number => {
  const a = process.argv.find((s) => s.startsWith(`--${name}=`))
  return a === undefined ? fallback : Number(a.split('=')[1])
}
const ROUNDS = flag('rounds', 5)
const STEPS = flag('steps', 60)
const BATCH = 64

const { train } = loadMnist({ train: BATCH * STEPS, test: 1 })
const batches = [...Data.batches(Key.fromSeed(0), train, BATCH, { dropLast: true })]

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

/** Samples/s of `steps` training steps of a model under the current kernel settings. */
const measure = (model: L.AnyLayer, steps: number): number => {
  const optimizer = Optim.sgd({ lr: 0.01, momentum: 0.9, nesterov: true, weightDecay: 5e-4 })
  let ts = Train.initState(model, optimizer, Key.fromSeed(1), [1, 28, 28])
  const step = Train.trainStep(model, Loss.softmaxCrossEntropy, optimizer)
  // Three untimed steps first: after a switch of configuration the worker may be asleep and
  // its caches cold; the figure is meant to be the steady state.
  for (let i = 0; i < 3; i++) [ts] = step(ts, batches[i % batches.length]!)
  const t0 = performance.now()
  for (let i = 0; i < steps; i++) [ts] = step(ts, batches[i % batches.length]!)
  return (steps * BATCH) / ((performance.now() - t0) / 1000)
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}
const fmt = (v: number): string => Math.round(v).toLocaleString('en-US')

const results = new Map<string, number[]>()
const cnnSteps = Math.max(8, Math.round(STEPS / 3))
for (const [modelName, model, steps] of [
  ['MLP', mlp, STEPS * 4],
  ['CNN', cnn, cnnSteps],
  ['CNN unfused', cnnUnfused, cnnSteps],
] as const) {
  for (const c of configs) {
    Kernels.use(c.kernels)
    await Kernels.useThreads(c.threads)
    measure(model, Math.min(steps, 10)) // warm up: let the JIT and the worker settle
  }
  for (let r = 0; r < ROUNDS; r++) {
    for (const c of configs) {
      Kernels.use(c.kernels)
      await Kernels.useThreads(c.threads)
      const key = `${modelName}|${c.name}`
      results.set(key, [...(results.get(key) ?? []), measure(model, steps)])
    }
  }
}
await Kernels.useThreads(1)
Kernels.use('fast')

console.log(`training samples/s, batch ${BATCH}, median (min-max) over ${ROUNDS} interleaved rounds`)
console.log(`${'model'.padEnd(12)}${'kernels'.padEnd(18)}${'samples/s'.padStart(12)}   range`)
for (const [key, rates] of results) {
  const [model, name] = key.split('|') as [string, string]
  console.log(
    `${model.padEnd(12)}${name.padEnd(18)}${fmt(median(rates)).padStart(12)}   ${fmt(Math.min(...rates))}-${fmt(Math.max(...rates))}`,
  )
}
const usage = process.resourceUsage()
console.log(
  `\npeak memory (max resident set size): ${(usage.maxRSS / 1024).toFixed(0)} MB; heap now ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MB`,
)
