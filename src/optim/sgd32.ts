/**
 * sgd's fused pass on one float32 leaf: the float32 SGD step of the kernel family in use
 * (src/kernels/sgd32.ts), which gives the float32 chain's bits (each scalar rounded to float32,
 * then each multiply and add one float32 operation). The fused sgd calls it for a leaf whose
 * gradient is float32; the params and the trace must then be float32 too.
 */
import { sgdStep32For } from '../kernels/sgd32.ts'
import { asTensor, buffer32, checkDTypes, float32Of, type Tensor } from '../tensor/tensor.ts'

/** u (or p + u with `apply`) and the new trace of one float32 leaf; g, p and tPrev must all be float32. */
export const sgdLeaf32 = (
  where: string,
  g: Tensor,
  p: Tensor,
  tPrev: Tensor | undefined,
  settings: { readonly rate: number; readonly lambda: number; readonly beta: number; readonly nesterov: boolean; readonly apply: boolean },
): { out: Tensor; t: Tensor | undefined } => {
  checkDTypes(where, g, p)
  if (tPrev !== undefined) checkDTypes(where, g, tPrev)
  const n = g.data.length
  const out = buffer32(n)
  const t = tPrev === undefined ? undefined : buffer32(n)
  sgdStep32For()({ g: float32Of(g)!.data, p: float32Of(p)!.data, tPrev: tPrev && float32Of(tPrev)!.data, out, t }, settings)
  return { out: asTensor({ shape: g.shape, data: out }), t: t && asTensor({ shape: g.shape, data: t }) }
}
