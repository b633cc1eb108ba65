/**
 * The float32 WebAssembly convolution: im2col, f32x4 products that read their operands in place,
 * and col2im, all inside WebAssembly (asm/conv32.ts), on one thread or two; the float32 twin of
 * ./conv.ts. This module places the operands in the module's memory, writes the job block, runs
 * its parts and copies the results out (dW from the dWᵀ the parts compute).
 *
 * Parts: the forward pass and dx run one part per sample; dWᵀ one part per block of its rows
 * (one block on one thread, two on two), each summing every sample in order, the last also db.
 * Every output element is computed by one part in the order of src/kernels/conv32.ts's readable
 * loops, so one and two threads give naiveConv32's bits.
 *
 * The functions assume checked arguments (../conv32.ts checks them) and return false, having
 * written nothing, when a product does not fit in memory or has an empty dimension; the caller
 * then runs im2col in TypeScript on the WebAssembly GEMM (the same bits).
 */
import type { ConvWindow } from '../conv.ts'
import { windowFields } from './conv.ts'
import { wasm32BlockSizes } from './gemm32.ts'
import { align, reserve, roundUp } from './gemm.ts'
import { Op, runnersFor } from './parts.ts'

/** Bytes of the job block at address 0 (41 i32 fields, rounded up to cache lines). */
const JOB_BYTES = 192
/** Bytes of the GEMM's edge tile (5 × 8 f32). */
const EDGE_BYTES = 5 * 8 * 4

/** f32 elements to bytes, on a 32-byte boundary. */
const bytes = (elements: number): number => align(elements) * 4

/** Bytes of the packing workspaces of dx's product, an m × n × k float32 GEMM (as asm/gemm32.ts needs them). */
const packBytes = (m: number, n: number, k: number): { a: number; b: number } => {
  const { mc, kc, nc } = wasm32BlockSizes
  const depth = Math.min(kc, k)
  return { a: bytes(Math.min(mc, roundUp(m, 5)) * depth), b: bytes(Math.min(nc, roundUp(n, 8)) * depth) }
}

interface Fields {
  readonly x: number
  readonly w: number
  readonly bias: number
  readonly y: number
  readonly dx: number
  readonly dw: number
  readonly db: number
  readonly relu: boolean
  readonly acty: number
  /** Relu then 2x2 max-pooling fused in: the pooled values (forward) or their gradient (backward), and the argmax. */
  readonly pool?: { readonly py: number; readonly argmax: number }
}

/** The tap table of ./conv.ts: per im2col row, 5 i32 (base, ohLo, ohHi, owLo, owHi). */
function writeTaps(g: ConvWindow, ints: Int32Array, at: number): void {
  const { C, H, W, KH, KW, SH, SW, DH, DW, PT, PL, OH, OW } = g
  for (let c = 0; c < C; c++) {
    for (let i = 0; i < KH; i++) {
      const ti = PT - i * DH
      const ohLo = Math.min(OH, Math.max(0, Math.ceil(ti / SH)))
      const ohHi = Math.max(ohLo, Math.min(OH, Math.floor((H - 1 + ti) / SH) + 1))
      for (let j = 0; j < KW; j++, at += 5) {
        const tj = PL - j * DW
        const owLo = Math.min(OW, Math.max(0, Math.ceil(tj / SW)))
        const owHi = Math.max(owLo, Math.min(OW, Math.floor((W - 1 + tj) / SW) + 1))
        ints[at] = c * H * W - ti * W - tj
        ints[at + 1] = ohLo
        ints[at + 2] = ohHi
        ints[at + 3] = owLo
        ints[at + 4] = owHi
      }
    }
  }
}

/**
 * Lays out the operands (the tap table, then `sizes` in order) and a scratch area per thread,
 * picks a runner that can hold them, copies `inputs` in, writes the job block and runs `op`'s
 * parts (with `dwParts(threads)` blocks of dW's columns). Returns the heap and the operands'
 * byte addresses, or null when nothing fits.
 */
