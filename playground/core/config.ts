/**
 * The playground's whole configuration as data: the data set, the layers, the loss, the
 * optimizer and its hyper-parameters, the learning rate or schedule, the batch size, the
 * epochs and the seed. `defaults(set)` gives a small working network for each data set;
 * `validate(config)` lists what is wrong and where ("layer 3 (conv2d): kernel 9 is larger than
 * its 5×5 input"), with the library's own shape rules and option checks, and never fixes
 * anything silently; `shapesOf` gives each layer's shapes and the name a person reads.
 */
import { Key, L, Loss, Optim, Schedule, T } from 'chainrule'
import { defaultLayer, layerKinds, layerName, layerOf, shortName, type LayerConfig } from './layers.ts'

export { type LayerConfig, type LayerKind, type Padding } from './layers.ts'

/** The data sets: four 2-D toy sets and a subset of MNIST. */
export type DataSetName = 'spiral' | 'circles' | 'xor' | 'blobs' | 'mnist'

/** Every data set name, in menu order. */
export const dataSets: readonly DataSetName[] = ['spiral', 'circles', 'xor', 'blobs', 'mnist']

/**
 * The data set and its settings. `size` is the number of training examples; the 2-D sets are
 * drawn from `Key.fromSeed(seed)` (a seed of their own, so a new network seed keeps the data);
 * MNIST takes the first `size` training and `testSize` test digits of the files.
 */
export type DataConfig =
  | { readonly set: 'spiral'; readonly size: number; readonly classes: number; readonly noise: number; readonly seed: number }
  | { readonly set: 'circles'; readonly size: number; readonly noise: number; readonly factor: number; readonly seed: number }
  | { readonly set: 'xor'; readonly size: number; readonly noise: number; readonly seed: number }
  | { readonly set: 'blobs'; readonly size: number; readonly classes: number; readonly noise: number; readonly seed: number }
  | { readonly set: 'mnist'; readonly size: number; readonly testSize: number }

/** The losses: softmax cross-entropy on logits, cross-entropy on probabilities (after a softmax layer), mean squared error on one-hot targets. */
export type LossName = 'softmaxCrossEntropy' | 'crossEntropy' | 'mse'

/** Every loss name. */
export const lossNames: readonly LossName[] = ['softmaxCrossEntropy', 'crossEntropy', 'mse']

/** An optimizer alias (`Optim.<name>`) with its main hyper-parameters (the learning rate is `Config.lr`). */
export type OptimizerConfig =
  | { readonly name: 'sgd'; readonly momentum: number; readonly nesterov: boolean; readonly weightDecay: number }
  | { readonly name: 'adam' | 'nadam' | 'amsgrad' | 'adamax'; readonly b1: number; readonly b2: number; readonly eps: number }
  | { readonly name: 'adamw'; readonly b1: number; readonly b2: number; readonly eps: number; readonly weightDecay: number }
  | { readonly name: 'rmsprop'; readonly decay: number; readonly eps: number; readonly momentum: number }
  | { readonly name: 'adagrad'; readonly eps: number; readonly initialAccumulator: number }

/** An optimizer's name. */
export type OptimizerName = OptimizerConfig['name']

/** Every optimizer alias. */
export const optimizerNames: readonly OptimizerName[] = ['sgd', 'adam', 'adamw', 'nadam', 'amsgrad', 'adamax', 'rmsprop', 'adagrad']

/** An optimizer with the library's default hyper-parameters. */
export const defaultOptimizer = (name: OptimizerName): OptimizerConfig => {
  switch (name) {
    case 'sgd':
      return { name, momentum: 0, nesterov: false, weightDecay: 0 }
    case 'adamw':
      return { name, b1: 0.9, b2: 0.999, eps: 1e-8, weightDecay: 1e-4 }
    case 'rmsprop':
      return { name, decay: 0.9, eps: 1e-8, momentum: 0 }
    case 'adagrad':
      return { name, eps: 1e-10, initialAccumulator: 0 }
    default:
      return { name, b1: 0.9, b2: 0.999, eps: 1e-8 }
  }
}

/**
 * The learning rate: a constant or one of the library's schedules. `cosineDecay`,
 * `warmupCosine`, `polynomialDecay` and `oneCycle` run over the whole run (epochs × steps per
 * epoch); the others count their own steps.
 */
