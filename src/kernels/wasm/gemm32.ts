/**
 * The float32 WebAssembly SIMD GEMM: the `Gemm32` contract of ../gemm32.ts, run by the f32x4
 * kernel of asm/gemm32.ts (5x8 register tile), on one thread or two.
 *
 * A product is a job of chunks (asm/index.ts's `part`, op `gemm32Chunk`), so it runs on the
 * runners of ./parts.ts like the convolutions: on one thread it is one chunk (the whole product);
 * on two, about four blocks of rows (m > 128) or of columns, each a multiple of the tile's 5 rows
 * or 8 columns, taken from a shared counter by this thread and the worker. Every C[i][j] is
 * computed by one thread, by the same kernel, in the same k order, so the result is the same bit
 * for bit on either thread count, and the same as gemm32Reference.
 *
 * Two threads only when they have been paying: a product runs on two threads when its size class
 * (⌊log₂ flops⌋) has a recent one-thread time to beat and no back-off is running. Two-thread runs
 * are averaged per size class in batches of `VERDICT_RUNS`, slow ones included (a worker
 * descheduled on a busy machine makes a run of a millisecond or more; the first after a pause
 * wakes a sleeping worker) but the slowest (one stall a batch, which could as well be this
 * thread's, says little); a batch slower on average than the one-thread time puts products on
 * one thread for the back-off of ./threads.ts (`cooldownMs`), which refreshes the one-thread
 * times. Measured from outside the job (the parts runner does not report which thread waited).
 *
 * Per call: the arguments are checked as gemm32Reference checks them; A and B (and C when
 * accumulating, beside the result: each chunk copies its block in first, so a chunk run again
 * gives the same bits) are copied into the runner's memory, the job block written at address 0, the
 * chunks run, and the m×n result copied back. Where WebAssembly SIMD is missing, or a product
 * does not fit in memory, gemm32Blocked runs instead (the same result). A worker that dies during
 * a product is given up and every chunk runs again on this thread (./threads.ts): the same bits,
 * because a chunk reads only the job's inputs.
 */
import { checkBlockSizes, type BlockSizes } from '../gemm.ts'
import { checkArgs32, gemm32Blocked, type Gemm32, type MatView32 } from '../gemm32.ts'
import { align, reserve, roundUp } from './gemm.ts'
import { Op, runnersFor } from './parts.ts'
import { configureThreads, float32SplitNow, twoThreadParts } from './threads.ts'
import { ARENA_MAX_BYTES, arenaFor, blockBytes, give, held, keepRecent, take } from './arena32.ts'

/** Rows and columns of asm/gemm32.ts's register tile. */
const MR = 5
const NR = 8
/** Bytes of the job block at address 0 (20 i32 fields), on its own cache lines. */
const JOB_BYTES = 128
/** Blocks a product is cut into on two threads (taken from a shared counter: a late thread takes fewer). */
const CHUNKS = 4
/** Bytes of the edge tile in each thread's scratch. */
const EDGE_BYTES = MR * NR * 4

/**
 * Cache blocks of the float32 kernel: a kc×8 panel of B (16 KB) in L1, an mc×kc block of A (320 KB) in L2. A kc of 512
 * (not 256) runs a product with k ≤ 512 in one pass over C, so C's tiles are written once and never read back.
 */
export const wasm32BlockSizes: BlockSizes = { mc: 160, kc: 512, nc: 2048 }

/** How an operand goes into wasm memory: its span copied whole (a dense view), or gathered row-major. */
interface Placement32 {
  readonly view: MatView32
  readonly rows: number
  readonly cols: number
  readonly span: boolean
  readonly lo: number
  readonly elements: number
}

function plan32(v: MatView32, rows: number, cols: number): Placement32 {
  const lastRow = (rows - 1) * v.rowStride
  const lastCol = (cols - 1) * v.colStride
  const lo = v.offset + Math.min(0, lastRow) + Math.min(0, lastCol)
  const hi = v.offset + Math.max(0, lastRow) + Math.max(0, lastCol)
  const spanLength = hi - lo + 1
  return spanLength <= 2 * rows * cols + 64
    ? { view: v, rows, cols, span: true, lo, elements: spanLength }
    : { view: v, rows, cols, span: false, lo, elements: rows * cols }
}

