/**
 * One training step, a pure function (TrainState, Batch) → [TrainState, Metrics]:
 *
 *   forward   y, tape     = model.forward(params, state, x)
 *   loss      value, dy   = loss(y, target)
 *   backward  dp          = model.vjp(params, tape, dy)        (backprop: the chain rule)
 *   update    updates, o' = optimizer.update(dp, optState, params)
 *             params'     = params + updates
 *
 * (The update runs as Optim.updateAndApply, which does both lines in one pass where the
 * optimizer is fused, as every alias is. The numbers are the same.)
 *
 * With `{ reuseBuffers: true }` the step reuses the big buffers of states it has let go of (see
 * `reusing` below and docs/training.md): the same numbers, less allocation.
 */
import * as Key from '../key.ts'
import type { AnyLayer, Layer } from '../layer.ts'
import type { Loss } from '../loss.ts'
import { updateAndApply, type GradientTransformation } from '../optim/transform.ts'
import type { AnyBatch, Batch } from '../data/dataset.ts'
import * as Tree from '../tree.ts'
import * as T from '../tensor/index.ts'
import { buffersOf, Recycler, staleLeaf } from './recycler.ts'
import type { DType, Tensor } from '../tensor/tensor.ts'
import { checkOptions } from '../options.ts'
import { correctCount, type Metrics } from './metrics.ts'
import type { TrainState } from './state.ts'
import { diagnose, type NonFiniteSite, type Stage } from './trace.ts'

export type { AnyBatch, Batch }
export { instrument, diagnose, type Hooks, type Site, type Stage, type NonFiniteSite } from './trace.ts'

/**
 * Training stopped because a number became NaN or infinite. Holds the last finite state, so
 * nothing is lost, and says where the first non-finite value came from: the stage of the step
 * (`input`, `forward`, `loss`, `backward` or `update`) and the first layer, by path, whose
 * forward output or vjp result (dx or dp) was non-finite.
 */
export class NonFiniteError<
  P extends Tree.Tree = Tree.Tree,
  S extends Tree.Tree = Tree.Tree,
  O extends Tree.Tree = Tree.Tree,
> extends Error {
  override readonly name = 'NonFiniteError'
  /** The first layer whose forward output or vjp result went non-finite, e.g. `pipe[3].dense`; undefined when no layer did (input, loss). */
  readonly layerPath: string | undefined
  /** Where in the step it happened: 'input', 'forward', 'loss', 'backward' (a vjp) or 'update' (the optimizer). */
  readonly stage: Stage | undefined
  /** The first non-finite value found, e.g. `output y[0, 3] = NaN` or `dp.W[2, 5] = Infinity`. */
  readonly detail: string | undefined
  /**
   * The row of the data the first non-finite value belongs to, when it lies in a batch-shaped
   * tensor (the input, a layer's output, the loss gradient, a dx): under `fit`, the row of the data
   * given to fit; from `trainStep`, the row of the batch.
   */
  readonly row: number | undefined
  /** Where training was, set by fit, e.g. `fit: epoch 3, step 1 of 2 (step 5 overall)`; undefined from trainStep. */
  readonly where: string | undefined
  constructor(
    /** The step (0-based count of steps taken before it) that produced the non-finite value. */
    readonly step: number,
    /** What went non-finite: 'loss', 'layer state at <path>', 'gradient at <path>' or 'params at <path>'. */
    readonly what: string,
    /** The training state before that step: every value finite. */
    readonly lastFinite: TrainState<P, S, O>,
    /** Where the first non-finite value came from (see diagnose). */
    site?: NonFiniteSite,
    /** What fit adds: the epoch and step (in place of `at step N`), and the batch row that site.row (a data row) was. */
    context?: { readonly where: string; readonly batchRow: number | undefined },
  ) {
    const mapped =
      context?.batchRow === undefined || site?.row === undefined
        ? ''
        : ` (row ${context.batchRow} of this shuffled batch is row ${site.row} of the data given to fit)`
    super(
      (context === undefined ? `training stopped at step ${step}` : `${context.where}: training stopped`) +
        `: the ${what} became non-finite (NaN or Infinity).` +
        (site === undefined ? '' : ` ${describeSite(site)}${mapped}.`) +
        ` The last finite training state is on this error's lastFinite.`,
    )
    this.where = context?.where
    this.layerPath = site?.layerPath
    this.stage = site?.stage
    this.detail = site?.detail
    this.row = site?.row
  }
}

const describeSite = (site: NonFiniteSite): string => {
  switch (site.stage) {
    case 'input':
      return `First non-finite value: ${site.detail}`
    case 'forward':
      return `First non-finite value: the forward pass of ${site.layerPath} gave ${site.detail}`
    case 'backward':
      return `First non-finite value: the backward pass (vjp) of ${site.layerPath} gave ${site.detail}`
    case 'loss':
      return `First non-finite value: ${site.detail}`
    case 'update':
      return site.layerPath === undefined
        ? `First non-finite value: ${site.detail}`
        : `First non-finite value: in ${site.layerPath}, ${site.detail}`
  }
}

