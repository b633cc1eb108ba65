/**
 * 2-D pooling kernels on NCHW Float64Arrays. Each channel is pooled on its own:
 *
 *   max   y[n,c,oh,ow] = max over the window's taps of x[n, c, oh·SH − PT + i·DH, ow·SW − PL + j·DW]
 *         dx: each output's dy goes to the one input that was the max (argmax, kept from forward)
 *   avg   y[n,c,oh,ow] = (1 / (KH·KW)) · Σ over the window's taps of x[...]
 *         dx: each output's dy is shared equally, dy / (KH·KW), by every input of its window
 *
 * NaN: a NaN anywhere in a window is that window's max (the last NaN, if several), and its
 * gradient goes there, as in PyTorch. So a NaN is never hidden by a larger neighbour, and the
 * NaN diagnosis of training names the layer that made it, not a later one.
 *
 * Padding: max-pool never picks a padding position (it acts as −∞); avg-pool counts padding as
 * zeros, so it always divides by KH·KW and stays one fixed linear map (PyTorch's default,
 * count_include_pad).
 *
 * Three kinds of kernel, as for the matrix products and convolutions:
 * - the naive loops (`maxPoolNaive`, `avgPoolNaive`, …), which the `'reference'` kernel family
 *   runs: every window, every tap, an `if` for the padding and one for the max. Read these;
 * - for `'js'`: one general loop each, written for speed (below), plus straight-line code for
 *   the most common window, 2x2 at stride 2 without padding;
 * - for `'wasm'`: WebAssembly for 2x2 max-pooling forward and max-pooling backward on big
 *   tensors (./wasm/elementwise.ts).
 * All compute the same numbers, bit for bit (test/layers/pool.test.ts,
 * test/kernels/elementwise-wasm.test.ts).
 *
 * The general loops visit only the taps inside the input: each output row and column's range
 * of taps is worked out once per call (tapRanges), not tested tap by tap.
 *
 * Max-pool compares without branching: whether a tap beats the best so far depends on the
 * data, so a branch would mispredict often. The comparison becomes a 0/1 number m and the
 * argmax moves by m·(k − at), exact integer arithmetic; the best value is read back from x.
 * Ties and NaNs go exactly as with `if (x[k] > best || isNaN(x[k])) at = k` (PyTorch's test):
 * ties to the first tap, NaNs to the last NaN.
 */
import { resolveKernels, threads } from './backend.ts'
import { maxPool2x2Wasm, maxPoolBackwardWasm, wasmWorthIt } from './wasm/elementwise.ts'
import { inSize, lengthCheck, outSize, tapIndex, type Window2d } from './window.ts'

const need = lengthCheck('pool')

/**
 * Along one axis, for each output position o: the taps t whose input position o·s − pad + t·d
 * lies inside 0..size−1, as a range [lo, hi) at [2o, 2o + 1]. Taps outside are padding.
 */
const tapRanges = (out: number, size: number, k: number, s: number, d: number, pad: number): Int32Array => {
  const r = new Int32Array(2 * out)
  for (let o = 0; o < out; o++) {
    const p0 = o * s - pad
    let lo = 0
    while (lo < k && p0 + lo * d < 0) lo++
    let hi = k
    while (hi > lo && p0 + (hi - 1) * d >= size) hi--
    r[2 * o] = lo
    r[2 * o + 1] = hi
  }
  return r
}

/** The most common pooling: 2x2 windows at stride 2, no padding on any side (an odd last row or column is in no window). */
export const is2x2 = (g: Window2d): boolean =>
  g.KH === 2 &&
  g.KW === 2 &&
  g.SH === 2 &&
  g.SW === 2 &&
  g.DH === 1 &&
  g.DW === 1 &&
  g.PT === 0 &&
  g.PL === 0 &&
  2 * g.OH <= g.H &&
  2 * g.OW <= g.W

