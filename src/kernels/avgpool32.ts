/**
 * float32 average-pooling on NCHW Float32Arrays, the float32 twin of ./pool.ts's avg-pooling
 * (same `Window2d` geometry; padding counts as zeros, so every window divides by KH·KW):
 *
 *   forward   y[n,c,oh,ow] = s · Σ over the window's taps of x[n, c, oh·SH − PT + i·DH, ow·SW − PL + j·DW]
 *   vjp       dx[tap] += s · dy[n,c,oh,ow] for every tap of the window,        s = fl32(1 / (KH·KW))
 *
 * Rounding, exactly: the sum starts from +0 and adds the taps inside the input in (i, j) order,
 * each add rounded to float32, then one rounded multiply by s; the vjp rounds the share s·dy once
 * and each add onto dx, outputs in order (windows may overlap), dx starting from +0.
 * `avgPool32Reference` and `avgPoolBackward32Reference` are those loops (the oracle, the
 * 'reference' family); `avgPool32` and `avgPoolBackward32` run straight-line code for 2x2
 * windows at stride 2 without padding (the common one) and the loops for any other window: the
 * same bits (test/kernels/avgpool32.test.ts).
 */
import { resolveKernels } from './backend.ts'
import { is2x2 } from './pool.ts'
import { inSize, lengthCheck, outSize, tapIndex, type Window2d } from './window.ts'

const need = lengthCheck('avgpool32')

/** Average-pool forward, naively: the float32 sum of the window's taps (padding adds nothing) times fl32(1/(KH·KW)). */
export const avgPool32Reference = (g: Window2d, x: Float32Array, y: Float32Array): void => {
  need('x', x, inSize(g))
  need('y', y, outSize(g))
  const f = Math.fround
  const scale = f(1 / (g.KH * g.KW))
  let q = 0
  for (let nc = 0; nc < g.N * g.C; nc++) {
    for (let oh = 0; oh < g.OH; oh++) {
      for (let ow = 0; ow < g.OW; ow++) {
        let sum = 0
        for (let i = 0; i < g.KH; i++) {
          for (let j = 0; j < g.KW; j++) {
            const k = tapIndex(g, nc, oh, ow, i, j)
            if (k >= 0) sum = f(sum + x[k]!)
          }
        }
        y[q++] = f(sum * scale)
      }
    }
  }
}

/** Average-pool backward, naively: every input tap of a window receives fl32(dy · s) from it, each add rounded. */
export const avgPoolBackward32Reference = (g: Window2d, dy: Float32Array, dx: Float32Array): void => {
  need('dy', dy, outSize(g))
  need('dx', dx, inSize(g))
  const f = Math.fround
  const scale = f(1 / (g.KH * g.KW))
  dx.fill(0)
  let q = 0
  for (let nc = 0; nc < g.N * g.C; nc++) {
    for (let oh = 0; oh < g.OH; oh++) {
      for (let ow = 0; ow < g.OW; ow++) {
        const share = f(dy[q++]! * scale)
        for (let i = 0; i < g.KH; i++) {
          for (let j = 0; j < g.KW; j++) {
            const k = tapIndex(g, nc, oh, ow, i, j)
            if (k >= 0) dx[k] = f(dx[k]! + share)
          }
        }
      }
    }
  }
}

/** Average-pool forward: straight-line code for 2x2 windows at stride 2 (the taps in the reference's order), the reference loop otherwise. */
export const avgPool32 = (g: Window2d, x: Float32Array, y: Float32Array): void => {
  if (!is2x2(g)) return avgPool32Reference(g, x, y)
  need('x', x, inSize(g))
  need('y', y, outSize(g))
  const f = Math.fround
  const { H, W, OH, OW } = g
  let q = 0
  for (let nc = 0; nc < g.N * g.C; nc++) {
    for (let oh = 0; oh < OH; oh++) {
      const top = nc * H * W + 2 * oh * W
      for (let ow = 0; ow < OW; ow++) {
        const k = top + 2 * ow
        y[q++] = f(f(f(f(0 + x[k]!) + x[k + 1]!) + x[k + W]!) + x[k + W + 1]!) * 0.25 // × 0.25 is exact (up to underflow, which rounds as fl32 does)
      }
    }
  }
}

/** Average-pool backward: 2x2 windows at stride 2 do not overlap, so each input gets its one share (+0 for −0, as 0 + share), written directly. */
export const avgPoolBackward32 = (g: Window2d, dy: Float32Array, dx: Float32Array): void => {
  if (!is2x2(g)) return avgPoolBackward32Reference(g, dy, dx)
  need('dy', dy, outSize(g))
  need('dx', dx, inSize(g))
  const f = Math.fround
  const { H, W, OH, OW } = g
  if (2 * OH !== H || 2 * OW !== W) dx.fill(0) // an odd last row or column is in no window
  let q = 0
  for (let nc = 0; nc < g.N * g.C; nc++) {
    for (let oh = 0; oh < OH; oh++) {
      const top = nc * H * W + 2 * oh * W
      for (let ow = 0; ow < OW; ow++) {
        const k = top + 2 * ow
        const share = f(dy[q++]! * 0.25) + 0
        dx[k] = share
        dx[k + 1] = share
        dx[k + W] = share
        dx[k + W + 1] = share
      }
    }
  }
}

/** The float32 avg-pool forward of the kernel family in use: the reference loop under 'reference', avgPool32 otherwise. */
export const avgPool32For = (): typeof avgPool32 => (resolveKernels() === 'reference' ? avgPool32Reference : avgPool32)

/** The float32 avg-pool vjp of the kernel family in use. */
export const avgPoolBackward32For = (): typeof avgPoolBackward32 =>
  resolveKernels() === 'reference' ? avgPoolBackward32Reference : avgPoolBackward32