/** The path of the first leaf holding a NaN or ±Infinity ('root' for a bare tensor), or undefined. */
const nonFinitePath = (tree: Tree.Tree): string | undefined => {
  const bad = Tree.firstNonFinite(tree)
  return bad === undefined ? undefined : bad.path || 'root'
}

/**
 * The batch in the model's dtype (its params'): the data boundary where a float32 model's inputs
 * and targets are cast (T.cast, rounding to nearest); a float64 batch of a float64 model is kept.
 */
export function inDType<B extends AnyBatch>(batch: B, dtype: 'float32'): Omit<B, 'x' | 'y'> & Batch<'float32'>
export function inDType<B extends AnyBatch>(batch: B, dtype: 'float64'): Omit<B, 'x' | 'y'> & Batch
export function inDType<B extends AnyBatch>(batch: B, dtype: DType): Omit<B, 'x' | 'y'> & AnyBatch
export function inDType<B extends AnyBatch>(batch: B, dtype: DType): Omit<B, 'x' | 'y'> & AnyBatch {
  return T.dtypeOf(batch.x) === dtype && T.dtypeOf(batch.y) === dtype
    ? batch
    : { ...batch, x: T.asTensor(T.cast(batch.x, dtype)), y: T.asTensor(T.cast(batch.y, dtype)) }
}

/**
 * A training step for a model whose params and state are P and S (float64's, as layers are typed): it takes a state in
 * float32 (`Tree.Float32<P>`, from `initState(..., { dtype: 'float32' })`) or in float64, and returns the next in the same
 * dtype. (float64's signature is the last, the one tsc infers from when a step is passed to a generic function.)
 */
export interface Step<P extends Tree.Tree, S extends Tree.Tree, O extends Tree.Tree> {
  (ts: TrainState<Tree.Float32<P>, Tree.Float32<S>, O>, data: AnyBatch): readonly [TrainState<Tree.Float32<P>, Tree.Float32<S>, O>, Metrics]
  (ts: TrainState<P, S, O>, data: AnyBatch): readonly [TrainState<P, S, O>, Metrics]
}

/** How trainStep runs. */
export interface StepOptions {
  /**
   * Reuse the memory of the states the step has let go of (default false): when it is given the
   * state it returned last, the big buffers of the state before that (not shared with this one)
   * hold its new params, momenta and intermediates. The contract: a step keeps intact the state
   * passed to it and the state it returns; an older state of the chain is taken (its tensors then
   * hold no values, an error wherever used). Keep one longer with `Train.copyState`.
   */
  readonly reuseBuffers?: boolean
}

/**
 * Thrown when a step is given a state whose tensors hold no values: a reusing step (reuseBuffers:
 * true) took its buffers, two steps after the step that returned it. Names the first such leaf.
 */
export class StaleStateError extends Error {
  override readonly name = 'StaleStateError'
}

/**
 * updateAndApply, whose gradients are the model's dp: when the optimizer finds dp of another structure than the params
 * (its TreeError names itself, a function the user never called), the model's vjp is named instead, with how to find the
 * layer. Nothing is compared unless the optimizer has already refused.
 */
const update = <P extends Tree.Tree, O extends Tree.Tree>(
  optimizer: GradientTransformation<O>,
  dp: Tree.Tree,
  optState: O,
  params: P,
): readonly [P, O] => {
  try {
    return updateAndApply(optimizer, dp, optState, params)
  } catch (e) {
    const d = e instanceof Tree.TreeError ? Tree.structureDiff(params, dp) : undefined
    if (d === undefined) throw e
    throw new Tree.TreeError(
      `trainStep: the model's vjp returned a dp that does not have the params' structure, ${d} (params vs dp): each layer's ` +
        "vjp returns dp with its params' structure and shapes (a gradient summed over the batch); " +
        'checkLayer(layer, { inShape }) from chainrule/laws names the layer (law 5)',
      { cause: e },
    )
  }
}

/**
 * Builds the step function for a model, loss and optimizer.
 * @example
 * const sgd = Optim.sgd({ lr: 0.1 })
 * const step = trainStep(net, Loss.softmaxCrossEntropy, sgd)
 * const [next, metrics] = step(Train.initState(net, sgd, key, [2]), { x, y })
 */
