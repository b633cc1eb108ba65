/**
 * Gradient norms per layer over training: which layers learn and which starve (vanishing
 * gradients) or blow up. fit's callbacks do not see gradients (a step is one pure function), so
 * the recorder computes them itself: every k steps it runs one forward, loss and vjp of the
 * current params on a fixed probe batch, the same three calls a training step makes.
 */
import * as Key from '../key.ts'
import type { AnyBatch } from '../data/dataset.ts'
import type { Json, Layer, Spec } from '../layer.ts'
import type { Loss } from '../loss.ts'
import type { Callbacks } from '../train/fit.ts'
import type { TrainState } from '../train/state.ts'
import { asTensor, type DType } from '../tensor/tensor.ts'
import { inDType } from '../train/step.ts'
import * as Tree from '../tree.ts'
import { checkInt, checkOneOf, PlotError, round6, SCHEMA, type VegaLiteSpec } from './spec.ts'
import { checkOptions } from '../options.ts'

/** The gradient norm of one parameter leaf. */
export interface LeafGradientNorm {
  /** The leaf's path in the params tree, e.g. "[2].W". */
  readonly path: string
  /** The layer that owns it, in the error-path style: "pipe[2].dense". */
  readonly layer: string
  /** ‖∂loss/∂leaf‖₂. */
  readonly norm: number
  /** ‖leaf‖₂, for the relative size of a step. */
  readonly paramNorm: number
  /** Number of values in the leaf. */
  readonly size: number
}

/** The gradient norm of one layer: all its leaves together (‖(dW, db)‖₂). */
export interface LayerGradientNorm {
  readonly layer: string
  readonly norm: number
  readonly paramNorm: number
  readonly size: number
}

/** What gradientNorms needs: a model, its params and state, a batch and the loss. */
export interface GradientNormInput<P extends Tree.Tree, S extends Tree.Tree, Tape, PD extends Tree.Tree = P, SD extends Tree.Tree = S> {
  readonly model: Layer<P, S, Tape>
  /** The model's params and state: its own (float64's), or float32 (`Tree.Float32<P>`), or either (PD, SD). */
  readonly params: PD
  readonly state: SD
  readonly batch: AnyBatch
  readonly loss: Loss
  /** The forward's mode (default 'train', as in a training step) and key (default Key.fromSeed(0), so dropout masks repeat). */
  readonly mode?: 'train' | 'eval'
  readonly key?: Key.Key
}

const isSpec = (v: Json | undefined): v is Spec =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as { kind?: unknown }).kind === 'string'

/**
 * The layer owning a param leaf, named as error paths name layers (`pipe[2].dense`,
 * `pipe[1].residual.pipe[0].dense`): walk the model's spec along the leaf's path, where a
 * combinator with `children` consumes an index segment and one with a `body` (residual) passes
 * its params through. Paths the spec cannot explain keep their raw form (the path minus its key).
 */
export const ownerOf = (spec: Spec, path: string): string => {
  const segments = path.match(/\[\d+\]|[^.[\]]+/g) ?? []
  const names: string[] = []
  let s: Spec = spec
  let k = 0
  for (;;) {
    const children = s['children']
    const body = s['body']
    const seg = segments[k]
    if (Array.isArray(children) && seg !== undefined && seg.startsWith('[')) {
      const child = children[Number(seg.slice(1, -1))]
      if (!isSpec(child)) break
      names.push(`${s.kind}${seg}`)
      s = child
      k++
    } else if (isSpec(body)) {
      names.push(s.kind)
      s = body
    } else {
      names.push(s.kind)
      return names.join('.')
    }
  }
  return path.replace(/\.[^.[\]]+$/, '') || spec.kind
}

/**
 * ‖∂loss/∂p‖ for every param leaf on one batch: forward, loss, vjp, then the 2-norm of each
 * leaf of dp, as a training step would compute them (before the optimizer sees them), the batch
 * cast to the params' dtype as a step casts it.
 * @example leafGradientNorms({ model, params: state.params, state: state.state, batch, loss: Loss.softmaxCrossEntropy })
 * // [{ path: '[0].W', layer: 'pipe[0].dense', norm: 0.41, ... }, { path: '[0].b', ... }, ...]
 */
