/**
 * From a configuration to what a run needs, built with the library as a user would: the data,
 * the network as `L.pipe(...)` of the configured layers, the loss, the optimizer and its
 * learning rate, the options for `Train.fit`/`fitAsync`, and the training state fit starts from
 * (the same params as Node for the same seed, bit for bit). `codeOf(config)` is the TypeScript
 * a user would write for the same network and run, importing from 'chainrule'.
 */
import * as E from 'fp-ts/Either'
import { Data, Key, L, type Loss, type Optim, type Schedule, T, Train, type Tree } from 'chainrule'
import {
  check,
  classesOf,
  inShapeOf,
  lossOf,
  lrOf,
  optimizerOf,
  shapesOf,
  stepsPerEpochOf,
  totalStepsOf,
  type Config,
  type DataConfig,
  type LayerShape,
  type LrConfig,
  type OptimizerConfig,
} from './config.ts'
import { codeOfLayer, layerOf } from './layers.ts'

/** The four MNIST files' bytes, as fetched by the page or read from disk (core never fetches). */
export interface MnistBytes {
  readonly trainImages: Uint8Array
  readonly trainLabels: Uint8Array
  readonly testImages: Uint8Array
  readonly testLabels: Uint8Array
}

/** Everything a run of a configuration needs, made by the library's own functions. */
export interface Built {
  readonly config: Config
  /** The configured layers, in order: the children of `model`. */
  readonly layers: readonly L.AnyLayer[]
  /** `L.pipe(...layers)`. */
  readonly model: L.AnyLayer
  /** Each layer's shapes and the name a person reads ("dense 1 (2→16)"). */
  readonly shapes: readonly LayerShape[]
  readonly loss: Loss.Loss
  readonly lr: number | Schedule.Schedule
  readonly optimizer: Optim.GradientTransformation
  /** The training data: x [N, 2] or [N, 1, 28, 28]; y class indices [N], or one-hot rows [N, C] for mse. */
  readonly data: Data.Dataset
  /** MNIST's test digits (targets as for `data`); undefined for the 2-D sets. */
  readonly test: Data.Dataset | undefined
  readonly classes: number
  /** The per-example input shape. */
  readonly inShape: readonly number[]
  /** The run's key, `Key.fromSeed(seed)`: fit draws the initial params, each epoch's order and dropout from it. */
  readonly key: Key.Key
  readonly stepsPerEpoch: number
  readonly totalSteps: number
}

/** The data set of a configuration, as the library makes it. MNIST needs the files' bytes. Throws on bad bytes. */
export const dataOf = (d: DataConfig, mnist?: MnistBytes): { readonly train: Data.Dataset; readonly test: Data.Dataset | undefined } => {
  switch (d.set) {
    case 'spiral':
      return {
        train: Data.spirals(Key.fromSeed(d.seed), { classes: d.classes, perClass: d.size / d.classes, noise: d.noise }),
        test: undefined,
      }
    case 'circles':
      return { train: Data.circles(Key.fromSeed(d.seed), d.size, { noise: d.noise, factor: d.factor }), test: undefined }
    case 'xor':
      return { train: Data.xor(Key.fromSeed(d.seed), d.size, { noise: d.noise }), test: undefined }
    case 'blobs':
      return {
        train: Data.blobs(Key.fromSeed(d.seed), { centers: d.classes, perCenter: d.size / d.classes, std: d.noise }),
        test: undefined,
      }
    case 'mnist': {
      if (mnist === undefined) throw new Error('build: the mnist data set needs the bytes of the four MNIST files (MnistBytes)')
      const decode = (images: Uint8Array, labels: Uint8Array, first: number): Data.Dataset => {
        const r = Data.Mnist.fromIdx(images, labels, { first })
        if (E.isLeft(r)) throw r.left
        return r.right
      }
      return { train: decode(mnist.trainImages, mnist.trainLabels, d.size), test: decode(mnist.testImages, mnist.testLabels, d.testSize) }
    }
  }
}

/** Class indices [N] as one-hot rows [N, classes] (the targets of mse), as codeOf writes it. */
export const oneHot = (y: T.Tensor, classes: number): T.Tensor =>
  T.generate([y.shape[0]!, classes], (i) => (y.data[Math.floor(i / classes)] === i % classes ? 1 : 0))

