/**
 * One training step, a pure function (TrainState, Batch) → [TrainState, Metrics]:
 *
 *   forward   y, tape     = model.forward(params, state, x)
 *   loss      value, dy   = loss(y, target)
 *   backward  dp          = model.vjp(params, tape, dy)        (backprop: the chain rule)
 *   update    updates, o' = optimizer.update(dp, optState, params)
 *             params'     = params + updates
 */
import * as Key from '../key.ts'
import type { Layer } from '../layer.ts'
import type { Loss } from '../loss.ts'
import { applyUpdates, type GradientTransformation } from '../optim/transform.ts'
import * as T from '../tensor/index.ts'
import type { Batch } from '../data/dataset.ts'
import * as Tree from '../tree.ts'
import { correctCount, type Metrics } from './metrics.ts'
import type { TrainState } from './state.ts'

export type { Batch }

/** Training stopped because a number became NaN or infinite. Holds the last finite state, so nothing is lost. */
export class NonFiniteError<P extends Tree.Tree = Tree.Tree, S extends Tree.Tree = Tree.Tree, O extends Tree.Tree = Tree.Tree> extends Error {
  override readonly name = 'NonFiniteError'
  constructor(
    /** The step (0-based count of steps taken before it) that produced the non-finite value. */
    readonly step: number,
    /** What went non-finite: 'loss', 'gradient at <path>' or 'params at <path>'. */
    readonly what: string,
    /** The training state before that step: every value finite. */
    readonly lastFinite: TrainState<P, S, O>,
  ) {
    super(`training stopped at step ${step}: the ${what} became non-finite (NaN or Infinity). The last finite training state is on this error's lastFinite.`)
  }
}

const firstNonFinite = (tree: Tree.Tree): string | undefined => {
  for (const { path, leaf } of Tree.leavesWithPaths(tree)) if (!T.allFinite(leaf)) return path || 'root'
  return undefined
}

/**
 * Builds the step function for a model, loss and optimizer.
 * @example
 * const step = trainStep(net, Loss.softmaxCrossEntropy, Optim.sgd({ lr: 0.1 }))
 * const [next, metrics] = step(state, { x, y })
 */
export const trainStep =
  <P extends Tree.Tree, S extends Tree.Tree, Tape, O extends Tree.Tree>(model: Layer<P, S, Tape>, loss: Loss, optimizer: GradientTransformation<O>) =>
  (ts: TrainState<P, S, O>, batch: Batch): readonly [TrainState<P, S, O>, Metrics] => {
    const [stepKey, nextKey] = Key.split2(ts.key)
    const { y, state, tape } = model.forward(ts.params, ts.state, batch.x, { mode: 'train', key: stepKey })
    const { value, grad } = loss(y, batch.y)
    if (!Number.isFinite(value)) throw new NonFiniteError(ts.step, 'loss', ts)
    const { dp } = model.vjp(ts.params, tape, grad)
    const badGrad = firstNonFinite(dp)
    if (badGrad !== undefined) throw new NonFiniteError(ts.step, `gradient at params ${badGrad}`, ts)
    const [updates, optState] = optimizer.update(dp, ts.optState, ts.params)
    const params = applyUpdates(ts.params, updates)
    const badParam = firstNonFinite(params)
    if (badParam !== undefined) throw new NonFiniteError(ts.step, `params at ${badParam}`, ts)
    const n = batch.x.shape[0] as number
    const correct = correctCount(y, batch.y)
    return [
      { params, state, optState, key: nextKey, step: ts.step + 1 },
      { loss: value, accuracy: correct === undefined ? undefined : correct / n, count: n },
    ]
  }
