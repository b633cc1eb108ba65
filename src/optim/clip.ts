/** Clipping: bound each update coordinate, or the length of the whole update vector. */
import * as T from '../tensor/index.ts'
import { leaves, map, type Tree } from '../tree.ts'
import { checkGrads, emptyState, type EmptyState, type GradientTransformation } from './transform.ts'
import { positive } from './validate.ts'

/** The global norm √(Σ over every leaf of Σ g²): the length of the whole gradient as one vector. */
export const globalNorm = (tree: Tree): number => Math.sqrt(leaves(tree).reduce((s, g) => s + T.dot(g, g), 0))

/**
 * Rescales the whole update so its global norm is at most maxNorm (Pascanu et al. 2013): when
 * ‖g‖ > maxNorm, u = g · maxNorm/‖g‖, else u = g. The direction never changes.
 * @example clipByGlobalNorm(1).update([T.tensor([3]), T.tensor([4])], [], params)[0] // [[0.6], [0.8]]
 */
export const clipByGlobalNorm = (maxNorm: number): GradientTransformation<EmptyState> => {
  positive('clipByGlobalNorm', 'maxNorm', maxNorm)
  return {
    init: () => emptyState,
    update: (grads, state, params) => {
      checkGrads('clipByGlobalNorm.update', grads, params)
      const norm = globalNorm(grads)
      return [norm > maxNorm ? map(grads, (g) => T.scale(maxNorm / norm, g)) : grads, state]
    },
  }
}

/**
 * Clamps every coordinate to [-limit, limit].
 * @example clipByValue(1).update(T.tensor([-3, 0.5, 2]), [], params)[0] // [-1, 0.5, 1]
 */
export const clipByValue = (limit: number): GradientTransformation<EmptyState> => {
  positive('clipByValue', 'limit', limit)
  return {
    init: () => emptyState,
    update: (grads, state, params) => {
      checkGrads('clipByValue.update', grads, params)
      return [
        map(
          grads,
          T.map((v) => Math.min(limit, Math.max(-limit, v))),
        ),
        state,
      ]
    },
  }
}
