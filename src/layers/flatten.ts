/**
 * flatten: [N, d₁, d₂, …] → [N, d₁·d₂·…]. Only the shape changes, so dx is dy reshaped back.
 *
 *   spec      { kind: 'flatten' }
 */
import * as T from '../tensor/index.ts'
import type { DType, Shape } from '../tensor/tensor.ts'
import { batchAxisMissing, checkDyDType, define, none, shapeMismatch, type Layer, type None } from '../layer.ts'
import { layerKind, specOf } from '../io/kind.ts'
import type { Flatten as FlattenRule } from '../shape-type.ts'

/** The type of `flatten`: [d₁, d₂, …] to [d₁·d₂·…]. */
export type Flatten = Layer<None, None, { readonly inShape: Shape; readonly dtype: DType }, FlattenRule>

/** Flattens each example to a vector (e.g. a [1, 28, 28] image to [784]). */
export const flatten: Flatten = define({
  name: 'flatten',
  outShape: (inShape) => {
    if (inShape.length === 0) throw shapeMismatch('flatten', 'input shape', 'at least one axis per example', inShape)
    return [T.sizeOf(inShape)]
  },
  forward: (_p, x) => {
    const n = x.shape[0]
    if (n === undefined || x.shape.length < 2) throw batchAxisMissing('flatten', x.shape) // [N] would read as N examples of shape []
    return { y: T.reshape([n, T.sizeOf(x.shape.slice(1))])(x), tape: { inShape: x.shape, dtype: T.dtypeOf(x) } }
  },
  vjp: (_p, { inShape, dtype }, dy) => {
    checkDyDType('flatten', dtype, dy)
    return { dx: T.reshape(inShape)(dy), dp: none }
  },
})

/** flatten as data: `{ kind: 'flatten' }`. */
export const flattenKind = layerKind(specOf('flatten', {}), () => flatten)