/**
 * Builds a valid configuration (else throws its ConfigError): the library's layers, pipe, data,
 * loss and optimizer, exactly as `codeOf(config)` writes them.
 * @example const run = build(defaults('spiral')); await Train.fitAsync(fitOptions(run))
 */
export const build = (config: Config, mnist?: MnistBytes): Built => {
  check(config)
  const layers = config.layers.map(layerOf)
  const classes = classesOf(config.data)
  const { train, test } = dataOf(config.data, mnist)
  const targets = (d: Data.Dataset): Data.Dataset => (config.loss === 'mse' ? Data.make(d.x, oneHot(d.y, classes)) : d)
  const totalSteps = totalStepsOf(config)
  const lr = lrOf(config.lr, totalSteps)
  return {
    config,
    layers,
    model: L.pipe(...layers),
    shapes: shapesOf(config).shapes,
    loss: lossOf(config.loss),
    lr,
    optimizer: optimizerOf(config.optimizer, lr),
    data: targets(train),
    test: test === undefined ? undefined : targets(test),
    classes,
    inShape: inShapeOf(config.data),
    key: Key.fromSeed(config.seed),
    stepsPerEpoch: stepsPerEpochOf(config),
    totalSteps,
  }
}

/** The options of `Train.fit` / `Train.fitAsync` for a built run (add callbacks to them). */
export const fitOptions = (b: Built): Train.FitOptions<Tree.Tree, Tree.Tree, unknown, Tree.Tree> => ({
  model: b.model,
  loss: b.loss,
  optimizer: b.optimizer,
  data: b.data,
  epochs: b.config.epochs,
  batchSize: b.config.batchSize,
  key: b.key,
})

/** The training state `Train.fit` starts from with this run's key: the initial params, layer state and optimizer state. */
export const initialState = (b: Built): Train.TrainState => {
  const [initKey] = Key.split2(b.key) // fit: [initKey, dataKey] = split2(key), then initState(model, optimizer, initKey, inShape)
  return Train.initState(b.model, b.optimizer, initKey, b.inShape)
}

/** The mini-batches of an epoch (from 1) in the order `Train.fit` takes them with this run's key. */
export const epochBatches = (b: Built, epoch: number): Iterable<Data.Batch> => {
  const [, dataKey] = Key.split2(b.key) // fit: each epoch's order is batches(foldIn(dataKey, epoch), train, batchSize)
  return Data.batches(Key.foldIn(dataKey, epoch), b.data, b.config.batchSize)
}

/** The first mini-batch `Train.fit` trains on. */
export const firstBatch = (b: Built): Data.Batch => {
  for (const batch of epochBatches(b, 1)) return batch
  throw new Error('firstBatch: the data has no batch')
}

// ---------------------------------------------------------------------------------------------
// The code a user writes
// ---------------------------------------------------------------------------------------------

/** A number as source text (and URL text): the shortest text that reads back as the same double, -0 included. */
export const showNumber = (v: number): string => (Object.is(v, -0) ? '-0' : String(v))

/** `{ a: 1, b: 2 }` from the entries whose values differ from the defaults, or '' when none do. */
const optionsText = (entries: readonly (readonly [string, number | boolean, number | boolean])[]): string => {
  const kept = entries.filter(([, v, d]) => !Object.is(v, d)).map(([k, v]) => `${k}: ${typeof v === 'number' ? showNumber(v) : String(v)}`)
  return kept.length === 0 ? '' : `, ${kept.join(', ')}`
}