export type LrConfig =
  | { readonly kind: 'constant'; readonly value: number }
  | { readonly kind: 'stepDecay'; readonly init: number; readonly factor: number; readonly every: number }
  | { readonly kind: 'exponentialDecay'; readonly init: number; readonly rate: number; readonly steps: number; readonly staircase: boolean }
  | { readonly kind: 'cosineDecay'; readonly init: number; readonly floor: number }
  | { readonly kind: 'warmupCosine'; readonly peak: number; readonly warmupSteps: number; readonly floor: number }
  | { readonly kind: 'polynomialDecay'; readonly init: number; readonly power: number; readonly floor: number }
  | { readonly kind: 'oneCycle'; readonly peak: number }
  | {
      readonly kind: 'cosineRestarts'
      readonly init: number
      readonly period: number
      readonly periodFactor: number
      readonly floor: number
    }

/** A schedule's kind. */
export type LrKind = LrConfig['kind']

/** Every learning-rate kind. */
export const lrKinds: readonly LrKind[] = [
  'constant',
  'stepDecay',
  'exponentialDecay',
  'cosineDecay',
  'warmupCosine',
  'polynomialDecay',
  'oneCycle',
  'cosineRestarts',
]

/**
 * A schedule of a kind starting at (or peaking at) rate `lr`, its step counts taken from the run's
 * `steps` (default 1000) so that it acts within the run: stepDecay halves the rate 3 times, a
 * warm-up takes a tenth of it, a restart period a quarter.
 * @example defaultLr('stepDecay', 0.01, 400) // { kind: 'stepDecay', init: 0.01, factor: 0.5, every: 100 }
 */
export const defaultLr = (kind: LrKind, lr: number, steps = 1000): LrConfig => {
  const part = (n: number): number => Math.max(1, Math.floor(steps / n))
  switch (kind) {
    case 'constant':
      return { kind, value: lr }
    case 'stepDecay':
      return { kind, init: lr, factor: 0.5, every: part(4) }
    case 'exponentialDecay':
      return { kind, init: lr, rate: 0.5, steps: part(4), staircase: false }
    case 'cosineDecay':
      return { kind, init: lr, floor: 0 }
    case 'warmupCosine':
      return { kind, peak: lr, warmupSteps: part(10), floor: 0 }
    case 'polynomialDecay':
      return { kind, init: lr, power: 1, floor: 0 }
    case 'oneCycle':
      return { kind, peak: lr }
    case 'cosineRestarts':
      return { kind, init: lr, period: part(4), periodFactor: 2, floor: 0 }
  }
}

/** The whole configuration: what the page edits, the URL holds and `build` turns into a network and a run. */
export interface Config {
  readonly data: DataConfig
  readonly layers: readonly LayerConfig[]
  readonly loss: LossName
  readonly optimizer: OptimizerConfig
  readonly lr: LrConfig
  readonly batchSize: number
  readonly epochs: number
  /** The seed of the network's key: its initial params, each epoch's order and dropout's masks. */
  readonly seed: number
}

/** The bounds that keep a configuration (and so a URL) cheap to build and train in a page. */
export const LIMITS = {
  /** Examples of a 2-D set. */
  points: 5000,
  /** Training digits of MNIST (the subset). */
  mnistTrain: 10000,
  /** Test digits of MNIST. */
  mnistTest: 10000,
  /** Classes of the spiral and the blobs. */
  classes: 8,
  layers: 24,
  units: 1024,
  filters: 64,
  kernel: 11,
  /** Parameters of the whole network. */
  params: 1_000_000,
  /** Multiply-adds of one example's forward pass through the whole network. */
  multiplyAdds: 50_000_000,
  epochs: 10000,
  /** Steps of a schedule's own clock (stepDecay's every, a warm-up, a period, ...). */
  steps: 10_000_000,
} as const

/** The 2-D data set settings of each set, and MNIST's. */
export const defaultData = (set: DataSetName): DataConfig => {
  switch (set) {
    case 'spiral':
      return { set, size: 300, classes: 3, noise: 0.2, seed: 0 }
    case 'circles':
      return { set, size: 200, noise: 0.1, factor: 0.5, seed: 0 }
    case 'xor':
      return { set, size: 200, noise: 0.2, seed: 0 }
    case 'blobs':
      return { set, size: 150, classes: 3, noise: 1, seed: 0 }
    case 'mnist':
      return { set, size: 2000, testSize: 500 }
  }
}

