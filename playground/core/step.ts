/**
 * One SGD step as a list of stages, from the library's own numbers: the step is `Train.trainStep`
 * run on the network wrapped by `Train.instrument`, whose hooks record each layer's input,
 * output and tape on the way forward, the loss and its gradient, each layer's dy, dx and dp on
 * the way back, and then the optimizer's update (params and optimizer state before and after).
 * Each backward stage carries a gradient check: its analytic dx and dparams against central
 * differences of φ = ⟨dy, layer(x, p)⟩ on a few sampled coordinates (with the library's
 * `Gradcheck.nudge` and `Gradcheck.mixedError`).
 *
 *   forward 1 … forward n → loss → backward n … backward 1 → update
 */
import { Gradcheck, Key, L, type Loss, Train, Tree, T } from 'chainrule'
import type { Data } from 'chainrule'
import type { Built } from './build.ts'
import type { LayerKind, LossName, OptimizerConfig } from './config.ts'
import { layerIndexOf, mathsOf, readingOf, type Reading } from './layers.ts'

/** A tensor with the name a person reads: "W", "b", "x", "mask", "dense 1 (2→16) W". */
export interface Named {
  readonly name: string
  readonly tensor: T.Tensor
}

/** One thing a layer's tape keeps: a tensor, or a description of a value that is not one (a shape, a mode). */
export interface TapeEntry {
  readonly name: string
  readonly value: T.Tensor | string
  /** The values are indices (max-pool's argmax: where in x each window's max was), not magnitudes. */
  readonly indices?: true
}

/** A layer's forward pass in the step. */
export interface ForwardStage {
  readonly kind: 'forward'
  /** The layer's index in the configuration, from 0. */
  readonly layer: number
  /** "dense 1 (2→16)". */
  readonly name: string
  readonly layerKind: LayerKind
  readonly formula: string
  /** The library source to read for it (see `readingOf`). */
  readonly source: Reading
  readonly params: readonly Named[]
  readonly x: T.Tensor
  readonly y: T.Tensor
  /** What the forward keeps for the vjp. */
  readonly tape: readonly TapeEntry[]
  /** The layer's state (batchNorm's running statistics) before and after the forward; empty for other layers. */
  readonly stateBefore: readonly Named[]
  readonly stateAfter: readonly Named[]
}

/** The loss on the batch: its value and its gradient, the cotangent that starts backprop. */
export interface LossStage {
  readonly kind: 'loss'
  readonly name: string
  readonly loss: LossName
  readonly formula: string
  readonly prediction: T.Tensor
  readonly target: T.Tensor
  readonly value: number
  /** ∂loss/∂prediction: the last layer's dy. */
  readonly grad: T.Tensor
  /** softmax(z) row by row, for softmaxCrossEntropy (whose gradient is (softmax(z) − onehot(y))/N); undefined for the others. */
  readonly probabilities: T.Tensor | undefined
}

/**
 * One entry of the loss's gradient for example n, class c, in the factors of its formula: the
 * gradient is (p − t)/d for softmaxCrossEntropy (p = softmax(z), t = onehot(y), d = N) and mse
 * (p the prediction, t the target, d = K/2), and −t/d for crossEntropy (d = N·p).
 */
export interface LossGradientEntry {
  readonly c: number
  readonly p: number
  readonly t: number
  readonly d: number
  /** The library's value of ∂loss/∂prediction[n, c]. */
  readonly grad: number
}

/** The loss's gradient for example n, class by class, with the factors its formula combines (see LossGradientEntry). */
export const lossGradientOf = (s: LossStage, n: number): LossGradientEntry[] => {
  const [N, C] = [s.prediction.shape[0]!, s.prediction.shape[1]!]
  const p = s.probabilities ?? s.prediction
  return Array.from({ length: C }, (_, c) => {
    const t = s.target.shape.length === 1 ? (s.target.data[n] === c ? 1 : 0) : s.target.data[n * C + c]!
    const pc = p.data[n * C + c]!
    const d = s.loss === 'mse' ? (N * C) / 2 : s.loss === 'crossEntropy' ? N * pc : N
    return { c, p: pc, t, d, grad: s.grad.data[n * C + c]! }
  })
}