/** Writes the operand at heap[at…]; returns [element index of (0, 0), rowStride, colStride] there. */
function place32(p: Placement32, heap: Float32Array, at: number): [number, number, number] {
  const { view: v, rows, cols } = p
  const data = v.data
  if (p.span) {
    heap.set(data.subarray(p.lo, p.lo + p.elements), at)
    return [at + v.offset - p.lo, v.rowStride, v.colStride]
  }
  let dst = at
  for (let i = 0; i < rows; i++) {
    let src = v.offset + i * v.rowStride
    for (let j = 0; j < cols; j++) {
      heap[dst++] = data[src]!
      src += v.colStride
    }
  }
  return [at, cols, 1]
}

/** Views on a runner's memory, rebuilt after it grew (a grow leaves older views stale or detached). */
interface Views {
  readonly buffer: ArrayBufferLike
  readonly heap: Float32Array
  readonly fields: Int32Array
}

const views = new WeakMap<WebAssembly.Memory, Views>()

function viewsOf(memory: WebAssembly.Memory): Views {
  const known = views.get(memory)
  if (known !== undefined && known.buffer === memory.buffer) return known
  const buffer = memory.buffer
  const fresh = { buffer, heap: new Float32Array(buffer), fields: new Int32Array(buffer, 0, 20) }
  views.set(memory, fresh)
  return fresh
}

/** Recent one-thread time per flop (ms), by size class ⌊log₂ flops⌋: what a two-thread run must beat. */
const oneThreadMsPerFlop = new Map<number, number>()
/** Two-thread runs by size class since the last verdict: their summed time per flop (ms), the slowest, and their count. */
const twoThreadRuns = new Map<number, { sum: number; max: number; count: number }>()
/** Two-thread runs of a size class averaged for each verdict. */
export const VERDICT_RUNS = 16
/** performance.now() until which products run on one thread. */
let coolUntil = 0

/**
 * Records a run's time: one thread refreshes its class's time; two threads add to their batch, and
 * a full batch slower on average (its slowest run left out) than one thread starts the back-off.
 */
export function recordRun(threads: 1 | 2, sizeClass: number, msPerFlop: number): void {
  const one = oneThreadMsPerFlop.get(sizeClass)
  if (threads === 1) {
    oneThreadMsPerFlop.set(sizeClass, one === undefined ? msPerFlop : (one + msPerFlop) / 2)
    return
  }
  const runs = twoThreadRuns.get(sizeClass) ?? { sum: 0, max: 0, count: 0 }
  runs.sum += msPerFlop
  runs.max = Math.max(runs.max, msPerFlop)
  runs.count++
  twoThreadRuns.set(sizeClass, runs)
  if (runs.count < VERDICT_RUNS) return
  twoThreadRuns.delete(sizeClass)
  const cooldownMs = configureThreads().cooldownMs
  if (one !== undefined && (runs.sum - runs.max) / (runs.count - 1) > one && cooldownMs > 0) coolUntil = performance.now() + cooldownMs
}

/** Whether the products' back-off is running (two threads lately slower than one): then the float32 SGD step stays on one thread too. */
export const backedOff = (): boolean => coolUntil !== 0 && performance.now() < coolUntil

/** Whether products of a size class (⌊log₂ flops⌋) may try two threads: a one-thread time to beat is known and no back-off is running. */
export const twoThreadsPay = (sizeClass: number): boolean => oneThreadMsPerFlop.has(sizeClass) && !backedOff()

/** Forgets the one-thread times and any back-off (tests: a split test must not depend on what ran before it). */
export function forgetThreadTimes(): void {
  oneThreadMsPerFlop.clear()
  twoThreadRuns.clear()
  coolUntil = 0
}

/**
 * How two threads cut an m×n product: blocks of rows when m > 128 (or n is too narrow), else of
 * columns; about four blocks, each a whole number of tiles (columns: of two tiles, 16 float32s, a
 * cache line, so the threads' columns of a row never share one) and at least `minChunk` wide.
 */
function split(m: number, n: number): { readonly byRows: boolean; readonly chunk: number } {
  const minChunk = configureThreads().minChunk
  const byRows = m > 128 || (n < 2 * minChunk && m >= 2 * minChunk)
  const unit = byRows ? MR : 2 * NR
  const dim = byRows ? m : n
  return { byRows, chunk: Math.max(roundUp(Math.ceil(dim / CHUNKS), unit), roundUp(Math.max(minChunk, 1), unit)) }
}

/** Options of `makeGemm32Wasm`. */
export interface Wasm32Options {
  /** Cache blocks: mc a positive multiple of 5, nc of 8, kc ≥ 1. Default `wasm32BlockSizes`. */
  readonly blocks?: BlockSizes
  /** Largest memory, in bytes, a product may need (default 2 GiB); bigger ones run gemm32Blocked. */
  readonly maxBytes?: number
}

