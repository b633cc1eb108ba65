/**
 * Weight decay, two ways. Both add λ·p to what flows through the chain; where they sit decides
 * what they mean. addL2 goes first, so λ·p joins the gradient and is rescaled by momentum or
 * Adam along with it (an L2 penalty ½λ‖p‖² on the loss). addDecayedWeights goes after the
 * adaptive scaling and just before the learning rate, so p shrinks by lr·λ·p whatever Adam
 * does to the gradient (Loshchilov & Hutter's decoupled weight decay, AdamW).
 */
import * as T from '../tensor/index.ts'
import { map2 } from '../tree.ts'
import { checkGrads, emptyState, type EmptyState, type GradientTransformation } from './transform.ts'
import { nonNegative } from './validate.ts'

/** u + λ·p for a checked λ, its errors naming `where`. */
const plusScaledParams = (where: string, lambda: number): GradientTransformation<EmptyState> => ({
  init: () => emptyState,
  update: (grads, state, params) => {
    checkGrads(`${where}.update`, grads, params)
    return [map2(grads, params, (u, p) => T.addScaled(u, lambda, p)), state]
  },
})

/** addL2 from a checked λ, its errors naming `where` (internal: the aliases build theirs with it). */
export const l2Penalty = (where: string, l2: number): GradientTransformation<EmptyState> => plusScaledParams(where, l2)

/** addDecayedWeights from a checked λ, its errors naming `where` (internal: the aliases build theirs with it). */
export const decoupledDecay = (where: string, wd: number): GradientTransformation<EmptyState> => plusScaledParams(where, wd)

/**
 * The gradient of the L2 penalty ½λ‖p‖²: u = g + λ·p. Put it first in a chain.
 * @example
 * chain(addL2(1e-4), traceMomentum({ decay: 0.9 }), scaleByLearningRate(0.1)) // sgd({ lr: 0.1, momentum: 0.9, weightDecay: 1e-4 })
 */
export const addL2 = (l2: number): GradientTransformation<EmptyState> => l2Penalty('addL2', nonNegative('addL2', 'l2', l2))

/**
 * Decoupled weight decay: u = u + λ·p, placed after the adaptive scaling and before the learning rate.
 * @example chain(scaleByAdam(), addDecayedWeights(1e-4), scaleByLearningRate(1e-3)) // adamw({ lr: 1e-3 })
 */
export const addDecayedWeights = (wd: number): GradientTransformation<EmptyState> =>
  decoupledDecay('addDecayedWeights', nonNegative('addDecayedWeights', 'weightDecay', wd))