const optimizerCode = (o: OptimizerConfig): string => {
  switch (o.name) {
    case 'sgd':
      return `Optim.sgd({ lr${optionsText([
        ['momentum', o.momentum, 0],
        ['nesterov', o.nesterov, false],
        ['weightDecay', o.weightDecay, 0],
      ])} })`
    case 'adamw':
      return `Optim.adamw({ lr${optionsText([
        ['b1', o.b1, 0.9],
        ['b2', o.b2, 0.999],
        ['eps', o.eps, 1e-8],
        ['weightDecay', o.weightDecay, 1e-4],
      ])} })`
    case 'rmsprop':
      return `Optim.rmsprop({ lr${optionsText([
        ['decay', o.decay, 0.9],
        ['eps', o.eps, 1e-8],
        ['momentum', o.momentum, 0],
      ])} })`
    case 'adagrad':
      return `Optim.adagrad({ lr${optionsText([
        ['eps', o.eps, 1e-10],
        ['initialAccumulator', o.initialAccumulator, 0],
      ])} })`
    default:
      return `Optim.${o.name}({ lr${optionsText([
        ['b1', o.b1, 0.9],
        ['b2', o.b2, 0.999],
        ['eps', o.eps, 1e-8],
      ])} })`
  }
}

/** The learning rate's code, and whether it needs the run's step count `steps`. */
const lrCode = (lr: LrConfig): { readonly code: string; readonly needsSteps: boolean } => {
  const n = showNumber
  switch (lr.kind) {
    case 'constant':
      return { code: n(lr.value), needsSteps: false }
    case 'stepDecay':
      return { code: `Schedule.stepDecay({ init: ${n(lr.init)}, factor: ${n(lr.factor)}, every: ${lr.every} })`, needsSteps: false }
    case 'exponentialDecay':
      return {
        code: `Schedule.exponentialDecay({ init: ${n(lr.init)}, rate: ${n(lr.rate)}, steps: ${lr.steps}${lr.staircase ? ', staircase: true' : ''} })`,
        needsSteps: false,
      }
    case 'cosineDecay':
      return { code: `Schedule.cosineDecay({ init: ${n(lr.init)}, steps, floor: ${n(lr.floor)} })`, needsSteps: true }
    case 'warmupCosine':
      return {
        code: `Schedule.warmupCosine({ peak: ${n(lr.peak)}, warmupSteps: ${lr.warmupSteps}, decaySteps: steps - ${lr.warmupSteps}, floor: ${n(lr.floor)} })`,
        needsSteps: true,
      }
    case 'polynomialDecay':
      return {
        code: `Schedule.polynomialDecay({ init: ${n(lr.init)}, steps, power: ${n(lr.power)}, floor: ${n(lr.floor)} })`,
        needsSteps: true,
      }
    case 'oneCycle':
      return { code: `Schedule.oneCycle({ peak: ${n(lr.peak)}, steps })`, needsSteps: true }
    case 'cosineRestarts':
      return {
        code: `Schedule.cosineRestarts({ init: ${n(lr.init)}, period: ${lr.period}, periodFactor: ${lr.periodFactor}, floor: ${n(lr.floor)} })`,
        needsSteps: false,
      }
  }
}

/** The data set's lines: a comment and the declaration(s) of `data` (and `test` for MNIST). */
const dataCode = (d: DataConfig, mse: boolean, classes: number): string[] => {
  const n = showNumber
  const target = (x: string, y: string): string => (mse ? `Data.make(${x}.x, oneHot(${y}.y, ${classes}))` : x)
  const raw = mse ? 'points' : 'data'
  const lines = ((): string[] => {
    switch (d.set) {
      case 'spiral':
        return [
          `// ${d.size} points on ${d.classes} spiral arms, one class per arm`,
          `const ${raw} = Data.spirals(Key.fromSeed(${d.seed}), { classes: ${d.classes}, perClass: ${d.size / d.classes}, noise: ${n(d.noise)} })`,
        ]
      case 'circles':
        return [
          `// ${d.size} points on two circles, the inner one of radius ${n(d.factor)}`,
          `const ${raw} = Data.circles(Key.fromSeed(${d.seed}), ${d.size}, { noise: ${n(d.noise)}, factor: ${n(d.factor)} })`,
        ]
      case 'xor':
        return [
          `// ${d.size} points in four clusters at (±1, ±1): class 1 where the signs differ`,
          `const ${raw} = Data.xor(Key.fromSeed(${d.seed}), ${d.size}, { noise: ${n(d.noise)} })`,
        ]
      case 'blobs':
        return [
          `// ${d.size} points in ${d.classes} Gaussian blobs, one class per blob`,
          `const ${raw} = Data.blobs(Key.fromSeed(${d.seed}), { centers: ${d.classes}, perCenter: ${d.size / d.classes}, std: ${n(d.noise)} })`,
        ]
      case 'mnist':
        return [
          `// the first ${d.size} training and ${d.testSize} test digits of MNIST, x [N, 1, 28, 28]`,
          `const mnist = loadMnist({ train: ${d.size}, test: ${d.testSize} })`,
          ...(mse ? [] : ['const data = mnist.train', 'const test = mnist.test']),
        ]
    }
  })()
  if (!mse) return lines
  const oneHotLines = [
    '// mse compares the network output with one-hot rows: class 2 of 3 is [0, 0, 1]',
    'const oneHot = (y: T.Tensor, classes: number): T.Tensor =>',
    '  T.generate([y.shape[0]!, classes], (i) => (y.data[Math.floor(i / classes)] === i % classes ? 1 : 0))',
  ]
  return d.set === 'mnist'
    ? [
        ...lines,
        ...oneHotLines,
        `const data = ${target('mnist.train', 'mnist.train')}`,
        `const test = ${target('mnist.test', 'mnist.test')}`,
      ]
    : [...lines, ...oneHotLines, `const data = ${target('points', 'points')}`]
}

