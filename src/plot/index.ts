/**
 * Plots as data: each function builds a Vega-Lite spec (plain JSON) from a training history, a
 * schedule, predictions, tensors or a model. Nothing here renders or touches files, so it runs
 * in the browser as well as in Node; `chainrule/node`'s writePlot renders a spec to SVG or PNG.
 *
 *   history, stepHistory, epochHistory   loss and accuracy per step (raw and smoothed) and per epoch
 *   compareRuns                          several runs' smoothed curves on shared axes
 *   learningRate                         a schedule over the steps of a run
 *   confusionMatrix                      a classifier's counts, true class against predicted
 *   imageGrid, denseWeights, convFilters, misclassified   grids of small images
 *   decisionBoundary                     a 2-D classifier's regions with the data on top
 *   recordGradientNorms, gradientNormChart   per-layer gradient norms over training
 */
export * from './spec.ts'
export * from './smooth.ts'
export * from './history.ts'
export * from './schedule.ts'
export * from './confusion.ts'
export * from './images.ts'
export * from './boundary.ts'
export * from './gradients.ts'
