/**
 * relu: y = max(x, 0), element-wise, so its Jacobian is diagonal and the vjp is a product:
 *
 *   forward   y  = max(x, 0)
 *   vjp       dx = dy·[x > 0]
 *
 *   spec      { kind: 'relu' }
 *
 * Special values: relu(−0) = relu(−∞) = +0, relu(+∞) = +∞, and NaN propagates (relu(NaN) =
 * NaN, as in PyTorch), so a NaN is reported where it first appears rather than hidden here.
 * The vjp is exactly 0 wherever x ≤ 0 or x is NaN, even when dy there is ±∞ or NaN (the
 * Jacobian entry is 0, as in PyTorch for x ≤ 0); where x > 0, dx = dy whatever dy is. At a NaN
 * x this is JAX's rule (dy where x > 0, else 0); PyTorch passes dy there (0 where x ≤ 0, else
 * dy). The forward output is NaN either way, so training stops at that layer all the same.
 *
 * The 'reference' kernels run these two lines on every number; the others run the branch-free
 * and WebAssembly loops of src/kernels/relu.ts, which give the same numbers, bit for bit.
 */
import { asTensor, buffer32, dtypeOf, float32Of, sameShape, showShape, TensorError, type Tensor, type Tensor32 } from '../tensor/tensor.ts'
import { define, layerDTypesError, none, type Layer, type None } from '../layer.ts'
import type { Keep } from '../shape-type.ts'
import { elementwise, elementwiseVjp } from '../kernels/elementwise.ts'
import { reluForwardFast, reluVjpFast } from '../kernels/relu.ts'
import { relu32Kernels } from '../kernels/relu32.ts'
import { layerKind, specOf } from '../io/kind.ts'

/** The type of `relu`: it keeps the shape. */
export type Relu = Layer<None, None, { readonly x: Tensor }, Keep>

/** ReLU: y = max(x, 0) (Math.max(−0, 0) is +0); dx = dy·[x > 0], a choice, not a product: 0 even where dy is ±∞ or NaN. */
export const relu: Relu = define({
  name: 'relu',
  forward: (_p, x) => ({ y: reluOf(x), tape: { x } }),
  vjp: (_p, { x }, dy) => ({ dx: reluVjpOf(x, dy), dp: none }),
})

/** y = max(x, 0), in x's dtype, on the kernels in use (dense's fused relu shares it). */
export const reluOf = (x: Tensor): Tensor => {
  const x32 = float32Of(x)
  return x32 ? asTensor(forward32(x32)) : elementwise(x, (v) => Math.max(v, 0), reluForwardFast)
}

/** dx = dy·[x > 0]; x may be relu's input or its output y (y > 0 exactly where x > 0), as dense's fused relu uses it. */
export const reluVjpOf = (x: Tensor, dy: Tensor): Tensor => {
  if (dtypeOf(x) !== dtypeOf(dy)) throw layerDTypesError(x, dy) // named by the layer running it: relu, or dense with relu fused in
  const x32 = float32Of(x)
  return x32 ? asTensor(vjp32(x32, dy)) : elementwiseVjp(x, dy, (v, d) => (v > 0 ? d : 0), reluVjpFast)
}

/** float32: the same two lines on Float32Array (src/kernels/relu32.ts; readable under 'reference'), exact as in float64. */
const forward32 = (x: Tensor32): Tensor32 => {
  const y = buffer32(x.data.length)
  relu32Kernels().forward(x.data, y)
  return { shape: x.shape, data: y }
}

const vjp32 = (x: Tensor32, dy: Tensor): Tensor32 => {
  if (!sameShape(x.shape, dy.shape)) throw new TensorError(`dy has shape ${showShape(dy.shape)}, x has ${showShape(x.shape)}`)
  const dx = buffer32(x.data.length)
  relu32Kernels().vjp(x.data, float32Of(dy)!.data, dx)
  return { shape: x.shape, data: dx }
}

/** relu as data: `{ kind: 'relu' }`. */
export const reluKind = layerKind(specOf('relu', {}), () => relu)