/** One term of the chain rule at a checked coordinate θ: an output y[k] that θ moves, its cotangent dy[k], and ∂y[k]/∂θ. */
export interface ChainTerm {
  /** k, the output's index in y. */
  readonly index: readonly number[]
  readonly dy: number
  /** ∂y[k]/∂θ, by central difference: (y(θ + h)[k] − y(θ − h)[k]) / 2h. */
  readonly local: number
}

/** How many of a row's chain-rule terms it keeps (those of largest |dy[k]·∂y[k]/∂θ|); `termCount` counts them all. */
export const MAX_TERMS = 6

/** One sampled coordinate of a gradient check. */
export interface CheckRow {
  /** 'dx' or the param's name ('W', 'b', 'gamma', ...). */
  readonly where: string
  readonly index: readonly number[]
  readonly analytic: number
  /** The central difference (φ(θ + h) − φ(θ − h)) / 2h. */
  readonly numeric: number
  /** The one-sided differences (φ(θ) − φ(θ − h)) / h and (φ(θ + h) − φ(θ)) / h, the slopes just left and right of θ. */
  readonly left: number
  readonly right: number
  /**
   * True where φ has a kink at this coordinate (a relu input at 0, a tie in a max-pool window):
   * the one-sided differences disagree, so there is no derivative, and the vjp's value is a
   * one-sided one (a subgradient).
   */
  readonly kink: boolean
  /**
   * Gradcheck.mixedError, |a − n| / max(1, |a|, |n|), of the analytic value against the central
   * difference, or at a kink against the nearest of it and the two one-sided differences.
   */
  readonly error: number
  /**
   * The chain rule at θ, what the vjp computes: analytic = Σₖ dy[k]·∂y[k]/∂θ over the outputs y[k] that θ moves (the
   * others' ∂y[k]/∂θ is 0). The terms of largest |dy[k]·∂y[k]/∂θ|, at most MAX_TERMS, in the order of k; their full sum
   * is the central difference `numeric`.
   */
  readonly terms: readonly ChainTerm[]
  /** How many outputs θ moves: the number of terms in the full sum. */
  readonly termCount: number
}

/** A layer's gradient check: sampled coordinates of dx and of each param, and the worst error. */
export interface Check {
  readonly rows: readonly CheckRow[]
  readonly maxError: number
  readonly tolerance: number
  readonly ok: boolean
  /** The finite-difference step. */
  readonly h: number
}

/** A layer's vjp in the step. */
export interface BackwardStage {
  readonly kind: 'backward'
  readonly layer: number
  readonly name: string
  readonly layerKind: LayerKind
  readonly formula: string
  /** The library source to read for it (see `readingOf`). */
  readonly source: Reading
  /** The cotangent of the layer's output. */
  readonly dy: T.Tensor
  /** What the forward kept on its tape, which the vjp reads (dropout's mask, relu's x). */
  readonly tape: readonly TapeEntry[]
  /** The cotangent of its input; undefined for the first layer, whose input is data: a training step does not compute it. */
  readonly dx: T.Tensor | undefined
  /** The gradient of each param. */
  readonly dp: readonly Named[]
  readonly check: Check
}

/** One param before and after the optimizer's update. */
export interface ParamUpdate {
  readonly layer: number
  /** "dense 1 (2→16) W". */
  readonly name: string
  readonly grad: T.Tensor
  readonly before: T.Tensor
  readonly after: T.Tensor
  /** after − before: what the update did (−lr·g for plain SGD), visible where before and after agree to the digits shown. */
  readonly change: T.Tensor
}

/** One leaf of the optimizer state before and after the update. */
export interface OptStateUpdate {
  /** The leaf's path in the optimizer state, e.g. "[0].mu[2].W". */
  readonly path: string
  /** Its name for people: "mu of dense 2 (16→16) W", "count of scaleByAdam" (a leaf of no param: the transform's own). */
  readonly name: string
  readonly before: T.Tensor
  readonly after: T.Tensor
}

/** The optimizer's update: the rule, the learning rate used, params and optimizer state before and after. */
export interface UpdateStage {
  readonly kind: 'update'
  readonly name: string
  readonly formula: string
  /** The learning rate at this step (the schedule's value at the step count). */
  readonly lr: number
  readonly params: readonly ParamUpdate[]
  readonly optState: readonly OptStateUpdate[]
  /** One coordinate's update worked by hand, for sgd and adam; undefined for the other optimizers. */
  readonly byHand: ByHand | undefined
}

