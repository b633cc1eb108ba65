/**
 * chainrule's WebAssembly convolution, written in AssemblyScript: im2col and col2im around the
 * GEMM of ./gemm.ts, for the three products of a conv layer (the formulas are in
 * src/kernels/conv.ts, which also holds the plain-TypeScript version of these same loops):
 *
 *   forward       y_n   = W · cols_n                (W: F × K, cols_n: K × OH·OW, K = C·KH·KW)
 *   input grad    dx_n  = col2im(Wᵀ · dy_n)
 *   kernel grad   dW    = Σ_n dy_n · cols_nᵀ        (and db = Σ_n the row sums of dy_n)
 *
 * A layer with a fused relu (conv2d's `activation: 'relu'`) outputs y_n = relu(W · cols_n), and
 * its gradients use dz_n = dy_n where y_n > 0, else +0, in place of dy_n (gradOfConv).
 *
 * One entry, `convPart(op, job, part, scratch)` (called by `part` of ./index.ts), runs one
 * *part* of a product: one sample of the forward pass, or of the input gradient, or one group of samples of the kernel gradient
 * (its own dW block: the caller adds the groups' blocks in order). The backward pass is one list
 * of parts: first the kernel gradient's sample groups (the big parts), then one part per sample
 * of dx (the small ones, which even out the end when two threads share the list); either may be
 * absent. Parts never write the same output, and the groups are fixed by the caller, not by the
 * thread count, so two threads can take parts in any order and each output element is still
 * computed by one thread in the same order: the result does not depend on the thread count.
 *
 * `job` is the byte address of a block of i32 fields (the J_* constants below), written by
 * src/kernels/wasm/conv.ts: the geometry, the byte addresses of the operands in this memory,
 * and where in a thread's `scratch` area its im2col buffer, GEMM result block and packing
 * workspaces start. Nothing here allocates, and no state survives a call.
 */
import { gemm } from './gemm'

// The job block: i32 fields, in this order (src/kernels/wasm/conv.ts writes the same layout).
const J_N = 0 //      batch size
const J_C = 1 //      input channels
const J_H = 2 //      input height
const J_W = 3 //      input width
const J_F = 4 //      filters (output channels)
const J_KH = 5 //     kernel height
const J_KW = 6 //     kernel width
const J_SH = 7 //     strides
const J_SW = 8
const J_DH = 9 //     dilations
const J_DW = 10
const J_PT = 11 //    padding above and left
const J_PL = 12
const J_OH = 13 //    output height and width
const J_OW = 14
const J_X = 15 //     x: N × C × H × W
const J_WGT = 16 //   W: F × K
const J_BIAS = 17 //  b: F, or 0 for no bias
const J_Y = 18 //     y (forward) or dy (gradients): N × F × OH·OW
const J_DX = 19 //    dx: N × C × H × W
const J_DWP = 20 //   dW, one padded block per sample group: ⌈F⌉₄ rows (the GEMM writes whole 4-row tiles) of ⌈K⌉₄
const J_GROUPS = 21 // sample groups of the kernel gradient (one part each), or 0: no dW
const J_COLS = 22 //  scratch offsets: the im2col buffer,
const J_CBUF = 23 //  the GEMM result block,
const J_PACKA = 24 // and the two packing workspaces
const J_PACKB = 25
const J_MC = 26 //    the GEMM's cache blocks
const J_KC = 27
const J_NC = 28
const J_TAPS = 29 //  the tap table: per im2col row, 5 i32 (base, ohLo, ohHi, owLo, owHi; see tapRows)
const J_DBP = 30 //   db, one block of ⌈F⌉₄ per sample group, or 0: no bias gradient
const J_RELU = 31 //  1: the layer's output is relu(conv): the forward pass applies it, and the
//                    backward pass multiplies dy by relu' = (y > 0), reading y at J_ACTY
const J_ACTY = 32 //  y = relu(conv), the forward pass's output (backward, with J_RELU)
const J_DZ = 33 //    scratch offset of dz_n = dy_n where y_n > 0, else +0 (backward, with J_RELU)

const OP_FORWARD = 0 // and 1, the backward pass (asm/index.ts sends only these two here)

@inline function field(job: usize, i: i32): i32 {
  return load<i32>(job + (<usize>i << 2))
}

@inline function roundUp4(x: i32): i32 {
  return (x + 3) & ~3
}

/**
 * Runs part `part` of product `op` of the job at `job`, with this thread's workspace at `scratch`.
 * op 0 is the forward pass; any other op the backward pass: first dW's sample groups (none when
 * the job has 0 groups), then one part per sample of dx (none when the job has no dx).
 */
