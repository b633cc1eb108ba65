/**
 * The optimizers people ask for by name. Each is the chain of small transforms it is defined by,
 * as in optax: read it here, e.g. adam = chain(scaleByAdam({ b1, b2, eps }), scaleByLearningRate(lr)).
 * The chains are built from the transforms' internal forms (adamMoments is scaleByAdam,
 * learningRate is scaleByLearningRate, ...), which name the alias in their errors.
 *
 * Each alias also carries a fast path (withFastPath): a fused one-pass kernel from
 * src/kernels/optim with the chain's numbers, bit for bit. The kernel switch picks: the chain
 * runs under Kernels.use('reference'), the fused pass under the other families (the default).
 *
 * Options are checked once, here, and errors name the alias ("adam: b2 must be in [0, 1), got
 * 1"). `lr` is a number or a Schedule. The state is the chain's tuple of states; a transform the
 * options switch off (momentum 0, weight decay 0) is left out of the chain, so sgd({ lr }) is
 * exactly scaleByLearningRate(lr). Each alias records its name and settings, defaults filled in
 * (GradientTransformation.settings), so a resumed run can be checked against them.
 */
import { fusedAdam } from '../kernels/optim/adam.ts'
import { fusedRms } from '../kernels/optim/rms.ts'
import { fusedSgd } from '../kernels/optim/sgd.ts'
import type { Tree } from '../tree.ts'
import {
  adagradScaling,
  adagradSettings,
  adamBetas,
  adamMoments,
  rmsScaling,
  rmsSettings,
  type AdagradState,
  type AdamState,
} from './adaptive.ts'
import { adamaxMoments, amsgradMoments, nadamMoments, type AdamaxState, type AmsgradState } from './adam-variants.ts'
import { withFastPath } from './fast-path.ts'
import { checkSelect, masked, type Select } from './masked.ts'
import { traceOf } from './momentum.ts'
import { learningRate, rateAt, type CountState } from './scale.ts'
import { lrSetting } from './settings.ts'
import type { Schedule } from './schedule.ts'
import { chain, type EmptyState, type GradientTransformation } from './transform.ts'
import { checkOptions, flag, nonNegative, OptimError, unitInterval } from './validate.ts'
import { decoupledDecay, l2Penalty } from './weight-decay.ts'

/** The transform on the leaves `mask` picks (Optim.masked), or on all of them without a mask. */
const maskedIf = <S extends Tree>(t: GradientTransformation<S>, mask: Select | undefined): GradientTransformation<S> =>
  mask === undefined ? t : masked(t, mask)

/** Checks an alias's mask option, if given, under the alias's name. */
const checkMask = (where: string, mask: unknown): void => {
  if (mask !== undefined) checkSelect(`${where}: mask`, mask)
}

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
 * Stochastic gradient descent: chain(addL2(λ)?, traceMomentum({ decay: β, nesterov })?, scaleByLearningRate(lr)).
 * With only lr, one step is p - lr·g exactly.
 * @example
 * const opt = sgd({ lr: 0.1, momentum: 0.9 })
 * const [u, s] = opt.update(grads, opt.init(params), params) // u = -0.1 · grads on the first step
 */
export const sgd = (options: SgdOptions): GradientTransformation<readonly Tree[]> => {
  const known = ['lr', 'momentum', 'nesterov', 'weightDecay', 'mask'] as const
  const { lr, momentum = 0, nesterov = false, weightDecay = 0, mask } = checkOptions('sgd', options, known)
  checkMask('sgd', mask)
  unitInterval('sgd', 'momentum', momentum)
  flag('sgd', 'nesterov', nesterov)
  nonNegative('sgd', 'weightDecay', weightDecay)
  if (nesterov && momentum === 0) throw new OptimError('sgd: nesterov needs momentum > 0, got momentum 0')
  const rate = rateAt('sgd', lr)
  const parts: GradientTransformation[] = []
  if (weightDecay > 0) parts.push(maskedIf(l2Penalty('sgd', weightDecay), mask)) // addL2(λ)
  if (momentum > 0) parts.push(traceOf('sgd', momentum, nesterov)) // traceMomentum({ decay: β, nesterov })
  parts.push(learningRate('sgd', rate)) // scaleByLearningRate(lr)
  const settings = { name: 'sgd', lr: lrSetting(lr), momentum, nesterov, weightDecay, masked: mask !== undefined }
  return withFastPath('sgd', chain(...parts), fusedSgd({ rate, weightDecay, momentum, nesterov, mask }), settings)
}

