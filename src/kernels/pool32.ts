/**
 * float32 max-pooling on NCHW Float32Arrays, the float32 twin of ./pool.ts's max-pooling (same
 * `Window2d` geometry, same rules): each output is the largest tap of its window (padding never
 * wins; ties go to the first tap; a NaN always wins, the last NaN if several), argmax keeps the
 * flat index of x it came from, and the vjp adds each dy onto that input (rounded to float32,
 * outputs in order: windows may overlap).
 *
 * The forward pass only compares and copies, so the naive loop (the oracle, the 'reference'
 * family), the straight-line 2x2 stride-2 loop ('js', for that window) and the f32x4 one in
 * WebAssembly ('wasm', ./wasm/pool32.ts, on one thread or two) give the same bits; the backward
 * pass adds in one order in all of them (test/kernels/pool32.test.ts).
 */
import { resolveKernels, threads } from './backend.ts'
import { is2x2, maxPoolNaive } from './pool.ts'
import { maxPool2x2Wasm32, maxPoolBackwardWasm32 } from './wasm/pool32.ts'
import { wasmWorthIt } from './wasm/elementwise.ts'
import { inSize, lengthCheck, outSize, type Window2d } from './window.ts'

const need = lengthCheck('pool32')

/** Max-pool forward, naively: ./pool.ts's loop (comparisons only, so the same for float32), after the length checks. */
export const maxPool32Reference = (g: Window2d, x: Float32Array, y: Float32Array, argmax: Int32Array): void => {
  need('x', x, inSize(g))
  need('y', y, outSize(g))
  need('argmax', argmax, outSize(g))
  maxPoolNaive(g, x, y, argmax)
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

/** Max-pool backward ('reference' and 'js'): dx = 0, then dx[argmax[q]] = fl32(dx[argmax[q]] + dy[q]) for q in order. */
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

/** Max-pool forward in WebAssembly for 2x2 windows at stride 2 on big enough tensors (4,096 values), maxPool32 otherwise. */
export const maxPool32Wasm = (g: Window2d, x: Float32Array, y: Float32Array, argmax: Int32Array): void => {
  if (is2x2(g) && wasmWorthIt(x.length)) {
    need('x', x, inSize(g))
    need('y', y, outSize(g))
    need('argmax', argmax, outSize(g))
    if (maxPool2x2Wasm32(threads(), g, x, y, argmax)) return
  }
  maxPool32(g, x, y, argmax)
}

/** Max-pool backward in WebAssembly from 4,096 values (an argmax outside its output's plane is skipped), maxPoolBackward32 otherwise. */
export const maxPoolBackward32Wasm = (g: Window2d, dy: Float32Array, argmax: Int32Array, dx: Float32Array): void => {
  if (wasmWorthIt(dx.length)) {
    need('dy', dy, outSize(g))
    need('argmax', argmax, outSize(g))
    need('dx', dx, inSize(g))
    if (maxPoolBackwardWasm32(threads(), g, dy, argmax, dx)) return
  }
  maxPoolBackward32(g, dy, argmax, dx)
}

/** The float32 max-pool forward of the kernel family in use: the naive loop ('reference'), maxPool32 ('js') or maxPool32Wasm ('wasm'). */
export const maxPool32For = (): typeof maxPool32 => {
  switch (resolveKernels()) {
    case 'reference':
      return maxPool32Reference
    case 'js':
      return maxPool32
    case 'wasm':
      return maxPool32Wasm
  }
}

/** The float32 max-pool backward of the kernel family in use: maxPoolBackward32Wasm under 'wasm', maxPoolBackward32 otherwise. */
export const maxPoolBackward32For = (): typeof maxPoolBackward32 =>
  resolveKernels() === 'wasm' ? maxPoolBackward32Wasm : maxPoolBackward32