export function leafGradientNorms<P extends Tree.Tree, S extends Tree.Tree, Tape>(input: GradientNormInput<P, S, Tape>): LeafGradientNorm[]
export function leafGradientNorms<P extends Tree.Tree, S extends Tree.Tree, Tape>(input: GradientNormsIn<P, S, Tape>): LeafGradientNorm[]
export function leafGradientNorms<P extends Tree.Tree, S extends Tree.Tree, Tape>(
  input: GradientNormInput<P, S, Tape>,
): LeafGradientNorm[] {
  const { model, params, state } = input
  const batch = inDType(input.batch, Tree.dtypeOfTree(params)) // a float32 model's probe batch in float32, as a training step casts it
  const { y, tape } = model.forward(params, state, asTensor(batch.x), { mode: input.mode ?? 'train', key: input.key ?? Key.fromSeed(0) })
  const { grad } = input.loss(y, asTensor(batch.y))
  const { dp } = model.vjp(params, tape, grad)
  const ps = Tree.leavesLike(dp, params)
  return Tree.leavesWithPaths(dp).map(({ path, leaf }, i) => {
    let g = 0
    for (const v of leaf.data) g += v * v
    let p = 0
    for (const v of (ps[i] as { data: Float64Array }).data) p += v * v
    return { path, layer: ownerOf(model.spec, path), norm: Math.sqrt(g), paramNorm: Math.sqrt(p), size: leaf.data.length }
  })
}

/**
 * ‖∂loss/∂θ‖ per layer on one batch (θ: all of the layer's params), in the network's order.
 * @example
 * gradientNorms({ model, params: state.params, state: state.state, batch, loss }) // [{ layer: 'pipe[0].dense', norm: 0.43, ... }, ...]
 */
export function gradientNorms<P extends Tree.Tree, S extends Tree.Tree, Tape>(input: GradientNormInput<P, S, Tape>): LayerGradientNorm[]
export function gradientNorms<P extends Tree.Tree, S extends Tree.Tree, Tape>(input: GradientNormsIn<P, S, Tape>): LayerGradientNorm[]
export function gradientNorms<P extends Tree.Tree, S extends Tree.Tree, Tape>(input: GradientNormInput<P, S, Tape>): LayerGradientNorm[] {
  const byLayer = new Map<string, { g2: number; p2: number; size: number }>()
  for (const l of leafGradientNorms(input)) {
    const acc = byLayer.get(l.layer) ?? { g2: 0, p2: 0, size: 0 }
    byLayer.set(l.layer, { g2: acc.g2 + l.norm ** 2, p2: acc.p2 + l.paramNorm ** 2, size: acc.size + l.size })
  }
  return [...byLayer].map(([layer, a]) => ({ layer, norm: Math.sqrt(a.g2), paramNorm: Math.sqrt(a.p2), size: a.size }))
}

/** GradientNormInput with params and state in float32 or either dtype. */
export type GradientNormsIn<P extends Tree.Tree, S extends Tree.Tree, Tape> = GradientNormInput<
  P,
  S,
  Tape,
  Tree.InDType<P, DType>,
  Tree.InDType<S, DType>
>

/** One recorded measurement: a layer's gradient norm at a step. */
export interface GradientNormRecord extends LayerGradientNorm {
  /** Steps taken when it was measured (the params after that many updates). */
  readonly step: number
}

/** Options of recordGradientNorms. */
export interface RecordGradientNormsOptions<P extends Tree.Tree, S extends Tree.Tree, Tape> {
  readonly model: Layer<P, S, Tape>
  readonly loss: Loss
  /** A fixed probe batch (e.g. the first 256 training examples), so the measurements compare across steps. */
  readonly batch: AnyBatch
  /** Measure after step 1 and then every this many steps (default 10). */
  readonly every?: number
}

/** The recorder: callbacks for fit, and the records so far. */
export interface GradientNormRecorder<P extends Tree.Tree, S extends Tree.Tree> {
  /** For a fit in either dtype. */
  readonly callbacks: Callbacks<TrainState<Tree.InDType<P, DType>, Tree.InDType<S, DType>, Tree.Tree>>
  /** The measurements so far, oldest first (a copy). */
  readonly records: () => readonly GradientNormRecord[]
}

/**
 * fit callbacks that measure per-layer gradient norms on a probe batch after step 1 and every
 * `every` steps, with the params of that moment. Each measurement costs one forward and vjp of
 * the probe batch. Draw them with gradientNormChart.
 * @example
 * const grads = Plot.recordGradientNorms({ model, loss, batch: Data.slice(train, 0, 256), every: 20 })
 * Train.fit({ ...run, callbacks: [progress(), grads.callbacks] })
 * writePlot(Plot.gradientNormChart(grads.records()), 'out/gradients.png')
 */