function run(
  threads: 1 | 2,
  g: ConvWindow,
  op: number,
  operands: readonly (Float32Array | Int32Array | number | undefined)[],
  fields: (at: readonly number[]) => Fields,
  scratch: { readonly dz: boolean; readonly dzT: boolean; readonly dx: boolean; readonly y?: boolean },
  parts: (threads: 1 | 2) => { readonly parts: number; readonly dwParts: number; readonly kChunk: number },
  flops: number,
): { heap: Float32Array; ints: Int32Array; at: readonly number[] } | null {
  const K = g.C * g.KH * g.KW
  const OHW = g.OH * g.OW
  let end = JOB_BYTES
  const taps = end
  end += roundUp(K * 20, 64)
  const at = operands.map((o) => {
    const here = end
    end += o === undefined ? 0 : bytes(typeof o === 'number' ? o : o.length)
    return o === undefined ? 0 : here
  })
  const cols = 0
  const dz = bytes(K * OHW)
  const dzT = dz + (scratch.dz ? bytes(g.F * OHW) : 0)
  const one = dzT + (scratch.dzT ? bytes(OHW * g.F) : 0)
  const packA = one + 64
  const pack = scratch.dx ? packBytes(K, OHW, g.F) : { a: 0, b: 0 }
  const packB = packA + pack.a
  const edge = packB + pack.b
  const ys = edge + EDGE_BYTES + 64
  const scratchBytes = ys + (scratch.y === true ? bytes(g.F * OHW) : 0)
  const S0 = end
  const S1 = S0 + scratchBytes
  const runner = runnersFor(threads, parts(2).parts, flops).find((r) =>
    reserve(r.memory, r.threads === 2 ? S1 + scratchBytes : S1, r.maxBytes),
  )
  if (runner === undefined) return null
  const heap = new Float32Array(runner.memory.buffer) // views after any grow
  const ints = new Int32Array(runner.memory.buffer)
  operands.forEach((o, i) => {
    if (o instanceof Float32Array) heap.set(o, at[i]! / 4)
    else if (o instanceof Int32Array) ints.set(o, at[i]! / 4)
  })
  const f = fields(at)
  const p = parts(runner.threads)
  const { mc, kc, nc } = wasm32BlockSizes
  ints.set([
    ...windowFields(g),
    f.x,
    f.w,
    f.bias,
    f.y,
    f.dx,
    f.dw,
    p.dwParts,
    cols,
    f.db,
    dzT,
    one,
    mc,
    kc,
    nc,
    taps,
    edge,
    f.relu ? 1 : 0,
    f.acty,
    dz,
    p.kChunk,
    packA,
    packB,
    f.pool === undefined ? 0 : 1,
    f.pool?.py ?? 0,
    f.pool?.argmax ?? 0,
    ys,
  ])
  writeTaps(g, ints, taps / 4)
  runner.run(op, 0, p.parts, S0, S1, flops)
  return { heap, ints, at }
}

/** A backward job's parts: dWᵀ's row blocks (`dwParts` of `kChunk` rows), then dx's. */
interface Blocks {
  readonly parts: number
  readonly dwParts: number
  readonly kChunk: number
}

/**
 * dWᵀ's K rows in one block on one thread; on two, in two blocks of ⌈K/2⌉ and ⌊K/2⌋ rows, the
 * smaller one with db (the MNIST CNN's first layer, K = 25: 13 rows, and 12 with db's row).
 * Each block transposes every dz_n, so more blocks cost more; which rows a block holds never
 * changes the bits (each element is one block's sum over the samples in order).
 */
const dwBlocks = (K: number, threads: 1 | 2, dxParts: number): Blocks => {
  const kChunk = threads === 2 ? Math.ceil(K / 2) : K
  const dwParts = Math.ceil(K / kChunk)
  return { parts: dwParts + dxParts, dwParts, kChunk }
}

const empty = (g: ConvWindow): boolean => g.N * g.C * g.KH * g.KW * g.F * g.OH * g.OW === 0

