/**
 * Adam's and AdamW's fused pass on one float32 leaf: the float32 Adam step of the kernel family in
 * use (src/kernels/adam32.ts), which gives the float32 chain's bits (each scalar rounded to
 * float32, then each operation one float32 operation). The fused adam and adamw call it for a leaf
 * whose gradient is float32; the params and the moments must then be float32 too. (NAdam, AMSGrad
 * and Adamax: ./adam-variants32.ts.)
 */
import { adamStep32For, type Adam32Settings } from '../kernels/adam32.ts'
import { asTensor, buffer32, checkDTypes, float32Of, type Tensor } from '../tensor/tensor.ts'
import { OptimError } from './validate.ts'

/** u (or p + u) and the new moments [μ, ν] of one float32 leaf; g, p, μ′ and ν′ must all be float32. */
export const adamLeaf32 = (
  where: string,
  g: Tensor,
  p: Tensor,
  prev: readonly Tensor[],
  settings: Adam32Settings,
): { out: Tensor; moments: readonly Tensor[] } => {
  const [muPrev, nuPrev] = prev
  if (prev.length !== 2 || muPrev === undefined || nuPrev === undefined)
    throw new OptimError(`${where}: Adam's float32 step takes two moments, got ${prev.length}`)
  for (const t of [p, muPrev, nuPrev]) checkDTypes(where, g, t)
  const n = g.data.length
  const [out, mu, nu] = [buffer32(n), buffer32(n), buffer32(n)]
  const data = (t: Tensor): Float32Array => float32Of(t)!.data
  adamStep32For()({ g: data(g), p: data(p), muPrev: data(muPrev), nuPrev: data(nuPrev), out, mu, nu }, settings)
  const wrap = (x: Float32Array): Tensor => asTensor({ shape: g.shape, data: x })
  return { out: wrap(out), moments: [wrap(mu), wrap(nu)] }
}

/**
 * Adam's bias-corrected direction on float32 moments, as the chain's scaleByAdam computes it:
 * fl32(fl32(μ / c1) / fl32(fl32(√fl32(ν / c2)) + ε)), with c1, c2 and ε rounded to float32 first.
 */
export const adamDirection32 = (where: string, m: Tensor, v: Tensor, c1: number, c2: number, eps: number): Tensor => {
  checkDTypes(where, m, v)
  const f = Math.fround
  const [c1f, c2f, epsf] = [f(c1), f(c2), f(eps)]
  const md = float32Of(m)!.data
  const vd = float32Of(v)!.data
  const d = buffer32(md.length)
  for (let i = 0; i < d.length; i++) d[i] = f(md[i]! / c1f) / f(f(Math.sqrt(f(vd[i]! / c2f))) + epsf)
  return asTensor({ shape: m.shape, data: d })
}