// ---------------------------------------------------------------------------------------------
// The naive loops: the definitions, to read (the 'reference' family runs these)
// ---------------------------------------------------------------------------------------------

/**
 * Max-pool forward, naively: each output is the largest tap of its window (padding never wins;
 * ties go to the first tap; a NaN always wins, the last NaN if several), and argmax keeps where
 * it came from, for the vjp.
 */
export const maxPoolNaive = <A extends Float64Array | Float32Array>(g: Window2d, x: A, y: A, argmax: Int32Array): void => {
  let q = 0 // the flat output index, in NCHW order
  for (let nc = 0; nc < g.N * g.C; nc++) {
    // every sample and channel
    for (let oh = 0; oh < g.OH; oh++) {
      for (let ow = 0; ow < g.OW; ow++) {
        let best = -Infinity
        let at = -1
        for (let i = 0; i < g.KH; i++) {
          for (let j = 0; j < g.KW; j++) {
            const k = tapIndex(g, nc, oh, ow, i, j)
            if (k < 0) continue // padding
            const v = x[k]!
            if (at < 0 || v > best || Number.isNaN(v)) {
              best = v
              at = k
            }
          }
        }
        y[q] = best
        argmax[q] = at
        q++
      }
    }
  }
}

/** Max-pool backward, naively: each output's dy goes to the input its max came from. */
export const maxPoolBackwardNaive = (g: Window2d, dy: Float64Array, argmax: Int32Array, dx: Float64Array): void => {
  dx.fill(0)
  for (let q = 0; q < dy.length; q++) {
    const k = argmax[q]!
    if (k >= 0) dx[k] = dx[k]! + dy[q]!
  }
}

/** Average-pool forward, naively: the sum of the window's taps (padding adds nothing) times 1/(KH·KW). */
export const avgPoolNaive = (g: Window2d, x: Float64Array, y: Float64Array): void => {
  const scale = 1 / (g.KH * g.KW)
  let q = 0
  for (let nc = 0; nc < g.N * g.C; nc++) {
    for (let oh = 0; oh < g.OH; oh++) {
      for (let ow = 0; ow < g.OW; ow++) {
        let sum = 0
        for (let i = 0; i < g.KH; i++) {
          for (let j = 0; j < g.KW; j++) {
            const k = tapIndex(g, nc, oh, ow, i, j)
            if (k >= 0) sum += x[k]!
          }
        }
        y[q++] = sum * scale
      }
    }
  }
}