export function trainStep<P extends Tree.Tree, S extends Tree.Tree, Tape, O extends Tree.Tree>(
  model: Layer<P, S, Tape>,
  loss: Loss,
  optimizer: GradientTransformation<O>,
  options?: StepOptions,
): Step<P, S, O>
export function trainStep<P extends Tree.Tree, S extends Tree.Tree, Tape, O extends Tree.Tree>(
  model: Layer<P, S, Tape>,
  loss: Loss,
  optimizer: GradientTransformation<O>,
  options: StepOptions = {},
) {
  checkOptions('trainStep', options, ['reuseBuffers'])
  if (options.reuseBuffers !== undefined && typeof options.reuseBuffers !== 'boolean')
    throw new TypeError(`trainStep: reuseBuffers must be true or false, got ${typeof options.reuseBuffers} ${String(options.reuseBuffers)}`)
  const step = pureStep(model, loss, optimizer)
  return options.reuseBuffers === true ? reusing(step) : step
}

/** Throws a StaleStateError naming the first leaf of the state whose buffer a reusing step took. */
const checkLive = (ts: TrainState<Tree.Tree, Tree.Tree, Tree.Tree>): void => {
  const stale = staleLeaf(ts.params, 'params') ?? staleLeaf(ts.state, 'state') ?? staleLeaf(ts.optState, 'optState')
  if (stale !== undefined) throw new StaleStateError(`trainStep: ${stale.path} ${stale.detail}`)
}

/**
 * The step reusing memory. Double-buffered: given the state it returned last (the same params,
 * state and optState trees), it first lets go of the buffers of the state before, its previous
 * input, except those the state given still reaches (a frozen param passed through, early
 * stopping's best state kept in `fit`); when it returns, of the buffers it allocated that the
 * state it returns does not reach (gradients, the tape, activations, the cast batch). It never
 * writes into the state it is given, so after a throw (a NonFiniteError) that state is intact.
 * Given any other state, it lets go of nothing of the old chain.
 */
const reusing = <St extends TrainState>(step: (ts: St, data: AnyBatch) => readonly [St, Metrics]) => {
  const recycler = new Recycler()
  let last: St | undefined // the state the last call returned
  let before: St | undefined // that call's input, whose buffers are let go of once `last` comes back
  return (ts: St, data: AnyBatch): readonly [St, Metrics] => {
    const continues = last !== undefined && ts.params === last.params && ts.state === last.state && ts.optState === last.optState
    if (continues && before !== undefined) recycler.release(buffersOf(before), buffersOf(ts))
    last = undefined
    before = undefined
    const result = recycler.run(() => step(ts, data))
    recycler.releaseMade(buffersOf(result[0]))
    last = result[0]
    before = ts
    return result
  }
}

/** The step itself: pure, allocating every tensor it returns. */
const pureStep = <P extends Tree.Tree, S extends Tree.Tree, Tape, O extends Tree.Tree>(
  model: Layer<P, S, Tape>,
  loss: Loss,
  optimizer: GradientTransformation<O>,
) => {
  // The step is typed on the model's trees (float64's, as layers are); at run time it follows the params' dtype.
  return (ts: TrainState<P, S, O>, data: AnyBatch): readonly [TrainState<P, S, O>, Metrics] => {
    checkLive(ts)
    // The batch in the params' dtype, typed as the model's trees are (see above).
    const batch = inDType(data, Tree.dtypeOfTree(ts.params))
    const x = T.asTensor(batch.x)
    const target = T.asTensor(batch.y)
    const [stepKey, nextKey] = Key.split2(ts.key)
    const ctx = { mode: 'train' as const, key: stepKey }
    // On a non-finite value, replay the step through an instrumented model to name the layer.
    const fail = (what: string, updated?: Tree.Tree): never => {
      const replay = { model, loss, params: ts.params, state: ts.state, x, y: target, ctx }
      const site = diagnose(updated === undefined ? replay : { ...replay, updated })
      throw new NonFiniteError(ts.step, what, ts, site)
    }
    const { y, state, tape } = model.forward(ts.params, ts.state, x, ctx)
    const { value, grad } = loss(y, target)
    if (!Number.isFinite(value)) return fail('loss')
    const badState = nonFinitePath(state)
    if (badState !== undefined) return fail(`layer state at ${badState}`)
    const { dp } = model.vjp(ts.params, tape, grad, { dx: false }) // the input is data: no dx wanted
    const [params, optState] = update(optimizer, dp, ts.optState, ts.params) // params + updates (fused where the optimizer can)
    // Checked after the update, which is pure: a fused pass may have found its gradients finite as it read them.
    const badGrad = nonFinitePath(dp)
    if (badGrad !== undefined) return fail(`gradient at params ${badGrad}`)
    const badParam = nonFinitePath(params)
    if (badParam !== undefined) return fail(`params at ${badParam}`, params)
    const n = x.shape[0]!
    const correct = correctCount(y, target)
    return [
      { params, state, optState, key: nextKey, step: ts.step + 1 },
      { loss: value, accuracy: correct === undefined ? undefined : correct / n, count: n },
    ]
  }
}