const net = (...kinds: readonly (LayerConfig | LayerConfig['kind'])[]): LayerConfig[] =>
  kinds.map((k) => (typeof k === 'string' ? defaultLayer(k) : k))

/** A small network that learns the set, with its optimizer and run: the page's starting point for each data set. */
export const defaults = (set: DataSetName): Config => {
  const data = defaultData(set)
  const adam = defaultOptimizer('adam')
  switch (set) {
    case 'spiral':
      return {
        data,
        layers: net({ kind: 'dense', units: 16 }, 'relu', { kind: 'dense', units: 16 }, 'relu', { kind: 'dense', units: 3 }),
        loss: 'softmaxCrossEntropy',
        optimizer: adam,
        lr: { kind: 'constant', value: 0.01 },
        batchSize: 32,
        epochs: 200,
        seed: 0,
      }
    case 'circles':
    case 'xor':
      return {
        data,
        layers: net({ kind: 'dense', units: 8 }, 'tanh', { kind: 'dense', units: 2 }),
        loss: 'softmaxCrossEntropy',
        optimizer: adam,
        lr: { kind: 'constant', value: 0.03 },
        batchSize: 16,
        epochs: 60,
        seed: 0,
      }
    case 'blobs':
      return {
        data,
        layers: net({ kind: 'dense', units: 8 }, 'relu', { kind: 'dense', units: 3 }),
        loss: 'softmaxCrossEntropy',
        optimizer: adam,
        lr: { kind: 'constant', value: 0.01 },
        batchSize: 16,
        epochs: 30,
        seed: 0,
      }
    case 'mnist':
      return {
        data,
        layers: net('conv2d', 'relu', 'maxPool2d', 'flatten', { kind: 'dense', units: 10 }),
        loss: 'softmaxCrossEntropy',
        optimizer: adam,
        lr: { kind: 'constant', value: 0.003 },
        batchSize: 32,
        epochs: 3,
        seed: 0,
      }
  }
}

/** The number of classes of a data set. */
export const classesOf = (data: DataConfig): number =>
  data.set === 'spiral' || data.set === 'blobs' ? data.classes : data.set === 'mnist' ? 10 : 2

/** The per-example input shape of a data set: [2] for the points, [1, 28, 28] for MNIST digits. */
export const inShapeOf = (data: DataConfig): readonly number[] => (data.set === 'mnist' ? [1, 28, 28] : [2])

/** Steps per epoch of a configuration (as `Train.stepsPerEpoch` counts them: the last batch may be short). */
export const stepsPerEpochOf = (c: Config): number => Math.ceil(c.data.size / c.batchSize)

/** Steps of the whole run: epochs × steps per epoch. */
export const totalStepsOf = (c: Config): number => c.epochs * stepsPerEpochOf(c)

/** One thing wrong with a configuration: where (`data`, `layer 3 (conv2d)`, `loss`, `optimizer`, `lr`, ...), which layer (from 0) if a layer, and the whole message. */
export interface Problem {
  /** What the problem is about: 'data', 'layers', a layer by its row's name ('conv2d 2'), 'loss', 'optimizer', 'lr', 'batchSize', … */
  readonly where: string
  /** The layer's index (from 0), when the problem is a layer's. */
  readonly layer?: number
  /** The message, starting with `where`: "conv2d 2: kernel 9 is larger than its 5×5 input". */
  readonly message: string
}

/** A configuration that is not valid; `problems` lists each problem and where it is. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError'
  constructor(readonly problems: readonly Problem[]) {
    super(problems.map((p) => p.message).join('\n'))
  }
}

/** Each layer's input and output shapes (per example) and the name a person reads. */
export interface LayerShape {
  readonly inShape: readonly number[]
  readonly outShape: readonly number[]
  /** "dense 1 (2→16)", "relu 1", "conv2d 1 (1→8, 3×3)". */
  readonly name: string
  /** Parameters of the layer. */
  readonly params: number
  /** Multiply-adds (or, for layers without weights, values computed) of one example's forward pass. */
  readonly multiplyAdds: number
}