/** y = conv(x, w) + b in WebAssembly, then relu when `relu`; false if it does not fit (or a dimension is 0). */
export function conv32ForwardWasm(
  threads: 1 | 2,
  g: ConvWindow,
  x: Float32Array,
  w: Float32Array,
  b: Float32Array | undefined,
  y: Float32Array,
  relu = false,
): boolean {
  if (empty(g)) return false
  const K = g.C * g.KH * g.KW
  const OHW = g.OH * g.OW
  const done = run(
    threads,
    g,
    Op.conv32Forward,
    [x, transposed(w, g.F, K), b, y.length],
    ([X, Wt, B, Y]) => ({ x: X!, w: Wt!, bias: B!, y: Y!, dx: 0, dw: 0, db: 0, relu, acty: 0 }),
    { dz: false, dzT: false, dx: false },
    () => ({ parts: g.N, dwParts: 0, kChunk: 0 }),
    2 * g.N * g.F * K * OHW,
  )
  if (done === null) return false
  const Y = done.at[3]! / 4
  y.set(done.heap.subarray(Y, Y + y.length))
  return true
}

/**
 * The gradients of Σ dy·conv(x, w) + b in WebAssembly, as Conv32Kernels' backward: dw, dx unless
 * undefined, db unless undefined; with `yRelu` (the forward pass's relu output) the gradient at
 * the conv's output is dy where y > 0, else +0. False if it does not fit (or a dimension is 0).
 */
export function conv32BackwardWasm(
  threads: 1 | 2,
  g: ConvWindow,
  x: Float32Array,
  dy: Float32Array,
  w: Float32Array,
  dx: Float32Array | undefined,
  dw: Float32Array | undefined,
  db?: Float32Array,
  yRelu?: Float32Array,
): boolean {
  if (empty(g)) return false
  const K = g.C * g.KH * g.KW
  const OHW = g.OH * g.OW
  const dxParts = dx === undefined ? 0 : g.N
  if (db !== undefined && dw === undefined) return false // db is summed by dWᵀ's last part
  const blocks = (t: 1 | 2): Blocks => (dw === undefined ? { parts: dxParts, dwParts: 0, kChunk: 0 } : dwBlocks(K, t, dxParts))
  const flops = 2 * g.N * g.F * K * OHW * ((dx === undefined ? 0 : 1) + (dw === undefined ? 0 : 1))
  const done = run(
    threads,
    g,
    Op.conv32Backward,
    [dw === undefined ? undefined : x, dx === undefined ? undefined : w, dy, dx?.length, dw?.length, db?.length, yRelu],
    ([X, Wt, DY, DX, DW, DB, ACTY]) => ({
      x: X!,
      w: Wt!,
      bias: 0,
      y: DY!,
      dx: DX!,
      dw: DW!,
      db: DB!,
      relu: yRelu !== undefined,
      acty: ACTY!,
    }),
    { dz: yRelu !== undefined && dx !== undefined, dzT: dw !== undefined, dx: dx !== undefined },
    blocks,
    flops,
  )
  if (done === null) return false
  const out = (a: Float32Array | undefined, i: number): void => {
    if (a !== undefined) a.set(done.heap.subarray(done.at[i]! / 4, done.at[i]! / 4 + a.length))
  }
  out(dx, 3)
  out(db, 5)
  if (dw !== undefined) transposeOut(done.heap, done.at[4]! / 4, g.F, K, dw)
  return true
}

/**
 * The 2x2, stride-2 max-pooling of relu(conv): per pooled output its value and the flat index of
 * its max in the conv's output where the value is > 0, else −1 (no gradient flows back there).
 */
export interface Pooled32 {
  readonly y: Float32Array
  readonly argmax: Int32Array
}

/** The pooled outputs of a geometry: N × F × ⌊OH/2⌋ × ⌊OW/2⌋. */
export const pooledSize = (g: ConvWindow): number => g.N * g.F * (g.OH >> 1) * (g.OW >> 1)

/**
 * maxPool2x2(relu(conv(x, w) + b)) in WebAssembly, each sample's conv output pooled while in cache
 * (never copied out): pooled.y as maxPool32 gives it on the relu output, pooled.argmax as it gives
 * its argmax where pooled.y > 0 (else −1); false if it does not fit (or a dimension is 0).
 */
