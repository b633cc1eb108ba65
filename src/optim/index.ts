/**
 * Optimizers as gradient transformations, optax style: `import { Optim } from 'chainrule'`.
 *
 *   const opt = Optim.adam({ lr: 1e-3 })
 *   let state = opt.init(params)
 *   const [updates, next] = opt.update(grads, state, params)
 *   params = Optim.applyUpdates(params, updates); state = next
 *
 * Small transforms (momentum, Adam's moments, clipping, weight decay, the learning rate) chain
 * into the aliases (sgd, adam, adamw, nadam, amsgrad, adamax, rmsprop, adagrad). Each alias is
 * the chain it is defined by, run as one fused pass with the same numbers; under
 * `Kernels.using('reference', ...)` the chain itself runs. Schedules live in `Schedule`.
 */
export {
  chain,
  applyUpdates,
  updateAndApply,
  checkGrads,
  emptyState,
  type GradientTransformation,
  type EmptyState,
  type StateOf,
  type ChainState,
} from './transform.ts'
export { identity, scale, scaleByLearningRate, type CountState } from './scale.ts'
export { traceMomentum, type TraceState, type TraceOptions } from './momentum.ts'
export {
  scaleByAdam,
  scaleByRms,
  scaleByAdagrad,
  type AdamState,
  type AdamOptions,
  type RmsState,
  type RmsOptions,
  type AdagradState,
  type AdagradOptions,
} from './adaptive.ts'
export { scaleByAmsgrad, scaleByNadam, scaleByAdamax, type AmsgradState, type AdamaxState } from './adam-variants.ts'
export { addL2, addDecayedWeights } from './weight-decay.ts'
export { clipByGlobalNorm, clipByValue, globalNorm } from './clip.ts'
export { masked, type Select } from './masked.ts'
export {
  sgd,
  adam,
  adamw,
  amsgrad,
  nadam,
  adamax,
  rmsprop,
  adagrad,
  type SgdOptions,
  type AdamAliasOptions,
  type AdamwOptions,
  type RmspropOptions,
  type AdagradAliasOptions,
} from './alias.ts'
export { OptimError } from './validate.ts'
export type { Schedule } from './schedule.ts'
export { showSettings, type OptimizerSettings } from './settings.ts'