/** The work of a layer's forward pass on one example: multiply-adds for dense and conv2d, window reads for pools, else one per output. */
const multiplyAddsOf = (c: LayerConfig, inShape: readonly number[], outShape: readonly number[]): number => {
  const out = T.sizeOf(outShape)
  switch (c.kind) {
    case 'dense':
      return inShape[0]! * c.units
    case 'conv2d':
      return out * inShape[0]! * c.kernel * c.kernel
    case 'maxPool2d':
    case 'avgPool2d':
      return out * c.size * c.size
    default:
      return out
  }
}

/** The largest seed (seeds are integers from 0). */
export const MAX_SEED = 2 ** 31 - 1

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v)
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)
const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e))

/** A value as a problem shows it: an empty box (NaN) as "nothing". */
const shown = (v: unknown): string => (typeof v === 'number' && Number.isNaN(v) ? 'nothing' : String(v))

/** An integer check: undefined when v is an integer in [lo, hi], else what is wrong. */
const intIn = (what: string, v: unknown, lo: number, hi: number, limit = ''): string | undefined =>
  isInt(v) && v >= lo && v <= hi
    ? undefined
    : `${what === '' ? '' : `${what} `}must be an integer from ${lo} to ${hi}${limit}, got ${shown(v)}`

/** A number check: undefined when v is finite and in [lo, hi] (hi excluded when open), else what is wrong. */
const numIn = (what: string, v: unknown, lo: number, hi: number, open = false): string | undefined =>
  isNum(v) && v >= lo && (open ? v < hi : v <= hi)
    ? undefined
    : `${what} must be a number in [${lo}, ${hi}${open ? ')' : ']'}, got ${shown(v)}`

/** The problems of a layer's own settings (before shapes), as messages without the layer's name before them. */
const layerSettings = (c: LayerConfig): string[] => {
  if (!layerKinds.includes(c.kind)) return [`unknown layer kind '${String(c.kind)}' (the kinds: ${layerKinds.join(', ')})`]
  const out: (string | undefined)[] = []
  switch (c.kind) {
    case 'dense':
      out.push(intIn('units', c.units, 1, LIMITS.units, ' (the playground limit)'))
      break
    case 'leakyRelu':
      out.push(numIn('alpha', c.alpha, 0, 1))
      break
    case 'elu':
      out.push(isNum(c.alpha) && c.alpha > 0 && c.alpha <= 10 ? undefined : `alpha must be a number in (0, 10], got ${shown(c.alpha)}`)
      break
    case 'dropout':
      out.push(numIn('rate', c.rate, 0, 1, true))
      break
    case 'conv2d':
      out.push(intIn('filters', c.filters, 1, LIMITS.filters, ' (the playground limit)'))
      out.push(intIn('kernel', c.kernel, 1, LIMITS.kernel, ' (the playground limit)'))
      out.push(intIn('stride', c.stride, 1, LIMITS.kernel))
      if (c.padding !== 'valid' && c.padding !== 'same') out.push(intIn('padding', c.padding, 0, LIMITS.kernel))
      break
    case 'maxPool2d':
    case 'avgPool2d':
      out.push(intIn('size', c.size, 1, LIMITS.kernel))
      out.push(intIn('stride', c.stride, 1, LIMITS.kernel))
      break
    default:
      break
  }
  return out.filter((m): m is string => m !== undefined)
}

/** A window (conv kernel or pool) that does not fit its input, said plainly; undefined if it fits (the library's rule decides the rest). */
const windowProblem = (c: LayerConfig, inShape: readonly number[]): string | undefined => {
  if (inShape.length !== 3) return undefined
  const [h, w] = [inShape[1]!, inShape[2]!]
  const k = c.kind === 'conv2d' ? c.kernel : c.kind === 'maxPool2d' || c.kind === 'avgPool2d' ? c.size : undefined
  if (k === undefined) return undefined
  const pad = c.kind === 'conv2d' && typeof c.padding === 'number' ? c.padding : 0
  const same = c.kind === 'conv2d' && c.padding === 'same'
  if (!same && (k > h + 2 * pad || k > w + 2 * pad)) {
    const what = c.kind === 'conv2d' ? 'kernel' : 'window'
    return `${what} ${k} is larger than its ${h}×${w} input${pad > 0 ? ` padded by ${pad}` : ''}`
  }
  return undefined
}

