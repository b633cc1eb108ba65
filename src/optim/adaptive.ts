/**
 * Per-coordinate adaptive scalings: each divides the gradient by a running root-mean-square of
 * its own past, so every coordinate moves at a similar pace whatever its gradient's size.
 * None of them adds the learning rate or the minus sign: chain scaleByLearningRate after.
 */
import * as T from '../tensor/index.ts'
import type { Tensor } from '../tensor/tensor.ts'
import { map, zerosLike, type Tree } from '../tree.ts'
import { increment, stepOf, zipTrees } from './internal.ts'
import { checkGrads, type GradientTransformation } from './transform.ts'
import { checkOptions, nonNegative, OptimError, positive, unitInterval } from './validate.ts'
import { adamDirection32 } from './adam32.ts'
import { nadamDirection32 } from './adam-variants32.ts'
import { rmsDirection32 } from './rms32.ts'

/** Adam's state: the step count and the first and second moment estimates. */
export type AdamState = { readonly count: Tensor; readonly mu: Tree; readonly nu: Tree }

/** Options of scaleByAdam (defaults: Kingma & Ba's). */
export interface AdamOptions {
  /** β₁ in [0, 1): decay of the mean of g (default 0.9). */
  readonly b1?: number
  /** β₂ in [0, 1): decay of the mean of g² (default 0.999). */
  readonly b2?: number
  /** ε > 0 added to √ν̂ (default 1e-8). */
  readonly eps?: number
}

/** Adam's β₁, β₂ and ε, checked, defaults filled in. */
export type AdamBetas = { readonly b1: number; readonly b2: number; readonly eps: number }

/** The checked β₁, β₂ and ε, with Kingma & Ba's defaults (internal: Adam's variants and aliases share them). */
export const adamBetas = (where: string, { b1 = 0.9, b2 = 0.999, eps = 1e-8 }: AdamOptions): AdamBetas => ({
  b1: unitInterval(where, 'b1', b1),
  b2: unitInterval(where, 'b2', b2),
  eps: positive(where, 'eps', eps),
})

/** Adam's running moments, leaf by leaf: μ = β₁μ + (1-β₁)g, ν = β₂ν + (1-β₂)g² (internal: Adam's variants share them). */
export const adamMomentsOf = (
  at: string,
  b1: number,
  b2: number,
  grads: Tree,
  state: { readonly mu: Tree; readonly nu: Tree },
): { mu: Tree; nu: Tree } => ({
  mu: zipTrees(at, (g, m) => T.addScaled(T.scale(b1, m), 1 - b1, g), grads, { what: 'mu', tree: state.mu }),
  nu: zipTrees(at, (g, v) => T.addScaled(T.scale(b2, v), 1 - b2, T.square(g)), grads, { what: 'nu', tree: state.nu }),
})

/**
 * scaleByAdam from checked betas, its errors naming `where` (internal: the aliases build theirs
 * with it). With `nesterov`, NAdam's direction (scaleByNadam): the same moments, with μ/(1-β₁ᵗ)
 * replaced by the look-ahead β₁·μ/(1-β₁ᵗ⁺¹) + (1-β₁)·g/(1-β₁ᵗ).
 */
export const adamMoments = (where: string, { b1, b2, eps }: AdamBetas, nesterov = false): GradientTransformation<AdamState> => {
  const at = `${where}.update`
  return {
    init: (params) => ({ count: T.scalar(0), mu: zerosLike(params), nu: zerosLike(params) }),
    update: (grads, state, params) => {
      checkGrads(at, grads, params)
      const t = stepOf(at, state) + 1
      // μ = β₁μ + (1-β₁)g,  ν = β₂ν + (1-β₂)g²
      const { mu, nu } = adamMomentsOf(at, b1, b2, grads, state)
      // bias correction: μ̂ = μ / (1-β₁ᵗ), ν̂ = ν / (1-β₂ᵗ); u = μ̂ / (√ν̂ + ε)
      const c1 = 1 - b1 ** t
      const c2 = 1 - b2 ** t
      const c1Next = 1 - b1 ** (t + 1) // NAdam: next step's correction, for the look-ahead
      const updates = zipTrees(
        at,
        (m, v, g) => {
          if (T.isFloat32(m) || T.isFloat32(v)) {
            // float32: src/optim/adam32.ts and adam-variants32.ts
            return nesterov ? nadamDirection32(at, m, v, g, { b1, c1, c1Next, c2, eps }) : adamDirection32(at, m, v, c1, c2, eps)
          }
          return T.generate(m.shape, (i) => {
            const mi = m.data[i]!
            const mHat = nesterov ? b1 * (mi / c1Next) + (1 - b1) * (g.data[i]! / c1) : mi / c1
            return mHat / (Math.sqrt(v.data[i]! / c2) + eps)
          })
        },
        mu,
        { what: 'nu', tree: nu },
        { what: 'gradients', tree: grads },
      )
      return [updates, { count: increment(state.count), mu, nu }]
    },
  }
}

/**
 * Adam's direction (Kingma & Ba 2015, Algorithm 1), bias-corrected: with t the step (1 for the
 * first), μ = β₁μ + (1-β₁)g, ν = β₂ν + (1-β₂)g², u = (μ/(1-β₁ᵗ)) / (√(ν/(1-β₂ᵗ)) + ε).
 * @example
 * // first step: μ̂ = g and ν̂ = g², so u = g / (|g| + ε) ≈ sign(g)
 * chain(scaleByAdam({}), scaleByLearningRate(1e-3)) // adam({ lr: 1e-3 })
 */
