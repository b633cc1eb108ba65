/**
 * Three variants of Adam's direction, each a transform to chain before scaleByLearningRate, as
 * scaleByAdam is. With t the step (1 for the first), μ = β₁μ + (1-β₁)g and ν = β₂ν + (1-β₂)g²
 * as in Adam:
 *
 *   AMSGrad  ν_max = max(ν_max, ν)           u = (μ/(1-β₁ᵗ)) / (√(ν_max/(1-β₂ᵗ)) + ε)
 *   NAdam    μ̃ = β₁·μ/(1-β₁ᵗ⁺¹) + (1-β₁)·g/(1-β₁ᵗ)      u = μ̃ / (√(ν/(1-β₂ᵗ)) + ε)
 *   Adamax   ν∞ = max(β₂ν∞, |g| + ε)          u = (μ/(1-β₁ᵗ)) / ν∞
 *
 * AMSGrad never lets a coordinate's denominator shrink, so its steps never grow back after a
 * burst of large gradients. NAdam looks one momentum step ahead, as Nesterov momentum does.
 * Adamax replaces the root-mean-square by a decaying maximum of |g| (the ∞-norm).
 */
import * as T from '../tensor/index.ts'
import type { Tensor } from '../tensor/tensor.ts'
import { zerosLike, type Tree } from '../tree.ts'
import { adamBetas, adamMoments, adamMomentsOf, type AdamBetas, type AdamOptions, type AdamState } from './adaptive.ts'
import { increment, stepOf, zipTrees } from './internal.ts'
import { adamDirection32 } from './adam32.ts'
import { adamaxDirection32, adamaxMax32 } from './adam-variants32.ts'
import { checkGrads, type GradientTransformation } from './transform.ts'
import { checkOptions } from './validate.ts'

/** AMSGrad's state: Adam's, plus the running maximum of ν. */
export type AmsgradState = { readonly count: Tensor; readonly mu: Tree; readonly nu: Tree; readonly nuMax: Tree }

/** scaleByAmsgrad from checked betas, its errors naming `where` (internal: amsgrad builds its chain with it). */
export const amsgradMoments = (where: string, { b1, b2, eps }: AdamBetas): GradientTransformation<AmsgradState> => {
  const at = `${where}.update`
  return {
    init: (params) => ({ count: T.scalar(0), mu: zerosLike(params), nu: zerosLike(params), nuMax: zerosLike(params) }),
    update: (grads, state, params) => {
      checkGrads(at, grads, params)
      const t = stepOf(at, state) + 1
      const { mu, nu } = adamMomentsOf(at, b1, b2, grads, state)
      const nuMax = zipTrees(at, (v, w) => T.zipWith(Math.max, w, v), nu, { what: 'nuMax', tree: state.nuMax })
      const c1 = 1 - b1 ** t
      const c2 = 1 - b2 ** t
      const direction = (m: Tensor, w: Tensor): Tensor =>
        T.isFloat32(m) || T.isFloat32(w) // float32: Adam's direction on ν_max (src/optim/adam32.ts)
          ? adamDirection32(at, m, w, c1, c2, eps)
          : T.zipWith((mi, wi) => mi / c1 / (Math.sqrt(wi / c2) + eps), m, w)
      const updates = zipTrees(at, direction, mu, { what: 'nuMax', tree: nuMax })
      return [updates, { count: increment(state.count), mu, nu, nuMax }]
    },
  }
}

/**
 * AMSGrad (Reddi, Kale & Kumar 2018), as PyTorch's `Adam(amsgrad=True)` computes it: the
 * running maximum is taken over the raw ν, then bias-corrected with the current step. (optax's
 * `scale_by_amsgrad` takes the maximum over the bias-corrected ν̂ instead.)
 * @example chain(scaleByAmsgrad(), scaleByLearningRate(1e-3)) // amsgrad({ lr: 1e-3 })
 */
export const scaleByAmsgrad = (options: AdamOptions = {}): GradientTransformation<AmsgradState> =>
  amsgradMoments('scaleByAmsgrad', adamBetas('scaleByAmsgrad', checkOptions('scaleByAmsgrad', options, ['b1', 'b2', 'eps'])))

/** scaleByNadam from checked betas, its errors naming `where` (internal): Adam's transform with the look-ahead. */
export const nadamMoments = (where: string, betas: AdamBetas): GradientTransformation<AdamState> => adamMoments(where, betas, true)

/**
 * NAdam (Dozat 2016), as optax's `nadam` computes it: Adam with a Nesterov look-ahead on the
 * first moment. Its state is Adam's. (PyTorch's `NAdam` also decays β₁ over the steps with a
 * `momentum_decay` schedule, so its numbers differ.)
 * @example chain(scaleByNadam(), scaleByLearningRate(2e-3)) // nadam({ lr: 2e-3 })
 */
export const scaleByNadam = (options: AdamOptions = {}): GradientTransformation<AdamState> =>
  nadamMoments('scaleByNadam', adamBetas('scaleByNadam', checkOptions('scaleByNadam', options, ['b1', 'b2', 'eps'])))

/** Adamax's state: the step count, the first moment, and the decaying maximum of |g|. */
export type AdamaxState = { readonly count: Tensor; readonly mu: Tree; readonly nuInf: Tree }

/** scaleByAdamax from checked betas, its errors naming `where` (internal: adamax builds its chain with it). */
export const adamaxMoments = (where: string, { b1, b2, eps }: AdamBetas): GradientTransformation<AdamaxState> => {
  const at = `${where}.update`
  return {
    init: (params) => ({ count: T.scalar(0), mu: zerosLike(params), nuInf: zerosLike(params) }),
    update: (grads, state, params) => {
      checkGrads(at, grads, params)
      const t = stepOf(at, state) + 1
      const mu = zipTrees(at, (g, m) => T.addScaled(T.scale(b1, m), 1 - b1, g), grads, { what: 'mu', tree: state.mu }) // Adam's μ
      const decayedMax = (g: Tensor, v: Tensor): Tensor =>
        T.isFloat32(g) || T.isFloat32(v) // float32: src/optim/adam-variants32.ts
          ? adamaxMax32(at, g, v, b2, eps)
          : T.zipWith((gi, vi) => Math.max(b2 * vi, Math.abs(gi) + eps), g, v)
      const nuInf = zipTrees(at, decayedMax, grads, { what: 'nuInf', tree: state.nuInf })
      const c1 = 1 - b1 ** t
      const direction = (m: Tensor, v: Tensor): Tensor =>
        T.isFloat32(m) || T.isFloat32(v) ? adamaxDirection32(at, m, v, c1) : T.zipWith((mi, vi) => mi / c1 / vi, m, v)
      const updates = zipTrees(at, direction, mu, { what: 'nuInf', tree: nuInf })
      return [updates, { count: increment(state.count), mu, nuInf }]
    },
  }
}

/**
 * Adamax (Kingma & Ba 2015, section 7.1), as PyTorch's `Adamax` and optax's `adamax` compute
 * it: ε joins |g| inside the maximum, so the denominator is never 0.
 * @example chain(scaleByAdamax(), scaleByLearningRate(2e-3)) // adamax({ lr: 2e-3 })
 */
export const scaleByAdamax = (options: AdamOptions = {}): GradientTransformation<AdamaxState> =>
  adamaxMoments('scaleByAdamax', adamBetas('scaleByAdamax', checkOptions('scaleByAdamax', options, ['b1', 'b2', 'eps'])))
