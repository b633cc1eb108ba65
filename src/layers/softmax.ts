/**
 * softmax over the last axis: yᵢ = e^(xᵢ - m) / Σⱼ e^(xⱼ - m), with m = max x (no overflow).
 *
 * Unlike the element-wise activations, every output depends on every input of its row, so
 * the Jacobian is a full matrix, ∂yᵢ/∂xⱼ = yᵢ(δᵢⱼ - yⱼ), and the vjp is a product with it:
 *   dxⱼ = Σᵢ dyᵢ yᵢ(δᵢⱼ - yⱼ) = yⱼ (dyⱼ - Σᵢ dyᵢ yᵢ)
 * (Keeping only the diagonal, yⱼ(1-yⱼ)dyⱼ, is a classic bug; the laws catch it.)
 *
 *   spec      { kind: 'softmax' }
 *
 * In float32 every operation rounds once to float32 (Math.exp in float64, rounded; the sums in
 * order, from 0): eⱼ = fl32(e^fl32(xⱼ − m)), Z = Σ eⱼ, yⱼ = fl32(eⱼ / Z); dot = Σ fl32(dyᵢyᵢ),
 * dxⱼ = fl32(yⱼ·fl32(dyⱼ − dot)).
 */
import * as T from '../tensor/index.ts'
import type { Tensor } from '../tensor/tensor.ts'
import { checkLayerDTypes, define, none, type Layer, type None } from '../layer.ts'
import type { Keep } from '../shape-type.ts'
import { layerKind, specOf } from '../io/kind.ts'

/** Softmax of each row (last axis) of x, stable for any finite x, in x's dtype. */
export const softmaxRows = (x: Tensor): Tensor => {
  const x32 = T.float32Of(x)
  if (x32) return T.asTensor(softmaxRows32(x32))
  const c = x.shape[x.shape.length - 1] ?? 1
  const src = x.data
  const out = T.buffer(src.length)
  for (let r = 0; r < src.length; r += c) {
    let m = -Infinity
    for (let j = 0; j < c; j++) m = Math.max(m, src[r + j]!)
    let z = 0
    for (let j = 0; j < c; j++) {
      const e = Math.exp(src[r + j]! - m)
      out[r + j] = e
      z += e
    }
    for (let j = 0; j < c; j++) out[r + j] = out[r + j]! / z
  }
  return T.fromData(x.shape, out)
}

/** softmaxRows in float32, each operation rounded once. */
const softmaxRows32 = (x: T.Tensor32): T.Tensor32 => {
  const c = x.shape[x.shape.length - 1] ?? 1
  const src = x.data
  const out = T.buffer32(src.length) // each store rounds to float32
  for (let r = 0; r < src.length; r += c) {
    let m = -Infinity
    for (let j = 0; j < c; j++) m = Math.max(m, src[r + j]!)
    let z = 0
    for (let j = 0; j < c; j++) {
      out[r + j] = Math.exp(Math.fround(src[r + j]! - m))
      z = Math.fround(z + out[r + j]!)
    }
    for (let j = 0; j < c; j++) out[r + j] = out[r + j]! / z
  }
  return { shape: x.shape, data: out }
}

/** The type of `softmax`: it keeps the shape. */
export type Softmax = Layer<None, None, { readonly y: Tensor }, Keep>

/** Softmax layer over the last axis. For classification prefer softmaxCrossEntropy on logits. */
export const softmax: Softmax = define({
  name: 'softmax',
  forward: (_p, x) => {
    const y = softmaxRows(x)
    return { y, tape: { y } }
  },
  vjp: (_p, { y }, dy) => {
    const c = y.shape[y.shape.length - 1] ?? 1
    const ys = y.data
    const ds = dy.data
    if (!T.sameShape(y.shape, dy.shape)) throw new T.TensorError(`dy has shape ${T.showShape(dy.shape)}, y has ${T.showShape(y.shape)}`)
    checkLayerDTypes('softmax', y, dy)
    if (T.isFloat32(y)) {
      const dx = T.buffer32(ys.length)
      for (let r = 0; r < ys.length; r += c) {
        let dot = 0 // Σᵢ dyᵢ yᵢ, each product and each sum rounded
        for (let i = 0; i < c; i++) dot = Math.fround(dot + Math.fround(ds[r + i]! * ys[r + i]!))
        for (let j = 0; j < c; j++) dx[r + j] = ys[r + j]! * Math.fround(ds[r + j]! - dot)
      }
      return { dx: T.asTensor(T.fromData32(y.shape, dx)), dp: none }
    }
    const dx = T.buffer(ys.length)
    for (let r = 0; r < ys.length; r += c) {
      let dot = 0 // Σᵢ dyᵢ yᵢ
      for (let i = 0; i < c; i++) dot += ds[r + i]! * ys[r + i]!
      for (let j = 0; j < c; j++) dx[r + j] = ys[r + j]! * (ds[r + j]! - dot)
    }
    return { dx: T.fromData(y.shape, dx), dp: none }
  },
})

/** softmax as data: `{ kind: 'softmax' }`. */
export const softmaxKind = layerKind(specOf('softmax', {}), () => softmax)
