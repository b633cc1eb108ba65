/**
 * tanh, element-wise. Its derivative is cheaper from y than from x, tanh' = 1 − y², so the tape
 * keeps y:
 *
 *   forward   y  = tanh x
 *   vjp       dx = dy · (1 − y²)
 *
 *   spec      { kind: 'tanh' }
 *
 * In float32 each operation rounds once: y = fl32(tanh x) (Math.tanh in float64, rounded),
 * dx = fl32(dy·fl32(1 − fl32(y²))).
 */
import * as T from '../tensor/index.ts'
import type { Tensor } from '../tensor/tensor.ts'
import { checkLayerDTypes, define, none, type Layer, type None } from '../layer.ts'
import type { Keep } from '../shape-type.ts'
import { layerKind, specOf } from '../io/kind.ts'

/** dx = dy·(1 − y²): in float64 as written, in float32 the square and the difference rounded (the store rounds the product). */
const vjp64 = (t: number, d: number): number => d * (1 - t * t)
const vjp32 = (t: number, d: number): number => d * Math.fround(1 - Math.fround(t * t))

/** The type of `tanh`: it keeps the shape. */
export type Tanh = Layer<None, None, { readonly y: Tensor }, Keep>

/** Tanh: y = tanh x; dx = dy · (1 - y²). */
export const tanh: Tanh = define({
  name: 'tanh',
  forward: (_p, x) => {
    const y = T.map(Math.tanh)(x)
    return { y, tape: { y } }
  },
  vjp: (_p, { y }, dy) => {
    checkLayerDTypes('tanh', y, dy)
    return { dx: T.zipWith(T.isFloat32(y) ? vjp32 : vjp64, y, dy), dp: none }
  },
})

/** tanh as data: `{ kind: 'tanh' }`. */
export const tanhKind = layerKind(specOf('tanh', {}), () => tanh)
