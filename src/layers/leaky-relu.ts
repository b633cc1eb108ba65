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
 */
import type { Tensor } from '../tensor/tensor.ts'
import { define, none, type Layer, type None } from '../layer.ts'
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
  return define({
    name: 'leakyRelu',
    spec,
    forward: (_p, x) => ({ y: elementwise(x, (v) => (v > 0 ? v : alpha * v), fast.forward), tape: { x } }),
    vjp: (_p, { x }, dy) => ({ dx: elementwiseVjp(x, dy, (v, d) => (v > 0 ? d : alpha * d), fast.vjp), dp: none }),
  })
}

/** leakyRelu as data: `{ kind: 'leakyRelu', alpha }` rebuilds `leakyRelu(alpha)`. */
export const leakyReluKind = layerKind(LeakyReluSpec, (s) => leakyRelu(s.alpha))