export function convPart(op: i32, job: usize, part: i32, scratch: usize): void {
  if (op == OP_FORWARD) return forwardSample(job, part, scratch)
  const groups = field(job, J_GROUPS)
  if (part < groups) kernelGradGroup(job, part, groups, scratch)
  else inputGradSample(job, part - groups, scratch)
}

/**
 * y_n = W · cols_n, each row starting from its bias, then relu of it when the job says so. The
 * GEMM writes straight into y when F is a multiple of 4 (its last tile of a column writes 4
 * whole rows, and y_n's are the last: a smaller F would write into the next sample's rows);
 * otherwise into the padded result block, copied out after.
 */
function forwardSample(job: usize, n: i32, scratch: usize): void {
  const C = field(job, J_C), H = field(job, J_H), W = field(job, J_W), F = field(job, J_F)
  const K = C * field(job, J_KH) * field(job, J_KW)
  const OHW = field(job, J_OH) * field(job, J_OW)
  const cols = scratch + <usize>field(job, J_COLS)
  const bias = <usize>field(job, J_BIAS)
  const yn = <usize>field(job, J_Y) + (<usize>(n * F) * <usize>OHW << 3)
  tapRows(job, <usize>field(job, J_X) + (<usize>(n * C) * <usize>(H * W) << 3), 0, K, cols, OHW, false)
  const direct = (F & 3) == 0
  const ldc = direct ? OHW : roundUp4(OHW)
  const out = direct ? yn : scratch + <usize>field(job, J_CBUF)
  if (bias != 0) {
    for (let f: i32 = 0; f < F; f++) fill(out + (<usize>(f * ldc) << 3), load<f64>(bias + (<usize>f << 3)), OHW)
  }
  gemm(F, OHW, K, <usize>field(job, J_WGT), K, 1, cols, OHW, 1, out, ldc, bias != 0 ? 1 : 0,
    field(job, J_MC), field(job, J_KC), field(job, J_NC), scratch + <usize>field(job, J_PACKA), scratch + <usize>field(job, J_PACKB))
  if (field(job, J_RELU) != 0) {
    for (let f: i32 = 0; f < F; f++) reluRow(out + (<usize>(f * ldc) << 3), OHW)
  }
  if (!direct) {
    for (let f: i32 = 0; f < F; f++) copy(yn + (<usize>(f * OHW) << 3), out + (<usize>(f * ldc) << 3), OHW)
  }
}

/** dx_n = col2im(Wᵀ · dy_n): Wᵀ is W read with its strides swapped (dy_n: the conv's own gradient, gradOfConv). */
function inputGradSample(job: usize, n: i32, scratch: usize): void {
  const C = field(job, J_C), H = field(job, J_H), W = field(job, J_W), F = field(job, J_F)
  const K = C * field(job, J_KH) * field(job, J_KW)
  const OHW = field(job, J_OH) * field(job, J_OW)
  const ldc = roundUp4(OHW)
  const dcols = scratch + <usize>field(job, J_CBUF)
  const dyn = gradOfConv(job, n, F * OHW, scratch)
  const dxn = <usize>field(job, J_DX) + (<usize>(n * C) * <usize>(H * W) << 3)
  gemm(K, OHW, F, <usize>field(job, J_WGT), 1, K, dyn, OHW, 1, dcols, ldc, 0,
    field(job, J_MC), field(job, J_KC), field(job, J_NC), scratch + <usize>field(job, J_PACKA), scratch + <usize>field(job, J_PACKB))
  fill(dxn, 0.0, C * H * W)
  tapRows(job, dxn, 0, K, dcols, ldc, true) // col2im
}

/**
 * Sample group `group` of `groups` (samples [n0, n1), about N / groups of them) into its own dW
 * block: Σ_n dy_n · cols_nᵀ over the group, samples in order; and, when the job asks for the
 * bias gradient, into its own db block: Σ_n of each row of dy_n (planeSums).
 */