export function conv32ReluPoolForwardWasm(
  threads: 1 | 2,
  g: ConvWindow,
  x: Float32Array,
  w: Float32Array,
  b: Float32Array | undefined,
  pooled: Pooled32,
): boolean {
  if (empty(g) || pooledSize(g) === 0) return false
  const K = g.C * g.KH * g.KW
  const OHW = g.OH * g.OW
  const n = pooledSize(g)
  const done = run(
    threads,
    g,
    Op.conv32Forward,
    [x, transposed(w, g.F, K), b, n, n],
    ([X, Wt, B, PY, A]) => ({ x: X!, w: Wt!, bias: B!, y: 0, dx: 0, dw: 0, db: 0, relu: true, acty: 0, pool: { py: PY!, argmax: A! } }),
    { dz: false, dzT: false, dx: false, y: true },
    () => ({ parts: g.N, dwParts: 0, kChunk: 0 }),
    2 * g.N * g.F * K * OHW,
  )
  if (done === null) return false
  const [PY, A] = [done.at[3]! / 4, done.at[4]! / 4]
  pooled.y.set(done.heap.subarray(PY, PY + n))
  pooled.argmax.set(done.ints.subarray(A, A + n))
  return true
}

/**
 * The gradients of Σ dy·maxPool2x2(relu(conv(x, w) + b)), given the forward pass's argmax: the
 * gradient at the conv's output is dy added onto each argmax that is not −1 (the pool's and relu's
 * vjps), then dw, dx unless undefined, db unless undefined, as conv32BackwardWasm. False if it
 * does not fit (or a dimension is 0).
 */
export function conv32ReluPoolBackwardWasm(
  threads: 1 | 2,
  g: ConvWindow,
  x: Float32Array,
  dy: Float32Array,
  w: Float32Array,
  dx: Float32Array | undefined,
  dw: Float32Array,
  db: Float32Array | undefined,
  argmax: Int32Array,
): boolean {
  if (empty(g) || pooledSize(g) === 0) return false
  const K = g.C * g.KH * g.KW
  const OHW = g.OH * g.OW
  const dxParts = dx === undefined ? 0 : g.N
  const blocks = (t: 1 | 2): Blocks => dwBlocks(K, t, dxParts)
  const done = run(
    threads,
    g,
    Op.conv32Backward,
    [x, dx === undefined ? undefined : w, dx?.length, dw.length, db?.length, dy, argmax],
    ([X, Wt, DX, DW, DB, PDY, A]) => ({
      x: X!,
      w: Wt!,
      bias: 0,
      y: 0,
      dx: DX!,
      dw: DW!,
      db: DB!,
      relu: true,
      acty: 0,
      pool: { py: PDY!, argmax: A! },
    }),
    { dz: true, dzT: true, dx: dx !== undefined },
    blocks,
    2 * g.N * g.F * K * OHW * (dx === undefined ? 1 : 2),
  )
  if (done === null) return false
  if (dx !== undefined) dx.set(done.heap.subarray(done.at[2]! / 4, done.at[2]! / 4 + dx.length))
  if (db !== undefined) db.set(done.heap.subarray(done.at[4]! / 4, done.at[4]! / 4 + db.length))
  transposeOut(done.heap, done.at[3]! / 4, g.F, K, dw)
  return true
}

/** Wᵀ (K × F) of W (F × K): the forward pass's tiles then splat a step's filters from one place. */
function transposed(w: Float32Array, F: number, K: number): Float32Array {
  const t = new Float32Array(w.length)
  for (let f = 0; f < F; f++) for (let k = 0; k < K; k++) t[k * F + f] = w[f * K + k]!
  return t
}

/** dW[f, k] = dWᵀ[k, f]: the parts computed dWᵀ (K × F) at heap[at …]. */
function transposeOut(heap: Float32Array, at: number, F: number, K: number, dw: Float32Array): void {
  for (let f = 0; f < F; f++) for (let k = 0; k < K; k++) dw[f * K + k] = heap[at + k * F + f]!
}
