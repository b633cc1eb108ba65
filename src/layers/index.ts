/**
 * The layer namespace: `import { L } from 'chainrule'`, then `L.pipe(L.dense(10), L.relu)`.
 * Each layer's file also exports its kind (`denseKind`: spec codec and builder); the built-in
 * registry of IO is every kind exported here, so adding a layer is its file and one line below.
 */
export * from '../layer.ts'
export type { Rule, Keep, OutShape, Add, Sub, Mul, Div, Prod, Show as ShowShape } from '../shape-type.ts'
export { pipe, compose, andThen, pipeKind, type Pipe, type PipeParams, type PipeState, type PipeTape } from './pipe.ts'
export { identity, identityKind, type Identity } from './identity.ts'
export { residual, residualKind, type Residual } from './residual.ts'
export { branches, branchesKind, type Branches, type BranchesTape, type Merge } from './branches.ts'
export { initWeights, initializers, type Initializer } from './initializers.ts'
export { dense, denseKind, type Dense, type DenseOptions, type DenseParams, type DenseTape } from './dense.ts'
export { relu, reluKind, type Relu } from './relu.ts'
export { leakyRelu, leakyReluKind, type LeakyRelu } from './leaky-relu.ts'
export { elu, eluKind, type Elu } from './elu.ts'
export { sigmoid, sigmoidKind, logistic, type Sigmoid } from './sigmoid.ts'
export { tanh, tanhKind, type Tanh } from './tanh.ts'
export { softmax, softmaxKind, softmaxRows, type Softmax } from './softmax.ts'
export { flatten, flattenKind, type Flatten } from './flatten.ts'
export { conv2d, conv2dKind, type Conv2d, type Conv2dOptions, type Conv2dParams, type Conv2dTape } from './conv2d.ts'
export { type PoolOptions } from './pooling.ts'
export { maxPool2d, maxPool2dKind, type MaxPool2d, type MaxPoolTape } from './max-pool.ts'
export { avgPool2d, avgPool2dKind, type AvgPool2d, type AvgPoolTape } from './avg-pool.ts'
export { globalAvgPool, globalAvgPoolKind, type GlobalAvgPool } from './global-avg-pool.ts'
export { dropout, dropoutKind, type Dropout, type DropoutOptions, type DropoutTape } from './dropout.ts'
export {
  batchNorm,
  batchNormKind,
  type BatchNorm,
  type BatchNormOptions,
  type BatchNormParams,
  type BatchNormState,
  type BatchNormTape,
} from './batch-norm.ts'
export { reshape, reshapeKind, type Reshape } from './reshape.ts'
