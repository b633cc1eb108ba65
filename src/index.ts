/**
 * chainrule: neural networks as forward functions beside hand-written vjps.
 *
 * Namespaces, fp-ts style:
 *   T     tensors          Tree  parameter trees     Key   splittable random keys
 *   L     layers and combinators                     Loss  losses (value + gradient)
 *   Gradcheck             numerical gradient checks
 */
export * as T from './tensor/index.ts'
export * as Tree from './tree.ts'
export * as Key from './key.ts'
export * as L from './layers/index.ts'
export * as Loss from './loss.ts'
export * as Gradcheck from './gradcheck.ts'
export { useKernels, withKernels, kernels, type KernelChoice } from './kernels/backend.ts'
export type { Tensor, Shape } from './tensor/tensor.ts'
export type { Layer, Ctx, Spec } from './layer.ts'