function kernelGradGroup(job: usize, group: i32, groups: i32, scratch: usize): void {
  const N = field(job, J_N), C = field(job, J_C), H = field(job, J_H), W = field(job, J_W), F = field(job, J_F)
  const K = C * field(job, J_KH) * field(job, J_KW)
  const OHW = field(job, J_OH) * field(job, J_OW)
  const n0 = group * N / groups
  const n1 = (group + 1) * N / groups
  const cols = scratch + <usize>field(job, J_COLS)
  const ldw = roundUp4(K)
  const dw = <usize>field(job, J_DWP) + (<usize>(group * roundUp4(F) * ldw) << 3)
  const x = <usize>field(job, J_X)
  const dbp = <usize>field(job, J_DBP)
  const db = dbp + (<usize>(group * roundUp4(F)) << 3)
  if (dbp != 0) fill(db, 0.0, F)
  for (let n = n0; n < n1; n++) {
    const dyn = gradOfConv(job, n, F * OHW, scratch)
    if (dbp != 0) planeSums(dyn, F, OHW, db)
    tapRows(job, x + (<usize>(n * C) * <usize>(H * W) << 3), 0, K, cols, OHW, false)
    gemm(F, K, OHW, dyn, OHW, 1, cols, 1, OHW, dw, ldw, n > n0 ? 1 : 0,
      field(job, J_MC), field(job, J_KC), field(job, J_NC), scratch + <usize>field(job, J_PACKA), scratch + <usize>field(job, J_PACKB))
  }
}

/**
 * im2col (toImage false): rows [r0, r1) of one sample's im2col matrix into cols (rows `ld`
 * apart, every entry of a row's OH·OW written): row r = (c·KH + i)·KW + j holds
 * x[c, oh·SH − PT + i·DH, ow·SW − PL + j·DW] at oh·OW + ow, and 0 where that falls in the padding.
 * col2im (toImage true), its adjoint: adds each entry of those rows back onto the pixel of the
 * image it came from; rows in order, so each pixel adds its terms in the same order as the
 * plain-TypeScript col2im.
 *
 * The job's tap table (computed once per job by src/kernels/wasm/conv.ts) gives, per row, the
 * pixel (oh, ow) reads: image[base + oh·SH·W + ow·SW], for oh in [ohLo, ohHi) and ow in
 * [owLo, owHi), the outputs whose tap lands inside the image.
 */
function tapRows(job: usize, image: usize, r0: i32, r1: i32, cols: usize, ld: i32, toImage: bool): void {
  const W = field(job, J_W), SH = field(job, J_SH), SW = field(job, J_SW), OH = field(job, J_OH), OW = field(job, J_OW)
  // Stride 1 with the output as wide as the input ('same' padding): a row of cols is the image
  // shifted, so im2col copies it as one block, then clears the entries that wrapped around.
  const shifted = !toImage && SH == 1 && SW == 1 && OW == W
  let tap = <usize>field(job, J_TAPS) + <usize>(r0 * 20)
  for (let r = r0; r < r1; r++, tap += 20) {
    const base = load<i32>(tap), ohLo = load<i32>(tap, 4), ohHi = load<i32>(tap, 8), owLo = load<i32>(tap, 12), owHi = load<i32>(tap, 16)
    const row = cols + (<usize>((r - r0) * ld) << 3)
    const src = image + (<usize>base << 3) // base may be negative: address arithmetic wraps
    if (!toImage) {
      fill(row, 0.0, ohLo * OW)
      fill(row + (<usize>(ohHi * OW) << 3), 0.0, (OH - ohHi) * OW)
    }
    if (shifted && owLo < owHi) {
      const first = ohLo * OW + owLo
      copy(row + (<usize>first << 3), src + (<usize>first << 3), (ohHi - 1) * OW + owHi - first)
      // then clear the entries that wrapped around, a few per row (none for a centre tap)
      if (owLo > 0 || owHi < OW) {
        for (let oh = ohLo; oh < ohHi; oh++) {
          const d = row + (<usize>(oh * OW) << 3)
          for (let ow: i32 = 0; ow < owLo; ow++) store<f64>(d + (<usize>ow << 3), 0.0)
          for (let ow = owHi; ow < OW; ow++) store<f64>(d + (<usize>ow << 3), 0.0)
        }
      }
      continue
    }
    for (let oh = ohLo; oh < ohHi; oh++) {
      const d = row + (<usize>(oh * OW) << 3)
      if (!toImage) {
        fill(d, 0.0, owLo)
        fill(d + (<usize>owHi << 3), 0.0, OW - owHi)
      }
      const s = src + (<usize>(oh * SH * W) << 3)
      if (SW == 1) {
        if (toImage) addTo(s + (<usize>owLo << 3), d + (<usize>owLo << 3), owHi - owLo)
        else copy(d + (<usize>owLo << 3), s + (<usize>owLo << 3), owHi - owLo)
      } else {
        for (let ow = owLo; ow < owHi; ow++) {
          const at = s + (<usize>(ow * SW) << 3)
          const e = d + (<usize>ow << 3)
          if (toImage) store<f64>(at, load<f64>(at) + load<f64>(e))
          else store<f64>(e, load<f64>(at))
        }
      }
    }
  }
}

