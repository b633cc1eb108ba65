/**
 * The WebAssembly SIMD GEMM: the `Gemm` contract of ../gemm.ts, run by the f64x2 kernel in
 * asm/gemm.ts (compiled into ./gemm-module.ts as base64, so nothing is fetched at run time).
 *
 * Per call, this wrapper
 * 1. checks the arguments exactly as gemmReference and gemmBlocked do;
 * 2. copies the elements of A and B the views address into the module's memory (one
 *    `Float64Array.set` per operand when the view is dense, as every view from `view()` is; a
 *    sparse view, such as one column of a wide matrix, is gathered element by element);
 * 3. lays C out with rows n long (no kernel writes past column n) and its row count padded to
 *    a multiple of 4 (scratch rows, which a last tile of fewer than 4 rows writes whole), and
 *    copies C in only when accumulating;
 * 4. runs the kernel, which packs B, and A unless the product is small enough to read A in
 *    place, into panels through the strides (transposes are free);
 * 5. copies the m×n result back into `c`.
 *
 * Results are bit-identical to gemmReference (the kernel adds the products of each C[i][j] in
 * the same k order, one rounding per multiply and per add; test/kernels/gemm-wasm.test.ts checks it),
 * so falling back to gemmBlocked never changes a result. It falls back, with no error, when
 * the engine lacks WebAssembly SIMD, and for products too large for the memory cap below.
 *
 * Memory: each `makeGemmWasm` function owns one WebAssembly.Memory (created at its first call)
 * that grows to the largest product seen and is never shrunk; ~3·8·n² bytes after an n×n
 * product. Every element the kernel reads in a call was written earlier in that call, so
 * results never depend on earlier calls. The view on the memory is rebuilt after every grow.
 */
import { checkArgs, checkBlockSizes, gemmBlocked, type BlockSizes, type Gemm, type MatView } from '../gemm.ts'
import { gemmWasmBase64 } from './gemm-module.ts'

/** Rows per register tile in asm/gemm.ts. */
const MR = 4
/** Columns per register tile in asm/gemm.ts. */
const NR = 4
/** Default memory cap: a product needing more (operands, result and workspace) runs in gemmBlocked. */
const MAX_BYTES = 2 ** 31
const PAGE = 65536

/**
 * Block sizes of the wasm kernel: a kc×4 panel of B (8 KB) stays in L1 while the micro-kernel
 * sweeps an mc×kc block of A (256 KB, in L2); a kc×nc block of B (4 MB) lives in L3. The
 * register tile, not the caches, is the limit, so other sizes change little
 * (`npx tsx bench/gemm.ts --tune` compares them).
 */
export const wasmBlockSizes: BlockSizes = { mc: 128, kc: 256, nc: 2048 }

/** The exported kernel: byte addresses for a, b, c and the workspaces; strides and ldc in elements. */
export type KernelExport = (
  m: number,
  n: number,
  k: number,
  a: number,
  aRs: number,
  aCs: number,
  b: number,
  bRs: number,
  bCs: number,
  c: number,
  ldc: number,
  accumulate: number,
  mc: number,
  kc: number,
  nc: number,
  packA: number,
  packB: number,
) => void

/** asm/index.ts's `part`: part `index` of the job at byte `job` for op `op` (the ops are named in ./parts.ts), with workspace at byte `scratch`. */
export type PartExport = (op: number, job: number, index: number, scratch: number) => void

interface Engine {
  readonly memory: WebAssembly.Memory
  readonly kernel: KernelExport
  /** A view on memory.buffer; see heapOf. */
  heap: Float64Array
}

/** Options for `makeGemmWasm`. */
export interface WasmGemmOptions {
  /** Cache blocks: mc and nc positive multiples of 4, kc ≥ 1. Default `wasmBlockSizes`. */
  readonly blocks?: BlockSizes
  /**
   * Whether this engine can run the module; default `WebAssembly.validate` (false where
   * WebAssembly SIMD is missing). Tests pass `() => false` to run the fallback path.
   */
  readonly supported?: (bytes: Uint8Array<ArrayBuffer>) => boolean
  /** Largest memory, in bytes, this GEMM may grow to (default 2 GiB); bigger products run gemmBlocked. */
  readonly maxBytes?: number
}

// ---------------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------------

/** Decodes base64 with `atob` (Node ≥ 16 and every browser), so the core needs no Buffer. */
export function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text)
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return bytes
}

