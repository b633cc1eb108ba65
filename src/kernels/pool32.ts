/**
 * float32 max-pooling on NCHW Float32Arrays, the float32 twin of ./pool.ts's max-pooling (same
 * `Window2d` geometry, same rules): each output is the largest tap of its window (padding never
 * wins; ties go to the first tap; a NaN always wins, the last NaN if several), argmax keeps the
 * flat index of x it came from, and the vjp adds each dy onto that input (rounded to float32,
 * outputs in order: windows may overlap).
 *
 * The forward pass only compares and copies, so the naive loop (the oracle, the 'reference'
 * family) and the straight-line 2x2 stride-2 loop (every other family, for that window) give
 * the same bits (test/kernels/pool32.test.ts).
 */
import { resolveKernels } from './backend.ts'
import { is2x2 } from './pool.ts'
import type { Window2d } from './window.ts'

const need = (what: string, a: ArrayLike<number>, n: number): void => {
  if (a.length !== n) throw new RangeError(`pool32: ${what} has ${a.length} values, the geometry needs ${n}`)
}
const inSize = (g: Window2d): number => g.N * g.C * g.H * g.W
const outSize = (g: Window2d): number => g.N * g.C * g.OH * g.OW

/** Max-pool forward, naively: every window, every tap (padding skipped), `v > best or NaN` wins. */
export const maxPool32Reference = (g: Window2d, x: Float32Array, y: Float32Array, argmax: Int32Array): void => {
  need('x', x, inSize(g))
  need('y', y, outSize(g))
  need('argmax', argmax, outSize(g))
  let q = 0
  for (let nc = 0; nc < g.N * g.C; nc++) {
    for (let oh = 0; oh < g.OH; oh++) {
      for (let ow = 0; ow < g.OW; ow++) {
        let best = -Infinity
        let at = -1
        for (let i = 0; i < g.KH; i++) {
          for (let j = 0; j < g.KW; j++) {
            const h = oh * g.SH - g.PT + i * g.DH
            const w = ow * g.SW - g.PL + j * g.DW
            if (h < 0 || h >= g.H || w < 0 || w >= g.W) continue // padding
            const k = (nc * g.H + h) * g.W + w
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

/**
 * Max-pool forward: straight-line code for 2x2 windows at stride 2 (the taps in the naive loop's
 * order, each compared as it does), the naive loop for any other window.
 */
export const maxPool32 = (g: Window2d, x: Float32Array, y: Float32Array, argmax: Int32Array): void => {
  if (!is2x2(g)) return maxPool32Reference(g, x, y, argmax)
  need('x', x, inSize(g))
  need('y', y, outSize(g))
  need('argmax', argmax, outSize(g))
  const { H, W, OH, OW } = g
  let q = 0
  for (let nc = 0; nc < g.N * g.C; nc++) {
    for (let oh = 0; oh < OH; oh++) {
      let k = (nc * H + 2 * oh) * W
      for (let ow = 0; ow < OW; ow++, k += 2) {
        let at = k
        let best = x[k]!
        const k1 = k + 1
        const k2 = k + W
        const k3 = k2 + 1
        const v1 = x[k1]!
        if (v1 > best || v1 !== v1) {
          best = v1
          at = k1
        }
        const v2 = x[k2]!
        if (v2 > best || v2 !== v2) {
          best = v2
          at = k2
        }
        const v3 = x[k3]!
        if (v3 > best || v3 !== v3) {
          best = v3
          at = k3
        }
        y[q] = best
        argmax[q] = at
        q++
      }
    }
  }
}

/** Max-pool backward (every family): dx = 0, then dx[argmax[q]] = fl32(dx[argmax[q]] + dy[q]) for q in order. */
export const maxPoolBackward32 = (g: Window2d, dy: Float32Array, argmax: Int32Array, dx: Float32Array): void => {
  need('dy', dy, outSize(g))
  need('argmax', argmax, outSize(g))
  need('dx', dx, inSize(g))
  dx.fill(0)
  for (let q = 0; q < dy.length; q++) {
    const k = argmax[q]!
    if (k >= 0) dx[k] = Math.fround(dx[k]! + dy[q]!)
  }
}

/** The float32 max-pool forward of the kernel family in use: the naive loop under 'reference', maxPool32 otherwise. */
export const maxPool32For = (): typeof maxPool32 => (resolveKernels() === 'reference' ? maxPool32Reference : maxPool32)
