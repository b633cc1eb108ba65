/**
 * The float32 SGD step in WebAssembly (asm/sgd32.ts), on this thread: sgdStep32's loop
 * (../sgd32.ts) in f32x4 SIMD, the same operations in the same order, so the same bits
 * (test/kernels/sgd32.test.ts). A TypeScript loop pays for a Math.fround per operation; this one
 * does not, and copying its operands in and out costs less than that for a layer's weights.
 *
 * Like ./optim.ts, it never uses the worker, and returns false, having written nothing, when the
 * job does not fit in the memory; the caller then runs the TypeScript loop.
 *
 * The loop also sums g·0 and out·0 per lane; when every sum is 0, g and out hold only finite
 * values and are recorded so (`markFinite`), so a training step's check for NaN and ±∞ need not
 * scan them again.
 */
import type { Sgd32Arrays, Sgd32Settings } from '../sgd32.ts'
import { markFinite } from '../../tensor/tensor.ts'
import { align, reserve } from './gemm.ts'
import { Op, runnersFor } from './parts.ts'

/** Bytes of the job block at address 0: 9 i32 fields, then 3 f32 fields from byte 48. */
const JOB_BYTES = 64
/** Elements per part (a multiple of 4). */
const CHUNK = 65536
/** Below this many elements the TypeScript loop is as fast as the copies. */
export const MIN_SGD32_ELEMENTS = 1024

// asm/sgd32.ts's flags.
const APPLY = 1
const DECAY = 2
const TRACE = 4
const NESTEROV = 8

/** One float32 SGD step in WebAssembly; false (nothing written) where WebAssembly SIMD is missing or the memory cannot hold it. */
export function sgdStep32Wasm(a: Sgd32Arrays, s: Sgd32Settings, maxBytes = Infinity): boolean {
  const n = a.g.length
  const n4 = Math.ceil(n / 4) * 4
  const trace = a.tPrev !== undefined && a.t !== undefined
  const slot = align(n4) * 4 // bytes per array
  const G = JOB_BYTES
  const P = G + slot
  const TP = P + slot
  const OUT = TP + (trace ? slot : 0)
  const T = OUT + slot
  const FINITE = T + (trace ? slot : 0)
  const parts = Math.max(1, Math.ceil(n4 / CHUNK))
  const end = FINITE + align(4 * parts) * 4
  const runner = runnersFor(1, parts, 0).find((r) => reserve(r.memory, end, Math.min(maxBytes, r.maxBytes)))
  if (runner === undefined) return false
  const flags = (s.apply ? APPLY : 0) | (s.lambda > 0 ? DECAY : 0) | (trace ? TRACE : 0) | (s.nesterov ? NESTEROV : 0)
  const { heap, fields, scalars } = viewsOf(runner.memory)
  fields.set([n4, CHUNK, flags, G, P, trace ? TP : 0, OUT, trace ? T : 0, FINITE])
  scalars.set([-s.rate, s.lambda, s.beta]) // rounded to float32 as they are stored
  heap.set(a.g, G / 4)
  heap.set(a.p, P / 4)
  if (trace) heap.set(a.tPrev!, TP / 4)
  // The padding lanes past n: zeros, so they stay finite (their results are never copied out).
  heap.fill(0, G / 4 + n, G / 4 + n4)
  heap.fill(0, P / 4 + n, P / 4 + n4)
  if (trace) heap.fill(0, TP / 4 + n, TP / 4 + n4)
  runner.run(Op.sgd32Step, 0, parts, 0, 0, n)
  a.out.set(heap.subarray(OUT / 4, OUT / 4 + n))
  if (trace) a.t!.set(heap.subarray(T / 4, T / 4 + n))
  let sums = 0
  for (let i = FINITE / 4; i < FINITE / 4 + 4 * parts; i++) sums += heap[i]!
  if (sums === 0) {
    markFinite(a.g)
    markFinite(a.out)
  }
  return true
}

/** Views on a runner's memory, rebuilt after it grew (a grow leaves older views stale or detached). */
interface Views {
  readonly buffer: ArrayBufferLike
  readonly heap: Float32Array
  readonly fields: Int32Array
  readonly scalars: Float32Array
}

const views = new WeakMap<WebAssembly.Memory, Views>()

function viewsOf(memory: WebAssembly.Memory): Views {
  const known = views.get(memory)
  if (known !== undefined && known.buffer === memory.buffer) return known
  const buffer = memory.buffer
  const fresh = { buffer, heap: new Float32Array(buffer), fields: new Int32Array(buffer, 0, 9), scalars: new Float32Array(buffer, 48, 3) }
  views.set(memory, fresh)
  return fresh
}