/**
 * Walks the layers with the library's shape rules: each layer's shapes and name, and the
 * problems found (a layer that cannot take its input stops the walk there).
 */
export const shapesOf = (
  c: Pick<Config, 'data' | 'layers'>,
): { readonly shapes: readonly LayerShape[]; readonly problems: readonly Problem[] } => {
  const problems: Problem[] = []
  const shapes: LayerShape[] = []
  let shape: readonly number[] = inShapeOf(c.data)
  for (let i = 0; i < c.layers.length; i++) {
    const lc = c.layers[i]!
    const where = shortName(c.layers, i) // the name the layer's row starts with: "dense 2"
    const fail = (detail: string): void => void problems.push({ where, layer: i, message: `${where}: ${detail}` })
    const settings = layerSettings(lc)
    if (settings.length > 0) {
      settings.forEach(fail)
      return { shapes, problems }
    }
    const window = windowProblem(lc, shape)
    if (window !== undefined) {
      fail(window)
      return { shapes, problems }
    }
    let layer: L.AnyLayer
    try {
      layer = layerOf(lc)
    } catch (e) {
      fail(errorText(e))
      return { shapes, problems }
    }
    try {
      const r = layer.shapes === undefined ? layer.init(Key.fromSeed(0), shape) : layer.shapes(shape)
      const count = r.params === undefined ? 0 : countParams(r.params)
      const name = layerName(c.layers, i, shape, r.outShape)
      shapes.push({ inShape: shape, outShape: r.outShape, name, params: count, multiplyAdds: multiplyAddsOf(lc, shape, r.outShape) })
      shape = r.outShape
    } catch (e) {
      fail(e instanceof L.ShapeError ? e.detail : errorText(e))
      return { shapes, problems }
    }
  }
  return { shapes, problems }
}

/** The number of values in a shape tree (or a tree of tensors). */
const countParams = (tree: unknown): number => {
  if (L.isShapeLeaf(tree)) return T.sizeOf(tree.shape)
  if (typeof tree === 'object' && tree !== null && 'data' in tree && tree.data instanceof Float64Array) return tree.data.length
  if (Array.isArray(tree)) return tree.reduce((n: number, t: unknown) => n + countParams(t), 0)
  if (typeof tree === 'object' && tree !== null) return Object.values(tree).reduce((n: number, t: unknown) => n + countParams(t), 0)
  return 0
}

const dataProblems = (d: DataConfig): string[] => {
  const out: (string | undefined)[] = []
  if (d.set === 'mnist') {
    out.push(intIn('size', d.size, 1, LIMITS.mnistTrain, ' (the playground limit; MNIST has 60000)'))
    out.push(intIn('testSize', d.testSize, 1, LIMITS.mnistTest))
    return out.filter((m): m is string => m !== undefined)
  }
  if (!dataSets.includes(d.set)) return [`set must be one of ${dataSets.join(', ')}, got ${String(d.set)}`]
  out.push(intIn('size', d.size, 2, LIMITS.points, ' (the playground limit)'))
  out.push(numIn('noise', d.noise, 0, 10))
  out.push(intIn('seed', d.seed, 0, MAX_SEED))
  if (d.set === 'spiral' || d.set === 'blobs') {
    const bad = intIn('classes', d.classes, 2, LIMITS.classes)
    out.push(bad)
    if (bad === undefined && isInt(d.size) && d.size % d.classes !== 0)
      out.push(
        `size ${d.size} is not a multiple of its ${d.classes} classes (each class gets as many points): try ${d.size - (d.size % d.classes)} or ${d.size - (d.size % d.classes) + d.classes}`,
      )
  }
  if (d.set === 'circles')
    out.push(isNum(d.factor) && d.factor > 0 && d.factor < 1 ? undefined : `factor must be in (0, 1), got ${shown(d.factor)}`)
  return out.filter((m): m is string => m !== undefined)
}