/**
 * Builds a float32 WebAssembly GEMM on `threads` threads (2: this thread and the worker of
 * ./threads.ts, when it is up and the product is big enough; else one).
 */
export function makeGemm32Wasm(threads: 1 | 2, options: Wasm32Options = {}): Gemm32 {
  const blocks = options.blocks ?? wasm32BlockSizes
  const maxBytes = options.maxBytes ?? 2 ** 31
  checkBlockSizes('makeGemm32Wasm', blocks, MR, NR)
  const { mc, kc: kcMax, nc } = blocks
  return (m, n, k, a, b, c, cOffset, accumulate) => {
    checkArgs32(m, n, k, a, b, c, cOffset)
    if (m === 0 || n === 0) return
    if (k === 0) {
      if (!accumulate) c.fill(0, cOffset, cOffset + m * n)
      return
    }
    const { byRows, chunk: chunk2 } = threads === 2 ? split(m, n) : { byRows: true, chunk: m }
    const dim = byRows ? m : n
    const chunks2 = Math.ceil(dim / chunk2)
    // Layout in bytes: the job block, A, B, C, then each thread's scratch (packing workspaces and edge tile).
    const pa = plan32(a, m, k)
    const pb = plan32(b, k, n)
    const kc = Math.min(kcMax, k)
    const A = JOB_BYTES
    const B = A + align(pa.elements) * 4
    const C = B + align(pb.elements) * 4
    const packB = align(Math.min(mc, roundUp(m, MR)) * kc) * 4
    const edge = packB + align(Math.min(nc, roundUp(n, NR)) * kc) * 4
    const scratch = edge + EDGE_BYTES + 64
    const C0 = C + align(m * n) * 4 // C's values before the product, when accumulating (each chunk copies its block into C)
    const S0 = C0 + (accumulate ? align(m * n) * 4 : 0)
    const S1 = S0 + scratch
    const end = S1 + scratch
    const flops = 2 * m * n * k
    const sizeClass = Math.floor(Math.log2(flops))
    const tryTwo = threads === 2 && twoThreadsPay(sizeClass)
    const runner = runnersFor(tryTwo ? 2 : 1, chunks2, flops).find((r) => reserve(r.memory, end, Math.min(maxBytes, r.maxBytes)))
    if (runner === undefined) return gemm32Blocked(m, n, k, a, b, c, cOffset, accumulate)
    const chunk = runner.threads === 2 ? chunk2 : dim
    const { heap, fields } = viewsOf(runner.memory)
    const [a0, aRs, aCs] = place32(pa, heap, A / 4)
    const [b0, bRs, bCs] = place32(pb, heap, B / 4)
    if (accumulate) heap.set(c.subarray(cOffset, cOffset + m * n), C0 / 4)
    fields.set([
      m,
      n,
      k,
      a0 * 4,
      aRs,
      aCs,
      b0 * 4,
      bRs,
      bCs,
      C,
      n,
      accumulate ? 1 : 0,
      mc,
      kcMax,
      nc,
      byRows ? 1 : 0,
      chunk,
      packB,
      edge,
      accumulate ? C0 : 0,
    ])
    const t0 = performance.now()
    const shared = runner.run(Op.gemm32Chunk, 0, Math.ceil(dim / chunk), S0, S1, flops)
    if (shared || runner.threads === 1) recordRun(shared ? 2 : 1, sizeClass, (performance.now() - t0) / flops)
    c.set(heap.subarray(C / 4, C / 4 + m * n), cOffset)
  }
}

/** The float32 WebAssembly SIMD GEMM on this thread: same contract and same bits as gemm32Reference. */
export const gemm32Wasm: Gemm32 = makeGemm32Wasm(1)

/** The float32 WebAssembly SIMD GEMM on two threads (once the worker is up; small products on one): the same bits. */
export const gemm32Wasm2: Gemm32 = makeGemm32Wasm(2)

/**
 * The product of two tensors' data in the arena of ./arena32.ts: gemm32Wasm's kernel and bits,
 * without copying an operand that is already there. An operand array the arena holds (the params
 * the SGD step left there, an input an earlier product copied in) is read in place; one it does
 * not hold is copied in whole and kept for the products after it (x read by x·W and again by
 * xᵀ·dy). With `keep`, C stays there too, keyed by `c` (dW, which the SGD step reads next). Valid
 * only because no one writes these arrays again: callers pass tensors' data, never a buffer they
 * will write (dense writes its fresh x·W: that product is not kept). False, having written
 * nothing, where WebAssembly SIMD is missing or the product does not fit; the caller then runs its
 * own kernel.
 *
 * On two threads (`threads` 2, the worker up, so the arena is in its shared memory, and
 * `float32SplitNow()`, ./threads.ts): a product of `wakeFlops` or more, under gemm32Wasm2's back-off, when the worker is free, is
 * cut as gemm32Wasm2 cuts it, each thread with its own scratch, both reading the resident operands in place.
 */
