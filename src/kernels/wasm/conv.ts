/**
 * The WebAssembly convolution kernels: im2col, GEMM and col2im all inside WebAssembly
 * (asm/conv.ts), on one thread or two. This module places the operands in the module's memory,
 * describes the product in a job block, runs its parts, and copies the result out.
 *
 * Parts (see asm/conv.ts): the forward and the input gradient run one part per sample; the
 * kernel gradient one part per group of samples (GROUPS of them, each into its own dW block,
 * added in order at the end). On two threads both threads take parts from a shared counter
 * (`runnersFor` of ./parts.ts); on one thread this thread runs them all. Every output
 * element is computed by one part, whose loops do not depend on the thread count, so one and two
 * threads give bit-identical results. y and dx also round exactly as the plain-TypeScript
 * im2col + GEMM kernels of ../conv.ts do; dW and db differ from them only in how the groups'
 * sums are added (within 1e-12 relative, property-tested against the naive loops).
 *
 * The functions here assume their arguments were checked (../conv.ts does that) and return
 * false, having written nothing, when a product does not fit in the memory cap; the caller then
 * runs the plain-TypeScript im2col with the WebAssembly GEMM.
 */
import type { ConvWindow } from '../conv.ts'
import { align, reserve, roundUp, wasmBlockSizes } from './gemm.ts'
import { Op, runnersFor } from './parts.ts'
import type { PartsRunner } from './threads.ts'

/** Bytes of the job block at address 0 (34 i32 fields, rounded up to a cache line multiple). */
const JOB_BYTES = 192

/** Byte sizes of one GEMM's packing workspaces for an m × n × k product (as asm/gemm.ts needs them). */
const packBytes = (m: number, n: number, k: number): { a: number; b: number } => {
  const { mc, kc, nc } = wasmBlockSizes
  const depth = Math.min(kc, k)
  return { a: align(Math.min(mc, roundUp(m, 4)) * depth) * 8, b: align(Math.min(nc, roundUp(n, 4)) * depth) * 8 }
}

/** A job block's first fields, the geometry, in the order asm/conv.ts and asm/conv32.ts read them (J_N … J_OW). */
export const windowFields = (g: ConvWindow): number[] => [
  g.N,
  g.C,
  g.H,
  g.W,
  g.F,
  g.KH,
  g.KW,
  g.SH,
  g.SW,
  g.DH,
  g.DW,
  g.PT,
  g.PL,
  g.OH,
  g.OW,
]

/** A layout in bytes, each region on a 64-byte line; the tap table (5 i32 per im2col row) first. */
class Layout {
  end = JOB_BYTES
  readonly taps: number
  constructor(g: ConvWindow) {
    this.taps = this.take(Math.ceil((g.C * g.KH * g.KW * 5) / 2))
  }
  take(elements: number): number {
    const at = this.end
    this.end += align(elements) * 8
    return at
  }
}

interface Placed {
  readonly heap: Float64Array
  readonly runner: PartsRunner
}

/**
 * Picks a runner for a job of `parts` parts and `flops` FLOPs, grows its memory to `layout.end`
 * plus a scratch area of `scratchBytes` per thread, writes the job block and returns the heap
 * view and the scratch addresses; null if no runner can hold it under `maxBytes`.
 */
function prepare(
  threads: 1 | 2,
  maxBytes: number,
  parts: number,
  flops: number,
  g: ConvWindow,
  layout: Layout,
  scratchBytes: number,
  fields: {
    x: number
    w: number
    bias: number
    y: number
    dx: number
    dwp: number
    dbp: number
    groups: number
    cols: number
    cbuf: number
    packA: number
    packB: number
    relu: boolean
    acty: number
    dz: number
  },
): (Placed & { readonly scratch0: number; readonly scratch1: number }) | null {
  const scratch0 = layout.end
  const scratch1 = scratch0 + scratchBytes
  const runner = runnersFor(threads, parts, flops).find((r) =>
    reserve(r.memory, r.threads === 2 ? scratch1 + scratchBytes : scratch1, Math.min(maxBytes, r.maxBytes)),
  )
  if (runner === undefined) return null
  const ints = new Int32Array(runner.memory.buffer) // views after any grow
  const { mc, kc, nc } = wasmBlockSizes
  ints.set([
    ...windowFields(g),
    fields.x,
    fields.w,
    fields.bias,
    fields.y,
    fields.dx,
    fields.dwp,
    fields.groups,
    fields.cols,
    fields.cbuf,
    fields.packA,
    fields.packB,
    mc,
    kc,
    nc,
    layout.taps,
    fields.dbp,
    fields.relu ? 1 : 0,
    fields.acty,
    fields.dz,
  ])
  writeTaps(g, ints, layout.taps / 4)
  return { heap: new Float64Array(runner.memory.buffer), runner, scratch0, scratch1 }
}

