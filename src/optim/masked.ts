/**
 * A transform applied to some parameters only (optax's `masked`; PyTorch's parameter groups):
 * weight decay on the weights but not on the biases or batch-norm's gamma and beta, say, or a
 * different learning rate for one layer.
 *
 *   chain(scaleByAdam(), masked(addDecayedWeights(1e-4), (_path, shape) => shape.length >= 2), scaleByLearningRate(1e-3))
 *
 * `select(path, shape)` picks leaves by their path, as Tree.leavesWithPaths names them
 * (`[1].W`, `[3].gamma`), and their shape. The inner transform sees the picked leaves as one
 * array, in the params' leaf order: its state is built for that array, and a transform that
 * looks at all its leaves at once (clipByGlobalNorm) sees only those. Every other leaf's update
 * passes through unchanged.
 */
import type { Shape, Tensor } from '../tensor/tensor.ts'
import { leaves, leavesLike, leavesWithPaths, map, type Tree } from '../tree.ts'
import { checkGrads, type GradientTransformation } from './transform.ts'
import { OptimError } from './validate.ts'

/** Picks the leaves a masked transform applies to, by path (e.g. `[1].W`) and shape. */
export type Select = (path: string, shape: Shape) => boolean

/**
 * `inner` on the leaves `select` picks; the other leaves' updates unchanged.
 * @example
 * // AdamW whose decoupled weight decay skips the biases and batch-norm's gamma and beta (vectors)
 * chain(scaleByAdam(), masked(addDecayedWeights(1e-2), (_path, shape) => shape.length >= 2), scaleByLearningRate(1e-3))
 */
export const masked = <S extends Tree>(inner: GradientTransformation<S>, select: Select): GradientTransformation<S> => {
  if (typeof select !== 'function') throw new OptimError(`masked: select must be a function (path, shape) => boolean, got ${typeof select}`)
  if (typeof inner !== 'object' || inner === null || typeof inner.init !== 'function' || typeof inner.update !== 'function') {
    throw new OptimError('masked: the transform to mask must be a gradient transformation { init, update }')
  }
  /** The indices, in the params' leaf order, of the leaves select picks. */
  const picked = (params: Tree): number[] =>
    leavesWithPaths(params).flatMap(({ path, leaf }, i) => {
      const v = select(path, leaf.shape)
      if (typeof v !== 'boolean') throw new OptimError(`masked: select must return true or false, got ${typeof v} ${String(v)} for ${path || 'root'}`)
      return v ? [i] : []
    })
  return {
    init: (params) => {
      const ps = leaves(params)
      return inner.init(picked(params).map((i) => ps[i] as Tensor))
    },
    update: (grads, state, params) => {
      checkGrads('masked.update', grads, params)
      const idx = picked(params)
      const ps = leaves(params)
      const gs = leavesLike(params, grads)
      const [innerUpdates, next] = inner.update(
        idx.map((i) => gs[i] as Tensor),
        state,
        idx.map((i) => ps[i] as Tensor),
      )
      const us = leaves(innerUpdates)
      if (us.length !== idx.length) throw new OptimError(`masked: the masked transform gave ${us.length} updates for ${idx.length} picked leaves`)
      const out = [...gs]
      idx.forEach((i, j) => (out[i] = us[j] as Tensor))
      let k = 0
      return [map(params, () => out[k++] as Tensor), next]
    },
  }
}
