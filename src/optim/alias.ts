/**
 * The optimizers people ask for by name, each a chain of the small transforms. `lr` is a number
 * or a Schedule. Hyper-parameters are checked here, and errors name the alias ("adam: b2 must be
 * in [0, 1), got 1"). The state is the chain's tuple of states; a transform the options switch
 * off (momentum 0, weight decay 0) is left out of the chain, so sgd({ lr }) is exactly
 * scaleByLearningRate(lr).
 */
import type { Tree } from '../tree.ts'
import { adagradScaling, adamMoments, rmsScaling, type AdagradState, type AdamOptions, type AdamState } from './adaptive.ts'
import { adamaxMoments, amsgradMoments, nadamMoments, type AdamaxState, type AmsgradState } from './adam-variants.ts'
import { momentum as momentumTrace } from './momentum.ts'
import { fusedAdam, type AdamVariant } from './fused-adam.ts'
import { fusedRms } from './fused-rms.ts'
import { checkSelect, masked, type Select } from './masked.ts'
import { fusedSgd } from './fused-sgd.ts'
import { learningRate, rateAt, type CountState } from './scale.ts'
import type { Schedule } from './schedule.ts'
import { chain, checkGrads, type EmptyState, type GradientTransformation } from './transform.ts'
import { checkOptions, flag, nonNegative, OptimError, unitInterval } from './validate.ts'
import { decoupledDecay, l2Penalty } from './weight-decay.ts'

/** The transform on the leaves `mask` picks (Optim.masked), or on all of them without a mask. */
const maskedIf = <S extends Tree>(t: GradientTransformation<S>, mask: Select | undefined): GradientTransformation<S> => (mask === undefined ? t : masked(t, mask))

/** Checks an alias's mask option, if given, under the alias's name. */
const checkMask = (where: string, mask: unknown): void => {
  if (mask !== undefined) checkSelect(`${where}: mask`, mask)
}

/** Checks the gradients against the params under the alias's name before the chain runs. */
const named = <S extends Tree>(where: string, t: GradientTransformation<S>): GradientTransformation<S> => ({
  init: (params) => t.init(params),
  update: (grads, state, params) => {
    checkGrads(`${where}.update`, grads, params)
    return t.update(grads, state, params)
  },
})

/** Options of sgd. */
export interface SgdOptions {
  /** Learning rate: a number > 0 or a Schedule. */
  readonly lr: number | Schedule
  /** Momentum β in [0, 1) (default 0: plain SGD, no trace in the state). */
  readonly momentum?: number
  /** Nesterov momentum (default false; needs momentum > 0). */
  readonly nesterov?: boolean
  /** L2 weight decay λ >= 0 added to the gradient, PyTorch-style (default 0). */
  readonly weightDecay?: number
  /** The leaves weight decay applies to, as Optim.masked picks them (default: all). */
  readonly mask?: Select
}

/**
 * Stochastic gradient descent: chain(addL2(λ)?, traceMomentum(β)?, scaleByLearningRate(lr)).
 * With only lr, one step is p - lr·g exactly. Runs fused (one pass per leaf, see fused-sgd.ts),
 * bit-identical to sgdChain, the chain as written.
 * @example
 * const opt = sgd({ lr: 0.1, momentum: 0.9 })
 * const [u, s] = opt.update(grads, opt.init(params), params) // u = -0.1 · grads on the first step
 */
export const sgd = (options: SgdOptions): GradientTransformation<readonly Tree[]> => {
  checkOptions('sgd', options, ['lr', 'momentum', 'nesterov', 'weightDecay', 'mask'])
  const reference = sgdChain(options)
  const { lr, momentum = 0, nesterov = false, weightDecay = 0, mask } = options
  return fusedSgd(reference, { rate: rateAt('sgd', lr), weightDecay, momentum, nesterov, mask })
}

/** sgd as the chain of small transforms it is defined by: the readable reference for the fused sgd. */
export const sgdChain = (options: SgdOptions): GradientTransformation<readonly Tree[]> => {
  const { lr, momentum = 0, nesterov = false, weightDecay = 0, mask } = checkOptions('sgdChain', options, ['lr', 'momentum', 'nesterov', 'weightDecay', 'mask'])
  checkMask('sgd', mask)
  unitInterval('sgd', 'momentum', momentum)
  flag('sgd', 'nesterov', nesterov)
  nonNegative('sgd', 'weightDecay', weightDecay)
  if (nesterov && momentum === 0) throw new OptimError('sgd: nesterov needs momentum > 0, got momentum 0')
  const parts: GradientTransformation[] = []
  if (weightDecay > 0) parts.push(maskedIf(l2Penalty('sgd', weightDecay, 'weightDecay'), mask))
  if (momentum > 0) parts.push(momentumTrace('sgd', { decay: momentum, nesterov }, 'momentum'))
  parts.push(learningRate('sgd', lr))
  return named('sgd', chain(...parts))
}

