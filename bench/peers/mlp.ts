/**
 * What every contestant of bench/peers.ts trains, written once: the MNIST MLP of `npm start`
 * (784-128-64-10, ReLU, softmax cross-entropy, batch 64, SGD with Nesterov momentum 0.9 and L2
 * weight decay), its batches (one shuffled pass over MNIST),
 * its initial params (chainrule's, so every contestant starts from the same point), and the line
 * a child process reports its result on.
 */
import { Data, Key, L, Optim, T, Train, Tree, type DType } from '../../src/index.ts'
import { loadMnist } from '../../src/node/index.ts'

export const BATCH = 64
/** A constant rate (the start of `npm start`'s cosine schedule): the same number in every contestant's step. */
export const LR = 0.05
export const MOMENTUM = 0.9
export const WEIGHT_DECAY = 5e-4
export const IN_SHAPE = [1, 28, 28] as const

/** Typed as any layer: the contestants run it in float32 or float64, chosen at run time. */
export const model: L.AnyLayer = L.pipe(L.flatten, L.dense(128), L.relu, L.dense(64), L.relu, L.dense(10))
export const optimizer = Optim.sgd({ lr: LR, momentum: MOMENTUM, nesterov: true, weightDecay: WEIGHT_DECAY })

/** A child's command line: --dtype=float32|float64, --warmup=N, --steps=N, --threads=1|2. */
export interface RunArgs {
  readonly dtype: DType
  readonly warmup: number
  readonly steps: number
  readonly threads: 1 | 2
}

export const parseArgs = (argv: readonly string[]): RunArgs => {
  const get = (name: string, fallback: string): string => argv.find((s) => s.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback
  const dtype = get('dtype', 'float32')
  if (dtype !== 'float32' && dtype !== 'float64') throw new Error(`--dtype must be float32 or float64, got ${dtype}`)
  const threads = Number(get('threads', '1'))
  if (threads !== 1 && threads !== 2) throw new Error(`--threads must be 1 or 2, got ${threads}`)
  return { dtype, warmup: Number(get('warmup', '50')), steps: Number(get('steps', '300')), threads }
}

/**
 * The batches of `count` steps (one shuffled pass over the first images of MNIST, round and round
 * when `count` batches exceed the 937 of one epoch), in `dtype`, cast before any clock starts; and
 * the MNIST test set (float64, as loaded).
 */
export const mnistBatches = (count: number, dtype: DType) => {
  const { train, test } = loadMnist({ train: Math.min(60_000, BATCH * count), test: 10_000 })
  const epoch = [...Data.batches(Key.fromSeed(0), train, BATCH, { dropLast: true })].map((b) => Train.inDType(b, dtype))
  return { batches: Array.from({ length: count }, (_, i) => epoch[i % epoch.length]!), test }
}

/** The initial training state every contestant starts from: chainrule's, from one fixed key. */
export const initialState = (dtype: DType) => Train.initState(model, optimizer, Key.fromSeed(1), [...IN_SHAPE], { dtype })

/** The dense layers' initial weights W [in, out] (row-major) and biases b [out]. */
export const initialDense = (dtype: DType): { readonly W: T.Tensor; readonly b: T.Tensor }[] => {
  const leaves = Tree.leavesWithPaths(initialState(dtype).params)
  const at = (path: string): T.Tensor => {
    const leaf = leaves.find((l) => l.path === path)
    if (leaf === undefined) throw new Error(`no param at ${path}; have ${leaves.map((l) => l.path).join(', ')}`)
    return leaf.leaf
  }
  return [1, 3, 5].map((i) => ({ W: at(`[${i}].W`), b: at(`[${i}].b`) }))
}

/** What a child reports, as one JSON line after RESULT_TAG on stdout. */
export interface RunResult {
  /** Training samples per second over the timed steps. */
  readonly samplesPerSecond: number
  /** The loss of the first warm-up step, of the first timed step and of the last timed step. */
  readonly losses: readonly [number, number, number]
  /** Test accuracy (10,000 MNIST test images) after all the steps. */
  readonly testAccuracy: number
  /** process.resourceUsage().maxRSS of the child at the end, in kB. */
  readonly maxRssKb: number
}

export const RESULT_TAG = 'RESULT '

export const report = (r: RunResult): void => {
  console.log(`${RESULT_TAG}${JSON.stringify(r)}`)
}
