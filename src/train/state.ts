/**
 * The whole training state as one plain value: params, layer state, optimizer state, the key
 * for the next step's randomness, and the step count. Saving it and loading it later resumes
 * training bit for bit, because there is nothing else.
 */
import * as Key from '../key.ts'
import { initialize, type InitOptions, type Layer } from '../layer.ts'
import type { OptimizerSettings } from '../optim/settings.ts'
import type { GradientTransformation } from '../optim/transform.ts'
import { copy, DTypeError, type DType, type Shape } from '../tensor/tensor.ts'
import { checkOptions, dtypeOption } from '../options.ts'
import { map, type InDType, type Tree } from '../tree.ts'

/** Everything that changes during training. */
export interface TrainState<P extends Tree = Tree, S extends Tree = Tree, O extends Tree = Tree> {
  readonly params: P
  readonly state: S
  readonly optState: O
  /** Split once per step: the first half drives that step's forward (dropout), the second is kept. */
  readonly key: Key.Key
  /** Steps taken so far. */
  readonly step: number
  /** Where `fit` is in its run (absent outside fit, and in checkpoints saved before fit kept it): see FitState. */
  readonly fit?: FitState<P, S, O> | undefined
}

/**
 * What `fit` carries from one step to the next besides the model and optimizer: the epoch, the
 * sums the epoch's record is made of, and early stopping's best so far. A state without it resumes
 * as if no epoch had a partial record and early stopping had seen nothing.
 */
export interface FitState<P extends Tree = Tree, S extends Tree = Tree, O extends Tree = Tree> {
  /** Epochs finished (the epoch under way is epoch + 1, counted from 1). */
  readonly epoch: number
  /** Steps per epoch of the run; a resumed run must have as many (same data, batchSize, validation, dropLast). */
  readonly stepsPerEpoch: number
  /** The run's batch size and number of training examples (after a validation split); a resumed run must have the same. */
  readonly batchSize: number
  readonly trainSize: number
  /** Sum over this epoch's steps so far of loss × batch rows. */
  readonly lossSum: number
  /** Sum over this epoch's steps so far of correctly classified rows (0 for a non-classifier). */
  readonly correctSum: number
  /** Rows trained on so far this epoch. */
  readonly seen: number
  /** Whether every step so far this epoch had an accuracy (the epoch's record has one only if so). */
  readonly classify: boolean
  /** Early stopping's best epoch so far (with its state, for restoreBest), if early stopping is on. */
  readonly best?: Best<P, S, O> | undefined
  /**
   * True once the run stopped at the end of epoch `epoch` (early stopping, or a callback's 'stop'):
   * a run resumed from this state stops there too, without training on.
   */
  readonly stopped?: boolean | undefined
  /** The optimizer's name and hyper-parameters (its `settings`, when it has them); a resumed run must have the same. */
  readonly optimizer?: OptimizerSettings | undefined
}

/** Early stopping's best epoch: the monitored value, the epoch (from 1), and the training state then (unless restoreBest is false). */
export interface Best<P extends Tree = Tree, S extends Tree = Tree, O extends Tree = Tree> {
  readonly value: number
  readonly epoch: number
  readonly state?: Omit<TrainState<P, S, O>, 'fit'> | undefined
}

/**
 * Fresh params, layer state and optimizer state for a model and per-example input shape, in `options.dtype` (default
 * float64) and typed so: `{ dtype: 'float32' }` gives a `TrainState<Tree.Float32<P>, Tree.Float32<S>, O>`.
 */
export function initState<P extends Tree, S extends Tree, Tape, O extends Tree, D extends DType = 'float64'>(
  model: Layer<P, S, Tape>,
  optimizer: GradientTransformation<O>,
  key: Key.Key,
  inShape: Shape,
  options?: InitOptions<D>,
): TrainState<InDType<P, D>, InDType<S, D>, O>
// Typed on the model's trees, float64's as layers are: at run time they are in the dtype asked for, as the signature above says.
export function initState<P extends Tree, S extends Tree, Tape, O extends Tree>(
  model: Layer<P, S, Tape>,
  optimizer: GradientTransformation<O>,
  key: Key.Key,
  inShape: Shape,
  options: InitOptions<'float64'> = {},
): TrainState<P, S, O> {
  checkOptions('initState', options, ['dtype'])
  dtypeOption('initState', options.dtype, 'float64', DTypeError)
  const [initKey, stepKey] = Key.split2(key)
  const { params, state } = initialize(model, initKey, inShape, options)
  return { params, state, optState: optimizer.init(params), key: stepKey, step: 0 }
}

/**
 * The state with every tensor copied into buffers of its own (params, layer state, optimizer state,
 * and fit's best state): a state to keep past the next steps of a reusing trainStep (reuseBuffers: true).
 */
export const copyState = <St extends TrainState>(ts: St): St => {
  const own = <A extends Tree>(tree: A): A => map(tree, copy)
  const best = ts.fit?.best
  return {
    ...ts,
    params: own(ts.params),
    state: own(ts.state),
    optState: own(ts.optState),
    ...(ts.fit === undefined
      ? {}
      : { fit: best?.state === undefined ? ts.fit : { ...ts.fit, best: { ...best, state: copyState(best.state) } } }),
  }
}