/**
 * One coordinate's update worked by hand, from the numbers the stage shows: the first param's
 * coordinate of largest |g|, the lines of the optimizer's rule with their values, and `p` after
 * the update recomputed from them in float64, beside the library's.
 */
export interface ByHand {
  /** The param's name, as the stage names it ("dense 1 (2→16) W"). */
  readonly param: string
  readonly index: readonly number[]
  /** The rule's lines with their numbers, in order, the last giving p after the update. */
  readonly lines: readonly string[]
  /** p after the update, recomputed from the numbers in the lines. */
  readonly recomputed: number
  /** p after the update, as the library computed it. */
  readonly after: number
}

/** A number as a line of a worked update writes it: 4 significant digits (1.235e-7, 0.1235). */
const fig = (v: number): string => String(Number(v.toPrecision(4)))

/**
 * One coordinate's update worked by hand (see ByHand), for plain, momentum, Nesterov or decayed sgd and for adam; undefined
 * for the other optimizers, and for a network without params.
 */
export const updateByHand = (s: Pick<UpdateStage, 'params' | 'optState' | 'lr'>, o: OptimizerConfig): ByHand | undefined => {
  const p = s.params[0]
  if (p === undefined || p.grad.data.length === 0 || (o.name !== 'sgd' && o.name !== 'adam')) return undefined
  let k = 0
  p.grad.data.forEach((g, i) => void (Math.abs(g) > Math.abs(p.grad.data[k]!) && (k = i)))
  const leaf = (field: string, when: 'before' | 'after'): number | undefined => {
    const l = s.optState.find((u) => u.name === `${field} of ${p.name}`)
    return l?.[when].data[k]
  }
  const [p0, p1, lr] = [p.before.data[k]!, p.after.data[k]!, s.lr]
  const g0 = p.grad.data[k]!
  const lines = [`g = ${fig(g0)}, p = ${fig(p0)}, lr = ${fig(lr)}`]
  let recomputed: number
  if (o.name === 'sgd') {
    const g = o.weightDecay > 0 ? g0 + o.weightDecay * p0 : g0
    if (o.weightDecay > 0) lines.push(`g ← g + λp = ${fig(g0)} + ${fig(o.weightDecay)} × ${fig(p0)} = ${fig(g)}`)
    if (o.momentum === 0) {
      recomputed = p0 - lr * g
      lines.push(`p ← p − lr·g = ${fig(p0)} − ${fig(lr)} × ${fig(g)} = ${fig(recomputed)}`)
    } else {
      const [b0, b1] = [leaf('trace', 'before') ?? 0, leaf('trace', 'after') ?? 0]
      lines.push(`b ← g + μb = ${fig(g)} + ${fig(o.momentum)} × ${fig(b0)} = ${fig(b1)}`)
      const u = o.nesterov ? g + o.momentum * b1 : b1
      recomputed = p0 - lr * u
      lines.push(
        o.nesterov
          ? `p ← p − lr·(g + μb) = ${fig(p0)} − ${fig(lr)} × (${fig(g)} + ${fig(o.momentum)} × ${fig(b1)}) = ${fig(recomputed)}`
          : `p ← p − lr·b = ${fig(p0)} − ${fig(lr)} × ${fig(b1)} = ${fig(recomputed)}`,
      )
    }
  } else {
    const [m0, m1, v0, v1] = [leaf('mu', 'before') ?? 0, leaf('mu', 'after') ?? 0, leaf('nu', 'before') ?? 0, leaf('nu', 'after') ?? 0]
    const t = s.optState.find((u) => u.name === 'count of scaleByAdam')?.after.data[0] ?? 1
    const [mh, vh] = [m1 / (1 - o.b1 ** t), v1 / (1 - o.b2 ** t)]
    recomputed = p0 - (lr * mh) / (Math.sqrt(vh) + o.eps)
    lines.push(
      `m ← β₁m + (1−β₁)g = ${fig(o.b1)} × ${fig(m0)} + ${fig(1 - o.b1)} × ${fig(g0)} = ${fig(m1)}`,
      `v ← β₂v + (1−β₂)g² = ${fig(o.b2)} × ${fig(v0)} + ${fig(1 - o.b2)} × ${fig(g0 * g0)} = ${fig(v1)}`,
      `t = ${t}: m̂ = m/(1−β₁ᵗ) = ${fig(mh)}, v̂ = v/(1−β₂ᵗ) = ${fig(vh)}, √v̂ = ${fig(Math.sqrt(vh))}`,
      `p ← p − lr·m̂/(√v̂ + ε) = ${fig(p0)} − ${fig(lr)} × ${fig(mh)}/(${fig(Math.sqrt(vh))} + ${fig(o.eps)}) = ${fig(recomputed)}`,
    )
  }
  return { param: p.name, index: unravel(p.before.shape, k), lines, recomputed, after: p1 }
}

