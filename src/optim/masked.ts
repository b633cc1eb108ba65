/**
 * A transform applied to some parameters only (optax's `masked`; PyTorch's parameter groups):
 * weight decay on the weights but not on the biases or batch-norm's gamma and beta, say, or a
 * different learning rate for one layer.
 *
 *   chain(scaleByAdam(), masked(addDecayedWeights(1e-4), (_path, shape) => shape.length >= 2), scaleByLearningRate(1e-3))
 *
 * `select(path, shape)` picks leaves by their path, as Tree.leavesWithPaths names them
 * (`[1].W`, `[3].gamma`), and their shape. The inner transform sees the picked leaves as one
 * array, sorted by path, so its state pairs with the same leaves whatever order a record lists
 * its keys in; a transform that looks at all its leaves at once (clipByGlobalNorm) sees only
 * those. Every other leaf's update passes through unchanged, and the updates keep the
 * gradients' layout, as every transform's do.
 */
import type { Shape, Tensor } from '../tensor/tensor.ts'
import { leaves, leavesWithPaths, map, type Tree } from '../tree.ts'
import { checkGrads, type GradientTransformation } from './transform.ts'
import { OptimError } from './validate.ts'

/** Picks the leaves a masked transform applies to, by path (e.g. `[1].W`) and shape. */
export type Select = (path: string, shape: Shape) => boolean

/** `[0] = W, [1] = [2].W, …`: which leaf each position of the masked transform's array is (the first ten). */
const legend = (paths: readonly string[]): string =>
  paths
    .slice(0, 10)
    .map((p, i) => `[${i}] = ${p || 'root'}`)
    .join(', ') + (paths.length > 10 ? `, … (${paths.length} in all)` : '') || 'no leaves picked'

/** Throws unless `select` is a function; `where` names the caller (masked, or an alias's mask). */
export const checkSelect = (where: string, select: unknown): void => {
  if (typeof select !== 'function') {
    throw new OptimError(`${where} must be a function (path, shape) => boolean, got ${select === null ? 'null' : typeof select}`)
  }
}

/**
 * `inner` on the leaves `select` picks; the other leaves' updates unchanged.
 * @example
 * // AdamW whose decoupled weight decay skips the biases and batch-norm's gamma and beta (vectors)
 * chain(scaleByAdam(), masked(addDecayedWeights(1e-2), (_path, shape) => shape.length >= 2), scaleByLearningRate(1e-3))
 */
export const masked = <S extends Tree>(inner: GradientTransformation<S>, select: Select): GradientTransformation<S> => {
  checkSelect('masked: select', select)
  if (typeof inner !== 'object' || inner === null || typeof inner.init !== 'function' || typeof inner.update !== 'function') {
    throw new OptimError('masked: the transform to mask must be a gradient transformation { init, update }')
  }
  /** The paths of the leaves select picks, sorted, with each picked leaf of `tree` by path. */
  const picked = (params: Tree): string[] =>
    leavesWithPaths(params)
      .filter(({ path, leaf }) => {
        const v = select(path, leaf.shape)
        if (typeof v !== 'boolean') {
          throw new OptimError(`masked: select must return true or false, got ${typeof v} ${String(v)} for ${path || 'root'}`)
        }
        return v
      })
      .map(({ path }) => path)
      .sort()
  const byPath = (tree: Tree): Map<string, Tensor> => new Map(leavesWithPaths(tree).map(({ path, leaf }) => [path, leaf]))
  return {
    init: (params) => {
      const ps = byPath(params)
      return inner.init(picked(params).map((path) => ps.get(path)!))
    },
    update: (grads, state, params) => {
      checkGrads('masked.update', grads, params)
      const paths = picked(params)
      const ps = byPath(params)
      const gs = byPath(grads)
      let result: readonly [Tree, S]
      try {
        result = inner.update(
          paths.map((path) => gs.get(path)!),
          state,
          paths.map((path) => ps.get(path)!),
        )
      } catch (e) {
        // the inner transform names positions in its array; say which leaves they are
        if (e instanceof Error) e.message += ` (inside Optim.masked, whose transform sees the picked leaves as an array: ${legend(paths)})`
        throw e
      }
      const [innerUpdates, next] = result
      const us = leaves(innerUpdates)
      if (us.length !== paths.length) {
        throw new OptimError(`masked: the masked transform gave ${us.length} updates for ${paths.length} picked leaves`)
      }
      const updated = new Map(paths.map((path, j) => [path, us[j]!]))
      return [map(grads, (g, path) => updated.get(path) ?? g), next]
    },
  }
}
