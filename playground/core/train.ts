/**
 * What live training shows, as plain data the page draws (with the library's Plot specs or its
 * own canvas): a grid over the input plane of a 2-D set, each unit's activation over it (the
 * neuron heatmaps of TensorFlow Playground) and the predicted class and its probability there
 * (the decision boundary); per-layer gradient norms under the names people read; a recorder of
 * the history for `Train.fitAsync`; and for MNIST the first layer's filters, the activations of
 * one digit and the digits the network gets wrong. Every forward here runs in eval mode.
 */
import { Key, L, Plot, T, Train, Tree, type Data } from 'chainrule'
import type { Built } from './build.ts'
import type { Config } from './config.ts'
import { lrToken } from './url.ts'
import { layerIndexOf } from './layers.ts'
import { childrenOf } from './step.ts'

/** A square grid of points over the data's extent (as Plot.decisionBoundary frames it): row r, column c is point r·resolution + c. */
export interface PlaneGrid {
  /** The points [resolution², 2], row by row from the bottom (y0) up, each row from left (x0) to right. */
  readonly points: T.Tensor
  readonly resolution: number
  readonly x0: number
  readonly x1: number
  readonly y0: number
  readonly y1: number
}

/**
 * A resolution × resolution grid over a 2-D data set: a square around the data (one unit is as
 * long on both axes) widened by `margin` of its larger range, each point the centre of a cell.
 */
export const planeGrid = (data: Data.Dataset, resolution = 40, margin = 0.1): PlaneGrid => {
  if (data.x.shape.length !== 2 || data.x.shape[1] !== 2)
    throw new Error(`planeGrid: the data must be points [N, 2], got [${data.x.shape.join(', ')}]`)
  const n = data.x.shape[0]!
  const range = (a: number): [number, number] => {
    let lo = Infinity
    let hi = -Infinity
    for (let i = 0; i < n; i++) {
      lo = Math.min(lo, data.x.data[2 * i + a]!)
      hi = Math.max(hi, data.x.data[2 * i + a]!)
    }
    return [lo, hi]
  }
  const [[ax, bx], [ay, by]] = [range(0), range(1)]
  const half = ((Math.max(bx - ax, by - ay) || 1) * (1 + 2 * margin)) / 2
  const [x0, x1, y0, y1] = [(ax + bx) / 2 - half, (ax + bx) / 2 + half, (ay + by) / 2 - half, (ay + by) / 2 + half]
  const points = T.generate([resolution * resolution, 2], (i) => {
    const k = Math.floor(i / 2)
    return i % 2 === 0
      ? x0 + ((k % resolution) + 0.5) * ((x1 - x0) / resolution)
      : y0 + (Math.floor(k / resolution) + 0.5) * ((y1 - y0) / resolution)
  })
  return { points, resolution, x0, x1, y0, y1 }
}

/** One layer's output on a batch, under the layer's name. */
export interface LayerOutput {
  readonly layer: number
  readonly name: string
  readonly y: T.Tensor
}

/** Each layer's output on a batch x, in eval mode, through the network wrapped by `Train.instrument` (one forward pass). */
export const layerOutputs = (b: Built, params: Tree.Tree, state: Tree.Tree, x: T.Tensor): LayerOutput[] => {
  const out: LayerOutput[] = []
  const traced = Train.instrument(b.model, {
    forward: (site, _p, _x, run) => {
      const r = run()
      const i = layerIndexOf(site.path)
      if (i !== undefined) out.push({ layer: i, name: b.shapes[i]!.name, y: r.y })
      return r
    },
  })
  traced.forward(params, state, x, { mode: 'eval', key: Key.fromSeed(0) })
  return out
}

/** One unit's activation over a plane grid: resolution² values, row by row as the grid's points. */
export interface UnitMap {
  readonly unit: number
  readonly values: Float64Array
}

/** A layer's units over the grid, with the range of all their values (for one colour scale per layer). */
export interface LayerMaps {
  readonly layer: number
  readonly name: string
  readonly units: readonly UnitMap[]
  readonly min: number
  readonly max: number
}

/**
 * Every unit's activation over a grid of the input plane, layer by layer (the layers with a flat
 * output; at most `maxUnits` units each, default 32): what each neuron responds to.
 */
