/** The scaling transforms: identity, a constant factor, and the learning rate (which adds the minus sign of descent). */
import * as T from '../tensor/index.ts'
import type { Tensor } from '../tensor/tensor.ts'
import { map } from '../tree.ts'
import { increment, stepOf } from './internal.ts'
import type { Schedule } from './schedule.ts'
import { checkGrads, emptyState, type EmptyState, type GradientTransformation } from './transform.ts'
import { finite, OptimError, positive } from './validate.ts'

/** Passes the gradients through unchanged (the unit of chain). */
export const identity: GradientTransformation<EmptyState> = {
  init: () => emptyState,
  update: (grads, state, params) => {
    checkGrads('identity.update', grads, params)
    return [grads, state]
  },
}

/**
 * Multiplies every update by a constant: u = s · g.
 * @example scale(-0.1).update(T.tensor([1, 2]), [], T.tensor([0, 0]))[0] // [-0.1, -0.2]
 */
export const scale = (s: number): GradientTransformation<EmptyState> => {
  finite('scale', 's', s)
  return {
    init: () => emptyState,
    update: (grads, state, params) => {
      checkGrads('scale.update', grads, params)
      return [map(grads, (g) => T.scale(s, g)), state]
    },
  }
}

/** The state of a transform that counts its steps: a 0-d tensor, so the state stays a Tree. */
export type CountState = { readonly count: Tensor }

/** The learning rate of each step, from an lr rateAt has checked (internal). */
export type Rate = (step: number) => number

/** Validates lr (a number > 0 or a schedule) and returns step => the learning rate, checked at each step (internal). */
export const rateAt = (where: string, lr: number | Schedule): Rate => {
  if (typeof lr === 'number') positive(where, 'lr', lr)
  else if (typeof lr !== 'function') throw new OptimError(`${where}: lr must be a number or a schedule (step => number), got ${typeof lr}`)
  return (step: number): number => {
    if (typeof lr === 'number') return lr
    const v = lr(step)
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new OptimError(`${where}: lr(${step}) must be finite and >= 0, got ${String(v)}`)
    }
    return v
  }
}

/** scaleByLearningRate from a rate rateAt checked, its errors naming `where` (internal: the aliases build theirs with it). */
export const learningRate = (where: string, rate: Rate): GradientTransformation<CountState> => ({
  init: () => {
    rate(0)
    return { count: T.scalar(0) }
  },
  update: (grads, state, params) => {
    checkGrads(`${where}.update`, grads, params)
    const r = rate(stepOf(`${where}.update`, state))
    return [map(grads, (g) => T.scale(-r, g)), { count: increment(state.count) }]
  },
})

/**
 * Multiplies the updates by -lr(step), turning a direction into a descent step. `lr` is a
 * number (> 0) or a Schedule; the step (0 for the first update) is counted in the state.
 * A schedule's lr(0) is checked at init, every later lr(step) when it is used.
 * @example
 * const t = scaleByLearningRate(0.5)
 * t.update(T.tensor([2]), t.init(T.tensor([0])), T.tensor([0]))[0] // [-1]
 */
export const scaleByLearningRate = (lr: number | Schedule): GradientTransformation<CountState> =>
  learningRate('scaleByLearningRate', rateAt('scaleByLearningRate', lr))
