/**
 * Whole training steps per optimizer, in float64 and float32 side by side: the MNIST MLP
 * (784-128-64-10), batch 64, `trainStep` reusing buffers, the default kernels (WebAssembly, two
 * threads). Each (optimizer, dtype) pair takes its turn in every round, so machine noise hits all
 * alike. Prints training samples/s (median, min-max) and the float32 / float64 ratio within each
 * round, per optimizer, and the load average. Not a test.
 *
 * Run: npx tsx bench/optimizers.ts [--rounds=N] [--steps=N]
 */
import { loadavg } from 'node:os'
import { Data, Kernels, Key, L, Loss, Optim, Train, Tree, type DType } from '../src/index.ts'
import { loadMnist } from '../src/node/index.ts'

const flag = (name: string, fallback: number): number => {
  const a = process.argv.find((s) => s.startsWith(`--${name}=`))
  return a === undefined ? fallback : Number(a.slice(name.length + 3))
}
const ROUNDS = flag('rounds', 5)
const STEPS = flag('steps', 300)
const BATCH = 64
const WARMUP = 30

const dtypes: readonly DType[] = ['float64', 'float32']
const { train } = loadMnist({ train: BATCH * (STEPS + WARMUP), test: 1 })
const batches = new Map(dtypes.map((d) => [d, [...Data.batches(Key.fromSeed(0), train, BATCH, { dropLast: true, dtype: d })]]))
/** Typed as any layer: it trains in float32 or float64, chosen at run time. */
const mlp: L.AnyLayer = L.pipe(L.flatten, L.dense(128), L.relu, L.dense(64), L.relu, L.dense(10))
const optimizers: readonly (readonly [string, () => Optim.GradientTransformation<Tree.Tree>])[] = [
  ['sgd (Nesterov 0.9)', () => Optim.sgd({ lr: 0.01, momentum: 0.9, nesterov: true })],
  ['adam', () => Optim.adam({ lr: 1e-3 })],
  ['adamw', () => Optim.adamw({ lr: 1e-3, weightDecay: 1e-4 })],
  ['nadam', () => Optim.nadam({ lr: 1e-3 })],
  ['rmsprop', () => Optim.rmsprop({ lr: 1e-3 })],
  ['adagrad', () => Optim.adagrad({ lr: 1e-2 })],
]

/** Samples/s of STEPS training steps with a fresh optimizer, after WARMUP untimed ones. */
const measure = (make: () => Optim.GradientTransformation<Tree.Tree>, dtype: DType): number => {
  const optimizer = make()
  const step = Train.trainStep(mlp, Loss.softmaxCrossEntropy, optimizer, { reuseBuffers: true })
  let ts = Train.initState(mlp, optimizer, Key.fromSeed(1), [1, 28, 28], { dtype })
  const data = batches.get(dtype)!
  for (let i = 0; i < WARMUP; i++) [ts] = step(ts, data[i]!)
  const t0 = performance.now()
  for (let i = WARMUP; i < WARMUP + STEPS; i++) [ts] = step(ts, data[i]!)
  return (STEPS * BATCH) / ((performance.now() - t0) / 1000)
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[(xs.length - 1) >> 1]!
const spread = (xs: readonly number[], digits = 0): string =>
  `${median(xs).toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })} (${Math.min(...xs).toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })}–${Math.max(...xs).toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })})`
const load = (): string =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(', ')

Kernels.use('fast')
await Kernels.useThreads(2)
const loadBefore = load()
const samples = new Map(optimizers.flatMap(([name]) => dtypes.map((d) => [`${name} ${d}`, [] as number[]])))
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 === 0 ? optimizers : [...optimizers].reverse()
  for (const [name, make] of order)
    for (const dtype of round % 2 === 0 ? dtypes : [...dtypes].reverse()) samples.get(`${name} ${dtype}`)!.push(measure(make, dtype))
}
await Kernels.useThreads(1)

console.log(
  `MNIST MLP training samples/s per optimizer, median (min–max) of ${ROUNDS} interleaved rounds of ${STEPS} steps; Node ${process.version}`,
)
console.log(`load average (1, 5, 15 min): ${loadBefore} before, ${load()} after`)
console.log(`${'optimizer'.padEnd(20)}${'float64'.padStart(26)}${'float32'.padStart(26)}   float32 / float64, same round`)
for (const [name] of optimizers) {
  const f64 = samples.get(`${name} float64`)!
  const f32 = samples.get(`${name} float32`)!
  console.log(
    `${name.padEnd(20)}${spread(f64).padStart(26)}${spread(f32).padStart(26)}   ${spread(
      f32.map((v, i) => v / f64[i]!),
      2,
    )}x`,
  )
}
