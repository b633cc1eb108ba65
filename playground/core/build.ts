/**
 * From a configuration to what a run needs, built with the library as a user would: the data,
 * the network as `L.pipe(...)` of the configured layers, the loss, the optimizer and its
 * learning rate, the options for `Train.fit`/`fitAsync`, and the training state fit starts from
 * (the same params as Node for the same seed, bit for bit). `codeOf(config)` (from code.ts) is
 * the TypeScript a user would write for the same network and run, importing from 'chainrule'.
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
} from './config.ts'
import { layerOf } from './layers.ts'

export { codeOf, showNumber } from './code.ts'

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
export const firstBatch = (b: Built): Data.Batch => batchAt(b, 0)

/**
 * The mini-batch `Train.fit` trains on after `step` steps (step 0 is the first): stepping from
 * `initialState` through `batchAt(b, 0)`, `batchAt(b, 1)`, … retraces fit's run, epoch after epoch.
 */
export const batchAt = (b: Built, step: number): Data.Batch => {
  if (!Number.isSafeInteger(step) || step < 0) throw new RangeError(`batchAt: step must be an integer >= 0, got ${step}`)
  const index = step % b.stepsPerEpoch
  let i = 0
  for (const batch of epochBatches(b, Math.floor(step / b.stepsPerEpoch) + 1)) if (i++ === index) return batch
  throw new Error(`batchAt: the epoch has no batch ${index}`)
}
