/**
 * elu: the exponential linear unit, element-wise. Like relu for x > 0; below 0 it bends smoothly
 * to −α instead of cutting to 0, so negative inputs still pass a gradient.
 *
 *   forward   y  = x               for x > 0
 *                  α(eˣ − 1)       otherwise
 *   vjp       dx = dy              for x > 0
 *                  dy·(y + α)      otherwise       (d/dx α(eˣ − 1) = αeˣ = y + α)
 *
 *   spec      { kind: 'elu', alpha }
 *
 * With α > 0, y > 0 exactly where x > 0, so the tape keeps only y. (α = 1 makes elu smooth at 0.)
 * In float32 α is rounded once and each operation once: y = fl32(fl32(α)·fl32(eˣ − 1)) (Math.expm1 in
 * float64, rounded), dx = fl32(dy·fl32(y + fl32(α))).
 */
import * as T from '../tensor/index.ts'
import type { Tensor } from '../tensor/tensor.ts'
import { checkLayerDTypes, define, none, type Layer, type None } from '../layer.ts'
import type { Keep } from '../shape-type.ts'
import { PositiveNumber } from '../io/codecs.ts'
import { checkSpec, layerKind, specOf } from '../io/kind.ts'

const EluSpec = specOf('elu', { alpha: PositiveNumber })

/** The type of `elu(alpha)`: it keeps the shape. */
export type Elu = Layer<None, None, { readonly y: Tensor }, Keep>

/**
 * ELU with scale α > 0 for negative inputs (default 1).
 * @example pipe(dense(64), elu(), dense(10))
 */
export const elu = (alpha = 1): Elu => {
  const spec = checkSpec(EluSpec, { kind: 'elu', alpha })
  const forward64 = (v: number): number => (v > 0 ? v : alpha * Math.expm1(v)) // expm1(v) = eᵛ − 1, exact near 0
  const vjp64 = (v: number, d: number): number => (v > 0 ? d : d * (v + alpha))
  const alpha32 = Math.fround(alpha) // float32: the same lines, each operation rounded (a store into a Float32Array rounds the last)
  const forward32 = (v: number): number => (v > 0 ? v : alpha32 * Math.fround(Math.expm1(v)))
  const vjp32 = (v: number, d: number): number => (v > 0 ? d : d * Math.fround(v + alpha32))
  return define({
    name: 'elu',
    spec,
    forward: (_p, x) => {
      const y = T.map(T.isFloat32(x) ? forward32 : forward64)(x)
      return { y, tape: { y } }
    },
    vjp: (_p, { y }, dy) => {
      checkLayerDTypes('elu', y, dy)
      return { dx: T.zipWith(T.isFloat32(y) ? vjp32 : vjp64, y, dy), dp: none }
    },
  })
}

/** elu as data: `{ kind: 'elu', alpha }` rebuilds `elu(alpha)`. */
export const eluKind = layerKind(EluSpec, (s) => elu(s.alpha))
