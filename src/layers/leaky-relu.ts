/**
 * leakyRelu: a ReLU with slope α below 0, element-wise.
 *
 *   forward   y  = x for x > 0, αx otherwise
 *   vjp       dx = dy for x > 0, α·dy otherwise
 *
 *   spec      { kind: 'leakyRelu', alpha }
 *
 * Exactly these products for every input, so NaN propagates (and with α = 0, leakyRelu(−∞) =
 * 0·(−∞) = NaN: use relu). The 'reference' kernels run these lines on every number; the others
 * run the branch-free loop of src/kernels/relu.ts, which gives the same numbers, bit for bit.
 * In float32, α is rounded once, fl32(α), and each product once: y = fl32(fl32(α)·x), dx = fl32(fl32(α)·dy).
 */
import * as T from '../tensor/index.ts'
import type { Tensor } from '../tensor/tensor.ts'
import { checkLayerDTypes, define, none, type Layer, type None } from '../layer.ts'
import type { Keep } from '../shape-type.ts'
import { elementwise, elementwiseVjp } from '../kernels/elementwise.ts'
import { leakyReluFast } from '../kernels/relu.ts'
import { FiniteNumber } from '../io/codecs.ts'
import { checkSpec, layerKind, specOf } from '../io/kind.ts'

const LeakyReluSpec = specOf('leakyRelu', { alpha: FiniteNumber })

/** The type of `leakyRelu(alpha)`: it keeps the shape. */
export type LeakyRelu = Layer<None, None, { readonly x: Tensor }, Keep>

/** Leaky ReLU: y = x for x > 0, αx otherwise; dx = dy or α·dy. */
export const leakyRelu = (alpha = 0.01): LeakyRelu => {
  const spec = checkSpec(LeakyReluSpec, { kind: 'leakyRelu', alpha })
  const fast = leakyReluFast(alpha)
  // float32: fl32(α), and a product of two float32s is exact in float64, so storing it in a Float32Array is its one rounding
  const alpha32 = Math.fround(alpha)
  const forward32 = (v: number): number => (v > 0 ? v : alpha32 * v)
  const vjp32 = (v: number, d: number): number => (v > 0 ? d : alpha32 * d)
  return define({
    name: 'leakyRelu',
    spec,
    forward: (_p, x) => ({
      y: T.isFloat32(x) ? T.map(forward32)(x) : elementwise(x, (v) => (v > 0 ? v : alpha * v), fast.forward),
      tape: { x },
    }),
    vjp: (_p, { x }, dy) => {
      checkLayerDTypes('leakyRelu', x, dy)
      return {
        dx: T.isFloat32(x) ? T.zipWith(vjp32, x, dy) : elementwiseVjp(x, dy, (v, d) => (v > 0 ? d : alpha * d), fast.vjp),
        dp: none,
      }
    },
  })
}

/** leakyRelu as data: `{ kind: 'leakyRelu', alpha }` rebuilds `leakyRelu(alpha)`. */
export const leakyReluKind = layerKind(LeakyReluSpec, (s) => leakyRelu(s.alpha))