/**
 * The TypeScript a user writes for this configuration: the data, the network as `L.pipe`, the
 * loss, the optimizer and its learning rate, and `Train.fit` with the run's key; it prints the
 * accuracy at the end. Run in Node it trains the same network as the page, bit for bit.
 * @example codeOf(defaults('xor')) // "import { Data, Key, L, Loss, Optim, Train } from 'chainrule'\n..."
 */
export const codeOf = (config: Config): string => {
  const c = check(config)
  const mse = c.loss === 'mse'
  const mnist = c.data.set === 'mnist'
  const lr = lrCode(c.lr)
  const names = [
    'Data',
    'Key',
    'L',
    'Loss',
    'Optim',
    ...(lr.code.startsWith('Schedule') ? ['Schedule'] : []),
    ...(mse ? ['T'] : []),
    'Train',
  ]
  const loss =
    c.loss === 'softmaxCrossEntropy' ? 'Loss.softmaxCrossEntropy' : c.loss === 'crossEntropy' ? 'Loss.crossEntropy()' : 'Loss.mse'
  const { shapes } = shapesOf(c)
  const width = Math.max(...c.layers.map((l) => codeOfLayer(l).length)) + 1
  const evalOn = mnist ? 'test' : 'data'
  return [
    `import { ${names.join(', ')} } from 'chainrule'`,
    ...(mnist ? ["import { loadMnist } from 'chainrule/node'"] : []),
    '',
    ...dataCode(c.data, mse, classesOf(c.data)),
    '',
    '// the network: each layer maps a batch to a batch; pipe runs them left to right',
    'const model = L.pipe(',
    ...c.layers.map(
      (l, i) =>
        `  ${`${codeOfLayer(l)},`.padEnd(width + 1)}// ${shapes[i]!.name.replace(/ \(.*\)$/, '')}: ${shapes[i]!.inShape.join('×')} → ${shapes[i]!.outShape.join('×')}`,
    ),
    ')',
    `const loss = ${loss}`,
    `const epochs = ${c.epochs}`,
    `const batchSize = ${c.batchSize}`,
    ...(lr.needsSteps ? ['const steps = epochs * Train.stepsPerEpoch({ data, batchSize }) // the whole run'] : []),
    `const lr = ${lr.code}`,
    `const optimizer = ${optimizerCode(c.optimizer)}`,
    '',
    '// fit folds a training step (forward, loss, vjp, optimizer update) over shuffled mini-batches',
    `const { state, history } = Train.fit({ model, loss, optimizer, data, epochs, batchSize, key: Key.fromSeed(${c.seed}) })`,
    `const { accuracy } = Train.evaluate(model, state.params, state.state, ${evalOn}, { loss })`,
    `console.log(\`loss \${history.epochs.at(-1)!.loss.toFixed(4)}, ${mnist ? 'test' : 'training'} accuracy \${(100 * accuracy!).toFixed(1)}%\`)`,
    '',
  ].join('\n')
}
