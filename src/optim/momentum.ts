/** Momentum: a decaying running sum of the gradients (heavy ball), optionally with Nesterov's look-ahead. */
import * as T from '../tensor/index.ts'
import type { Tensor } from '../tensor/tensor.ts'
import { zerosLike, type Tree } from '../tree.ts'
import { zipTrees } from './internal.ts'
import { checkGrads, type GradientTransformation } from './transform.ts'
import { checkOptions, flag, unitInterval } from './validate.ts'

/** The momentum buffer: one tensor per param leaf. */
export type TraceState = { readonly trace: Tree }

/** Options of traceMomentum. */
export interface TraceOptions {
  /** β in [0, 1): how much of the previous trace survives each step. */
  readonly decay: number
  /** Use Nesterov's look-ahead (default false). */
  readonly nesterov?: boolean
}

/** traceMomentum from a checked β, its errors naming `where` (internal: the aliases build theirs with it). */
export const traceOf = (where: string, decay: number, nesterov: boolean): GradientTransformation<TraceState> => ({
  init: (params) => ({ trace: zerosLike(params) }),
  update: (grads, state, params) => {
    checkGrads(`${where}.update`, grads, params)
    // t = g + β·t_prev; the update is t (heavy ball) or g + β·t (Nesterov)
    const plusDecayed = (g: Tensor, t: Tensor): Tensor => T.addScaled(g, decay, t)
    const trace = zipTrees(`${where}.update`, plusDecayed, grads, { what: 'the trace', tree: state.trace })
    const updates = nesterov ? zipTrees(`${where}.update`, plusDecayed, grads, { what: 'the trace', tree: trace }) : trace
    return [updates, { trace }]
  },
})

/**
 * Momentum as in PyTorch and optax: t = g + β·t_prev (t starts at 0), and the update is t, or
 * g + β·t with Nesterov. Chain it before scaleByLearningRate.
 * @example
 * // β = 0.9, g = 1 twice: traces 1 then 1.9; Nesterov updates 1.9 then 2.71
 * chain(traceMomentum({ decay: 0.9 }), scaleByLearningRate(0.1)) // sgd({ lr: 0.1, momentum: 0.9 })
 */
export const traceMomentum = (options: TraceOptions): GradientTransformation<TraceState> => {
  const { decay, nesterov = false } = checkOptions('traceMomentum', options, ['decay', 'nesterov'])
  return traceOf('traceMomentum', unitInterval('traceMomentum', 'decay', decay), flag('traceMomentum', 'nesterov', nesterov))
}
