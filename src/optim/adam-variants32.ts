/**
 * NAdam's, AMSGrad's and Adamax's float32 step: the directions their chains take on float32
 * leaves (AMSGrad's is Adam's on ν_max: ./adam32.ts), and the fused pass on one float32 leaf (the
 * float32 step of the kernel family in use, src/kernels/adam-variants32.ts). Both give the float32
 * chain's bits: each scalar rounded to float32, then each operation one float32 operation.
 */
import { adamVariantStep32For, type AdamVariant32, type AdamVariant32Settings } from '../kernels/adam-variants32.ts'
import { asTensor, buffer32, checkDTypes, float32Of, type Tensor } from '../tensor/tensor.ts'

const data = (t: Tensor): Float32Array => float32Of(t)!.data

/**
 * NAdam's look-ahead direction on float32 leaves, as scaleByNadam computes it:
 * fl32(fl32(fl32(β₁·fl32(μ / c1Next)) + fl32((1-β₁)·fl32(g / c1))) / fl32(fl32(√fl32(ν / c2)) + ε)).
 */
export const nadamDirection32 = (
  where: string,
  m: Tensor,
  v: Tensor,
  g: Tensor,
  k: { readonly b1: number; readonly c1: number; readonly c1Next: number; readonly c2: number; readonly eps: number },
): Tensor => {
  checkDTypes(where, m, v)
  checkDTypes(where, m, g)
  const f = Math.fround
  const [b1, a1, c1, c1Next, c2, eps] = [f(k.b1), f(1 - k.b1), f(k.c1), f(k.c1Next), f(k.c2), f(k.eps)]
  const [md, vd, gd] = [data(m), data(v), data(g)]
  const d = buffer32(md.length)
  for (let i = 0; i < d.length; i++) d[i] = f(f(b1 * f(md[i]! / c1Next)) + f(a1 * f(gd[i]! / c1))) / f(f(Math.sqrt(f(vd[i]! / c2))) + eps)
  return asTensor({ shape: m.shape, data: d })
}

/** Adamax's decaying maximum on float32 leaves, as scaleByAdamax computes it: max(fl32(β₂·ν∞), fl32(|g| + ε)). */
export const adamaxMax32 = (where: string, g: Tensor, v: Tensor, b2: number, eps: number): Tensor => {
  checkDTypes(where, g, v)
  const f = Math.fround
  const [b2f, epsf] = [f(b2), f(eps)]
  const [gd, vd] = [data(g), data(v)]
  const out = buffer32(gd.length)
  for (let i = 0; i < out.length; i++) out[i] = Math.max(f(b2f * vd[i]!), f(Math.abs(gd[i]!) + epsf))
  return asTensor({ shape: g.shape, data: out })
}

/** Adamax's direction on float32 leaves: fl32(fl32(μ / c1) / ν∞). */
export const adamaxDirection32 = (where: string, m: Tensor, v: Tensor, c1: number): Tensor => {
  checkDTypes(where, m, v)
  const c1f = Math.fround(c1)
  const [md, vd] = [data(m), data(v)]
  const d = buffer32(md.length)
  for (let i = 0; i < d.length; i++) d[i] = Math.fround(md[i]! / c1f) / vd[i]!
  return asTensor({ shape: m.shape, data: d })
}

/** u (or p + u) and the new moments of one float32 leaf, in the fused pass's order (μ, ν or ν∞, ν_max); all float32. */
export const adamVariantLeaf32 = (
  where: string,
  variant: AdamVariant32,
  g: Tensor,
  p: Tensor,
  prev: readonly Tensor[],
  settings: Omit<AdamVariant32Settings, 'variant'>,
): { out: Tensor; moments: readonly Tensor[] } => {
  for (const t of [p, ...prev]) checkDTypes(where, g, t)
  const n = g.data.length
  const [muPrev, nuPrev, nuMaxPrev] = prev
  const [out, mu, nu] = [buffer32(n), buffer32(n), buffer32(n)]
  const nuMax = variant === 'amsgrad' ? buffer32(n) : undefined
  if (muPrev === undefined || nuPrev === undefined || (variant === 'amsgrad') !== (nuMaxPrev !== undefined))
    throw new RangeError(`${where}: ${variant} takes ${variant === 'amsgrad' ? 3 : 2} moments, got ${prev.length}`)
  const arrays = { g: data(g), p: data(p), muPrev: data(muPrev), nuPrev: data(nuPrev), out, mu, nu }
  adamVariantStep32For()(nuMaxPrev === undefined || nuMax === undefined ? arrays : { ...arrays, nuMaxPrev: data(nuMaxPrev), nuMax }, {
    ...settings,
    variant,
  })
  const wrap = (x: Float32Array): Tensor => asTensor({ shape: g.shape, data: x })
  return { out: wrap(out), moments: [mu, nu, ...(nuMax === undefined ? [] : [nuMax])].map(wrap) }
}
