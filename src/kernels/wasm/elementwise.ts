/**
 * ReLU's and max-pooling's passes in WebAssembly (asm/elementwise.ts), on one thread or two.
 * f64x2 SIMD in WebAssembly runs these passes faster than a TypeScript loop over a Float64Array
 * by more than copying the operands into the module's memory and back costs, for big tensors
 * such as a CNN's activations (bench/elementwise.ts measures it). Both passes are exact, so the
 * results are bit-identical to the TypeScript loops of ../relu.ts and ../pool.ts
 * (test/kernels/elementwise-wasm.test.ts), on either thread count.
 *
 * Like ./conv.ts, these return false, having written nothing, when the job does not fit in the
 * memory; the caller then runs the TypeScript loop.
 */
import { align, reserve } from './gemm.ts'
import { Op, runnersFor } from './parts.ts'

/** Bytes of the job block at address 0 (at most 9 i32 fields, on its own cache line). */
const JOB_BYTES = 64
/** Elements per part: about 0.25 MB of each operand, so a CNN's activations give both threads several parts. */
const CHUNK = 32768
/** Below this many elements the TypeScript loop is as fast as the copies (`wasmWorthIt`). */
export const MIN_ELEMENTS = 4096

/** Whether a pass over n elements is worth the copies into WebAssembly memory. */
export const wasmWorthIt = (n: number): boolean => n >= MIN_ELEMENTS

/**
 * Runs ReLU's forward pass (y = max(x, +0), d unused) or backward pass (y = d where x > 0,
 * else +0) over x.length elements on `threads` threads; false, having written nothing, if it
 * needs more than `maxBytes` of memory or the memory cannot grow that far.
 */
function reluPass(threads: 1 | 2, op: number, x: Float64Array, d: Float64Array | undefined, y: Float64Array, maxBytes: number): boolean {
  const n = x.length
  const X = JOB_BYTES
  const D = X + align(n) * 8
  const Y = d === undefined ? D : D + align(n) * 8
  const end = Y + align(n) * 8
  const parts = Math.max(1, Math.ceil(n / CHUNK))
  // The "flops" that decide whether two threads pay: about one per byte moved.
  const runner = runnersFor(threads, parts, 8 * n * (d === undefined ? 2 : 3)).find((r) =>
    reserve(r.memory, end, Math.min(maxBytes, r.maxBytes)),
  )
  if (runner === undefined) return false
  new Int32Array(runner.memory.buffer, 0, 5).set([n, CHUNK, X, d === undefined ? 0 : D, Y])
  const heap = new Float64Array(runner.memory.buffer)
  heap.set(x, X / 8)
  if (d !== undefined) heap.set(d, D / 8)
  runner.run(op, 0, parts, 0, 0, n)
  y.set(heap.subarray(Y / 8, Y / 8 + n))
  return true
}

/** y = relu(x) in WebAssembly; false (nothing written) if it needs more than `maxBytes` of memory (or than the memory can hold). */
export const reluForwardWasm = (threads: 1 | 2, x: Float64Array, y: Float64Array, maxBytes = Infinity): boolean =>
  reluPass(threads, Op.reluForward, x, undefined, y, maxBytes)

/** dx = dy where x > 0, +0 elsewhere, in WebAssembly; false (nothing written) if it needs more than `maxBytes`. */
export const reluBackwardWasm = (threads: 1 | 2, x: Float64Array, dy: Float64Array, dx: Float64Array, maxBytes = Infinity): boolean =>
  reluPass(threads, Op.reluBackward, x, dy, dx, maxBytes)

/** The pooling geometry the WebAssembly passes need: N·C planes of H × W in, OH × OW out. */
interface Planes {
  readonly N: number
  readonly C: number
  readonly H: number
  readonly W: number
  readonly OH: number
  readonly OW: number
}

/** Planes per part: about 64 KB of input per part. */
const planesPerPart = (g: Planes): number => Math.max(1, Math.floor(8192 / (g.H * g.W)))

/**
 * Places a pooling job: x (or dx) of N·C·H·W, y (or dy) of N·C·OH·OW, the argmax; writes the job
 * block; returns the runner, views and addresses, or null if no runner can hold it.
 */
function placePool(threads: 1 | 2, g: Planes, bytesMoved: number, maxBytes: number) {
  const planes = g.N * g.C
  const inN = planes * g.H * g.W
  const outN = planes * g.OH * g.OW
  const X = JOB_BYTES
  const Y = X + align(inN) * 8
  const A = Y + align(outN) * 8
  const end = A + align(outN) * 4
  const chunk = planesPerPart(g)
  const parts = Math.max(1, Math.ceil(planes / chunk))
  const runner = runnersFor(threads, parts, bytesMoved).find((r) => reserve(r.memory, end, Math.min(maxBytes, r.maxBytes)))
  if (runner === undefined) return null
  new Int32Array(runner.memory.buffer, 0, 9).set([planes, chunk, g.H, g.W, g.OH, g.OW, X, Y, A])
  const heap = new Float64Array(runner.memory.buffer)
  const ints = new Int32Array(runner.memory.buffer)
  return { runner, heap, ints, X: X / 8, Y: Y / 8, A: A / 4, inN, outN, parts }
}

/** 2x2, stride-2 max-pooling forward (maxPoolForward of ../pool.ts) in WebAssembly; false (nothing written) past `maxBytes`. */
export function maxPool2x2Wasm(
  threads: 1 | 2,
  g: Planes,
  x: Float64Array,
  y: Float64Array,
  argmax: Int32Array,
  maxBytes = Infinity,
): boolean {
  const p = placePool(threads, g, 8 * (x.length + 2 * y.length), maxBytes)
  if (p === null) return false
  p.heap.set(x, p.X)
  p.runner.run(Op.maxPool2x2Forward, 0, p.parts, 0, 0, p.inN)
  y.set(p.heap.subarray(p.Y, p.Y + p.outN))
  argmax.set(p.ints.subarray(p.A, p.A + p.outN))
  return true
}

/** Max-pooling backward, any window (maxPoolBackward of ../pool.ts), in WebAssembly; false (nothing written) past `maxBytes`. */
export function maxPoolBackwardWasm(
  threads: 1 | 2,
  g: Planes,
  dy: Float64Array,
  argmax: Int32Array,
  dx: Float64Array,
  maxBytes = Infinity,
): boolean {
  const p = placePool(threads, g, 8 * (dx.length + 2 * dy.length), maxBytes)
  if (p === null) return false
  p.heap.set(dy, p.Y)
  p.ints.set(argmax, p.A)
  p.runner.run(Op.maxPoolBackward, 0, p.parts, 0, 0, p.inN)
  dx.set(p.heap.subarray(p.X, p.X + p.inN))
  return true
}