export function gemm32Resident(
  m: number,
  n: number,
  k: number,
  a: MatView32,
  b: MatView32,
  c: Float32Array,
  keep: boolean,
  threads: 1 | 2 = 1,
  maxBytes = ARENA_MAX_BYTES,
): boolean {
  checkArgs32(m, n, k, a, b, c, 0)
  if (m === 0 || n === 0 || k === 0) return false
  const flops = 2 * m * n * k
  const sizeClass = Math.floor(Math.log2(flops))
  // Before arenaFor: a worker that just came up moves the arena. Below wakeFlops (x·W's 12.8 MFLOP are above, a 64×128·128×64
  // product's 1 MFLOP below) a split saves a few µs and risks a stall on a busy machine: one thread.
  const two = threads === 2 && flops >= configureThreads().wakeFlops && float32SplitNow() ? twoThreadParts(flops, true) : null
  const arena = arenaFor(maxBytes)
  if (arena === null) return false
  // Split only when the worker is free to take a chunk now: else one chunk (the whole product, A packed once) on this thread.
  const runner = two !== null && two.memory === arena.memory && twoThreadsPay(sizeClass) && two.free() ? two : null
  const { mc, kc: kcMax, nc } = wasm32BlockSizes
  const kc = Math.min(kcMax, k)
  const packB = align(Math.min(mc, roundUp(m, MR)) * kc) * 4
  const edge = packB + align(Math.min(nc, roundUp(n, NR)) * kc) * 4
  const scratchBytes = roundUp(edge + EDGE_BYTES + 64, 64)
  const aBytes = blockBytes(a.data.length)
  const bBytes = blockBytes(b.data.length)
  const cBytes = blockBytes(m * n)
  const heldA = held(arena, a.data, aBytes)
  const heldB = a.data === b.data ? heldA : held(arena, b.data, bBytes)
  const sizes = [
    heldA === undefined ? aBytes : 0,
    heldB === undefined && a.data !== b.data ? bBytes : 0,
    cBytes,
    scratchBytes,
    runner === null ? 0 : scratchBytes,
  ]
  const at = sizes.map((bytes) => (bytes === 0 ? 0 : take(arena, bytes, maxBytes)))
  if (at.some((x) => x < 0)) {
    at.forEach((x, i) => x > 0 && give(arena, x, sizes[i]!))
    return false
  }
  const [aCopy, bCopy, C, S0, S1] = at as [number, number, number, number, number]
  const { heap, fields } = viewsOf(arena.memory)
  const A = heldA?.at ?? aCopy
  const B = heldB?.at ?? (a.data === b.data ? A : bCopy)
  if (heldA === undefined) heap.set(a.data, A / 4)
  if (heldB === undefined && a.data !== b.data) heap.set(b.data, B / 4)
  const { byRows, chunk } = runner === null ? { byRows: true, chunk: m } : split(m, n)
  // prettier-ignore
  fields.set([m, n, k, A + a.offset * 4, a.rowStride, a.colStride, B + b.offset * 4, b.rowStride, b.colStride, C, n, 0,
    mc, kcMax, nc, byRows ? 1 : 0, chunk, packB, edge, 0])
  const t0 = performance.now()
  if (runner === null) arena.part(Op.gemm32Chunk, 0, 0, S0)
  const shared = runner !== null && runner.run(Op.gemm32Chunk, 0, Math.ceil((byRows ? m : n) / chunk), S0, S1, flops)
  if (shared || runner === null) recordRun(shared ? 2 : 1, sizeClass, (performance.now() - t0) / flops) // a job the worker never took: no time
  c.set(heap.subarray(C / 4, C / 4 + m * n))
  give(arena, S0, scratchBytes)
  if (runner !== null) give(arena, S1, scratchBytes)
  if (heldA === undefined) keepRecent(arena, a.data, A, aBytes)
  if (heldB === undefined && a.data !== b.data) keepRecent(arena, b.data, B, bBytes)
  if (keep && c.length === m * n) {
    heap.fill(0, C / 4 + m * n, (C + cBytes) / 4) // the block's padding lanes zero (the SGD step reads them as finite)
    keepRecent(arena, c, C, cBytes)
  } else give(arena, C, cBytes)
  return true
}