export const unitMaps = (b: Built, params: Tree.Tree, state: Tree.Tree, grid: PlaneGrid, maxUnits = 32): LayerMaps[] =>
  layerOutputs(b, params, state, grid.points)
    .filter((o) => o.y.shape.length === 2)
    .map(({ layer, name, y }) => {
      const [cells, width] = [y.shape[0]!, y.shape[1]!]
      const units = Array.from({ length: Math.min(width, maxUnits) }, (_, u) => ({
        unit: u,
        values: Float64Array.from({ length: cells }, (_, k) => y.data[k * width + u]!),
      }))
      let min = Infinity
      let max = -Infinity
      for (const { values } of units) for (const v of values) [min, max] = [Math.min(min, v), Math.max(max, v)]
      return { layer, name, units, min, max }
    })

/** The predicted class over a grid and its probability (after a softmax of the scores, unless the network ends with one). */
export interface ClassMap {
  readonly classes: Int32Array
  readonly probability: Float64Array
}

/** The class the network predicts at each point (argmax of its output) and that class's probability. */
export const classMap = (b: Built, params: Tree.Tree, state: Tree.Tree, points: T.Tensor): ClassMap => {
  const y = Train.predict(b.model, params, state, points)
  const last = b.config.layers[b.config.layers.length - 1]!.kind
  const p = last === 'softmax' ? y : L.softmaxRows(y)
  const classes = T.argmaxRows(y)
  const c = y.shape[1]!
  return { classes, probability: Float64Array.from(classes, (k, i) => p.data[i * c + k]!) }
}

/** The name a person reads for a layer path as the library writes it (`pipe[2].dense` → "dense 2 (16→16)"); other paths as they are. */
export const layerNameOf = (b: Built, path: string): string => {
  const i = layerIndexOf(path)
  return (i === undefined ? undefined : b.shapes[i]?.name) ?? path
}

/** Per-layer gradient norms on a batch (Plot.gradientNorms, as a training step computes them), under the layers' names. */
export const gradientNorms = (b: Built, ts: Train.TrainState, batch: Data.Batch): Plot.LayerGradientNorm[] =>
  Plot.gradientNorms({ model: b.model, params: ts.params, state: ts.state, batch, loss: b.loss }).map((g) => ({
    ...g,
    layer: layerNameOf(b, g.layer),
  }))

/** The history and gradient norms so far, and the callbacks for `Train.fit` / `Train.fitAsync` that record them. */
export interface Recorder {
  readonly history: Train.History
  /** Per-layer gradient norms on the probe batch after step 1 and every `every` steps, named for people (Plot.gradientNormChart draws them). */
  readonly gradients: () => readonly Plot.GradientNormRecord[]
  readonly callbacks: readonly Train.Callbacks<Train.TrainState>[]
  /** The probe batch the gradient norms are measured on. */
  readonly probe: Data.Batch
}

/**
 * Records each step and epoch of a run and the per-layer gradient norms on a probe batch (`probe`
 * examples, default 256, evenly spaced through the data, so a set stored class by class gives
 * every class) every `every` steps. The default `every` records about 100 times a run, and no
 * more often than once per probe-sized stretch of training (probe ÷ batch size steps): the
 * probe's passes cost at most as much as the training they watch.
 * @example const rec = recorder(run); await Train.fitAsync({ ...fitOptions(run), callbacks: rec.callbacks })
 */
export const recorder = (b: Built, options: { readonly every?: number; readonly probe?: number } = {}): Recorder => {
  const steps: Train.StepRecord[] = []
  const epochs: Train.EpochRecord[] = []
  const size = b.data.x.shape[0]!
  const n = Math.min(options.probe ?? 256, size)
  const rows = Int32Array.from({ length: n }, (_, i) => Math.floor((i * size) / n))
  const probe = { x: T.gatherRows(b.data.x, rows), y: T.gatherRows(b.data.y, rows) }
  const every = options.every ?? Math.max(Math.ceil(b.totalSteps / 100), Math.ceil(n / b.config.batchSize))
  const grads = Plot.recordGradientNorms({ model: b.model, loss: b.loss, batch: probe, every })
  return {
    history: { steps, epochs },
    probe,
    gradients: () => grads.records().map((r) => ({ ...r, layer: layerNameOf(b, r.layer) })),
    callbacks: [
      {
        onStep: ({ step, epoch, metrics }) => void steps.push({ step, epoch, loss: metrics.loss, accuracy: metrics.accuracy }),
        onEpochEnd: ({ record }) => void epochs.push(record),
      },
      grads.callbacks,
    ],
  }
}

/** The first layer's weights as pictures: a conv2d's kernels (for Plot.convFilters), or a dense's on a flattened image (for Plot.denseWeights). */
export type FirstLayerWeights =
  | { readonly kind: 'conv2d'; readonly name: string; readonly W: T.Tensor }
  | { readonly kind: 'dense'; readonly name: string; readonly W: T.Tensor; readonly imageShape: readonly [number, number] }

