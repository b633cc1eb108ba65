/**
 * The float32 RMSprop and Adagrad step in WebAssembly (asm/rms32.ts): rmsStep32's loop (../rms32.ts) in f32x4 SIMD,
 * the same operations in the same order, so the same bits (test/kernels/rms32.test.ts). It runs in the float32 arena
 * as the SGD and Adam steps do (./step32.ts): the params, accumulator and trace it writes stay there for the next step,
 * a gradient a product left there is read in place, a big leaf is split between two threads, and g and out are marked
 * finite when they are.
 */
import type { Rms32Arrays, Rms32Settings } from '../rms32.ts'
import { ARENA_MAX_BYTES } from './arena32.ts'
import { Op } from './parts.ts'
import { step32Wasm } from './step32.ts'

/** Below this many elements the TypeScript loop is as fast as the copies. */
export const MIN_RMS32_ELEMENTS = 128
/** From this many elements the step is split between two threads (when they are up). */
export const MIN_RMS32_SPLIT = 16384

// asm/rms32.ts's flags.
const APPLY = 1
const ADAGRAD = 2
const TRACE = 4

/** One float32 RMSprop or Adagrad step in WebAssembly on `threads` threads; false (nothing written) without SIMD or memory. */
export function rmsStep32Wasm(a: Rms32Arrays, s: Rms32Settings, threads: 1 | 2 = 1, maxBytes = ARENA_MAX_BYTES): boolean {
  const trace = s.momentum !== 0 && a.tracePrev !== undefined && a.trace !== undefined
  const flags = (s.apply ? APPLY : 0) | (s.decay === undefined ? ADAGRAD : 0) | (trace ? TRACE : 0)
  const rho = s.decay ?? 0
  const job = {
    op: Op.rms32Step,
    inputs: trace ? [a.g, a.p, a.accPrev, a.tracePrev!] : [a.g, a.p, a.accPrev],
    outputs: trace ? [a.out, a.acc, a.trace!] : [a.out, a.acc],
    flags,
    scalars: [-s.rate, rho, 1 - rho, s.eps, s.momentum],
    flops: 8,
    split: MIN_RMS32_SPLIT,
  }
  return step32Wasm(job, threads, maxBytes)
}
