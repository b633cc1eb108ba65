/**
 * float32 max-pooling's passes in WebAssembly (asm/pool32.ts), on one thread or two: the float32
 * twin of ./elementwise.ts's max-pooling. f32x4 compares four windows at once, faster than the
 * TypeScript loop over a Float32Array by more than copying the operands in and out costs, for a
 * CNN's activations. Both passes are exact, so the results are bit-identical to ../pool32.ts's
 * loops (test/kernels/pool32.test.ts), on either thread count.
 *
 * These return false, having written nothing, when the job does not fit in the memory; the
 * caller then runs the TypeScript loop.
 */
import { align, reserve } from './gemm.ts'
import { Op, runnersFor } from './parts.ts'

/** Bytes of the job block at address 0 (9 i32 fields, on its own cache line). */
const JOB_BYTES = 64

/** The pooling geometry the passes need: N·C planes of H × W in, OH × OW out. */
interface Planes {
  readonly N: number
  readonly C: number
  readonly H: number
  readonly W: number
  readonly OH: number
  readonly OW: number
}

/** Places a job: x (or dx) of N·C·H·W f32, y (or dy) of N·C·OH·OW f32, the argmax; null if no runner can hold it. */
function place(threads: 1 | 2, g: Planes, maxBytes: number) {
  const planes = g.N * g.C
  const inN = planes * g.H * g.W
  const outN = planes * g.OH * g.OW
  const X = JOB_BYTES
  const Y = X + align(inN) * 4
  const A = Y + align(outN) * 4
  const end = A + align(outN) * 4
  const chunk = Math.max(1, Math.floor(16384 / (g.H * g.W))) // about 64 KB of input per part
  const parts = Math.max(1, Math.ceil(planes / chunk))
  // The "flops" that decide whether two threads pay: about one per byte moved.
  const runner = runnersFor(threads, parts, 4 * (inN + 2 * outN)).find((r) => reserve(r.memory, end, Math.min(maxBytes, r.maxBytes)))
  if (runner === undefined) return null
  new Int32Array(runner.memory.buffer, 0, 9).set([planes, chunk, g.H, g.W, g.OH, g.OW, X, Y, A])
  const heap = new Float32Array(runner.memory.buffer)
  const ints = new Int32Array(runner.memory.buffer)
  return { runner, heap, ints, X: X / 4, Y: Y / 4, A: A / 4, inN, outN, parts }
}

/** 2x2, stride-2 float32 max-pooling forward (maxPool32 of ../pool32.ts) in WebAssembly; false (nothing written) past `maxBytes`. */
export function maxPool2x2Wasm32(
  threads: 1 | 2,
  g: Planes,
  x: Float32Array,
  y: Float32Array,
  argmax: Int32Array,
  maxBytes = Infinity,
): boolean {
  const p = place(threads, g, maxBytes)
  if (p === null) return false
  p.heap.set(x, p.X)
  p.runner.run(Op.maxPool2x2Forward32, 0, p.parts, 0, 0, p.inN)
  y.set(p.heap.subarray(p.Y, p.Y + p.outN))
  argmax.set(p.ints.subarray(p.A, p.A + p.outN))
  return true
}

/** float32 max-pooling backward, any window (maxPoolBackward32 of ../pool32.ts), in WebAssembly; false (nothing written) past maxBytes. */
export function maxPoolBackwardWasm32(
  threads: 1 | 2,
  g: Planes,
  dy: Float32Array,
  argmax: Int32Array,
  dx: Float32Array,
  maxBytes = Infinity,
): boolean {
  const p = place(threads, g, maxBytes)
  if (p === null) return false
  p.heap.set(dy, p.Y)
  p.ints.set(argmax, p.A)
  p.runner.run(Op.maxPoolBackward32, 0, p.parts, 0, 0, p.inN)
  dx.set(p.heap.subarray(p.X, p.X + p.inN))
  return true
}
