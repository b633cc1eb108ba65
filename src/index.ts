/**
 * chainrule: neural networks as forward functions beside hand-written vjps.
 *
 * Namespaces, fp-ts style:
 *   T     tensors          Tree  parameter trees     Key   splittable random keys
 *   L     layers and combinators                     Loss  losses (value + gradient)
 *   Gradcheck             numerical gradient checks
 *   Data  data sets, batches, IDX/MNIST, toy sets      Train training state, step, evaluate, fit
 *   Optim optimizers (gradient transformations)        Schedule learning-rate schedules
 *   IO    specs, registry, summaries, checkpoints (save/load/resume exactly)
 *   Plot  chart specs (Vega-Lite JSON): history, confusion matrix, images, decision boundary, gradient norms
 *   Kernels which kernel family and how many threads run the heavy loops (never what they compute)
 *
 * @module chainrule
 */
export * as T from './tensor/index.ts'
export * as Tree from './tree.ts'
export * as Key from './key.ts'
export * as L from './layers/index.ts'
export * as Loss from './loss.ts'
export * as Gradcheck from './gradcheck.ts'
export * as Data from './data/index.ts'
export * as Train from './train/index.ts'
export * as Optim from './optim/index.ts'
export * as Schedule from './optim/schedule.ts'
export * as Plot from './plot/index.ts'
export * as IO from './io/index.ts'
export * as Kernels from './kernels/index.ts'
export type { Tensor, Tensor32, DType, Shape } from './tensor/tensor.ts'
export type { Layer, Ctx, Spec } from './layer.ts'
