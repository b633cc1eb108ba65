/**
 * The kernel call of an element-wise layer: the layer gives the readable function of one number
 * (relu's `max(x, 0)`) and a fast loop over a whole array; the kernel switch picks. Under
 * 'reference' the readable function runs on every number; under 'js', 'wasm' and 'fast' the fast
 * loop runs, which must give the same numbers, bit for bit (law 13; test/layers/activations.test.ts).
 */
import { TensorError, fromData, sameShape, showShape, buffer, type Tensor } from '../tensor/tensor.ts'
import { resolveKernels } from './backend.ts'

/** y = f(x), element-wise: `f` on each number under the 'reference' kernels, `fast` on the whole array otherwise. */
export const elementwise = (x: Tensor, f: (x: number) => number, fast: (x: Float64Array) => Float64Array): Tensor => {
  if (resolveKernels() !== 'reference') return fromData(x.shape, fast(x.data))
  const y = buffer(x.data.length)
  for (let i = 0; i < y.length; i++) y[i] = f(x.data[i]!)
  return fromData(x.shape, y)
}

/**
 * dx = g(x, dy), element-wise: the vjp of an element-wise layer, whose Jacobian is diagonal.
 * `g` on each pair under the 'reference' kernels, `fast` on the whole arrays otherwise. dy must
 * have x's shape.
 */
export const elementwiseVjp = (
  x: Tensor,
  dy: Tensor,
  g: (x: number, dy: number) => number,
  fast: (x: Float64Array, dy: Float64Array) => Float64Array,
): Tensor => {
  if (!sameShape(x.shape, dy.shape)) throw new TensorError(`dy has shape ${showShape(dy.shape)}, x has ${showShape(x.shape)}`)
  if (resolveKernels() !== 'reference') return fromData(x.shape, fast(x.data, dy.data))
  const dx = buffer(x.data.length)
  for (let i = 0; i < dx.length; i++) dx[i] = g(x.data[i]!, dy.data[i]!)
  return fromData(x.shape, dx)
}
