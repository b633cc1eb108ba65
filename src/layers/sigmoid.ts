/**
 * sigmoid: y = 1/(1 + e⁻ˣ), element-wise. Its derivative is cheaper from y than from x,
 * σ'(x) = y(1 − y), so the tape keeps y:
 *
 *   forward   y  = 1/(1 + e⁻ˣ)
 *   vjp       dx = dy · y(1 − y)
 *
 *   spec      { kind: 'sigmoid' }
 *
 * In float32 each operation rounds once: e = fl32(e⁻ˣ) (Math.exp in float64, rounded), fl32(1 + e),
 * their quotient; dx = fl32(fl32(dy·y)·fl32(1 − y)).
 */
import * as T from '../tensor/index.ts'
import type { Tensor } from '../tensor/tensor.ts'
import { checkLayerDTypes, define, none, type Layer, type None } from '../layer.ts'
import type { Keep } from '../shape-type.ts'
import { layerKind, specOf } from '../io/kind.ts'

/** The logistic function 1/(1+e⁻ˣ), computed without overflow for any x. */
export const logistic = (v: number): number => {
  if (v >= 0) return 1 / (1 + Math.exp(-v))
  const e = Math.exp(v)
  return e / (1 + e)
}

/** The logistic function in float32: e = fl32(e^−|x|), then fl32(1 + e) and the quotient, each rounded once. */
export const logistic32 = (v: number): number => {
  const e = Math.fround(Math.exp(-Math.abs(v)))
  const d = Math.fround(1 + e)
  return Math.fround(v >= 0 ? 1 / d : e / d)
}

/** dx = dy·y(1 − y): in float64 as written, in float32 each product and the difference rounded (the store rounds the last). */
const vjp64 = (s: number, d: number): number => d * s * (1 - s)
const vjp32 = (s: number, d: number): number => Math.fround(d * s) * Math.fround(1 - s)

/** The type of `sigmoid`: it keeps the shape. */
export type Sigmoid = Layer<None, None, { readonly y: Tensor }, Keep>

/** Sigmoid: y = 1/(1+e⁻ˣ); dx = dy · y(1-y). */
export const sigmoid: Sigmoid = define({
  name: 'sigmoid',
  forward: (_p, x) => {
    const y = T.map(T.isFloat32(x) ? logistic32 : logistic)(x)
    return { y, tape: { y } }
  },
  vjp: (_p, { y }, dy) => {
    checkLayerDTypes('sigmoid', y, dy)
    return { dx: T.zipWith(T.isFloat32(y) ? vjp32 : vjp64, y, dy), dp: none }
  },
})

/** sigmoid as data: `{ kind: 'sigmoid' }`. */
export const sigmoidKind = layerKind(specOf('sigmoid', {}), () => sigmoid)
