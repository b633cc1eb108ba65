/**
 * How far a float32 training run strays from its float64 twin, and why. The MNIST MLP of
 * bench/peers (same initial params, same batches, SGD with Nesterov momentum) trains three times in
 * lockstep: in float64; in float32; and in float64 again from the float32-rounded initial params (a
 * perturbation as big as float32's rounding, made once). Every --every steps it prints each run's
 * relative gap to the float64 run, in the loss and in the params, and how many ReLU decisions on
 * that step's batch the float32 run takes the other way (a pre-activation of one sign in float64,
 * the other in float32, both evaluated in float64 from each run's params), then the first step at
 * which one did, the params gap around it, and each run's test accuracy at the end. Not a test.
 *
 *   npx tsx bench/float32-drift.ts [--steps=400] [--every=25]
 */
import { Kernels, Key, L, Loss, T, Train, Tree, type DType } from '../src/index.ts'
import { initialState, mnistBatches, model, optimizer } from './peers/mlp.ts'

const flag = (name: string, fallback: number): number => {
  const a = process.argv.find((s) => s.startsWith(`--${name}=`))
  return a === undefined ? fallback : Number(a.slice(name.length + 3))
}
const STEPS = flag('steps', 400)
const EVERY = flag('every', 25)

// bench/peers' batches for its 2,300 steps (one pass over all of MNIST), of which the first STEPS train here.
const { batches: batches64, test } = mnistBatches(2300, 'float64')
const batches = { float64: batches64, float32: mnistBatches(2300, 'float32').batches }
const step = Train.trainStep(model, Loss.softmaxCrossEntropy, optimizer)
/** The model up to each ReLU, and how many of the model's layers that is (their params are the first entries of the model's). */
const beforeRelu: readonly { readonly layer: L.AnyLayer; readonly count: number }[] = [
  { layer: L.pipe(L.flatten, L.dense(128)), count: 2 },
  { layer: L.pipe(L.flatten, L.dense(128), L.relu, L.dense(64)), count: 4 },
]

/** The params of a state in float64 (exact for float32 ones). */
const params64 = (ts: { readonly params: Tree.Tree }): Tree.Tree => Tree.castTree(ts.params, 'float64')

/** ‖a − b‖ / ‖b‖ over every leaf of two trees of the same shape. */
const gap = (a: Tree.Tree, b: Tree.Tree): number => {
  const lb = Tree.leaves(b)
  let d2 = 0
  let b2 = 0
  Tree.leaves(a).forEach((leaf, i) => {
    const x = leaf.data
    const y = lb[i]!.data
    for (let j = 0; j < x.length; j++) {
      d2 += (x[j]! - y[j]!) ** 2
      b2 += y[j]! ** 2
    }
  })
  return Math.sqrt(d2 / b2)
}

/** The first `count` entries of a pipe's params or state. */
const first = (tree: Tree.Tree, count: number): Tree.Tree => {
  if (!Array.isArray(tree)) throw new Error('expected the params or state of a pipe (an array)')
  return tree.slice(0, count)
}

/** ReLU decisions on batch x that params p and q (float64 trees of the model) take differently. */
const flips = (p: Tree.Tree, q: Tree.Tree, state: Tree.Tree, x: T.Tensor): number => {
  let n = 0
  for (const { layer, count } of beforeRelu) {
    const z = (params: Tree.Tree) =>
      layer.forward(first(params, count), first(state, count), x, { mode: 'eval', key: Key.fromSeed(0) }).y.data
    const a = z(p)
    const b = z(q)
    for (let j = 0; j < a.length; j++) if (a[j]! > 0 !== b[j]! > 0) n++
  }
  return n
}

Kernels.use('fast')
const runs: { name: string; dtype: DType; ts: ReturnType<typeof initialState>; loss: number }[] = [
  { name: 'float64', dtype: 'float64', ts: initialState('float64'), loss: NaN },
  { name: 'float32', dtype: 'float32', ts: initialState('float32'), loss: NaN },
  {
    name: 'float64 from rounded init',
    dtype: 'float64',
    ts: { ...initialState('float64'), params: Tree.castTree(initialState('float32').params, 'float64') },
    loss: NaN,
  },
]

const fmt = (v: number): string => v.toExponential(1).padStart(9)
console.log(`MNIST MLP 784-128-64-10, batch 64, SGD lr 0.05 Nesterov 0.9; gaps relative to the float64 run`)
console.log(
  `${'step'.padStart(5)}  ${'loss f64'.padStart(9)}  ${'float32: loss gap, params gap, ReLU flips'.padEnd(44)}  float64 from rounded init: loss gap, params gap`,
)
let firstFlip: { step: number; before: number } | undefined
const afterFlip: { step: number; gap: number }[] = []
for (let i = 0; i < STEPS; i++) {
  const p64 = params64(runs[0]!.ts)
  const p32 = params64(runs[1]!.ts)
  const x = T.cast(batches.float64[i]!.x, 'float64')
  const flipped = flips(p32, p64, runs[0]!.ts.state, x)
  if (flipped > 0 && firstFlip === undefined) firstFlip = { step: i + 1, before: gap(p32, p64) }
  for (const run of runs) {
    const [next, metrics] = step(run.ts, batches[run.dtype][i]!)
    run.ts = next
    run.loss = metrics.loss
  }
  const [f64, f32, control] = runs as [(typeof runs)[0], (typeof runs)[0], (typeof runs)[0]]
  const g32 = gap(params64(f32.ts), params64(f64.ts))
  if (firstFlip !== undefined && afterFlip.length < 3 && (i + 1 - firstFlip.step) % 5 === 0) afterFlip.push({ step: i + 1, gap: g32 })
  if ((i + 1) % EVERY === 0 || i === 0) {
    const lossGap = (r: typeof f64): number => Math.abs(r.loss - f64.loss) / f64.loss
    console.log(
      `${String(i + 1).padStart(5)}  ${f64.loss.toFixed(5).padStart(9)}  ${fmt(lossGap(f32))} ${fmt(g32)} ${String(flipped).padStart(6)}${''.padEnd(17)}  ${fmt(lossGap(control))} ${fmt(gap(params64(control.ts), params64(f64.ts)))}`,
    )
  }
}
if (firstFlip === undefined) console.log(`No ReLU decision of the float32 run differed from float64's in ${STEPS} steps.`)
else {
  console.log(`First ReLU decision taken the other way: step ${firstFlip.step}, params gap ${firstFlip.before.toExponential(1)} before it;`)
  console.log(`after it: ${afterFlip.map((a) => `step ${a.step} ${a.gap.toExponential(1)}`).join(', ')}.`)
}
const accuracy = (run: (typeof runs)[number]): string =>
  `${((Train.evaluate(model, run.ts.params, run.ts.state, test, { loss: Loss.softmaxCrossEntropy }).accuracy ?? NaN) * 100).toFixed(2)}%`
console.log(`Test accuracy after ${STEPS} steps: ${runs.map((r) => `${r.name} ${accuracy(r)}`).join(', ')}.`)