const defaultSupported = (bytes: Uint8Array<ArrayBuffer>): boolean => WebAssembly.validate(bytes)

/** Compiles the module synchronously, or returns null where it cannot run. */
function compile(supported: (bytes: Uint8Array<ArrayBuffer>) => boolean): WebAssembly.Module | null {
  if (typeof WebAssembly !== 'object') return null
  const bytes = decodeBase64(gemmWasmBase64)
  try {
    return supported(bytes) ? new WebAssembly.Module(bytes) : null
  } catch {
    return null
  }
}

/** The compiled module for the default support check: compiled at first use, null if unsupported. */
let sharedModule: WebAssembly.Module | null | undefined

function moduleFor(supported: WasmGemmOptions['supported']): WebAssembly.Module | null {
  if (supported !== undefined) return compile(supported)
  if (sharedModule === undefined) sharedModule = compile(defaultSupported)
  return sharedModule
}

/** The compiled module (gemm and part), or null where this engine cannot run it (no WebAssembly SIMD). */
export const wasmModule = (): WebAssembly.Module | null => moduleFor(undefined)

/** True when this engine runs the WebAssembly SIMD kernel (false means `gemmWasm` runs gemmBlocked). */
export const wasmSimdAvailable = (): boolean => moduleFor(undefined) !== null

function instantiate(module: WebAssembly.Module): Engine {
  const memory = new WebAssembly.Memory({ initial: 1 })
  const instance = new WebAssembly.Instance(module, { env: { memory } })
  return { memory, kernel: instance.exports['gemm'] as KernelExport, heap: new Float64Array(memory.buffer) }
}

// ---------------------------------------------------------------------------------------------
// Placing operands in the module's memory
// ---------------------------------------------------------------------------------------------

/** How an operand goes into wasm memory: its span copied whole (dense views), or gathered row-major. */
export interface Placement {
  readonly view: MatView
  readonly rows: number
  readonly cols: number
  /** Copy data[lo, lo + elements) as is, keeping the strides; else gather rows×cols row-major. */
  readonly span: boolean
  readonly lo: number
  /** f64 elements it takes in wasm memory. */
  readonly elements: number
}

export function plan(view: MatView, rows: number, cols: number): Placement {
  const lastRow = (rows - 1) * view.rowStride
  const lastCol = (cols - 1) * view.colStride
  const lo = view.offset + Math.min(0, lastRow) + Math.min(0, lastCol)
  const hi = view.offset + Math.max(0, lastRow) + Math.max(0, lastCol)
  const spanLength = hi - lo + 1
  // A view from view() spans exactly rows·cols; padded rows a little more. Copy those whole.
  return spanLength <= 2 * rows * cols + 64
    ? { view, rows, cols, span: true, lo, elements: spanLength }
    : { view, rows, cols, span: false, lo, elements: rows * cols }
}

/** Writes the operand at heap[at…] and returns [element index of (0, 0), rowStride, colStride] there. */
export function place(p: Placement, heap: Float64Array, at: number): [number, number, number] {
  const { view, rows, cols } = p
  const data = view.data
  if (p.span) {
    heap.set(p.lo === 0 && p.elements === data.length ? data : data.subarray(p.lo, p.lo + p.elements), at)
    return [at + view.offset - p.lo, view.rowStride, view.colStride]
  }
  const rs = view.rowStride
  const cs = view.colStride
  let dst = at
  for (let i = 0; i < rows; i++) {
    let src = view.offset + i * rs
    for (let j = 0; j < cols; j++) {
      heap[dst++] = data[src]!
      src += cs
    }
  }
  return [at, cols, 1]
}

/** Rounds an element count up to a multiple of 8 (64 bytes, a cache line). */
export const align = (elements: number): number => Math.ceil(elements / 8) * 8
export const roundUp = (x: number, multiple: number): number => Math.ceil(x / multiple) * multiple

/** Grows memory to at least `bytes`; false if that is over the cap or the engine refuses. */
export function reserve(memory: WebAssembly.Memory, bytes: number, maxBytes: number): boolean {
  if (bytes > maxBytes) return false
  const have = memory.buffer.byteLength
  if (bytes <= have) return true
  try {
    memory.grow(Math.ceil((bytes - have) / PAGE))
    return true
  } catch {
    return false
  }
}

