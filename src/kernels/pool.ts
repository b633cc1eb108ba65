/**
 * 2-D pooling kernels on NCHW Float64Arrays. Each channel is pooled on its own:
 *
 *   max   y[n,c,oh,ow] = max over the window's taps of x[n, c, oh·SH − PT + i·DH, ow·SW − PL + j·DW]
 *         dx: each output's dy goes to the one input that was the max (argmax, kept from forward)
 *   avg   y[n,c,oh,ow] = (1 / (KH·KW)) · Σ over the window's taps of x[...]
 *         dx: each output's dy is shared equally, dy / (KH·KW), by every input of its window
 *
 * Padding: max-pool never picks a padding position (it acts as −∞); avg-pool counts padding as
 * zeros, so it always divides by KH·KW and stays one fixed linear map (PyTorch's default,
 * count_include_pad). One implementation each: these loops are already memory-bound and
 * readable, so there is no separate reference version.
 */
import type { Window2d } from './window.ts'

const need = (what: string, a: ArrayLike<number>, n: number): void => {
  if (a.length !== n) throw new RangeError(`pool: ${what} has ${a.length} values, the geometry needs ${n}`)
}
const inSize = (g: Window2d): number => g.N * g.C * g.H * g.W
const outSize = (g: Window2d): number => g.N * g.C * g.OH * g.OW

/** Max-pool forward: y gets each window's maximum and argmax the flat index in x it came from. */
export const maxPoolForward = (g: Window2d, x: Float64Array, y: Float64Array, argmax: Int32Array): void => {
  need('x', x, inSize(g))
  need('y', y, outSize(g))
  need('argmax', argmax, outSize(g))
  const { N, C, H, W, KH, KW, SH, SW, DH, DW, PT, PL, OH, OW } = g
  // Without padding every tap of every window lies inside the image, so the common case
  // (e.g. 2x2 windows, stride 2) skips the bounds checks.
  const inside = PT === 0 && PL === 0 && (OH - 1) * SH + (KH - 1) * DH < H && (OW - 1) * SW + (KW - 1) * DW < W
  if (inside && KH === 2 && KW === 2 && SH === 2 && SW === 2 && DH === 1 && DW === 1) return maxPool2x2(g, x, y, argmax)
  let q = 0 // flat output index, in NCHW order
  for (let nc = 0; nc < N * C; nc++) { // every sample and channel
    const plane = nc * H * W
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        let best = -Infinity
        let at = -1
        for (let i = 0; i < KH; i++) {
          const h = oh * SH - PT + i * DH
          if (!inside && (h < 0 || h >= H)) continue // padding never wins
          for (let j = 0; j < KW; j++) {
            const v = ow * SW - PL + j * DW
            if (!inside && (v < 0 || v >= W)) continue
            const k = plane + h * W + v
            const value = x[k]!
            if (value > best || at < 0) { // ties go to the first tap
              best = value
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

/** The most common pooling, 2x2 windows at stride 2 with no padding, written out: ~1.5x faster than the general loops. */
const maxPool2x2 = (g: Window2d, x: Float64Array, y: Float64Array, argmax: Int32Array): void => {
  const { N, C, H, W, OH, OW } = g
  let q = 0
  for (let nc = 0; nc < N * C; nc++) {
    for (let oh = 0; oh < OH; oh++) {
      const top = nc * H * W + 2 * oh * W // x[n, c, 2·oh, 0]
      for (let ow = 0; ow < OW; ow++) {
        const k = top + 2 * ow // the window's top-left tap; ties go to the first tap, as above
        let at = k
        if (x[k + 1]! > x[at]!) at = k + 1
        if (x[k + W]! > x[at]!) at = k + W
        if (x[k + W + 1]! > x[at]!) at = k + W + 1
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
  const { N, C, H, W, KH, KW, SH, SW, DH, DW, PT, PL, OH, OW } = g
  const scale = 1 / (KH * KW)
  let q = 0
  for (let nc = 0; nc < N * C; nc++) {
    const plane = nc * H * W
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        let sum = 0
        for (let i = 0; i < KH; i++) {
          const h = oh * SH - PT + i * DH
          if (h < 0 || h >= H) continue
          for (let j = 0; j < KW; j++) {
            const v = ow * SW - PL + j * DW
            if (v < 0 || v >= W) continue
            sum += x[plane + h * W + v]!
          }
        }
        y[q++] = sum * scale
      }
    }
  }
}

/** Average-pool backward: every input of a window receives dy / (KH·KW) from it. */
export const avgPoolBackward = (g: Window2d, dy: Float64Array, dx: Float64Array): void => {
  need('dy', dy, outSize(g))
  need('dx', dx, inSize(g))
  const { N, C, H, W, KH, KW, SH, SW, DH, DW, PT, PL, OH, OW } = g
  const scale = 1 / (KH * KW)
  dx.fill(0)
  let q = 0
  for (let nc = 0; nc < N * C; nc++) {
    const plane = nc * H * W
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const share = dy[q++]! * scale
        for (let i = 0; i < KH; i++) {
          const h = oh * SH - PT + i * DH
          if (h < 0 || h >= H) continue
          for (let j = 0; j < KW; j++) {
            const v = ow * SW - PL + j * DW
            if (v < 0 || v >= W) continue
            const k = plane + h * W + v
            dx[k] = dx[k]! + share
          }
        }
      }
    }
  }
}
