/**
 * ReLU as an activation fused into another layer (conv2d's `activation: 'relu'`):
 * the output is relu applied in place, and the vjp starts from relu's vjp, read from that output.
 * The relu layer itself (src/layers/activations.ts) has its own faster, branch-free loops; these
 * give the same numbers, bit for bit.
 */
import { buffer } from '../tensor/tensor.ts'

/** relu in place: v where v > 0, else +0 (−0 and −∞ give +0), and NaN stays NaN. */
export const reluInPlace = (y: Float64Array): void => {
  for (let i = 0; i < y.length; i++) {
    const v = y[i]!
    if (!(v > 0) && v === v) y[i] = 0
  }
}

/** relu's vjp from its output y: dy where y > 0 (exactly where relu's input was > 0), else +0. */
export const reluGrad = (dy: Float64Array, y: Float64Array): Float64Array => {
  const dz = buffer(dy.length)
  for (let i = 0; i < dy.length; i++) if (y[i]! > 0) dz[i] = dy[i]!
  return dz
}