/** Runs one product in wasm; false (having written nothing) if it does not fit in memory. */
function run(
  engine: Engine,
  blocks: BlockSizes,
  maxBytes: number,
  m: number,
  n: number,
  k: number,
  a: MatView,
  b: MatView,
  c: Float64Array,
  cOffset: number,
  accumulate: boolean,
): boolean {
  const pa = plan(a, m, k)
  const pb = plan(b, k, n)
  const mPad = roundUp(m, MR)
  const kc = Math.min(blocks.kc, k)
  // Layout in f64 elements, each region starting on a cache line.
  const aAt = 0
  const bAt = aAt + align(pa.elements)
  const cAt = bAt + align(pb.elements)
  const packAAt = cAt + align(mPad * n)
  const packBAt = packAAt + align(Math.min(blocks.mc, mPad) * kc)
  const end = packBAt + align(Math.min(blocks.nc, roundUp(n, NR)) * kc)
  if (!reserve(engine.memory, end * 8, maxBytes)) return false
  const heap = heapOf(engine)
  const [a0, aRs, aCs] = place(pa, heap, aAt)
  const [b0, bRs, bCs] = place(pb, heap, bAt)
  if (accumulate) copyIn(c, cOffset, m, n, heap, cAt, mPad)
  engine.kernel(
    m,
    n,
    k,
    a0 * 8,
    aRs,
    aCs,
    b0 * 8,
    bRs,
    bCs,
    cAt * 8,
    n,
    accumulate ? 1 : 0,
    blocks.mc,
    blocks.kc,
    blocks.nc,
    packAAt * 8,
    packBAt * 8,
  )
  copyOut(heap, cAt, m, n, c, cOffset)
  return true
}

/** A Float64Array on the engine's memory, rebuilt only after the memory grew (a grow detaches the old buffer). */
function heapOf(engine: Engine): Float64Array {
  if (engine.heap.buffer !== engine.memory.buffer) engine.heap = new Float64Array(engine.memory.buffer)
  return engine.heap
}

/**
 * C (m×n at c[cOffset…]) into rows n long at heap[at…], then zeros in the scratch rows up to
 * mPad (the kernel's last tile of a column writes whole 4-row tiles).
 */
export function copyIn(c: Float64Array, cOffset: number, m: number, n: number, heap: Float64Array, at: number, mPad: number): void {
  heap.set(cOffset === 0 && c.length === m * n ? c : c.subarray(cOffset, cOffset + m * n), at)
  heap.fill(0, at + m * n, at + mPad * n)
}

/** The m×n result at heap[at…] (rows n long) into c[cOffset…]. */
export function copyOut(heap: Float64Array, at: number, m: number, n: number, c: Float64Array, cOffset: number): void {
  c.set(heap.subarray(at, at + m * n), cOffset)
}

// ---------------------------------------------------------------------------------------------
// The kernel
// ---------------------------------------------------------------------------------------------

/**
 * Builds a WebAssembly GEMM with its own memory (created at the first call) for the given
 * options. `gemmWasm` is `makeGemmWasm()`; other block sizes are for tuning and for tests
 * that cross block edges with small matrices.
 */
export function makeGemmWasm(options: WasmGemmOptions = {}): Gemm {
  const blocks = options.blocks ?? wasmBlockSizes
  const maxBytes = options.maxBytes ?? MAX_BYTES
  checkBlockSizes('makeGemmWasm', blocks, MR, NR)
  /** undefined until the first call; null where the module cannot run (then gemmBlocked runs). */
  let engine: Engine | null | undefined
  return (m, n, k, a, b, c, cOffset, accumulate) => {
    checkArgs(m, n, k, a, b, c, cOffset)
    if (m === 0 || n === 0) return
    if (k === 0) {
      if (!accumulate) c.fill(0, cOffset, cOffset + m * n)
      return
    }
    if (engine === undefined) {
      const module = moduleFor(options.supported)
      engine = module === null ? null : instantiate(module)
    }
    if (engine === null || !run(engine, blocks, maxBytes, m, n, k, a, b, c, cOffset, accumulate)) {
      gemmBlocked(m, n, k, a, b, c, cOffset, accumulate)
    }
  }
}

/**
 * The WebAssembly SIMD GEMM: same contract and same result as gemmReference, several times
 * faster than gemmBlocked. Where WebAssembly SIMD is missing it runs gemmBlocked, with no error.
 */
export const gemmWasm: Gemm = makeGemmWasm()