/** Options of adam, nadam, amsgrad and adamax. */
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

/** The fused pass's settings for a member of Adam's family without weight decay. */
const NO_DECAY = { weightDecay: undefined, mask: undefined }

/**
 * Adam (Kingma & Ba 2015): chain(scaleByAdam({ b1, b2, eps }), scaleByLearningRate(lr)).
 * @example adam({ lr: 1e-3 }) // the defaults b1 0.9, b2 0.999, eps 1e-8
 */
export const adam = (options: AdamAliasOptions): GradientTransformation<readonly [AdamState, CountState]> => {
  const { lr, ...betas } = checkOptions('adam', options, ADAM_OPTIONS)
  const { b1, b2, eps } = adamBetas('adam', betas)
  const rate = rateAt('adam', lr)
  const readable = chain(adamMoments('adam', { b1, b2, eps }), learningRate('adam', rate))
  const settings = { name: 'adam', lr: lrSetting(lr), b1, b2, eps }
  return withFastPath('adam', readable, fusedAdam({ where: 'adam', variant: 'adam', rate, b1, b2, eps, ...NO_DECAY }), settings)
}

/** Options of adamw. */
export interface AdamwOptions extends AdamAliasOptions {
  /** Decoupled weight decay λ >= 0 (default 1e-4, optax's). */
  readonly weightDecay?: number
  /** The leaves weight decay applies to, as Optim.masked picks them (default: all; optax's mask). */
  readonly mask?: Select
}

/**
 * AdamW (Loshchilov & Hutter 2019): Adam's direction plus λ·p, then scaled by -lr, so
 * p ← p - lr·(μ̂/(√ν̂+ε) + λp): chain(scaleByAdam({ b1, b2, eps }), addDecayedWeights(λ), scaleByLearningRate(lr)).
 * @example adamw({ lr: 1e-3, weightDecay: 1e-2 })
 */
export const adamw = (options: AdamwOptions): GradientTransformation<readonly [AdamState, EmptyState, CountState]> => {
  const { lr, weightDecay = 1e-4, mask, ...betas } = checkOptions('adamw', options, ['lr', 'b1', 'b2', 'eps', 'weightDecay', 'mask'])
  checkMask('adamw', mask)
  const { b1, b2, eps } = adamBetas('adamw', betas)
  nonNegative('adamw', 'weightDecay', weightDecay)
  const rate = rateAt('adamw', lr)
  const readable = chain(
    adamMoments('adamw', { b1, b2, eps }),
    maskedIf(decoupledDecay('adamw', weightDecay), mask), // addDecayedWeights(λ)
    learningRate('adamw', rate),
  )
  const settings = { name: 'adamw', lr: lrSetting(lr), b1, b2, eps, weightDecay, masked: mask !== undefined }
  return withFastPath('adamw', readable, fusedAdam({ where: 'adamw', variant: 'adam', rate, b1, b2, eps, weightDecay, mask }), settings)
}

/**
 * NAdam: chain(scaleByNadam({ b1, b2, eps }), scaleByLearningRate(lr)), optax's `nadam`.
 * @example nadam({ lr: 2e-3 })
 */
export const nadam = (options: AdamAliasOptions): GradientTransformation<readonly [AdamState, CountState]> => {
  const { lr, ...betas } = checkOptions('nadam', options, ADAM_OPTIONS)
  const { b1, b2, eps } = adamBetas('nadam', betas)
  const rate = rateAt('nadam', lr)
  const readable = chain(nadamMoments('nadam', { b1, b2, eps }), learningRate('nadam', rate))
  const settings = { name: 'nadam', lr: lrSetting(lr), b1, b2, eps }
  return withFastPath('nadam', readable, fusedAdam({ where: 'nadam', variant: 'nadam', rate, b1, b2, eps, ...NO_DECAY }), settings)
}