/** A stage of the step. */
export type Stage = ForwardStage | LossStage | BackwardStage | UpdateStage

/** The step's stages in order, the training states before and after, and the step's metrics. */
export interface Step {
  readonly stages: readonly Stage[]
  readonly before: Train.TrainState
  readonly after: Train.TrainState
  readonly metrics: Train.Metrics
  readonly batch: Data.Batch
}

/** Options of stepThrough. */
export interface StepOptions {
  /** Coordinates sampled per tensor for the gradient checks (default 3). */
  readonly samples?: number
  /** Finite-difference step (default 1e-6, as Gradcheck's). */
  readonly h?: number
  /** Largest acceptable error (default 1e-6, as Gradcheck's). */
  readonly tolerance?: number
}

/** The loss's formula, for the loss stage. */
export const lossFormula: { readonly [K in LossName]: string } = {
  softmaxCrossEntropy: 'L = −(1/N) Σₙ log softmax(zₙ)[yₙ],  ∂L/∂z = (softmax(z) − onehot(y))/N',
  crossEntropy: 'L = −(1/N) Σₙ log pₙ[yₙ],  ∂L/∂p = −onehot(y)/(N·p)',
  mse: 'L = (1/K) Σ (p − t)² over the K = N·C entries,  ∂L/∂p = 2(p − t)/K',
}

/** The optimizer's update rule, per parameter, g being its gradient and t the step (from 1). */
export const updateFormula = (o: OptimizerConfig): string => {
  switch (o.name) {
    case 'sgd': {
      const decay = o.weightDecay > 0 ? 'g ← g + λp;  ' : ''
      if (o.momentum === 0) return `${decay}p ← p − lr·g`
      return o.nesterov ? `${decay}b ← g + μb;  p ← p − lr·(g + μb)` : `${decay}b ← g + μb;  p ← p − lr·b`
    }
    case 'adam':
      return 'm ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  p ← p − lr·m̂/(√v̂ + ε),  m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ)'
    case 'adamw':
      return 'm ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  p ← p − lr·(m̂/(√v̂ + ε) + λp)'
    case 'amsgrad':
      return 'm, v as adam;  v_max ← max(v_max, v);  p ← p − lr·m̂/(√(v_max/(1−β₂ᵗ)) + ε)'
    case 'nadam':
      return 'm, v as adam;  m̃ = β₁m/(1−β₁ᵗ⁺¹) + (1−β₁)g/(1−β₁ᵗ);  p ← p − lr·m̃/(√v̂ + ε)'
    case 'adamax':
      return 'm ← β₁m + (1−β₁)g;  u ← max(β₂u, |g| + ε);  p ← p − lr·(m/(1−β₁ᵗ))/u'
    case 'rmsprop':
      return o.momentum === 0 ? 'ν ← ρν + (1−ρ)g²;  p ← p − lr·g/(√ν + ε)' : 'ν ← ρν + (1−ρ)g²;  b ← g/(√ν + ε) + βb;  p ← p − lr·b'
    case 'adagrad':
      return 'Σ ← Σ + g²;  p ← p − lr·g/(√Σ + ε)'
  }
}

/**
 * The transforms of an optimizer's chain, in the order of its state tuple, as src/optim/alias.ts
 * chains them: adam is chain(scaleByAdam, scaleByLearningRate), so its state's [0] is scaleByAdam's.
 */
export const chainOf = (o: OptimizerConfig): readonly string[] => {
  const lr = 'scaleByLearningRate'
  switch (o.name) {
    case 'sgd':
      return [...(o.weightDecay > 0 ? ['addL2'] : []), ...(o.momentum > 0 ? ['traceMomentum'] : []), lr]
    case 'adam':
      return ['scaleByAdam', lr]
    case 'adamw':
      return ['scaleByAdam', 'addDecayedWeights', lr]
    case 'nadam':
      return ['scaleByNadam', lr]
    case 'amsgrad':
      return ['scaleByAmsgrad', lr]
    case 'adamax':
      return ['scaleByAdamax', lr]
    case 'rmsprop':
      return ['scaleByRms', ...(o.momentum > 0 ? ['traceMomentum'] : []), lr]
    case 'adagrad':
      return ['scaleByAdagrad', lr]
  }
}

