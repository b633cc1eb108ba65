/**
 * The float32 SGD step in WebAssembly (asm/sgd32.ts), on this thread: sgdStep32's loop
 * (../sgd32.ts) in f32x4 SIMD, the same operations in the same order, so the same bits
 * (test/kernels/sgd32.test.ts). A TypeScript loop pays for a Math.fround per operation; this one
 * does not, and copying its operands in and out costs less than that for a layer's weights.
 *
 * It runs in the arena of ./arena32.ts (shared with the float32 tensor products), through the
 * runner of ./step32.ts that the Adam and RMSprop steps share: on two threads, a leaf of
 * `MIN_SGD32_SPLIT` elements or more is cut in two parts, one per thread (each element is computed
 * alone, so the split never changes a bit). The params and the trace a step writes there stay
 * there: the next step, whose p and t' are those arrays (the step's outputs, which no one writes
 * again), reads them in place instead of copying them in, and so does a product that reads the
 * params; a gradient a product left there (dW = xᵀ·dy) is read in place too. It returns false,
 * having written nothing, when the job does not fit; the caller then runs the TypeScript loop. g
 * and out are marked finite (`markFinite`) when they are, so a training step's check for NaN and
 * ±∞ need not scan them again.
 */
import type { Sgd32Arrays, Sgd32Settings } from '../sgd32.ts'
import { ARENA_MAX_BYTES } from './arena32.ts'
import { Op } from './parts.ts'
import { step32Wasm } from './step32.ts'

/** Below this many elements the TypeScript loop is as fast as the copies. */
export const MIN_SGD32_ELEMENTS = 1024
/** From this many elements the step is split between two threads (when they are up). */
export const MIN_SGD32_SPLIT = 32768

// asm/sgd32.ts's flags.
const APPLY = 1
const DECAY = 2
const TRACE = 4
const NESTEROV = 8

/**
 * One float32 SGD step in WebAssembly, on `threads` threads (2: when the worker is up and the leaf is big enough); false
 * (nothing written) where WebAssembly SIMD is missing or the memory cannot hold it.
 */
export function sgdStep32Wasm(a: Sgd32Arrays, s: Sgd32Settings, threads: 1 | 2 = 1, maxBytes = ARENA_MAX_BYTES): boolean {
  const trace = a.tPrev !== undefined && a.t !== undefined
  const job = {
    op: Op.sgd32Step,
    inputs: trace ? [a.g, a.p, a.tPrev!] : [a.g, a.p],
    outputs: trace ? [a.out, a.t!] : [a.out],
    flags: (s.apply ? APPLY : 0) | (s.lambda > 0 ? DECAY : 0) | (trace ? TRACE : 0) | (s.nesterov ? NESTEROV : 0),
    scalars: [-s.rate, s.lambda, s.beta],
    flops: 5,
    split: MIN_SGD32_SPLIT,
  }
  return step32Wasm(job, threads, maxBytes)
}
