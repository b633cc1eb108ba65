/**
 * The float32 SGD step in WebAssembly (asm/sgd32.ts), on this thread: sgdStep32's loop
 * (../sgd32.ts) in f32x4 SIMD, the same operations in the same order, so the same bits
 * (test/kernels/sgd32.test.ts). A TypeScript loop pays for a Math.fround per operation; this one
 * does not, and copying its operands in and out costs less than that for a layer's weights.
 *
 * It runs in the arena of ./arena32.ts (shared with the float32 tensor products); on two threads,
 * a leaf of `MIN_SGD32_SPLIT` elements or more is cut in two parts, one per thread, while the
 * worker of ./threads.ts is up, `float32SplitNow()` and the products' back-off (./gemm32.ts) is not running (each
 * element is computed alone, so the split never changes a bit). The params and the trace a step writes there stay there: the next
 * step, whose p and t' are those arrays (the step's outputs, which no one writes again), reads them
 * in place instead of copying them in, and so does a product that reads the params; a gradient a
 * product left there (dW = xᵀ·dy) is read in place too. A block this step kept is reused only once
 * its array has been read as an input, or after the memory passes a budget and every block is
 * given up. It returns false, having written nothing, when the job does not fit; the caller then
 * runs the TypeScript loop.
 *
 * The loop also sums g·0 and out·0 per lane; when every sum is 0, g and out hold only finite
 * values and are recorded so (`markFinite`), so a training step's check for NaN and ±∞ need not
 * scan them again.
 */
import type { Sgd32Arrays, Sgd32Settings } from '../sgd32.ts'
import { markFinite } from '../../tensor/tensor.ts'
import { roundUp } from './gemm.ts'
import { ARENA_MAX_BYTES, arenaFor, blockBytes, give, held, take } from './arena32.ts'
import { Op } from './parts.ts'
import { float32SplitNow, twoThreadParts } from './threads.ts'
import { backedOff } from './gemm32.ts'

/** Elements per part (a multiple of 4). */
const CHUNK = 65536
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
  const n = a.g.length
  // Before arenaFor: a worker that just came up moves the arena. A pass over memory: its size, not its flops, decides.
  const two = threads === 2 && n >= MIN_SGD32_SPLIT && float32SplitNow() && !backedOff() ? twoThreadParts(Infinity, true) : null
  const arena = arenaFor(maxBytes)
  if (arena === null) return false
  const runner = two !== null && two.memory === arena.memory && two.free() ? two : null
  const n4 = Math.ceil(n / 4) * 4
  const trace = a.tPrev !== undefined && a.t !== undefined
  const slot = blockBytes(n) // bytes per array
  // Parts of CHUNK elements, or on two threads two parts, each a whole number of cache lines.
  const chunk = runner === null ? CHUNK : roundUp(Math.ceil(n4 / 2), 16)
  const parts = Math.max(1, Math.ceil(n4 / chunk))
  const sums = blockBytes(4 * parts)
  // p and t' where an earlier step left them (its out and t); each read in place once, then its block is free.
  // g (and p) where a product left them: read in place; the products give those blocks back.
  const heldG = held(arena, a.g, slot)
  const heldP = a.p !== a.g ? held(arena, a.p, slot) : undefined
  const heldT = trace && a.tPrev !== a.p && a.tPrev !== a.g ? held(arena, a.tPrev!, slot) : undefined
  const keptG = heldG?.at
  const keptP = a.p === a.g ? undefined : heldP?.at
  const keptT = heldT?.at
  const copyT = trace && keptT === undefined && a.tPrev !== a.p
  const blocks = [keptG === undefined ? slot : 0, keptP === undefined ? slot : 0, copyT ? slot : 0, slot, trace ? slot : 0, sums]
  const at = blocks.map((bytes) => (bytes === 0 ? 0 : take(arena, bytes, maxBytes)))
  if (at.some((x) => x < 0)) {
    at.forEach((x, i) => x > 0 && give(arena, x, blocks[i]!))
    return false
  }
  const [gCopy, pCopy, tCopy, OUT, T, FINITE] = at as [number, number, number, number, number, number]
  const G = keptG ?? gCopy
  const P = keptP ?? pCopy
  const TP = trace ? (keptT ?? (a.tPrev === a.p ? P : tCopy)) : 0
  const flags = (s.apply ? APPLY : 0) | (s.lambda > 0 ? DECAY : 0) | (trace ? TRACE : 0) | (s.nesterov ? NESTEROV : 0)
  const { heap, fields, scalars } = viewsOf(arena.memory)
  fields.set([n4, chunk, flags, G, P, TP, OUT, trace ? T : 0, FINITE])
  scalars.set([-s.rate, s.lambda, s.beta]) // rounded to float32 as they are stored
  // Copied in: the padding lanes past n zeroed, so they stay finite (their results are never copied out).
  const copyIn = (src: Float32Array, to: number): void => {
    heap.set(src, to / 4)
    heap.fill(0, to / 4 + n, to / 4 + n4)
  }
  if (keptG === undefined) copyIn(a.g, G)
  if (keptP === undefined) copyIn(a.p, P)
  if (copyT) copyIn(a.tPrev!, TP)
  if (runner !== null) runner.run(Op.sgd32Step, 0, parts, 0, 0, 2 * n)
  else for (let i = 0; i < parts; i++) arena.part(Op.sgd32Step, 0, i, 0)
  a.out.set(heap.subarray(OUT / 4, OUT / 4 + n))
  if (trace) a.t!.set(heap.subarray(T / 4, T / 4 + n))
  let total = 0
  for (let i = FINITE / 4; i < FINITE / 4 + 4 * parts; i++) total += heap[i]!
  if (total === 0) {
    markFinite(a.g)
    markFinite(a.out)
  }
  // The inputs' blocks are free again (but those the products keep: they give them back); the outputs' stay, for the step that reads them.
  const release = (array: Float32Array, at: number, h: { readonly recent: boolean } | undefined): void => {
    if (h?.recent === true) return
    give(arena, at, slot)
    if (h !== undefined) arena.kept.delete(array)
  }
  release(a.g, G, heldG)
  give(arena, FINITE, sums)
  if (P !== G) release(a.p, P, heldP)
  if (trace && TP !== P && TP !== G) release(a.tPrev!, TP, heldT)
  arena.kept.set(a.out, { at: OUT, bytes: slot, recent: false })
  if (trace) arena.kept.set(a.t!, { at: T, bytes: slot, recent: false })
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