/** The weights of the first layer with params, when they picture the input: conv2d kernels, or a dense right after a flatten of the image. */
export const firstLayerWeights = (b: Built, params: Tree.Tree): FirstLayerWeights | undefined => {
  const i = b.config.layers.findIndex((l) => l.kind === 'conv2d' || l.kind === 'dense')
  const c = b.config.layers[i]
  if (c === undefined) return undefined
  const W = Tree.leavesWithPaths(childrenOf(params)[i]!).find((l) => l.path === 'W')!.leaf
  const name = b.shapes[i]!.name
  if (c.kind === 'conv2d') return { kind: 'conv2d', name, W }
  const image = b.inShape.length === 3 && b.config.layers.slice(0, i).every((l) => l.kind === 'flatten') ? b.inShape : undefined
  return image === undefined ? undefined : { kind: 'dense', name, W, imageShape: [image[1]!, image[2]!] }
}

/** Each layer's output for one example of a data set (the batch axis dropped): a digit's path through the network. */
export const exampleActivations = (b: Built, params: Tree.Tree, state: Tree.Tree, data: Data.Dataset, index: number): LayerOutput[] => {
  const x = T.gatherRows(data.x, [index])
  return layerOutputs(b, params, state, x).map((o) => ({ ...o, y: T.reshape(o.y.shape.slice(1))(o.y) }))
}

/** The examples a network gets wrong: their rows, images, true and predicted classes, and the accuracy over the set. */
export interface Mistakes {
  readonly rows: readonly number[]
  /** The first `max` wrong examples' inputs, [M, ...]. */
  readonly x: T.Tensor
  readonly labels: Int32Array
  readonly predictions: Int32Array
  /** Wrong examples in the whole set. */
  readonly total: number
  readonly accuracy: number
}

/** The first `max` (default 32) examples of a set the network classifies wrongly, from Train.evaluate's predictions. */
export const mistakes = (b: Built, params: Tree.Tree, state: Tree.Tree, data: Data.Dataset, max = 32): Mistakes => {
  const { predictions, accuracy } = Train.evaluate(b.model, params, state, data, { loss: b.loss })
  const labels = data.y.shape.length === 1 ? Int32Array.from(data.y.data) : T.argmaxRows(data.y)
  const wrong: number[] = []
  for (let i = 0; i < labels.length; i++) if (labels[i] !== predictions![i]) wrong.push(i)
  const rows = wrong.slice(0, max)
  return {
    rows,
    x: T.gatherRows(data.x, rows),
    labels: Int32Array.from(rows, (i) => labels[i]!),
    predictions: Int32Array.from(rows, (i) => predictions![i]!),
    total: wrong.length,
    accuracy: accuracy!,
  }
}

/**
 * When live training redraws its charts: after an epoch, once `everyMs` have passed since the
 * last redraw and at least every `run`/`maxRedraws` epochs have ended since it. The epoch floor
 * bounds a run's drawing by its length, not by the clock: on a loaded machine every epoch is
 * slower, and a clock alone would redraw after each of them, so the drawing would crowd out the
 * training it shows.
 * @example const due = redrawPacer(200, { maxRedraws: 25 }); due(8, 0) // true: the first 8 epochs (200/25) have ended
 */
export const redrawPacer = (
  run: number,
  options: { readonly everyMs?: number; readonly maxRedraws?: number } = {},
): ((epoch: number, now: number) => boolean) => {
  const everyMs = options.everyMs ?? 300
  const every = Math.max(1, Math.ceil(run / (options.maxRedraws ?? 25)))
  let [lastEpoch, lastAt] = [0, -Infinity]
  return (epoch, now) => {
    if (epoch - lastEpoch < every || now - lastAt < everyMs) return false
    ;[lastEpoch, lastAt] = [epoch, now]
    return true
  }
}

/**
 * What to try when a run's loss becomes non-finite (the library's NonFiniteError), said in the
 * page's words: almost always a learning rate too large for the network, named with its value.
 * @example nonFiniteHint({ ...defaults('spiral'), lr: { kind: 'constant', value: 1e200 } }) // "… the learning rate, 1e200, …"
 */
export const nonFiniteHint = (c: Config): string =>
  `The loss grew past what a float holds: the learning rate, ${c.lr.kind === 'constant' ? c.lr.value : `the schedule ${lrToken(c.lr)}`}, ` +
  'is most likely too large for this network; try one ten times smaller in Build.'
