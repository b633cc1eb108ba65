/**
 * reshape: gives each example a new shape with the same number of values (one axis may be -1,
 * inferred). Only the shape changes, so dx is dy reshaped back: y and x share their values.
 *
 *   forward   y = x viewed as [N, ...shape]       vjp   dx = dy viewed as [N, ...inShape]
 *
 *   spec      { kind: 'reshape', shape }
 */
import * as T from '../tensor/index.ts'
import type { DType, Shape } from '../tensor/tensor.ts'
import { checkDyDType, define, none, ShapeError, type Layer, type None } from '../layer.ts'
import { refine } from '../io/codecs.ts'
import { checkSpec, layerKind, specOf } from '../io/kind.ts'
import type { Reshape as ReshapeRule } from '../shape-type.ts'

/** A reshape target: integers >= 0, or -1 (inferred) at most once. */
const ReshapeTarget = refine(
  'a shape of non-negative integers with at most one -1',
  (u): u is readonly number[] =>
    Array.isArray(u) &&
    u.length <= 32 &&
    u.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= -1) &&
    u.filter((d) => d === -1).length <= 1,
)

const ReshapeSpec = specOf('reshape', { shape: ReshapeTarget })

/** The per-example shape `shape` stands for, for an example of `size` values, or why it cannot. */
const resolve = (shape: Shape, size: number): Shape | string => {
  const unknown = shape.filter((d) => d === -1).length
  const known = T.sizeOf(shape.filter((d) => d !== -1))
  if (unknown === 1 && known > 0 && size % known === 0) return shape.map((d) => (d === -1 ? size / known : d))
  if (unknown === 0 && known === size) return shape
  return `cannot reshape an example of ${size} values to ${T.showShape(shape)}`
}

/** The type of `reshape(T)`: the same values in the shape T. */
export type Reshape<T = Shape> = Layer<None, None, { readonly inShape: Shape; readonly dtype: DType }, ReshapeRule<T>>

/**
 * Reshapes each example (the batch axis is kept): e.g. [784] → [1, 28, 28].
 * @example pipe(dense(784), reshape([1, 28, 28]), conv2d(4, 3))
 */
export const reshape = <const T extends Shape>(target: T): Reshape<T> => {
  const spec = checkSpec(ReshapeSpec, { kind: 'reshape', shape: Array.isArray(target) ? [...target] : target })
  const { shape } = spec
  return define({
    name: 'reshape',
    spec,
    outShape: (inShape) => {
      const out = resolve(shape, T.sizeOf(inShape))
      if (typeof out === 'string') throw new ShapeError(['reshape'], `${out} (input shape ${T.showShape(inShape)})`)
      return out
    },
    forward: (_p, x) => {
      const n = x.shape[0]
      if (n === undefined) throw new T.TensorError('reshape: input needs a batch axis')
      const out = resolve(shape, T.sizeOf(x.shape.slice(1)))
      if (typeof out === 'string') throw new T.TensorError(`${out} (input shape ${T.showShape(x.shape)})`)
      return { y: T.reshape([n, ...out])(x), tape: { inShape: x.shape, dtype: T.dtypeOf(x) } }
    },
    vjp: (_p, { inShape, dtype }, dy) => {
      checkDyDType('reshape', dtype, dy)
      return { dx: T.reshape(inShape)(dy), dp: none }
    },
  })
}

/** reshape as data: `{ kind: 'reshape', shape }` rebuilds `reshape(shape)`. */
export const reshapeKind = layerKind(ReshapeSpec, (s) => reshape(s.shape))
