/**
 * One contestant of bench/peers.ts: jax-js (@jax-js/jax, WebAssembly backend) trains the MNIST MLP
 * of bench/peers/mlp.ts, written the way JAX code is: a pure loss of a params tree, one jit-compiled
 * step holding valueAndGrad and the SGD update (the optax chain add_decayed_weights → trace(nesterov)
 * → scale(-lr), by hand: jax-js ships no optimizer package on npm). Same initial params, same batches
 * (uploaded to the device before the clock starts), same warm-up and timed step counts as chainrule's
 * child; reports samples/s, losses and test accuracy on one line.
 *
 * Type-checked by bench/peers/tsconfig.json once bench/peers is installed: npx tsc --noEmit -p bench/peers
 * Run alone: npx tsx bench/peers/jax-js.ts --dtype=float32 --warmup=50 --steps=300
 */
import { blockUntilReady, init, jit, nn, numpy as np, tree, valueAndGrad } from '@jax-js/jax'
import { BATCH, initialDense, LR, mnistBatches, MOMENTUM, parseArgs, report, WEIGHT_DECAY } from './mlp.ts'

// jax-js 0.1.25 asks `data instanceof Float16Array` before it looks for a Float64Array, and Node 20 has
// no Float16Array: a class no array is an instance of lets float64 data through.
if (!('Float16Array' in globalThis)) Object.assign(globalThis, { Float16Array: class Float16ArrayAbsent {} })

const args = parseArgs(process.argv.slice(2))
const devices = await init('wasm')
if (!devices.includes('wasm')) throw new Error(`jax-js: no wasm device (have ${devices.join(', ')})`)
const dtype = args.dtype === 'float32' ? np.float32 : np.float64
/** A host array in this run's dtype (the typed array jax-js reads the dtype from). */
const host = (xs: ArrayLike<number>): Float32Array | Float64Array =>
  args.dtype === 'float32' ? Float32Array.from(xs) : Float64Array.from(xs)

type Params = { w1: np.Array; b1: np.Array; w2: np.Array; b2: np.Array; w3: np.Array; b3: np.Array }

const predict = (p: Params, x: np.Array): np.Array => {
  const h1 = nn.relu(np.dot(x, p.w1).add(p.b1))
  const h2 = nn.relu(np.dot(h1, p.w2).add(p.b2))
  return np.dot(h2, p.w3).add(p.b3)
}

/** Mean softmax cross-entropy of the logits against integer labels. */
const loss = (p: Params, x: np.Array, labels: np.Array): np.Array =>
  nn
    .logSoftmax(predict(p, x))
    .mul(nn.oneHot(labels, 10).astype(dtype))
    .sum()
    .mul(-1 / BATCH)

/** One training step: the loss's value and gradient, then g + λp, v' = βv + g, params − lr·(g + βv'). */
const step = jit((p: Params, v: Params, x: np.Array, labels: np.Array): [Params, Params, np.Array] => {
  const [value, g] = valueAndGrad(loss)(tree.ref(p), x, labels)
  const decayed: Params = tree.map((gi: np.Array, pi: np.Array) => gi.add(pi.mul(WEIGHT_DECAY)), g, tree.ref(p))
  const velocity: Params = tree.map((vi: np.Array, gi: np.Array) => vi.mul(MOMENTUM).add(gi), v, tree.ref(decayed))
  const update: Params = tree.map((gi: np.Array, vi: np.Array) => gi.add(vi.mul(MOMENTUM)), decayed, tree.ref(velocity))
  const next: Params = tree.map((pi: np.Array, ui: np.Array) => pi.sub(ui.mul(LR)), p, update)
  return [next, velocity, value]
})

const dense = initialDense(args.dtype)
const param = (t: { readonly data: ArrayLike<number>; readonly shape: readonly number[] }): np.Array =>
  np.array(host(t.data), { shape: [...t.shape] })
const [d1, d2, d3] = [dense[0]!, dense[1]!, dense[2]!]
let params: Params = { w1: param(d1.W), b1: param(d1.b), w2: param(d2.W), b2: param(d2.b), w3: param(d3.W), b3: param(d3.b) }
let velocity: Params = tree.map((p: np.Array) => np.zerosLike(p), tree.ref(params))

const { batches, test } = mnistBatches(args.warmup + args.steps, args.dtype)
const xs = batches.map((b) => np.array(host(b.x.data), { shape: [BATCH, 784] }))
const ys = batches.map((b) => np.array(Int32Array.from(b.y.data), { shape: [BATCH] }))
await blockUntilReady([xs, ys, params, velocity])

/**
 * Runs steps [from, to), keeping the loss arrays of the steps in `keep` (the others are disposed).
 * Waits for each step's params, as a training loop should: without it jax-js queues the steps up
 * and slows down as the queue grows (its README recommends waiting regularly).
 */
const train = async (from: number, to: number, keep: readonly number[]): Promise<np.Array[]> => {
  const kept: np.Array[] = []
  for (let i = from; i < to; i++) {
    const [p, v, value] = step(params, velocity, xs[i]!.ref, ys[i]!.ref)
    params = p
    velocity = v
    if (keep.includes(i)) kept.push(value)
    else value.dispose()
    await blockUntilReady(params)
  }
  return kept
}

const first = await train(0, args.warmup, [0])
const t0 = performance.now()
const timed = await train(args.warmup, args.warmup + args.steps, [args.warmup, args.warmup + args.steps - 1])
const seconds = (performance.now() - t0) / 1000
const losses = [...first, ...timed].map((a) => Number(a.js()))

// Test accuracy, in batches of 1,000.
let correct = 0
const testX = test.x.data
const testY = test.y.data
for (let start = 0; start < 10_000; start += 1000) {
  const x = np.array(host(testX.subarray(start * 784, (start + 1000) * 784)), { shape: [1000, 784] })
  const predicted = np.argmax(predict(tree.ref(params), x), 1).js() as number[]
  predicted.forEach((c, i) => {
    if (c === testY[start + i]) correct++
  })
}
report({
  samplesPerSecond: (args.steps * BATCH) / seconds,
  losses: [losses[0]!, losses[1]!, losses[2]!],
  testAccuracy: correct / 10_000,
  maxRssKb: process.resourceUsage().maxRSS,
})
