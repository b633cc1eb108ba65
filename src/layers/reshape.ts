/**
 * reshape: gives each example a new shape with the same number of values (one axis may be -1,
 * inferred). Only the shape changes, so dx is dy reshaped back: y and x share their values.
 *
 *   forward   y = x viewed as [N, ...shape]       vjp   dx = dy viewed as [N, ...inShape]
 */
import * as E from 'fp-ts/lib/Either.js'
import * as T from '../tensor/index.ts'
import type { Shape } from '../tensor/tensor.ts'
import { define, none, type Layer, type None } from '../layer.ts'

/** The per-example shape `shape` stands for, for an example of `size` values, or why it cannot. */
const resolve = (shape: Shape, size: number): Shape | string => {
  const unknown = shape.filter((d) => d === -1).length
  const known = T.sizeOf(shape.filter((d) => d !== -1))
  if (unknown === 1 && known > 0 && size % known === 0) return shape.map((d) => (d === -1 ? size / known : d))
  if (unknown === 0 && known === size) return shape
  return `cannot reshape an example of ${size} values to ${T.showShape(shape)}`
}

/**
 * Reshapes each example (the batch axis is kept): e.g. [784] → [1, 28, 28].
 * @example pipe(dense(784), reshape([1, 28, 28]), conv2d(4, 3))
 */
export const reshape = (shape: Shape): Layer<None, None, { readonly inShape: Shape }> => {
  if (!Array.isArray(shape) || !shape.every((d) => d === -1 || (Number.isInteger(d) && d >= 0)) || shape.filter((d) => d === -1).length > 1) {
    throw new RangeError(`reshape: shape must be non-negative integers with at most one -1, got ${JSON.stringify(shape)}`)
  }
  return define({
    name: 'reshape',
    spec: { kind: 'reshape', shape: [...shape] },
    init: (_key, inShape) => {
      const out = resolve(shape, T.sizeOf(inShape))
      return typeof out === 'string' ? E.left(`${out} (input shape ${T.showShape(inShape)})`) : E.right({ outShape: out, params: none })
    },
    forward: (_p, x) => {
      const n = x.shape[0]
      if (n === undefined) throw new T.TensorError('reshape: input needs a batch axis')
      const out = resolve(shape, T.sizeOf(x.shape.slice(1)))
      if (typeof out === 'string') throw new T.TensorError(`${out} (input shape ${T.showShape(x.shape)})`)
      return { y: T.reshape([n, ...out])(x), tape: { inShape: x.shape } }
    },
    vjp: (_p, { inShape }, dy) => ({ dx: T.reshape(inShape)(dy), dp: none }),
  })
}
