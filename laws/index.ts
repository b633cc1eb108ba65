/**
 * chainrule/laws: the property laws every layer, loss and combinator must obey, as pure
 * predicates plus runners you call from your own test files.
 *
 *   import { checkLayer } from 'chainrule/laws'
 *   test('my layer obeys the laws', () => checkLayer(myLayer, { inShape: [4] }))
 *
 * @module chainrule/laws
 */
export * from './verdict.ts'
export { LawFailure, type Failed, type Replay } from './failure.ts'
export { LayerFault, type Part } from './contract.ts'
export * as Compare from './compare.ts'
export * as Arb from './arbitraries.ts'
export * as LayerLaws from './layer-laws.ts'
export {
  runProperty,
  layerLaws,
  checkLayer,
  fusionLaw,
  checkFusion,
  defaultSeed,
  defaultRuns,
  type Law,
  type RunOptions,
  type CheckLayerOptions,
} from './run.ts'
export * as CombinatorLaws from './combinator-laws.ts'
export { checkCombinators, type CheckCombinatorsOptions } from './combinator-laws.ts'
export * as RandomNetwork from './random-network.ts'
export { checkRandomNetworks } from './random-network.ts'
export * as LossLaws from './loss-laws.ts'
export { checkLoss, type CheckLossOptions } from './loss-laws.ts'
export * as OptimizerLaws from './optimizer-laws.ts'
export {
  checkTransform,
  transformLaws,
  checkSgd,
  sgdLaws,
  type CheckTransformOptions,
  type DescentSettings,
  type MakeSgd,
} from './optimizer-laws.ts'
export * as ScheduleLaws from './schedule-laws.ts'
export { checkSchedule, scheduleLaws, type ScheduleSpec } from './schedule-laws.ts'
export * as RandomConvNetwork from './random-conv-network.ts'
export { checkRandomConvNetworks, distinctValues } from './random-conv-network.ts'