/**
 * AMSGrad: chain(scaleByAmsgrad({ b1, b2, eps }), scaleByLearningRate(lr)), PyTorch's `Adam(amsgrad=True)`.
 * @example amsgrad({ lr: 1e-3 })
 */
export const amsgrad = (options: AdamAliasOptions): GradientTransformation<readonly [AmsgradState, CountState]> => {
  const { lr, ...betas } = checkOptions('amsgrad', options, ADAM_OPTIONS)
  const { b1, b2, eps } = adamBetas('amsgrad', betas)
  const rate = rateAt('amsgrad', lr)
  const readable = chain(amsgradMoments('amsgrad', { b1, b2, eps }), learningRate('amsgrad', rate))
  const settings = { name: 'amsgrad', lr: lrSetting(lr), b1, b2, eps }
  return withFastPath('amsgrad', readable, fusedAdam({ where: 'amsgrad', variant: 'amsgrad', rate, b1, b2, eps, ...NO_DECAY }), settings)
}

/**
 * Adamax: chain(scaleByAdamax({ b1, b2, eps }), scaleByLearningRate(lr)), PyTorch's and optax's `adamax`.
 * @example adamax({ lr: 2e-3 })
 */
export const adamax = (options: AdamAliasOptions): GradientTransformation<readonly [AdamaxState, CountState]> => {
  const { lr, ...betas } = checkOptions('adamax', options, ADAM_OPTIONS)
  const { b1, b2, eps } = adamBetas('adamax', betas)
  const rate = rateAt('adamax', lr)
  const readable = chain(adamaxMoments('adamax', { b1, b2, eps }), learningRate('adamax', rate))
  const settings = { name: 'adamax', lr: lrSetting(lr), b1, b2, eps }
  return withFastPath('adamax', readable, fusedAdam({ where: 'adamax', variant: 'adamax', rate, b1, b2, eps, ...NO_DECAY }), settings)
}

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
 * RMSprop, PyTorch's form: chain(scaleByRms({ decay, eps }), traceMomentum({ decay: β })?, scaleByLearningRate(lr)).
 * @example rmsprop({ lr: 1e-3, momentum: 0.9 })
 */
export const rmsprop = (options: RmspropOptions): GradientTransformation<readonly Tree[]> => {
  const { lr, momentum = 0, ...rms } = checkOptions('rmsprop', options, ['lr', 'decay', 'eps', 'momentum'])
  const { decay, eps } = rmsSettings('rmsprop', rms)
  unitInterval('rmsprop', 'momentum', momentum)
  const rate = rateAt('rmsprop', lr)
  const parts: GradientTransformation[] = [rmsScaling('rmsprop', { decay, eps })] // scaleByRms({ decay, eps })
  if (momentum > 0) parts.push(traceOf('rmsprop', momentum, false)) // traceMomentum({ decay: β })
  parts.push(learningRate('rmsprop', rate)) // scaleByLearningRate(lr)
  const settings = { name: 'rmsprop', lr: lrSetting(lr), decay, eps, momentum }
  return withFastPath('rmsprop', chain(...parts), fusedRms({ rate, decay, eps, momentum }), settings)
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
 * Adagrad (Duchi et al. 2011): chain(scaleByAdagrad({ eps, initialAccumulator }), scaleByLearningRate(lr)).
 * @example adagrad({ lr: 0.1 })
 */
export const adagrad = (options: AdagradAliasOptions): GradientTransformation<readonly [AdagradState, CountState]> => {
  const { lr, ...rest } = checkOptions('adagrad', options, ['lr', 'eps', 'initialAccumulator'])
  const settings = adagradSettings('adagrad', rest)
  const rate = rateAt('adagrad', lr)
  const readable = chain(adagradScaling('adagrad', settings), learningRate('adagrad', rate))
  const recorded = { name: 'adagrad', lr: lrSetting(lr), eps: settings.eps, initialAccumulator: settings.initialAccumulator }
  return withFastPath('adagrad', readable, fusedRms({ rate, decay: undefined, eps: settings.eps, momentum: 0 }), recorded)
}