/** Options of adam. */
export interface AdamAliasOptions {
  /** Learning rate: a number > 0 or a Schedule. */
  readonly lr: number | Schedule
  /** β₁ in [0, 1) (default 0.9). */
  readonly b1?: number
  /** β₂ in [0, 1) (default 0.999). */
  readonly b2?: number
  /** ε > 0 (default 1e-8). */
  readonly eps?: number
}

/** The options of Adam's family without weight decay. */
const ADAM_OPTIONS = ['lr', 'b1', 'b2', 'eps'] as const

/**
 * The chain an alias of Adam's family without weight decay is defined by: its direction (e.g.
 * adamMoments), then the learning rate. Its errors name the alias.
 */
const directionThenRate =
  <S extends Tree>(where: string, direction: (where: string, options: AdamOptions) => GradientTransformation<S>) =>
  (options: AdamAliasOptions): GradientTransformation<readonly [S, CountState]> => {
    const { lr, b1, b2, eps } = checkOptions(`${where}Chain`, options, ADAM_OPTIONS)
    return named(where, chain(direction(where, { b1, b2, eps }), learningRate(where, lr)))
  }

/** An alias of Adam's family without weight decay: the chain `chainOf` builds, run fused (fused-adam.ts), with its numbers bit for bit. */
const fusedFamily =
  <S extends Tree>(where: string, variant: AdamVariant, chainOf: (options: AdamAliasOptions) => GradientTransformation<S>) =>
  (options: AdamAliasOptions): GradientTransformation<S> => {
    checkOptions(where, options, ADAM_OPTIONS)
    const { lr, b1 = 0.9, b2 = 0.999, eps = 1e-8 } = options
    return fusedAdam(chainOf(options), { where, rate: rateAt(where, lr), b1, b2, eps, weightDecay: undefined, variant })
  }

/** adam as the chain of small transforms it is defined by: the readable reference for the fused adam. */
export const adamChain: (options: AdamAliasOptions) => GradientTransformation<readonly [AdamState, CountState]> = directionThenRate('adam', adamMoments)

/**
 * Adam (Kingma & Ba 2015): chain(scaleByAdam({ b1, b2, eps }), scaleByLearningRate(lr)).
 * Runs fused (one pass per leaf, see fused-adam.ts), with the chain's numbers bit for bit.
 * @example adam({ lr: 1e-3 }) // the defaults b1 0.9, b2 0.999, eps 1e-8
 */
export const adam: (options: AdamAliasOptions) => GradientTransformation<readonly [AdamState, CountState]> = fusedFamily('adam', 'adam', adamChain)

/** Options of adamw. */
export interface AdamwOptions extends AdamAliasOptions {
  /** Decoupled weight decay λ >= 0 (default 1e-4, optax's). */
  readonly weightDecay?: number
  /** The leaves weight decay applies to, as Optim.masked picks them (default: all; optax's mask). */
  readonly mask?: Select
}

/**
 * AdamW (Loshchilov & Hutter 2019): Adam's direction plus λ·p, then scaled by -lr, so
 * p ← p - lr·(μ̂/(√ν̂+ε) + λp): chain(scaleByAdam, addDecayedWeights(λ), scaleByLearningRate(lr)).
 * Runs fused, like adam.
 * @example adamw({ lr: 1e-3, weightDecay: 1e-2 })
 */
export const adamw = (options: AdamwOptions): GradientTransformation<readonly [AdamState, EmptyState, CountState]> => {
  checkOptions('adamw', options, ['lr', 'b1', 'b2', 'eps', 'weightDecay', 'mask'])
  const { lr, b1 = 0.9, b2 = 0.999, eps = 1e-8, weightDecay = 1e-4, mask } = options
  return fusedAdam(adamwChain(options), { where: 'adamw', rate: rateAt('adamw', lr), b1, b2, eps, weightDecay, mask })
}

/** adamw as the chain of small transforms it is defined by: the readable reference for the fused adamw. */
export const adamwChain = (options: AdamwOptions): GradientTransformation<readonly [AdamState, EmptyState, CountState]> => {
  const { lr, b1, b2, eps, weightDecay = 1e-4, mask } = checkOptions('adamwChain', options, ['lr', 'b1', 'b2', 'eps', 'weightDecay', 'mask'])
  checkMask('adamw', mask)
  return named('adamw', chain(adamMoments('adamw', { b1, b2, eps }), maskedIf(decoupledDecay('adamw', weightDecay), mask), learningRate('adamw', lr)))
}

/** amsgrad as the chain of small transforms it is defined by: the readable reference for the fused amsgrad. */
export const amsgradChain: (options: AdamAliasOptions) => GradientTransformation<readonly [AmsgradState, CountState]> = directionThenRate('amsgrad', amsgradMoments)

/**
 * AMSGrad: chain(scaleByAmsgrad({ b1, b2, eps }), scaleByLearningRate(lr)), PyTorch's
 * `Adam(amsgrad=True)`. Runs fused, like adam, with the chain's numbers bit for bit.
 * @example amsgrad({ lr: 1e-3 })
 */
