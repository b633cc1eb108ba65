/**
 * Jobs cut into parts: what the convolutions (./conv.ts), the element-wise passes
 * (./elementwise.ts) and the optimizer steps (./optim.ts) have in common. A job is a block of
 * i32 fields in a module's memory; the module's `part(op, job, index, scratch)` (asm/index.ts)
 * runs one part of it. Parts never write the same output, so they may run in any order, on one
 * thread or on two (both take parts from a shared counter: `twoThreadParts` of ./threads.ts),
 * with the same result.
 */
import { wasmModule, type PartExport } from './gemm.ts'
import { twoThreadParts, type PartsRunner } from './threads.ts'

/** The ops of asm/index.ts's `part`. */
export const Op = {
  convForward: 0,
  /** dW's sample groups, then dx's samples (asm/conv.ts). */
  convBackward: 1,
  reluForward: 2,
  reluBackward: 3,
  /** 2x2 windows at stride 2, no padding (asm/elementwise.ts). */
  maxPool2x2Forward: 4,
  /** Any window: dy onto each argmax. */
  maxPoolBackward: 5,
  /** One fused SGD step over a leaf (asm/optim.ts). */
  sgdStep: 6,
  /** One fused Adam or AdamW step over a leaf. */
  adamStep: 7,
  /** One fused RMSprop step over a leaf. */
  rmspropStep: 8,
  /** One fused Adagrad step over a leaf. */
  adagradStep: 9,
  /** One chunk (a block of rows or columns of C) of a float32 GEMM (asm/gemm32.ts). */
  gemm32Chunk: 10,
  /** One float32 SGD step over a leaf (asm/sgd32.ts). */
  sgd32Step: 11,
  /** One sample of a float32 convolution's forward pass (asm/conv32.ts). */
  conv32Forward: 12,
  /** dW's column blocks, db, then dx's samples of a float32 convolution's backward pass. */
  conv32Backward: 13,
  /** float32 max-pooling, 2x2 windows at stride 2, no padding (asm/pool32.ts). */
  maxPool2x2Forward32: 14,
  /** float32 max-pooling backward, any window: dy onto each argmax. */
  maxPoolBackward32: 15,
  /** One float32 Adam, AdamW, NAdam, AMSGrad or Adamax step over a leaf (asm/adam32.ts). */
  adam32Step: 16,
  /** One float32 RMSprop or Adagrad step over a leaf (asm/rms32.ts). */
  rms32Step: 17,
} as const

/** The one-thread memory cap, as gemmWasm's. */
const MAX_BYTES = 2 ** 31

/** The one-thread runner: a private instance and memory, created at first use (null where WebAssembly SIMD is missing). */
let single: PartsRunner | null | undefined

function oneThreadParts(): PartsRunner | null {
  if (single !== undefined) return single
  const module = wasmModule()
  if (module === null) return (single = null)
  const memory = new WebAssembly.Memory({ initial: 1 })
  const part = new WebAssembly.Instance(module, { env: { memory } }).exports['part'] as PartExport
  single = {
    memory,
    maxBytes: MAX_BYTES,
    threads: 1,
    free: () => true,
    run: (op, job, parts, scratch0) => {
      for (let i = 0; i < parts; i++) part(op, job, i, scratch0)
      return false
    },
  }
  return single
}

/**
 * The runners to try for a job, in order: the worker's when two threads are selected and the job
 * has two parts or more (twoThreadParts also declines jobs too small to split, and a worker not
 * up yet), then this thread's. Both run the same parts, so the result is the same either way.
 */
export const runnersFor = (threads: 1 | 2, parts: number, flops: number): PartsRunner[] => {
  const two = threads === 2 && parts >= 2 ? twoThreadParts(flops) : null
  const one = oneThreadParts()
  return [...(two === null ? [] : [two]), ...(one === null ? [] : [one])]
}