/**
 * The tap table at ints[at…]: for im2col row r = (c·KH + i)·KW + j, the pixel its output
 * (oh, ow) reads is base + oh·SH·W + ow·SW within the sample, inside the image for oh in
 * [ohLo, ohHi) and ow in [owLo, owHi) (empty ranges where the tap sees only padding). The
 * same for every sample, so computed once per job here rather than per sample in the kernel.
 */
function writeTaps(g: ConvWindow, ints: Int32Array, at: number): void {
  const { C, H, W, KH, KW, SH, SW, DH, DW, PT, PL, OH, OW } = g
  for (let c = 0; c < C; c++) {
    for (let i = 0; i < KH; i++) {
      const ti = PT - i * DH // input row h = oh·SH − ti
      const ohLo = Math.min(OH, Math.max(0, Math.ceil(ti / SH)))
      const ohHi = Math.max(ohLo, Math.min(OH, Math.floor((H - 1 + ti) / SH) + 1))
      for (let j = 0; j < KW; j++, at += 5) {
        const tj = PL - j * DW // input column v = ow·SW − tj
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
 * y = conv(x, w) + b in WebAssembly, or relu of it when `relu`; false if it needs more than
 * `maxBytes` of memory (or than the memory can hold).
 */
export function convForwardWasm(
  threads: 1 | 2,
  g: ConvWindow,
  x: Float64Array,
  w: Float64Array,
  b: Float64Array | undefined,
  y: Float64Array,
  maxBytes = Infinity,
  relu = false,
): boolean {
  const K = g.C * g.KH * g.KW
  const OHW = g.OH * g.OW
  const L = new Layout(g)
  const X = L.take(x.length)
  const Wt = L.take(w.length)
  const B = b === undefined ? 0 : L.take(b.length)
  const Y = L.take(y.length)
  // Scratch: the sample's im2col matrix, a padded result block, the packing workspaces.
  const cols = 0
  const cbuf = cols + align(K * OHW) * 8
  const pack = packBytes(g.F, OHW, K)
  const packA = cbuf + align(roundUp(g.F, 4) * roundUp(OHW, 4)) * 8
  const packB = packA + pack.a
  const flops = 2 * g.N * g.F * K * OHW
  const placed = prepare(threads, maxBytes, g.N, flops, g, L, packB + pack.b, {
    x: X,
    w: Wt,
    bias: B,
    y: Y,
    dx: 0,
    dwp: 0,
    dbp: 0,
    groups: 0,
    cols,
    cbuf,
    packA,
    packB,
    relu,
    acty: 0,
    dz: 0,
  })
  if (placed === null) return false
  const { heap, runner } = placed
  heap.set(x, X / 8)
  heap.set(w, Wt / 8)
  if (b !== undefined) heap.set(b, B / 8)
  runner.run(Op.convForward, 0, g.N, placed.scratch0, placed.scratch1, flops)
  y.set(heap.subarray(Y / 8, Y / 8 + y.length))
  return true
}

/** dx = the input gradient of Σ dy·conv(x, w), in WebAssembly; false if it needs more than `maxBytes`. */
export function convInputGradWasm(
  threads: 1 | 2,
  g: ConvWindow,
  dy: Float64Array,
  w: Float64Array,
  dx: Float64Array,
  maxBytes = Infinity,
): boolean {
  const K = g.C * g.KH * g.KW
  const OHW = g.OH * g.OW
  const L = new Layout(g)
  const Wt = L.take(w.length)
  const DY = L.take(dy.length)
  const DX = L.take(dx.length)
  // Scratch: the padded K × OH·OW block Wᵀ·dy_n, the packing workspaces.
  const cbuf = 0
  const pack = packBytes(K, OHW, g.F)
  const packA = cbuf + align(roundUp(K, 4) * roundUp(OHW, 4)) * 8
  const packB = packA + pack.a
  const flops = 2 * g.N * g.F * K * OHW
  const placed = prepare(threads, maxBytes, g.N, flops, g, L, packB + pack.b, {
    x: 0,
    w: Wt,
    bias: 0,
    y: DY,
    dx: DX,
    dwp: 0,
    dbp: 0,
    groups: 0,
    cols: 0,
    cbuf,
    packA,
    packB,
    relu: false,
    acty: 0,
    dz: 0,
  })
  if (placed === null) return false
  const { heap, runner } = placed
  heap.set(w, Wt / 8)
  heap.set(dy, DY / 8)
  runner.run(Op.convBackward, 0, g.N, placed.scratch0, placed.scratch1, flops) // 0 groups: no dW parts
  dx.set(heap.subarray(DX / 8, DX / 8 + dx.length))
  return true
}

/**
 * Sample groups of the kernel gradient: dW = ((dW₀ + dW₁) + dW₂) + dW₃, each dWᵢ summed over
 * about a quarter of the batch. A fixed number, so the rounding is the same on one thread or two;
 * each group streams its samples through the cache once (splitting dW's columns instead made
 * every part re-read all of x and dy, and ran slower).
 */
const GROUPS = 4

/**
 * The gradients of Σ dy·conv(x, w) + b in one job, in WebAssembly: dw summed over the batch,
 * dx unless it is undefined (the caller does not want it), and db unless it is undefined. False
 * if that needs more than `maxBytes`. The parts are dW's sample groups (each also summing its
 * samples' dy into its own db block, added in order at the end as dW's are), then one per
 * sample of dx. With `yRelu`, the layer's output was y = relu(conv(x, w) + b) (this y): each
 * part first takes dy where y > 0, else +0, as the gradient at the conv's output.
 */
export function convBackwardWasm(
  threads: 1 | 2,
  g: ConvWindow,
  x: Float64Array,
  dy: Float64Array,
  w: Float64Array,
  dx: Float64Array | undefined,
  dw: Float64Array,
  maxBytes = Infinity,
  db?: Float64Array,
  yRelu?: Float64Array,
): boolean {
  if (g.N === 0) {
    dw.fill(0) // an empty batch: no sample contributes (dx is empty too)
    db?.fill(0)
    return true
  }
  const K = g.C * g.KH * g.KW
  const OHW = g.OH * g.OW
  const Kp = roundUp(K, 4)
  const Fp = roundUp(g.F, 4)
  const groups = Math.min(GROUPS, g.N)
  const L = new Layout(g)
  const X = L.take(x.length)
  const Wt = dx === undefined ? 0 : L.take(w.length)
  const DY = L.take(dy.length)
  const DX = dx === undefined ? 0 : L.take(dx.length)
  const DWP = L.take(groups * Fp * Kp)
  const DBP = db === undefined ? 0 : L.take(groups * Fp)
  const ACTY = yRelu === undefined ? 0 : L.take(yRelu.length)
  // Scratch: a sample's im2col matrix (dW), the padded K × OH·OW block Wᵀ·dy_n (dx), and
  // packing workspaces big enough for either product.
  const cols = 0
  const cbuf = cols + align(K * OHW) * 8
  const packW = packBytes(g.F, K, OHW)
  const packX = dx === undefined ? { a: 0, b: 0 } : packBytes(K, OHW, g.F)
  const packA = cbuf + (dx === undefined ? 0 : align(Kp * roundUp(OHW, 4)) * 8)
  const packB = packA + Math.max(packW.a, packX.a)
  const dz = packB + Math.max(packW.b, packX.b) // a sample's dy where y > 0 (with yRelu)
  const parts = groups + (dx === undefined ? 0 : g.N)
  const flops = 2 * g.N * g.F * K * OHW * (dx === undefined ? 1 : 2)
  const scratchBytes = dz + (yRelu === undefined ? 0 : align(g.F * OHW) * 8)
  const placed = prepare(threads, maxBytes, parts, flops, g, L, scratchBytes, {
    x: X,
    w: Wt,
    bias: 0,
    y: DY,
    dx: DX,
    dwp: DWP,
    dbp: DBP,
    groups,
    cols,
    cbuf,
    packA,
    packB,
    relu: yRelu !== undefined,
    acty: ACTY,
    dz,
  })
  if (placed === null) return false
  const { heap, runner } = placed
  heap.set(x, X / 8)
  if (dx !== undefined) heap.set(w, Wt / 8)
  heap.set(dy, DY / 8)
  if (yRelu !== undefined) heap.set(yRelu, ACTY / 8)
  runner.run(Op.convBackward, 0, parts, placed.scratch0, placed.scratch1, flops)
  for (let f = 0; f < g.F; f++) {
    for (let k = 0; k < K; k++) {
      let s = heap[DWP / 8 + f * Kp + k]!
      for (let p = 1; p < groups; p++) s += heap[DWP / 8 + (p * Fp + f) * Kp + k]!
      dw[f * K + k] = s
    }
  }
  if (db !== undefined) {
    for (let f = 0; f < g.F; f++) {
      let s = heap[DBP / 8 + f]!
      for (let p = 1; p < groups; p++) s += heap[DBP / 8 + p * Fp + f]!
      db[f] = s
    }
  }
  if (dx !== undefined) dx.set(heap.subarray(DX / 8, DX / 8 + dx.length))
  return true
}

/** dw = the kernel gradient of Σ dy·conv(x, w), summed over the batch (convBackwardWasm without dx). */
export const convKernelGradWasm = (
  threads: 1 | 2,
  g: ConvWindow,
  x: Float64Array,
  dy: Float64Array,
  dw: Float64Array,
  maxBytes = Infinity,
): boolean => convBackwardWasm(threads, g, x, dy, new Float64Array(0), undefined, dw, maxBytes)