/** The library optimizer of a configuration (the learning rate given), or its OptimError. */
export const optimizerOf = (o: OptimizerConfig, lr: number | Schedule.Schedule): Optim.GradientTransformation => {
  switch (o.name) {
    case 'sgd':
      return Optim.sgd({ lr, momentum: o.momentum, nesterov: o.nesterov, weightDecay: o.weightDecay })
    case 'adam':
    case 'nadam':
    case 'amsgrad':
    case 'adamax':
      return Optim[o.name]({ lr, b1: o.b1, b2: o.b2, eps: o.eps })
    case 'adamw':
      return Optim.adamw({ lr, b1: o.b1, b2: o.b2, eps: o.eps, weightDecay: o.weightDecay })
    case 'rmsprop':
      return Optim.rmsprop({ lr, decay: o.decay, eps: o.eps, momentum: o.momentum })
    case 'adagrad':
      return Optim.adagrad({ lr, eps: o.eps, initialAccumulator: o.initialAccumulator })
  }
}

/** The learning rate of a configuration: a number, or the library's schedule over a run of `totalSteps`. Throws the library's OptimError. */
export const lrOf = (lr: LrConfig, totalSteps: number): number | Schedule.Schedule => {
  switch (lr.kind) {
    case 'constant':
      return lr.value
    case 'stepDecay':
      return Schedule.stepDecay({ init: lr.init, factor: lr.factor, every: lr.every })
    case 'exponentialDecay':
      return Schedule.exponentialDecay({ init: lr.init, rate: lr.rate, steps: lr.steps, staircase: lr.staircase })
    case 'cosineDecay':
      return Schedule.cosineDecay({ init: lr.init, steps: totalSteps, floor: lr.floor })
    case 'warmupCosine':
      return Schedule.warmupCosine({ peak: lr.peak, warmupSteps: lr.warmupSteps, decaySteps: totalSteps - lr.warmupSteps, floor: lr.floor })
    case 'polynomialDecay':
      return Schedule.polynomialDecay({ init: lr.init, steps: totalSteps, power: lr.power, floor: lr.floor })
    case 'oneCycle':
      return Schedule.oneCycle({ peak: lr.peak, steps: totalSteps })
    case 'cosineRestarts':
      return Schedule.cosineRestarts({ init: lr.init, period: lr.period, periodFactor: lr.periodFactor, floor: lr.floor })
  }
}

/** The library loss of a configuration. */
export const lossOf = (name: LossName): Loss.Loss =>
  name === 'softmaxCrossEntropy' ? Loss.softmaxCrossEntropy : name === 'crossEntropy' ? Loss.crossEntropy() : Loss.mse

/** Schedule settings the library does not check because the playground derives them (steps over the run) or bounds them. */
const lrProblems = (lr: LrConfig, totalSteps: number): string[] => {
  const counts: [string, unknown][] =
    lr.kind === 'stepDecay'
      ? [['every', lr.every]]
      : lr.kind === 'exponentialDecay'
        ? [['steps', lr.steps]]
        : lr.kind === 'cosineRestarts'
          ? [
              ['period', lr.period],
              ['periodFactor', lr.periodFactor],
            ]
          : []
  const out = counts.map(([name, v]) => intIn(name, v, 1, LIMITS.steps)).filter((m): m is string => m !== undefined)
  if (lr.kind === 'warmupCosine' && isInt(lr.warmupSteps) && lr.warmupSteps >= totalSteps)
    out.push(`warmupSteps ${lr.warmupSteps} leaves no step to decay over: the run has ${totalSteps} steps`)
  if (lr.kind === 'oneCycle' && totalSteps < 2) out.push(`oneCycle needs a run of at least 2 steps, this one has ${totalSteps}`)
  if (out.length > 0) return out
  try {
    const rate = lrOf(lr, totalSteps)
    if (typeof rate === 'number' && !(isNum(rate) && rate > 0)) return [`the learning rate must be a number > 0, got ${shown(rate)}`]
    return []
  } catch (e) {
    return [errorText(e)]
  }
}

