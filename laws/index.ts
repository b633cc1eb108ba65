/**
 * chainrule/laws: the property laws every layer, loss and combinator must obey, as pure
 * predicates plus runners you call from your own test files.
 *
 *   import { checkLayer } from 'chainrule/laws'
 *   test('my layer obeys the laws', () => checkLayer(myLayer, { inShape: [4] }))
 */
export * from './verdict.ts'
export * as Compare from './compare.ts'
export * as Arb from './arbitraries.ts'
export * as LayerLaws from './layer-laws.ts'
export { runProperty, layerLaws, checkLayer, defaultSeed, defaultRuns, type Law, type RunOptions, type CheckLayerOptions } from './run.ts'
