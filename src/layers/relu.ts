/**
 * relu: y = max(x, 0), element-wise, so its Jacobian is diagonal and the vjp is a product:
 * dx = dy·[x > 0].
 *
 *   spec      { kind: 'relu' }
 */
import * as T from '../tensor/index.ts'
import type { Tensor } from '../tensor/tensor.ts'
import { define, none, type Layer, type None } from '../layer.ts'
import { resolveKernels, threads } from '../kernels/backend.ts'
import { reluBackwardWasm, reluForwardWasm, wasmWorthIt } from '../kernels/wasm/elementwise.ts'
import { layerKind, specOf } from '../io/kind.ts'

/** dy must have x's shape (the vjp of an element-wise layer pairs them up index by index). */
const checkSame = (x: Tensor, dy: Tensor): void => {
  if (!T.sameShape(x.shape, dy.shape)) throw new T.TensorError(`dy has shape ${T.showShape(dy.shape)}, x has ${T.showShape(x.shape)}`)
}

// ReLU and leaky ReLU run on every activation of a CNN, so they are plain loops (T.map with a
// closure is several times slower), branch-free and unrolled by 4 (bench/elementwise.ts). Under
// the 'wasm' kernels, ReLU on a big tensor runs in WebAssembly SIMD instead (two lanes at a time,
// on two threads: src/kernels/wasm/elementwise.ts), with bit-identical results.
// Branch-free because x's sign is random: `x > 0 ? … : …` mispredicts half the time and is ~3x
// slower. The comparison becomes a 0/1 number m = +(x > 0) that multiplies or indexes a table.

/** relu of one number: x·1 + 0 = x where x > 0, else x·0 + 0 = +0 (+ 0 turns −0 into +0). NaN stays NaN; −∞·0 is NaN, fixed by reluForward. */
const reluOf = (a: number): number => a * +(a > 0) + 0

/**
 * dx of one number: dy where x > 0, else +0. (m − 1)·0 is +0 for m = 1 and −0 for m = 0, so
 * subtracting it leaves dy·1 exact (even dy = −0) and turns a −0 from dy·0 into +0. ±∞·0 and
 * NaN·0 are NaN, fixed by reluBackward.
 */
const reluGrad = (d: number, x: number): number => {
  const m = +(x > 0)
  return d * m - (m - 1) * 0
}

/** y = relu(x), element-wise (see relu). */
const reluForward = (v: Float64Array): Float64Array => {
  const n = v.length
  const y = T.buffer(n)
  if (wasmWorthIt(n) && resolveKernels() === 'wasm' && reluForwardWasm(threads(), v, y)) return y
  let minusInf = 0 // 1 once some x is −∞: reluOf gives NaN there
  let i = 0
  for (; i + 4 <= n; i += 4) {
    const a = v[i]!, b = v[i + 1]!, c = v[i + 2]!, e = v[i + 3]!
    y[i] = reluOf(a)
    y[i + 1] = reluOf(b)
    y[i + 2] = reluOf(c)
    y[i + 3] = reluOf(e)
    minusInf |= +(a === -Infinity) | +(b === -Infinity) | +(c === -Infinity) | +(e === -Infinity)
  }
  for (; i < n; i++) {
    y[i] = reluOf(v[i]!)
    minusInf |= +(v[i] === -Infinity)
  }
  if (minusInf) for (let j = 0; j < n; j++) if (v[j] === -Infinity) y[j] = 0
  return y
}

/** dx = dy where x > 0, +0 elsewhere, element-wise (see relu). */
const reluBackward = (v: Float64Array, d: Float64Array): Float64Array => {
  const n = v.length
  const dx = T.buffer(n)
  if (wasmWorthIt(n) && resolveKernels() === 'wasm' && reluBackwardWasm(threads(), v, d, dx)) return dx
  let nan = 0 // 1 once some dx is NaN: from a NaN dy where x > 0 (kept) or ∞·0, NaN·0 where x ≤ 0 (made +0)
  let i = 0
  for (; i + 4 <= n; i += 4) {
    const a = reluGrad(d[i]!, v[i]!), b = reluGrad(d[i + 1]!, v[i + 1]!), c = reluGrad(d[i + 2]!, v[i + 2]!), e = reluGrad(d[i + 3]!, v[i + 3]!)
    dx[i] = a
    dx[i + 1] = b
    dx[i + 2] = c
    dx[i + 3] = e
    nan |= +(a !== a) | +(b !== b) | +(c !== c) | +(e !== e)
  }
  for (; i < n; i++) {
    const a = reluGrad(d[i]!, v[i]!)
    dx[i] = a
    nan |= +(a !== a)
  }
  if (nan) for (let j = 0; j < n; j++) if (!(v[j]! > 0)) dx[j] = 0
  return dx
}

/**
 * ReLU: y = x where x > 0, else +0; dx = dy where x > 0, else +0.
 *
 * Special values: relu(−0) = relu(−∞) = +0, relu(+∞) = +∞, and NaN propagates (relu(NaN) =
 * NaN, as in PyTorch), so a NaN is reported where it first appears rather than hidden here.
 * The vjp is exactly 0 wherever x ≤ 0 or x is NaN, even when dy there is ±∞ or NaN (the
 * Jacobian entry is 0, as in PyTorch for x ≤ 0); where x > 0, dx = dy whatever dy is. At a NaN
 * x this is JAX's rule (dy where x > 0, else 0); PyTorch passes dy there (0 where x ≤ 0, else
 * dy). The forward output is NaN either way, so training stops at that layer all the same.
 */
export const relu: Layer<None, None, { readonly x: Tensor }> = define({
  name: 'relu',
  forward: (_p, x) => ({ y: T.fromData(x.shape, reluForward(x.data)), tape: { x } }),
  vjp: (_p, { x }, dy) => {
    checkSame(x, dy)
    return { dx: T.fromData(x.shape, reluBackward(x.data, dy.data)), dp: none }
  },
})


/** relu as data: `{ kind: 'relu' }`. */
export const reluKind = layerKind(specOf('relu', {}), () => relu)
