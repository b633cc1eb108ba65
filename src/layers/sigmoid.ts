/**
 * sigmoid: y = 1/(1 + e⁻ˣ), element-wise. Its derivative is cheaper from y than from x,
 * σ'(x) = y(1 − y), so the tape keeps y:
 *
 *   forward   y  = 1/(1 + e⁻ˣ)
 *   vjp       dx = dy · y(1 − y)
 *
 *   spec      { kind: 'sigmoid' }
 */
import * as T from '../tensor/index.ts'
import type { Tensor } from '../tensor/tensor.ts'
import { define, none, type Layer, type None } from '../layer.ts'
import type { Keep } from '../shape-type.ts'
import { layerKind, specOf } from '../io/kind.ts'

/** The logistic function 1/(1+e⁻ˣ), computed without overflow for any x. */
export const logistic = (v: number): number => {
  if (v >= 0) return 1 / (1 + Math.exp(-v))
  const e = Math.exp(v)
  return e / (1 + e)
}

/** The type of `sigmoid`: it keeps the shape. */
export type Sigmoid = Layer<None, None, { readonly y: Tensor }, Keep>

/** Sigmoid: y = 1/(1+e⁻ˣ); dx = dy · y(1-y). */
export const sigmoid: Sigmoid = define({
  name: 'sigmoid',
  forward: (_p, x) => {
    const y = T.map(logistic)(x)
    return { y, tape: { y } }
  },
  vjp: (_p, { y }, dy) => ({ dx: T.zipWith((s, d) => d * s * (1 - s), y, dy), dp: none }),
})

/** sigmoid as data: `{ kind: 'sigmoid' }`. */
export const sigmoidKind = layerKind(specOf('sigmoid', {}), () => sigmoid)