/** Average-pool backward, naively: every input tap of a window receives dy · 1/(KH·KW) from it. */
export const avgPoolBackwardNaive = (g: Window2d, dy: Float64Array, dx: Float64Array): void => {
  const scale = 1 / (g.KH * g.KW)
  dx.fill(0)
  let q = 0
  for (let nc = 0; nc < g.N * g.C; nc++) {
    for (let oh = 0; oh < g.OH; oh++) {
      for (let ow = 0; ow < g.OW; ow++) {
        const share = dy[q++]! * scale
        for (let i = 0; i < g.KH; i++) {
          for (let j = 0; j < g.KW; j++) {
            const k = tapIndex(g, nc, oh, ow, i, j)
            if (k >= 0) dx[k] = dx[k]! + share
          }
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The fast loops (and the switch between the families)
// ---------------------------------------------------------------------------------------------

/** Max-pool forward: y gets each window's maximum and argmax the flat index in x it came from. */
export const maxPoolForward = (g: Window2d, x: Float64Array, y: Float64Array, argmax: Int32Array): void => {
  need('x', x, inSize(g))
  need('y', y, outSize(g))
  need('argmax', argmax, outSize(g))
  if (resolveKernels() === 'reference') return maxPoolNaive(g, x, y, argmax)
  if (is2x2(g) && wasmWorthIt(x.length) && resolveKernels() === 'wasm' && maxPool2x2Wasm(threads(), g, x, y, argmax)) return
  if (is2x2(g)) return maxPool2x2(g, x, y, argmax)
  const { N, C, H, W, KH, KW, SH, SW, DH, DW, PT, PL, OH, OW } = g
  const rows = tapRanges(OH, H, KH, SH, DH, PT)
  const cols = tapRanges(OW, W, KW, SW, DW, PL)
  let q = 0 // flat output index, in NCHW order
  for (let nc = 0; nc < N * C; nc++) {
    // every sample and channel
    const plane = nc * H * W
    for (let oh = 0; oh < OH; oh++) {
      const top = plane + (oh * SH - PT) * W // x[n, c, oh·SH − PT, 0], maybe a padding row
      const i0 = rows[2 * oh]!
      const i1 = rows[2 * oh + 1]!
      for (let ow = 0; ow < OW; ow++) {
        const left = top + ow * SW - PL // the window's tap (0, 0), maybe padding
        const j0 = cols[2 * ow]!
        const j1 = cols[2 * ow + 1]!
        let best = -Infinity
        let at = -1
        for (let i = i0; i < i1; i++) {
          const row = left + i * DH * W
          for (let j = j0; j < j1; j++) {
            const k = row + j * DW
            const v = x[k]!
            const take = +(v > best) | +(v !== v) | +(at < 0) // ties go to the first tap; a NaN always takes
            at += take * (k - at)
            best = x[at]!
          }
        }
        y[q] = best
        argmax[q] = at
        q++
      }
    }
  }
}

/** Max-pool over 2x2 windows at stride 2, written out: taps k, k+1, k+W, k+W+1 in the general loop's order. */
const maxPool2x2 = (g: Window2d, x: Float64Array, y: Float64Array, argmax: Int32Array): void => {
  const { N, C, H, W, OH, OW } = g
  let q = 0
  for (let nc = 0; nc < N * C; nc++) {
    for (let oh = 0; oh < OH; oh++) {
      const top = nc * H * W + 2 * oh * W // x[n, c, 2·oh, 0]
      for (let ow = 0; ow < OW; ow++) {
        const k = top + 2 * ow // the window's top-left tap
        const b = x[k + 1]!
        const c = x[k + W]!
        const d = x[k + W + 1]!
        let at = k + (+(b > x[k]!) | +(b !== b)) // ties go to the first tap, NaNs to the last, as above
        at += (k + W - at) * (+(c > x[at]!) | +(c !== c))
        at += (k + W + 1 - at) * (+(d > x[at]!) | +(d !== d))
        y[q] = x[at]!
        argmax[q] = at
        q++
      }
    }
  }
}

/** Max-pool backward: dx is zero except at each window's argmax, which receives that output's dy. */
export const maxPoolBackward = (g: Window2d, dy: Float64Array, argmax: Int32Array, dx: Float64Array): void => {
  need('dy', dy, outSize(g))
  need('argmax', argmax, outSize(g))
  need('dx', dx, inSize(g))
  if (resolveKernels() === 'reference') return maxPoolBackwardNaive(g, dy, argmax, dx)
  if (wasmWorthIt(dx.length) && resolveKernels() === 'wasm' && maxPoolBackwardWasm(threads(), g, dy, argmax, dx)) return
  dx.fill(0)
  for (let q = 0; q < dy.length; q++) {
    const k = argmax[q]!
    if (k >= 0) dx[k] = dx[k]! + dy[q]!
  }
}

/** Average-pool forward: the window's sum (padding counts as zeros) divided by KH·KW. */
export const avgPoolForward = (g: Window2d, x: Float64Array, y: Float64Array): void => {
  need('x', x, inSize(g))
  need('y', y, outSize(g))
  if (resolveKernels() === 'reference') return avgPoolNaive(g, x, y)
  if (is2x2(g)) return avgPool2x2(g, x, y)
  const { N, C, H, W, KH, KW, SH, SW, DH, DW, PT, PL, OH, OW } = g
  const rows = tapRanges(OH, H, KH, SH, DH, PT)
  const cols = tapRanges(OW, W, KW, SW, DW, PL)
  const scale = 1 / (KH * KW)
  let q = 0
  for (let nc = 0; nc < N * C; nc++) {
    const plane = nc * H * W
    for (let oh = 0; oh < OH; oh++) {
      const top = plane + (oh * SH - PT) * W
      const i0 = rows[2 * oh]!
      const i1 = rows[2 * oh + 1]!
      for (let ow = 0; ow < OW; ow++) {
        const left = top + ow * SW - PL
        const j0 = cols[2 * ow]!
        const j1 = cols[2 * ow + 1]!
        let sum = 0
        for (let i = i0; i < i1; i++) {
          const row = left + i * DH * W
          for (let j = j0; j < j1; j++) sum += x[row + j * DW]!
        }
        y[q++] = sum * scale
      }
    }
  }
}

/** Average-pool over 2x2 windows at stride 2: the same sum, in the same order, as the general loop. */
const avgPool2x2 = (g: Window2d, x: Float64Array, y: Float64Array): void => {
  const { N, C, H, W, OH, OW } = g
  let q = 0
  for (let nc = 0; nc < N * C; nc++) {
    for (let oh = 0; oh < OH; oh++) {
      const top = nc * H * W + 2 * oh * W
      for (let ow = 0; ow < OW; ow++) {
        const k = top + 2 * ow
        y[q++] = (0 + x[k]! + x[k + 1]! + x[k + W]! + x[k + W + 1]!) * 0.25
      }
    }
  }
}

/** Average-pool backward: every input of a window receives dy / (KH·KW) from it. */
export const avgPoolBackward = (g: Window2d, dy: Float64Array, dx: Float64Array): void => {
  need('dy', dy, outSize(g))
  need('dx', dx, inSize(g))
  if (resolveKernels() === 'reference') return avgPoolBackwardNaive(g, dy, dx)
  if (is2x2(g)) return avgPoolBackward2x2(g, dy, dx)
  const { N, C, H, W, KH, KW, SH, SW, DH, DW, PT, PL, OH, OW } = g
  const rows = tapRanges(OH, H, KH, SH, DH, PT)
  const cols = tapRanges(OW, W, KW, SW, DW, PL)
  const scale = 1 / (KH * KW)
  dx.fill(0)
  let q = 0
  for (let nc = 0; nc < N * C; nc++) {
    const plane = nc * H * W
    for (let oh = 0; oh < OH; oh++) {
      const top = plane + (oh * SH - PT) * W
      const i0 = rows[2 * oh]!
      const i1 = rows[2 * oh + 1]!
      for (let ow = 0; ow < OW; ow++) {
        const left = top + ow * SW - PL
        const j0 = cols[2 * ow]!
        const j1 = cols[2 * ow + 1]!
        const share = dy[q++]! * scale
        for (let i = i0; i < i1; i++) {
          const row = left + i * DH * W
          for (let j = j0; j < j1; j++) {
            const k = row + j * DW
            dx[k] = dx[k]! + share
          }
        }
      }
    }
  }
}

/** Average-pool backward over 2x2 windows at stride 2: they do not overlap, so each input gets one share, written directly. */
const avgPoolBackward2x2 = (g: Window2d, dy: Float64Array, dx: Float64Array): void => {
  const { N, C, H, W, OH, OW } = g
  if (2 * OH !== H || 2 * OW !== W) dx.fill(0) // an odd last row or column is in no window
  let q = 0
  for (let nc = 0; nc < N * C; nc++) {
    for (let oh = 0; oh < OH; oh++) {
      const top = nc * H * W + 2 * oh * W
      for (let ow = 0; ow < OW; ow++) {
        const k = top + 2 * ow
        const share = dy[q++]! * 0.25 + 0 // + 0 as in the general loop's 0 + share (−0 becomes +0)
        dx[k] = share
        dx[k + 1] = share
        dx[k + W] = share
        dx[k + W + 1] = share
      }
    }
  }
}