/** The title of a stage, e.g. "forward: dense 1 (2→16)", "loss", "backward: relu 1", "update: adam". */
export const stageTitle = (s: Stage): string => `${s.kind}: ${s.name}`

const named = (tree: Tree.Tree, prefix = ''): Named[] =>
  Tree.leavesWithPaths(tree).map(({ path, leaf }) => ({ name: `${prefix}${path || '(value)'}`, tensor: leaf }))

/** What a tape keeps, entry by entry; `y` gives an index tape (max-pool's argmax) its shape. */
const tapeEntries = (tape: unknown, y: T.Tensor): TapeEntry[] => {
  if (tape === null || typeof tape !== 'object') return tape === undefined ? [] : [{ name: 'tape', value: String(tape) }]
  if (Tree.isTensor(tape)) return [{ name: 'tape', value: tape }]
  return Object.entries(tape).map(([name, v]: [string, unknown]): TapeEntry => {
    if (Tree.isTensor(v)) return { name, value: v }
    if (v instanceof Int32Array)
      return { name, value: T.fromArray(v.length === T.sizeOf(y.shape) ? y.shape : [v.length], v), indices: true }
    if (Array.isArray(v)) return { name, value: `[${v.join(', ')}]` }
    if (v === null) return { name, value: 'none (eval mode)' }
    return { name, value: String(v) }
  })
}

/** The multi-index of flat index i in a shape. */
const unravel = (shape: readonly number[], i: number): number[] => {
  const out = new Array<number>(shape.length).fill(0)
  let rest = i
  for (let a = shape.length - 1; a >= 0; a--) {
    out[a] = rest % shape[a]!
    rest = Math.floor(rest / shape[a]!)
  }
  return out
}

/** Child i's piece of a pipe forward's key, as `L.pipe` hands it out (checked against the recorded output before use). */
const childCtx = (stepKey: Key.Key, n: number, i: number): L.Ctx => ({
  mode: 'train',
  key: Key.split(Key.ctxKey({ key: stepKey }, 'pipe'), Math.max(n, 1))[i]!,
})

/** The children's trees of a pipe's params or state (a tuple, one per layer). */
export const childrenOf = (tree: Tree.Tree): readonly Tree.Tree[] => {
  if (!Array.isArray(tree)) throw new Error("childrenOf: a pipe's params and state are tuples, one tree per layer")
  return tree
}

/** Recorded per layer during the step. */
interface Seen {
  p?: Tree.Tree
  x?: T.Tensor
  y?: T.Tensor
  tape?: unknown
  state?: Tree.Tree
  dy?: T.Tensor
  dx?: T.Tensor
  dp?: Tree.Tree
}

/**
 * Runs one training step (`Train.trainStep`) of a built run from a training state on a batch,
 * through the instrumented network, and returns every stage with the library's own numbers:
 * `after` is exactly what `Train.trainStep` gives for the same state and batch.
 * @example const step = stepThrough(run, initialState(run), firstBatch(run))
 */