/** Everything wrong with a configuration, each with where it is; empty when the configuration builds and trains. */
export const validate = (c: Config): readonly Problem[] => {
  const problems: Problem[] = []
  const at = (where: string, messages: readonly string[]): void => {
    for (const m of messages) problems.push({ where, message: `${where}: ${m}` })
  }
  at('data', dataProblems(c.data))
  const some = (m: string | undefined): string[] => (m === undefined ? [] : [m])
  at('seed', some(intIn('', c.seed, 0, MAX_SEED)))
  at('epochs', some(intIn('', c.epochs, 1, LIMITS.epochs, ' (the playground limit)')))
  const sizeOk = problems.every((p) => p.where !== 'data') && isInt(c.data.size)
  const bs = intIn('', c.batchSize, 1, sizeOk ? c.data.size : LIMITS.points, sizeOk ? ' (the training examples)' : '')
  at('batchSize', some(bs))
  if (!lossNames.includes(c.loss)) at('loss', [`must be one of ${lossNames.join(', ')}, got ${String(c.loss)}`])
  if (!Array.isArray(c.layers) || c.layers.length === 0) at('layers', ['the network needs at least one layer'])
  else if (c.layers.length > LIMITS.layers) at('layers', [`at most ${LIMITS.layers} layers (the playground limit), got ${c.layers.length}`])
  // the layers' shapes need only the data set's input shape, so a bad data setting does not hide a bad layer
  if (problems.some((p) => p.where === 'layers') || !dataSets.includes(c.data.set)) return problems
  const { shapes, problems: shapeProblems } = shapesOf(c)
  problems.push(...shapeProblems)
  if (shapeProblems.length === 0 && problems.every((p) => p.where !== 'data')) {
    const last = shapes[shapes.length - 1]!
    const classes = classesOf(c.data)
    const params = shapes.reduce((n, s) => n + s.params, 0)
    if (last.outShape.length !== 1 || last.outShape[0] !== classes)
      at('layers', [
        `the network ends with output ${last.outShape.join('×')} per example, but ${c.data.set} has ${classes} classes: end with a dense of ${classes}${last.outShape.length === 1 ? '' : ' after a flatten'}`,
      ])
    if (params === 0) at('layers', ['the network has no parameters to train: add a dense or conv2d layer'])
    if (params > LIMITS.params) at('layers', [`the network has ${params} parameters, more than the playground limit of ${LIMITS.params}`])
    const work = shapes.reduce((n, s) => n + s.multiplyAdds, 0)
    if (work > LIMITS.multiplyAdds)
      at('layers', [`one example's forward pass takes ${work} multiply-adds, more than the playground limit of ${LIMITS.multiplyAdds}`])
    const softmaxAt = c.layers.findIndex((l) => l.kind === 'softmax')
    const softmaxLast = c.layers[c.layers.length - 1]!.kind === 'softmax'
    if (softmaxAt >= 0 && softmaxAt < c.layers.length - 1)
      problems.push({
        where: shortName(c.layers, softmaxAt),
        layer: softmaxAt,
        message: `${shortName(c.layers, softmaxAt)}: softmax belongs at the end of the network (it turns scores into class probabilities)`,
      })
    if (softmaxLast && c.loss === 'softmaxCrossEntropy')
      at('loss', [
        'softmaxCrossEntropy applies its own softmax to the network output, which ends with a softmax: use crossEntropy (on probabilities), or drop the softmax layer',
      ])
    if (!softmaxLast && c.loss === 'crossEntropy')
      at('loss', ['crossEntropy takes probabilities: end the network with a softmax layer, or use softmaxCrossEntropy (on scores)'])
    const bnFlat = c.layers.some((l, i) => l.kind === 'batchNorm' && shapes[i]!.inShape.length === 1)
    if (bnFlat && isInt(c.batchSize) && (c.batchSize < 2 || c.data.size % c.batchSize === 1))
      at('batchSize', [
        c.batchSize < 2
          ? 'batchNorm needs batches of 2 or more'
          : `the last batch of each epoch has 1 example (${c.data.size} = ${Math.floor(c.data.size / c.batchSize)}×${c.batchSize} + 1), and batchNorm needs 2 or more`,
      ])
  }
  if (!optimizerNames.includes(c.optimizer?.name))
    at('optimizer', [`must be one of ${optimizerNames.join(', ')}, got ${String(c.optimizer?.name)}`])
  else {
    try {
      optimizerOf(c.optimizer, 0.1)
    } catch (e) {
      at('optimizer', [errorText(e)])
    }
  }
  if (bs === undefined && problems.every((p) => p.where !== 'epochs')) at('lr', lrProblems(c.lr, totalStepsOf(c)))
  return problems
}

/** The configuration itself when it is valid, else a ConfigError listing every problem. */
export const check = (c: Config): Config => {
  const problems = validate(c)
  if (problems.length > 0) throw new ConfigError(problems)
  return c
}
