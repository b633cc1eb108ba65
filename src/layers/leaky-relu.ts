/**
 * leakyRelu: y = x for x > 0, αx otherwise; dx = dy or α·dy.
 *
 *   spec      { kind: 'leakyRelu', alpha }
 */
import * as T from '../tensor/index.ts'
import type { Tensor } from '../tensor/tensor.ts'
import { define, none, type Layer, type None } from '../layer.ts'
import { FiniteNumber } from '../io/codecs.ts'
import { checkSpec, layerKind, specOf } from '../io/kind.ts'

/** dy must have x's shape (the vjp of an element-wise layer pairs them up index by index). */
const checkSame = (x: Tensor, dy: Tensor): void => {
  if (!T.sameShape(x.shape, dy.shape)) throw new T.TensorError(`dy has shape ${T.showShape(dy.shape)}, x has ${T.showShape(x.shape)}`)
}

const LeakyReluSpec = specOf('leakyRelu', { alpha: FiniteNumber })

/** out[i] = d[i]·slope[0] where x[i] ≤ 0 or NaN, d[i]·slope[1] where x[i] > 0 (leaky ReLU's y and dx). */
const scaleBySign = (v: Float64Array, d: Float64Array, slope: Float64Array): Float64Array => {
  const n = v.length
  const out = T.buffer(n)
  let i = 0
  for (; i + 4 <= n; i += 4) {
    out[i] = d[i]! * slope[+(v[i]! > 0)]!
    out[i + 1] = d[i + 1]! * slope[+(v[i + 1]! > 0)]!
    out[i + 2] = d[i + 2]! * slope[+(v[i + 2]! > 0)]!
    out[i + 3] = d[i + 3]! * slope[+(v[i + 3]! > 0)]!
  }
  for (; i < n; i++) out[i] = d[i]! * slope[+(v[i]! > 0)]!
  return out
}

/**
 * Leaky ReLU: y = x for x > 0, αx otherwise; dx = dy or α·dy. Exactly these products for every
 * input, so NaN propagates (and with α = 0, leakyRelu(−∞) = 0·(−∞) = NaN: use relu).
 */
export const leakyRelu = (alpha = 0.01): Layer<None, None, { readonly x: Tensor }> => {
  const spec = checkSpec(LeakyReluSpec, { kind: 'leakyRelu', alpha })
  // the slope [α, 1], indexed by +(x > 0); x·1 and x·α are the definition itself, so no value needs fixing
  const slope = Float64Array.of(alpha, 1)
  return define({
    name: 'leakyRelu',
    spec,
    forward: (_p, x) => ({ y: T.fromData(x.shape, scaleBySign(x.data, x.data, slope)), tape: { x } }),
    vjp: (_p, { x }, dy) => {
      checkSame(x, dy)
      return { dx: T.fromData(x.shape, scaleBySign(x.data, dy.data, slope)), dp: none }
    },
  })
}


/** leakyRelu as data: `{ kind: 'leakyRelu', alpha }` rebuilds `leakyRelu(alpha)`. */
export const leakyReluKind = layerKind(LeakyReluSpec, (s) => leakyRelu(s.alpha))