export const stepThrough = (b: Built, ts: Train.TrainState, batch: Data.Batch, options: StepOptions = {}): Step => {
  const samples = options.samples ?? 3
  const h = options.h ?? 1e-6
  const tolerance = options.tolerance ?? 1e-6
  const n = b.layers.length
  const seen: Seen[] = Array.from({ length: n }, () => ({}))
  const traced = Train.instrument(b.model, {
    forward: (site, p, x, run) => {
      const r = run()
      const i = layerIndexOf(site.path)
      if (i !== undefined) Object.assign(seen[i]!, { p, x, y: r.y, tape: r.tape, state: r.state })
      return r
    },
    vjp: (site, _p, dy, run) => {
      const r = run()
      const i = layerIndexOf(site.path)
      if (i !== undefined) Object.assign(seen[i]!, { dy, dx: r.dx, dp: r.dp })
      return r
    },
  })
  let lossSeen: { prediction: T.Tensor; target: T.Tensor; value: number; grad: T.Tensor } | undefined
  const loss: Loss.Loss = (prediction, target) => {
    const r = b.loss(prediction, target)
    lossSeen = { prediction, target, value: r.value, grad: r.grad }
    return r
  }
  const [after, metrics] = Train.trainStep(traced, loss, b.optimizer)(ts, batch)
  const [stepKey] = Key.split2(ts.key) // trainStep's forward key
  const states = childrenOf(ts.state)
  const name = (i: number): string => b.shapes[i]!.name
  const kind = (i: number): LayerKind => b.config.layers[i]!.kind

  const forward = seen.map((s, i): ForwardStage => ({
    kind: 'forward',
    layer: i,
    name: name(i),
    layerKind: kind(i),
    formula: mathsOf(kind(i)).forward,
    source: readingOf(kind(i), 'forward'),
    params: named(s.p!),
    x: s.x!,
    y: s.y!,
    tape: tapeEntries(s.tape, s.y!),
    stateBefore: named(states[i]!),
    stateAfter: named(s.state!),
  }))
  const lossStage: LossStage = {
    kind: 'loss',
    name: b.config.loss,
    loss: b.config.loss,
    formula: lossFormula[b.config.loss],
    ...lossSeen!,
    probabilities: b.config.loss === 'softmaxCrossEntropy' ? L.softmaxRows(lossSeen!.prediction) : undefined,
  }
  const backward = seen
    .map((s, i): BackwardStage => {
      const ctx = childCtx(stepKey, n, i)
      return {
        kind: 'backward',
        layer: i,
        name: name(i),
        layerKind: kind(i),
        formula: mathsOf(kind(i)).vjp,
        source: readingOf(kind(i), 'vjp'),
        dy: s.dy!,
        tape: tapeEntries(s.tape, s.y!),
        dx: i === 0 ? undefined : s.dx,
        dp: named(s.dp!),
        check: checkLayer(b.layers[i]!, s, states[i]!, ctx, {
          samples,
          h,
          tolerance,
          key: Key.foldIn(Key.fromSeed(b.config.seed), i),
          dx: i > 0,
        }),
      }
    })
    .reverse()
  const rate = typeof b.lr === 'number' ? b.lr : b.lr(ts.step)
  const params = paramUpdates(b, ts.params, after.params, seen)
  const optState = optStateUpdates(b, ts.params, ts.optState, after.optState)
  const update: UpdateStage = {
    kind: 'update',
    name: b.config.optimizer.name,
    formula: updateFormula(b.config.optimizer),
    lr: rate,
    params,
    optState,
    byHand: updateByHand({ params, optState, lr: rate }, b.config.optimizer),
  }
  return { stages: [...forward, lossStage, ...backward, update], before: ts, after, metrics, batch }
}

/**
 * A layer's gradient check on sampled coordinates: φ(x, p) = ⟨dy, layer(p, s, x)⟩ with the key
 * the layer had in the step, so ∂φ/∂x = dx and ∂φ/∂p = dp, against central differences. The
 * first layer's input is the data: the step computes no dx there, and its check has only dparams.
 */
const checkLayer = (
  layer: L.AnyLayer,
  s: Seen,
  state: Tree.Tree,
  ctx: L.Ctx,
  o: { readonly samples: number; readonly h: number; readonly tolerance: number; readonly key: Key.Key; readonly dx: boolean },
): Check => {
  const x = s.x!
  const p = s.p!
  const dy = s.dy!
  const out = (xi: T.Tensor, pi: Tree.Tree): T.Tensor => layer.forward(pi, state, xi, ctx).y
  const replay = layer.forward(p, state, x, ctx).y
  const here = T.dot(dy, replay)
  if (!replay.data.every((v, i) => Object.is(v, s.y!.data[i])))
    throw new Error(
      `stepThrough: the layer's forward, replayed with its key, does not give the step's output (the pipe's key split changed?)`,
    )
  const rows: CheckRow[] = []
  const keys = Key.split(o.key, 1 + Tree.leaves(p).length)
  const sample = (where: string, at: T.Tensor, analytic: T.Tensor, k: Key.Key, f: (t: T.Tensor) => T.Tensor): void => {
    const picks = Key.permutation(k, at.data.length).subarray(0, Math.min(o.samples, at.data.length))
    for (const i of picks) {
      const [yUp, yDown] = [f(Gradcheck.nudge(at, i, o.h)), f(Gradcheck.nudge(at, i, -o.h))]
      const [up, down] = [T.dot(dy, yUp), T.dot(dy, yDown)]
      const { terms, termCount } = chainTerms(dy, yUp, yDown, o.h)
      const numeric = (up - down) / (2 * o.h)
      const [right, left] = [(up - here) / o.h, (here - down) / o.h]
      const kink = Gradcheck.mixedError(left, right) > o.tolerance
      const a = analytic.data[i]!
      const error = Gradcheck.mixedError(a, numeric)
      rows.push({
        where,
        index: unravel(at.shape, i),
        analytic: a,
        numeric,
        left,
        right,
        kink,
        error: kink ? Math.min(error, Gradcheck.mixedError(a, left), Gradcheck.mixedError(a, right)) : error,
        terms,
        termCount,
      })
    }
  }
  if (o.dx && s.dx !== undefined) sample('dx', x, s.dx, keys[0]!, (xi) => out(xi, p))
  const grads = Tree.leavesLike(p, s.dp!)
  Tree.leavesWithPaths(p).forEach(({ path, leaf }, j) =>
    sample(path, leaf, grads[j]!, keys[j + 1]!, (t) =>
      out(
        x,
        Tree.map(p, (u, q) => (q === path ? t : u)),
      ),
    ),
  )
  const maxError = rows.reduce((m, r) => Math.max(m, r.error), 0)
  return { rows, maxError, tolerance: o.tolerance, ok: maxError <= o.tolerance, h: o.h }
}