/**
 * The gradient at the conv's own output for sample n (`count` = F·OH·OW values): dy_n itself, or,
 * when the layer's output is relu(conv), dy_n where y_n > 0 and +0 elsewhere (relu's vjp, exactly:
 * y > 0 exactly where the conv's output is), written into this thread's scratch.
 */
function gradOfConv(job: usize, n: i32, count: i32, scratch: usize): usize {
  const dyn = <usize>field(job, J_Y) + (<usize>(n * count) << 3)
  if (field(job, J_RELU) == 0) return dyn
  const yn = <usize>field(job, J_ACTY) + (<usize>(n * count) << 3)
  const dz = scratch + <usize>field(job, J_DZ)
  const zero = f64x2.splat(0.0)
  let i: i32 = 0
  for (; i + 2 <= count; i += 2) {
    const o = <usize>i << 3
    v128.store(dz + o, v128.and(v128.load(dyn + o), f64x2.gt(v128.load(yn + o), zero)))
  }
  if (i < count) {
    const o = <usize>i << 3
    store<f64>(dz + o, load<f64>(yn + o) > 0 ? load<f64>(dyn + o) : 0.0)
  }
  return dz
}

/** relu in place on count f64: max(v, +0) (NaN stays NaN; −0 and −∞ give +0, as the relu layer). */
function reluRow(row: usize, count: i32): void {
  const zero = f64x2.splat(0.0)
  let i: i32 = 0
  for (; i + 2 <= count; i += 2) v128.store(row + (<usize>i << 3), f64x2.max(v128.load(row + (<usize>i << 3)), zero))
  if (i < count) store<f64>(row + (<usize>i << 3), max(load<f64>(row + (<usize>i << 3)), 0.0))
}

/**
 * db[f] += the sum of row f of the F × OHW block at `rows`, each row summed as convBiasGrad of
 * src/kernels/conv.ts sums a plane: four interleaved running sums (two lanes of two vectors),
 * the odd tail added to the first, then (s0 + s1) + (s2 + s3). So each sample's contribution
 * rounds exactly as there.
 */
function planeSums(rows: usize, F: i32, OHW: i32, db: usize): void {
  for (let f: i32 = 0; f < F; f++) {
    const row = rows + (<usize>(f * OHW) << 3)
    let s01 = f64x2.splat(0.0)
    let s23 = f64x2.splat(0.0)
    let q: i32 = 0
    for (; q + 4 <= OHW; q += 4) {
      s01 = f64x2.add(s01, v128.load(row + (<usize>q << 3)))
      s23 = f64x2.add(s23, v128.load(row + (<usize>q << 3), 16))
    }
    let s0 = f64x2.extract_lane(s01, 0)
    for (; q < OHW; q++) s0 += load<f64>(row + (<usize>q << 3))
    const total = (s0 + f64x2.extract_lane(s01, 1)) + (f64x2.extract_lane(s23, 0) + f64x2.extract_lane(s23, 1))
    const at = db + (<usize>f << 3)
    store<f64>(at, load<f64>(at) + total)
  }
}

// f64 loops two lanes at a time (unaligned v128 loads and stores are fine in WebAssembly).

/** count f64 at dst = value. */
function fill(dst: usize, value: f64, count: i32): void {
  const v = f64x2.splat(value)
  let k: i32 = 0
  for (; k + 2 <= count; k += 2) v128.store(dst + (<usize>k << 3), v)
  if (k < count) store<f64>(dst + (<usize>k << 3), value)
}

/** count f64 from src to dst (the ranges do not overlap). */
function copy(dst: usize, src: usize, count: i32): void {
  let k: i32 = 0
  for (; k + 2 <= count; k += 2) v128.store(dst + (<usize>k << 3), v128.load(src + (<usize>k << 3)))
  if (k < count) store<f64>(dst + (<usize>k << 3), load<f64>(src + (<usize>k << 3)))
}

/** dst[k] += src[k] for count f64. */
function addTo(dst: usize, src: usize, count: i32): void {
  let k: i32 = 0
  for (; k + 2 <= count; k += 2) {
    const at = dst + (<usize>k << 3)
    v128.store(at, f64x2.add(v128.load(at), v128.load(src + (<usize>k << 3))))
  }
  if (k < count) {
    const at = dst + (<usize>k << 3)
    store<f64>(at, load<f64>(at) + load<f64>(src + (<usize>k << 3)))
  }
}
