/**
 * The whole training state as one plain value: params, layer state, optimizer state, the key
 * for the next step's randomness, and the step count. Saving it and loading it later resumes
 * training bit for bit, because there is nothing else.
 */
import * as Key from '../key.ts'
import { initialize, type Layer } from '../layer.ts'
import type { GradientTransformation } from '../optim/transform.ts'
import type { Shape } from '../tensor/tensor.ts'
import type { Tree } from '../tree.ts'

/** Everything that changes during training. */
export interface TrainState<P extends Tree = Tree, S extends Tree = Tree, O extends Tree = Tree> {
  readonly params: P
  readonly state: S
  readonly optState: O
  /** Split once per step: the first half drives that step's forward (dropout), the second is kept. */
  readonly key: Key.Key
  /** Steps taken so far. */
  readonly step: number
}

/** Fresh params, layer state and optimizer state for a model and per-example input shape. */
export const initState = <P extends Tree, S extends Tree, Tape, O extends Tree>(
  model: Layer<P, S, Tape>,
  optimizer: GradientTransformation<O>,
  key: Key.Key,
  inShape: Shape,
): TrainState<P, S, O> => {
  const [initKey, stepKey] = Key.split2(key)
  const { params, state } = initialize(model, initKey, inShape)
  return { params, state, optState: optimizer.init(params), key: stepKey, step: 0 }
}