/**
 * The chain rule's terms at a nudged coordinate θ: each output k that the nudge moved, with dy[k] and ∂y[k]/∂θ =
 * (y⁺[k] − y⁻[k]) / 2h; the MAX_TERMS of largest |dy[k]·∂y[k]/∂θ| are kept, in the order of k, and all are counted.
 */
const chainTerms = (dy: T.Tensor, up: T.Tensor, down: T.Tensor, h: number): { terms: ChainTerm[]; termCount: number } => {
  const moved: number[] = []
  for (let k = 0; k < up.data.length; k++) if (up.data[k] !== down.data[k]) moved.push(k)
  const local = (k: number): number => (up.data[k]! - down.data[k]!) / (2 * h)
  const size = (k: number): number => Math.abs(dy.data[k]! * local(k))
  const kept = [...moved]
    .sort((a, b) => size(b) - size(a) || a - b)
    .slice(0, MAX_TERMS)
    .sort((a, b) => a - b)
  return { terms: kept.map((k) => ({ index: unravel(up.shape, k), dy: dy.data[k]!, local: local(k) })), termCount: moved.length }
}

const paramUpdates = (b: Built, before: Tree.Tree, after: Tree.Tree, seen: readonly Seen[]): ParamUpdate[] =>
  childrenOf(before).flatMap((p, i) => {
    const afters = Tree.leavesLike(p, childrenOf(after)[i]!)
    const grads = Tree.leavesLike(p, seen[i]!.dp!)
    return Tree.leavesWithPaths(p).map(({ path, leaf }, j) => ({
      layer: i,
      name: `${b.shapes[i]!.name} ${path}`,
      grad: grads[j]!,
      before: leaf,
      after: afters[j]!,
      change: T.sub(afters[j]!, leaf),
    }))
  })

/** The optimizer state's leaves before and after, each named by the param it belongs to (when its path ends with one). */
const optStateUpdates = (b: Built, params: Tree.Tree, before: Tree.Tree, after: Tree.Tree): OptStateUpdate[] => {
  const paramPaths = Tree.leavesWithPaths(params).map(({ path }) => path)
  const afters = Tree.leavesLike(before, after)
  return Tree.leavesWithPaths(before).map(({ path, leaf }, j) => {
    const owner = paramPaths.find((q) => path.endsWith(q) && path.length > q.length)
    const field = (owner === undefined ? path : path.slice(0, -owner.length)).replace(/^\[\d+\]\.?/, '').replace(/\.$/, '') || 'value'
    const layer = owner === undefined ? undefined : Number(/^\[(\d+)\]/.exec(owner)![1])
    const paramName = owner?.replace(/^\[\d+\]\./, '')
    const part = /^\[(\d+)\]/.exec(path)
    const transform = part === null ? undefined : chainOf(b.config.optimizer)[Number(part[1])]
    return {
      path,
      name:
        layer === undefined
          ? transform === undefined
            ? field
            : `${field} of ${transform}`
          : `${field} of ${b.shapes[layer]!.name} ${paramName}`,
      before: leaf,
      after: afters[j]!,
    }
  })
}
