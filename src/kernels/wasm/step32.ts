/**
 * A float32 optimizer step in the arena of ./arena32.ts, for the steps whose job blocks share one layout (asm/sgd32.ts,
 * asm/adam32.ts and asm/rms32.ts; ./sgd32.ts, ./adam32.ts and ./rms32.ts build their jobs): the arrays it reads (g, p,
 * then the state's previous values) and those it writes (out, then the new state), each padded to a multiple of 4 in a
 * block of its own.
 *
 * Residency: an input an earlier step left there (its out or new state, which no one writes again) is read
 * in place and its block is free again once read; one a product keeps (p, or dW as g) is read in place and left to the
 * products; any other is copied in (its padding lanes zeroed) and its block given back after the step. Every output
 * stays in its block, for the next step and for the products that read the params. On two threads, a leaf of `split`
 * elements or more is cut in two parts, one per thread, while the worker is up and free, `float32SplitNow()` and the
 * products' back-off is not running (each element is computed alone, so the split never changes a bit).
 *
 * The part also sums g·0 and out·0 over the elements; when the sums are 0 both hold only finite values and are
 * recorded so (`markFinite`), so a training step's check for NaN and ±∞ need not scan them again.
 */
import { markFinite } from '../../tensor/tensor.ts'
import { roundUp } from './gemm.ts'
import { arenaFor, blockBytes, give, held, take, type Held } from './arena32.ts'
import { float32SplitNow, twoThreadParts } from './threads.ts'
import { backedOff } from './gemm32.ts'

/** Elements per part on one thread (a multiple of 4). */
const CHUNK = 65536
/** The job block's fields: n, chunk, flags, the finiteness sums, then the inputs' addresses, then the outputs'. */
const INPUTS_AT = 4
const MAX_INPUTS = 5
const OUTPUTS_AT = INPUTS_AT + MAX_INPUTS
const MAX_OUTPUTS = 4
/** The job block's float32 scalars start at this byte. */
const SCALARS_AT = 64
const MAX_SCALARS = 16

/** A step's job: its op, the arrays read and written (all of one length; g first and out first), its flags and scalars. */
export interface Step32Job {
  readonly op: number
  readonly inputs: readonly Float32Array[]
  readonly outputs: readonly Float32Array[]
  readonly flags: number
  readonly scalars: readonly number[]
  /** Flops per element (how long to wait for a worker that stopped answering). */
  readonly flops: number
  /** From this many elements the step is split between two threads. */
  readonly split: number
}

/** Runs the job in WebAssembly on `threads` threads; false (nothing written) where SIMD is missing or the memory cannot hold it. */
export function step32Wasm(job: Step32Job, threads: 1 | 2, maxBytes: number): boolean {
  const { inputs, outputs } = job
  const g = inputs[0]!
  const out = outputs[0]!
  const n = g.length
  // Before arenaFor: a worker that just came up moves the arena. A pass over memory: its size, not its flops, decides.
  const two = threads === 2 && n >= job.split && float32SplitNow() && !backedOff() ? twoThreadParts(Infinity, true) : null
  const arena = arenaFor(maxBytes)
  if (arena === null) return false
  const runner = two !== null && two.memory === arena.memory && two.free() ? two : null
  const n4 = Math.ceil(n / 4) * 4
  const slot = blockBytes(n)
  const chunk = runner === null ? CHUNK : roundUp(Math.ceil(n4 / 2), 16)
  const parts = Math.max(1, Math.ceil(n4 / chunk))
  const sums = blockBytes(4 * parts)
  // Each distinct input once: where it is held, or a block to copy it into.
  const distinct = [...new Set(inputs)]
  const holds = distinct.map((x): Held | undefined => held(arena, x, slot))
  const blocks = [...holds.map((h) => (h === undefined ? slot : 0)), ...outputs.map(() => slot), sums]
  const at = blocks.map((bytes) => (bytes === 0 ? 0 : take(arena, bytes, maxBytes)))
  if (at.some((x) => x < 0)) {
    at.forEach((x, i) => x > 0 && give(arena, x, blocks[i]!))
    return false
  }
  const inAt = distinct.map((_, i) => holds[i]?.at ?? at[i]!)
  const outAt = outputs.map((_, i) => at[distinct.length + i]!)
  const FINITE = at[at.length - 1]!
  const { heap, fields, scalars } = viewsOf(arena.memory)
  fields.fill(0)
  fields.set([n, chunk, job.flags, FINITE])
  inputs.forEach((x, i) => (fields[INPUTS_AT + i] = inAt[distinct.indexOf(x)]!))
  fields.set(outAt, OUTPUTS_AT)
  scalars.set(job.scalars) // rounded to float32 as they are stored
  // Copied in: the padding lanes past n zeroed, so they stay finite (their results are never copied out).
  distinct.forEach((x, i) => {
    if (holds[i] !== undefined) return
    heap.set(x, inAt[i]! / 4)
    heap.fill(0, inAt[i]! / 4 + n, inAt[i]! / 4 + n4)
  })
  if (runner !== null) runner.run(job.op, 0, parts, 0, 0, job.flops * n)
  else for (let i = 0; i < parts; i++) arena.part(job.op, 0, i, 0)
  outputs.forEach((x, i) => x.set(heap.subarray(outAt[i]! / 4, outAt[i]! / 4 + n)))
  let total = 0
  for (let i = FINITE / 4; i < FINITE / 4 + 4 * parts; i++) total += heap[i]!
  if (total === 0) {
    markFinite(g)
    markFinite(out)
  }
  // The inputs' blocks are free again (but those the products keep: they give them back); the outputs' stay, for the step that reads them.
  distinct.forEach((x, i) => {
    const h = holds[i]
    if (h?.recent === true) return
    give(arena, inAt[i]!, slot)
    if (h !== undefined) arena.kept.delete(x)
  })
  give(arena, FINITE, sums)
  outputs.forEach((x, i) => arena.kept.set(x, { at: outAt[i]!, bytes: slot, recent: false }))
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
  const fresh = {
    buffer,
    heap: new Float32Array(buffer),
    fields: new Int32Array(buffer, 0, OUTPUTS_AT + MAX_OUTPUTS),
    scalars: new Float32Array(buffer, SCALARS_AT, MAX_SCALARS),
  }
  views.set(memory, fresh)
  return fresh
}