export const amsgrad: (options: AdamAliasOptions) => GradientTransformation<readonly [AmsgradState, CountState]> = fusedFamily('amsgrad', 'amsgrad', amsgradChain)

/** nadam as the chain of small transforms it is defined by: the readable reference for the fused nadam. */
export const nadamChain: (options: AdamAliasOptions) => GradientTransformation<readonly [AdamState, CountState]> = directionThenRate('nadam', nadamMoments)

/**
 * NAdam: chain(scaleByNadam({ b1, b2, eps }), scaleByLearningRate(lr)), optax's `nadam`.
 * Runs fused, like adam, with the chain's numbers bit for bit.
 * @example nadam({ lr: 2e-3 })
 */
export const nadam: (options: AdamAliasOptions) => GradientTransformation<readonly [AdamState, CountState]> = fusedFamily('nadam', 'nadam', nadamChain)

/** adamax as the chain of small transforms it is defined by: the readable reference for the fused adamax. */
export const adamaxChain: (options: AdamAliasOptions) => GradientTransformation<readonly [AdamaxState, CountState]> = directionThenRate('adamax', adamaxMoments)

/**
 * Adamax: chain(scaleByAdamax({ b1, b2, eps }), scaleByLearningRate(lr)), PyTorch's and
 * optax's `adamax`. Runs fused, like adam, with the chain's numbers bit for bit.
 * @example adamax({ lr: 2e-3 })
 */
export const adamax: (options: AdamAliasOptions) => GradientTransformation<readonly [AdamaxState, CountState]> = fusedFamily('adamax', 'adamax', adamaxChain)

/** Options of rmsprop. */
export interface RmspropOptions {
  /** Learning rate: a number > 0 or a Schedule. */
  readonly lr: number | Schedule
  /** ρ in [0, 1): decay of the mean of g² (default 0.9). */
  readonly decay?: number
  /** ε > 0 (default 1e-8). */
  readonly eps?: number
  /** Momentum β in [0, 1) on the scaled gradient (default 0: none, no trace in the state). */
  readonly momentum?: number
}

/**
 * RMSprop, PyTorch's form: chain(scaleByRms({ decay, eps }), traceMomentum(β)?, scaleByLearningRate(lr)).
 * Runs fused (one pass per leaf, see fused-rms.ts), with the chain's numbers bit for bit.
 * @example rmsprop({ lr: 1e-3, momentum: 0.9 })
 */
export const rmsprop = (options: RmspropOptions): GradientTransformation<readonly Tree[]> => {
  checkOptions('rmsprop', options, ['lr', 'decay', 'eps', 'momentum'])
  const { lr, decay = 0.9, eps = 1e-8, momentum = 0 } = options
  return fusedRms(rmspropChain(options), { rate: rateAt('rmsprop', lr), decay, eps, momentum })
}

/** rmsprop as the chain of small transforms it is defined by: the readable reference for the fused rmsprop. */
export const rmspropChain = (options: RmspropOptions): GradientTransformation<readonly Tree[]> => {
  const { lr, decay, eps, momentum = 0 } = checkOptions('rmspropChain', options, ['lr', 'decay', 'eps', 'momentum'])
  const rms = rmsScaling('rmsprop', { decay, eps })
  unitInterval('rmsprop', 'momentum', momentum)
  const parts: GradientTransformation[] = [rms]
  if (momentum > 0) parts.push(momentumTrace('rmsprop', { decay: momentum }, 'momentum'))
  parts.push(learningRate('rmsprop', lr))
  return named('rmsprop', chain(...parts))
}

/** Options of adagrad. */
export interface AdagradAliasOptions {
  /** Learning rate: a number > 0 or a Schedule. */
  readonly lr: number | Schedule
  /** ε > 0 (default 1e-10). */
  readonly eps?: number
  /** Starting value of Σg², >= 0 (default 0). */
  readonly initialAccumulator?: number
}

/**
 * Adagrad (Duchi et al. 2011): chain(scaleByAdagrad({ eps }), scaleByLearningRate(lr)).
 * Runs fused, like rmsprop.
 * @example adagrad({ lr: 0.1 })
 */
export const adagrad = (options: AdagradAliasOptions): GradientTransformation<readonly [AdagradState, CountState]> => {
  checkOptions('adagrad', options, ['lr', 'eps', 'initialAccumulator'])
  const { lr, eps = 1e-10 } = options
  return fusedRms(adagradChain(options), { rate: rateAt('adagrad', lr), decay: undefined, eps, momentum: 0 })
}

/** adagrad as the chain of small transforms it is defined by: the readable reference for the fused adagrad. */
export const adagradChain = (options: AdagradAliasOptions): GradientTransformation<readonly [AdagradState, CountState]> => {
  const { lr, eps, initialAccumulator } = checkOptions('adagradChain', options, ['lr', 'eps', 'initialAccumulator'])
  return named('adagrad', chain(adagradScaling('adagrad', { eps, initialAccumulator }), learningRate('adagrad', lr)))
}
