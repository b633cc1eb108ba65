/**
 * The fast ReLU and leaky ReLU loops: what the relu and leakyRelu layers (src/layers/) run under
 * the 'js', 'wasm' and 'fast' kernels, bit-identical to the readable definitions there, which
 * the 'reference' kernels run (test/layers/activations.test.ts holds every family to them).
 *
 * They run on every activation of a CNN, so they are plain loops (T.map with a closure is
 * slower), branch-free and unrolled by 4 (bench/elementwise.ts measures them). Branch-free
 * because x's sign is random: `x > 0 ? … : …` mispredicts half the time. The comparison becomes a
 * 0/1 number m = +(x > 0) that multiplies or indexes a table. Under the 'wasm' kernels, ReLU on a
 * big tensor runs in WebAssembly SIMD instead (two lanes at a time, on two threads:
 * ./wasm/elementwise.ts), with bit-identical results.
 *
 * Also here: relu as conv2d applies it when fused (`activation: 'relu'`), in place on the conv's
 * output, and its vjp read from that output.
 */
import { buffer } from '../tensor/tensor.ts'
import { resolveKernels, threads } from './backend.ts'
import { reluBackwardWasm, reluForwardWasm, wasmWorthIt } from './wasm/elementwise.ts'

/**
 * relu of one number without a branch: x·1 + 0 = x where x > 0, else x·0 + 0 = +0 (+ 0 turns −0
 * into +0). NaN stays NaN; −∞·0 is NaN, fixed by reluForwardFast.
 */
const reluBranchFree = (a: number): number => a * +(a > 0) + 0

/**
 * relu's vjp at one number without a branch: dy where x > 0, else +0. (m − 1)·0 is +0 for m = 1
 * and −0 for m = 0, so subtracting it leaves dy·1 exact (even dy = −0) and turns a −0 from dy·0
 * into +0. ±∞·0 and NaN·0 are NaN, fixed by reluVjpFast.
 */
const reluVjpBranchFree = (d: number, x: number): number => {
  const m = +(x > 0)
  return d * m - (m - 1) * 0
}

/** y = max(x, 0), element-wise: the branch-free loop, or WebAssembly on a big array under the 'wasm' kernels. */
export const reluForwardFast = (v: Float64Array): Float64Array => {
  const n = v.length
  const y = buffer(n)
  if (wasmWorthIt(n) && resolveKernels() === 'wasm' && reluForwardWasm(threads(), v, y)) return y
  let minusInf = 0 // 1 once some x is −∞: reluBranchFree gives NaN there
  let i = 0
  for (; i + 4 <= n; i += 4) {
    const a = v[i]!,
      b = v[i + 1]!,
      c = v[i + 2]!,
      e = v[i + 3]!
    y[i] = reluBranchFree(a)
    y[i + 1] = reluBranchFree(b)
    y[i + 2] = reluBranchFree(c)
    y[i + 3] = reluBranchFree(e)
    minusInf |= +(a === -Infinity) | +(b === -Infinity) | +(c === -Infinity) | +(e === -Infinity)
  }
  for (; i < n; i++) {
    y[i] = reluBranchFree(v[i]!)
    minusInf |= +(v[i] === -Infinity)
  }
  if (minusInf) for (let j = 0; j < n; j++) if (v[j] === -Infinity) y[j] = 0
  return y
}

/** dx = dy where x > 0, +0 elsewhere, element-wise: the branch-free loop, or WebAssembly on big arrays under the 'wasm' kernels. */
export const reluVjpFast = (v: Float64Array, d: Float64Array): Float64Array => {
  const n = v.length
  const dx = buffer(n)
  if (wasmWorthIt(n) && resolveKernels() === 'wasm' && reluBackwardWasm(threads(), v, d, dx)) return dx
  let nan = 0 // 1 once some dx is NaN: from a NaN dy where x > 0 (kept) or ∞·0, NaN·0 where x ≤ 0 (made +0)
  let i = 0
  for (; i + 4 <= n; i += 4) {
    const a = reluVjpBranchFree(d[i]!, v[i]!)
    const b = reluVjpBranchFree(d[i + 1]!, v[i + 1]!)
    const c = reluVjpBranchFree(d[i + 2]!, v[i + 2]!)
    const e = reluVjpBranchFree(d[i + 3]!, v[i + 3]!)
    dx[i] = a
    dx[i + 1] = b
    dx[i + 2] = c
    dx[i + 3] = e
    nan |= +(a !== a) | +(b !== b) | +(c !== c) | +(e !== e)
  }
  for (; i < n; i++) {
    const a = reluVjpBranchFree(d[i]!, v[i]!)
    dx[i] = a
    nan |= +(a !== a)
  }
  if (nan) for (let j = 0; j < n; j++) if (!(v[j]! > 0)) dx[j] = 0
  return dx
}

/**
 * out[i] = d[i]·slope[0] where v[i] ≤ 0 or NaN, d[i]·slope[1] where v[i] > 0, branch-free: leaky
 * ReLU's y (d = v) and dx (d = dy) with slope [α, 1]. x·1 and x·α are the definition itself, so
 * no value needs fixing.
 */
const scaleBySign = (v: Float64Array, d: Float64Array, slope: Float64Array): Float64Array => {
  const n = v.length
  const out = buffer(n)
  let i = 0
  for (; i + 4 <= n; i += 4) {
    out[i] = d[i]! * slope[+(v[i]! > 0)]!
    out[i + 1] = d[i + 1]! * slope[+(v[i + 1]! > 0)]!
    out[i + 2] = d[i + 2]! * slope[+(v[i + 2]! > 0)]!
    out[i + 3] = d[i + 3]! * slope[+(v[i + 3]! > 0)]!
  }
  for (; i < n; i++) out[i] = d[i]! * slope[+(v[i]! > 0)]!
  return out
}

/** Leaky ReLU's fast loops for a slope α: y = x or αx, and dx = dy or α·dy, by the sign of x. */
export const leakyReluFast = (alpha: number) => {
  const slope = Float64Array.of(alpha, 1) // indexed by +(x > 0)
  return {
    forward: (v: Float64Array): Float64Array => scaleBySign(v, v, slope),
    vjp: (v: Float64Array, d: Float64Array): Float64Array => scaleBySign(v, d, slope),
  }
}

/** relu in place, as a fused conv2d applies it to its output: v where v > 0, else +0 (−0 and −∞ give +0), and NaN stays NaN. */
export const reluInPlace = (y: Float64Array): void => {
  for (let i = 0; i < y.length; i++) {
    const v = y[i]!
    if (!(v > 0) && v === v) y[i] = 0
  }
}

/** relu's vjp read from relu's output y, as a fused conv2d needs it: dy where y > 0 (exactly where the input was > 0), else +0. */
export const reluVjpFromOutput = (dy: Float64Array, y: Float64Array): Float64Array => {
  const dz = buffer(dy.length)
  for (let i = 0; i < dy.length; i++) if (y[i]! > 0) dz[i] = dy[i]!
  return dz
}