export const recordGradientNorms = <P extends Tree.Tree, S extends Tree.Tree, Tape>(
  options: RecordGradientNormsOptions<P, S, Tape>,
): GradientNormRecorder<P, S> => {
  checkOptions('recordGradientNorms', options, ['model', 'loss', 'batch', 'every'], { unknown: PlotError })
  const every = checkInt('recordGradientNorms', 'every', options.every ?? 10)
  const records: GradientNormRecord[] = []
  return {
    callbacks: {
      onStep: ({ step, state }) => {
        if (step !== 1 && step % every !== 0) return
        for (const n of gradientNorms({
          model: options.model,
          params: state.params,
          state: state.state,
          batch: options.batch,
          loss: options.loss,
        }))
          records.push({ step, ...n })
      },
    },
    records: () => [...records],
  }
}

/** Options of gradientNormChart. */
export interface GradientNormChartOptions {
  /** 'norm' (default): ‖g‖ per layer. 'relative': ‖g‖ / ‖θ‖, how big a plain SGD step is against the weights. */
  readonly measure?: 'norm' | 'relative'
  /** The y axis (default 'log': norms of different layers differ by decades). */
  readonly scale?: 'log' | 'linear'
  readonly title?: string
  readonly width?: number
  readonly height?: number
}

/**
 * Per-layer gradient norms over the steps of training, one line per layer, on a log axis.
 * A line falling to the bottom is a layer whose gradient vanishes; one far above the rest
 * dominates the updates.
 * @example
 * const recorder = Plot.recordGradientNorms({ model, loss, batch })
 * Train.fit({ ...run, callbacks: recorder.callbacks })
 * writePlot(Plot.gradientNormChart(recorder.records()), 'out/gradients.png')
 */
export const gradientNormChart = (records: readonly GradientNormRecord[], options: GradientNormChartOptions = {}): VegaLiteSpec => {
  checkOptions('gradientNormChart', options, ['measure', 'scale', 'title', 'width', 'height'], { unknown: PlotError })
  if (!Array.isArray(records) || records.length === 0)
    throw new PlotError('gradientNormChart: no records (did training run for at least one step?)')
  checkOneOf('gradientNormChart', 'measure', options.measure, ['norm', 'relative'])
  checkOneOf('gradientNormChart', 'scale', options.scale, ['log', 'linear'])
  const isRecord = (r: unknown): boolean =>
    typeof r === 'object' && r !== null && 'layer' in r && typeof r.layer === 'string' && 'step' in r && typeof r.step === 'number'
  records.forEach((r: unknown, i) => {
    if (!isRecord(r))
      throw new PlotError(
        `gradientNormChart: records[${i}] must be a record { step, layer, norm, paramNorm } as recordGradientNorms makes, ` +
          `got ${JSON.stringify(r) ?? typeof r}`,
      )
  })
  records.forEach((r, i) => {
    for (const k of ['norm', 'paramNorm'] as const)
      if (!Number.isFinite(r[k]))
        throw new PlotError(
          `gradientNormChart: records[${i}].${k} is ${r[k]} (${r.layer} at step ${r.step}); a chart draws finite numbers only`,
        )
  })
  const relative = options.measure === 'relative'
  const log = (options.scale ?? 'log') === 'log'
  const layers = [...new Set(records.map((r) => r.layer))]
  const values = records.map((r) => ({ step: r.step, layer: r.layer, value: round6(relative ? r.norm / (r.paramNorm || 1) : r.norm) }))
  // a log axis cannot show 0 (a layer whose gradient is exactly zero): those points are dropped, and the subtitle says so
  const dropped = log ? values.filter((v) => !(v.value > 0)).length : 0
  const what = relative ? '‖gradient‖ / ‖weights‖' : '‖gradient‖'
  return {
    $schema: SCHEMA,
    title: {
      text: options.title ?? 'gradient norm per layer',
      subtitle: `${what} on a fixed probe batch${dropped > 0 ? `; ${dropped} zero values not drawn on the log axis` : ''}`,
    },
    width: options.width ?? 400,
    height: options.height ?? 220,
    data: { values: log ? values.filter((v) => v.value > 0) : values },
    mark: { type: 'line', point: records.length / layers.length <= 30, strokeWidth: 1.5 },
    encoding: {
      x: { field: 'step', type: 'quantitative', title: 'step' },
      y: { field: 'value', type: 'quantitative', title: what, scale: log ? { type: 'log' } : { zero: true }, axis: { format: '~g' } },
      color: {
        field: 'layer',
        type: 'nominal',
        title: 'layer',
        scale: { domain: layers, scheme: layers.length <= 10 ? 'tableau10' : 'category20' },
        legend: { labelLimit: 280 },
      },
      tooltip: [
        { field: 'layer', type: 'nominal' },
        { field: 'step', type: 'quantitative' },
        { field: 'value', type: 'quantitative', title: what, format: '.3~g' },
      ],
    },
  }
}
