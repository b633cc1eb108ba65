/**
 * RMSprop's and Adagrad's float32 step: the direction their chains take on float32 leaves, and
 * the fused pass on one float32 leaf (the float32 step of the kernel family in use,
 * src/kernels/rms32.ts). Both give the float32 chain's bits: each scalar rounded to float32, then
 * each operation one float32 operation.
 */
import { rmsStep32For, type Rms32Settings } from '../kernels/rms32.ts'
import { asTensor, buffer32, checkDTypes, float32Of, type Tensor } from '../tensor/tensor.ts'

/** The direction on float32 leaves, as scaleByRms and scaleByAdagrad compute it: fl32(g / fl32(fl32(√ν) + ε)), ε in float32. */
export const rmsDirection32 = (where: string, g: Tensor, v: Tensor, eps: number): Tensor => {
  checkDTypes(where, g, v)
  const f = Math.fround
  const epsf = f(eps)
  const gd = float32Of(g)!.data
  const vd = float32Of(v)!.data
  const d = buffer32(gd.length)
  for (let i = 0; i < d.length; i++) d[i] = gd[i]! / f(f(Math.sqrt(vd[i]!)) + epsf)
  return asTensor({ shape: g.shape, data: d })
}

/** u (or p + u) and the new accumulator and trace of one float32 leaf; g, p, ν′ (Σ′) and t′ must all be float32. */
export const rmsLeaf32 = (
  where: string,
  g: Tensor,
  p: Tensor,
  accPrev: Tensor,
  tracePrev: Tensor | undefined,
  settings: Rms32Settings,
): { out: Tensor; acc: Tensor; t: Tensor | undefined } => {
  for (const t of [p, accPrev, ...(tracePrev === undefined ? [] : [tracePrev])]) checkDTypes(where, g, t)
  const n = g.data.length
  const [out, acc] = [buffer32(n), buffer32(n)]
  const trace = tracePrev === undefined ? undefined : buffer32(n)
  const data = (t: Tensor): Float32Array => float32Of(t)!.data
  rmsStep32For()({ g: data(g), p: data(p), accPrev: data(accPrev), tracePrev: tracePrev && data(tracePrev), out, acc, trace }, settings)
  const wrap = (x: Float32Array): Tensor => asTensor({ shape: g.shape, data: x })
  return { out: wrap(out), acc: wrap(acc), t: trace && wrap(trace) }
}
