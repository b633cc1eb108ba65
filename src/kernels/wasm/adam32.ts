/**
 * The float32 Adam step in WebAssembly (asm/adam32.ts): adamStep32's loop (../adam32.ts), and adamVariantStep32's
 * (../adam-variants32.ts: NAdam, AMSGrad, Adamax), in f32x4 SIMD, the same operations in the same order, so the same
 * bits (test/kernels/adam32.test.ts, test/kernels/adam-variants32.test.ts). A TypeScript loop pays for a Math.fround
 * per operation; this one does not. It runs in the float32 arena as the SGD step does (./step32.ts): the params and
 * the moments it writes stay there for the next step (and the params for the products), a gradient a product left
 * there is read in place, a big leaf is split between two threads, and g and out are marked finite when they are.
 */
import type { Adam32Arrays, Adam32Settings } from '../adam32.ts'
import type { AdamVariant32Arrays, AdamVariant32Settings } from '../adam-variants32.ts'
import { ARENA_MAX_BYTES } from './arena32.ts'
import { Op } from './parts.ts'
import { step32Wasm } from './step32.ts'

/** Below this many elements the TypeScript loop is as fast as the copies. */
export const MIN_ADAM32_ELEMENTS = 128
/** From this many elements the step is split between two threads (when they are up). */
export const MIN_ADAM32_SPLIT = 16384

// asm/adam32.ts's flags.
const APPLY = 1
const DECAY = 2
const NADAM = 4
const AMSGRAD = 8
const ADAMAX = 16

/** asm/adam32.ts's scalars, in its order (each rounded to float32 as it is stored). */
const scalarsOf = (s: Adam32Settings, c1Next: number): number[] => [
  -s.rate,
  s.lambda ?? 0,
  s.b1,
  s.b2,
  1 - s.b1,
  1 - s.b2,
  s.c1,
  s.c2,
  s.eps,
  c1Next,
]

/** One float32 Adam or AdamW step in WebAssembly on `threads` threads; false (nothing written) where SIMD is missing or memory short. */
export function adamStep32Wasm(a: Adam32Arrays, s: Adam32Settings, threads: 1 | 2 = 1, maxBytes = ARENA_MAX_BYTES): boolean {
  const flags = (s.apply ? APPLY : 0) | (s.lambda !== undefined ? DECAY : 0)
  const job = {
    op: Op.adam32Step,
    inputs: [a.g, a.p, a.muPrev, a.nuPrev],
    outputs: [a.out, a.mu, a.nu],
    flags,
    scalars: scalarsOf(s, 0),
    flops: 12,
    split: MIN_ADAM32_SPLIT,
  }
  return step32Wasm(job, threads, maxBytes)
}

/** One float32 NAdam, AMSGrad or Adamax step in WebAssembly, as adamStep32Wasm. */
export function adamVariantStep32Wasm(
  a: AdamVariant32Arrays,
  s: AdamVariant32Settings,
  threads: 1 | 2 = 1,
  maxBytes = ARENA_MAX_BYTES,
): boolean {
  const variant = s.variant === 'nadam' ? NADAM : s.variant === 'amsgrad' ? AMSGRAD : ADAMAX
  const flags = (s.apply ? APPLY : 0) | (s.lambda !== undefined ? DECAY : 0) | variant
  const amsgrad = s.variant === 'amsgrad' && a.nuMaxPrev !== undefined && a.nuMax !== undefined
  const job = {
    op: Op.adam32Step,
    inputs: amsgrad ? [a.g, a.p, a.muPrev, a.nuPrev, a.nuMaxPrev!] : [a.g, a.p, a.muPrev, a.nuPrev],
    outputs: amsgrad ? [a.out, a.mu, a.nu, a.nuMax!] : [a.out, a.mu, a.nu],
    flags,
    scalars: scalarsOf(s, s.c1Next),
    flops: 14,
    split: MIN_ADAM32_SPLIT,
  }
  return step32Wasm(job, threads, maxBytes)
}