export const scaleByAdam = (options: AdamOptions = {}): GradientTransformation<AdamState> =>
  adamMoments('scaleByAdam', adamBetas('scaleByAdam', checkOptions('scaleByAdam', options, ['b1', 'b2', 'eps'])))

/** RMSprop's state: the running mean of g². */
export type RmsState = { readonly nu: Tree }

/** Options of scaleByRms. */
export interface RmsOptions {
  /** ρ in [0, 1): decay of the mean of g² (default 0.9). */
  readonly decay?: number
  /** ε > 0 added to √ν (default 1e-8). */
  readonly eps?: number
}

/** RMSprop's ρ and ε, checked, defaults filled in. */
export type RmsSettings = { readonly decay: number; readonly eps: number }

/** The checked ρ and ε, with the defaults 0.9 and 1e-8 (internal: rmsprop shares them). */
export const rmsSettings = (where: string, { decay = 0.9, eps = 1e-8 }: RmsOptions): RmsSettings => ({
  decay: unitInterval(where, 'decay', decay),
  eps: positive(where, 'eps', eps),
})

/** scaleByRms from checked settings, its errors naming `where` (internal: rmsprop builds its chain with it). */
export const rmsScaling = (where: string, { decay, eps }: RmsSettings): GradientTransformation<RmsState> => {
  const at = `${where}.update`
  return {
    init: (params) => ({ nu: zerosLike(params) }),
    update: (grads, state, params) => {
      checkGrads(at, grads, params)
      const nu = zipTrees(at, (g, v) => T.addScaled(T.scale(decay, v), 1 - decay, T.square(g)), grads, { what: 'nu', tree: state.nu })
      const direction = (g: Tensor, v: Tensor): Tensor =>
        T.isFloat32(g) || T.isFloat32(v) ? rmsDirection32(at, g, v, eps) : T.zipWith((gi, vi) => gi / (Math.sqrt(vi) + eps), g, v)
      const updates = zipTrees(at, direction, grads, { what: 'nu', tree: nu })
      return [updates, { nu }]
    },
  }
}

/**
 * RMSprop's direction (Hinton's lecture 6e; PyTorch's form): ν = ρν + (1-ρ)g² from ν = 0, and
 * u = g / (√ν + ε). No bias correction, so the first step is g/(√(1-ρ)|g|) ≈ 3.2·sign(g) at ρ = 0.9.
 * @example chain(scaleByRms({ decay: 0.9 }), scaleByLearningRate(1e-3)) // rmsprop({ lr: 1e-3 })
 */
export const scaleByRms = (options: RmsOptions = {}): GradientTransformation<RmsState> =>
  rmsScaling('scaleByRms', rmsSettings('scaleByRms', checkOptions('scaleByRms', options, ['decay', 'eps'])))

/** Adagrad's state: the running sum of g². */
export type AdagradState = { readonly sum: Tree }

/** Options of scaleByAdagrad. */
export interface AdagradOptions {
  /** ε > 0 added to √Σg² (default 1e-10, PyTorch's). */
  readonly eps?: number
  /** Starting value of Σg², >= 0 (default 0). */
  readonly initialAccumulator?: number
}

/** Adagrad's ε and starting Σ, checked, defaults filled in. */
export type AdagradSettings = { readonly eps: number; readonly initialAccumulator: number }

/** The checked ε and starting Σ, with PyTorch's defaults 1e-10 and 0 (internal: adagrad shares them). */
export const adagradSettings = (where: string, { eps = 1e-10, initialAccumulator = 0 }: AdagradOptions): AdagradSettings => ({
  eps: positive(where, 'eps', eps),
  initialAccumulator: nonNegative(where, 'initialAccumulator', initialAccumulator),
})

/** scaleByAdagrad from checked settings, its errors naming `where` (internal: adagrad builds its chain with it). */
export const adagradScaling = (where: string, { eps, initialAccumulator }: AdagradSettings): GradientTransformation<AdagradState> => {
  const at = `${where}.update`
  return {
    init: (params) => ({ sum: map(params, (p) => T.asTensor(T.cast(T.full(p.shape, initialAccumulator), T.dtypeOf(p)))) }),
    update: (grads, state, params) => {
      checkGrads(at, grads, params)
      const sum = zipTrees(at, (g, s) => T.add(s, T.square(g)), grads, { what: 'sum', tree: state.sum })
      const direction = (g: Tensor, s: Tensor): Tensor =>
        T.isFloat32(g) || T.isFloat32(s) ? rmsDirection32(at, g, s, eps) : T.zipWith((gi, si) => gi / (Math.sqrt(si) + eps), g, s)
      const updates = zipTrees(at, direction, grads, { what: 'sum', tree: sum })
      return [updates, { sum }]
    },
  }
}

/**
 * Adagrad's direction (Duchi et al. 2011; PyTorch's form): Σ = Σ + g², u = g / (√Σ + ε). The
 * step shrinks as gradients accumulate.
 * @example chain(scaleByAdagrad(), scaleByLearningRate(0.1)) // adagrad({ lr: 0.1 })
 */
export const scaleByAdagrad = (options: AdagradOptions = {}): GradientTransformation<AdagradState> =>
  adagradScaling(
    'scaleByAdagrad',
    adagradSettings('scaleByAdagrad', checkOptions('scaleByAdagrad', options, ['eps', 'initialAccumulator'])),
  )
