/**
 * chainrule's float32 WebAssembly convolution, in AssemblyScript: im2col and col2im around the
 * f32x4 GEMM of ./gemm32.ts, the float32 twin of ./conv.ts (read that one first). The products
 * (formulas and rounding in src/kernels/conv32.ts):
 *
 *   forward       y_n   = W · cols_n                (W: F × K, cols_n: K × OH·OW, K = C·KH·KW)
 *   input grad    dx_n  = col2im(Wᵀ · dy_n)
 *   kernel grad   dW    = Σ_n dy_n · cols_nᵀ        (one running sum over n, in order)
 *   bias grad     db    = Σ_n the row sums of dy_n  (likewise)
 *
 * With a fused relu, y_n = relu(W · cols_n) and the gradients use dz_n = dy_n where y_n > 0,
 * else +0, in place of dy_n.
 *
 * Unlike ./conv.ts, dW is not cut into sample groups (each output is one running sum, as the
 * readable float32 loops have it): the backward pass's parts are blocks of dW's columns (each
 * runs im2col on its rows of cols only, for every sample in order), then the bias gradient (one
 * part), then one part per sample of dx. Each output element is computed by one part in a fixed
 * order, so the result is the same on one thread or two, and the same as the readable loops.
 *
 * `convPart32(op, job, part, scratch)` runs one part; `job` is the byte address of the i32
 * fields below, written by src/kernels/wasm/conv32.ts.
 */
import { gemm32 } from './gemm32'

const J_N = 0 //      batch size
const J_C = 1 //      input channels
const J_H = 2 //      input height
const J_W = 3 //      input width
const J_F = 4 //      filters
const J_KH = 5 //     kernel height and width
const J_KW = 6
const J_SH = 7 //     strides
const J_SW = 8
const J_OH = 13 //    output height and width (fields 9-12, dilations and padding, live in the tap table)
const J_OW = 14
const J_X = 15 //     x: N × C × H × W
const J_WGT = 16 //   W: F × K
const J_BIAS = 17 //  b: F, or 0
const J_Y = 18 //     y (forward) or dy (backward): N × F × OH·OW
const J_DX = 19 //    dx: N × C × H × W, or 0
const J_DW = 20 //    dW: F × K, or 0
const J_DWPARTS = 21 // parts of dW (blocks of its columns), 0 with no dW
const J_COLS = 22 //  scratch offsets: im2col (or Wᵀ·dy_n) buffer, K × OH·OW
const J_DB = 23 //    db: F, or 0
const J_PACKA = 24 // scratch offsets of the packing workspaces
const J_PACKB = 25
const J_MC = 26 //    the GEMM's cache blocks
const J_KC = 27
const J_NC = 28
const J_TAPS = 29 //  the tap table: per im2col row, 5 i32 (base, ohLo, ohHi, owLo, owHi)
const J_EDGE = 30 //  scratch offset of the GEMM's edge tile
const J_RELU = 31 //  1: the output is relu(conv); backward reads y at J_ACTY
const J_ACTY = 32
const J_DZ = 33 //    scratch offset of dz_n (backward, with J_RELU)
const J_KCHUNK = 34 // dW columns per part

const OP_FORWARD = 12 // and 13, the backward pass (asm/index.ts's CONV32_FORWARD, CONV32_BACKWARD)

@inline function field(job: usize, i: i32): i32 {
  return load<i32>(job + (<usize>i << 2))
}

/** Runs part `part` of op `op` (forward, or backward: dW's column blocks, then db when asked, then dx's samples). */
export function convPart32(op: i32, job: usize, part: i32, scratch: usize): void {
  if (op == OP_FORWARD) return forwardSample(job, part, scratch)
  const dwParts = field(job, J_DWPARTS)
  if (part < dwParts) return kernelGradBlock(job, part, scratch)
  let p = part - dwParts
  if (field(job, J_DB) != 0) {
    if (p == 0) return biasGrad(job, scratch)
    p--
  }
  inputGradSample(job, p, scratch)
}

@inline function gemmOf(job: usize, m: i32, n: i32, k: i32, a: usize, aRs: i32, aCs: i32, b: usize, bRs: i32, bCs: i32,
  c: usize, ldc: i32, acc: i32, scratch: usize): void {
  gemm32(m, n, k, a, aRs, aCs, b, bRs, bCs, c, ldc, acc, field(job, J_MC), field(job, J_KC), field(job, J_NC),
    scratch + <usize>field(job, J_PACKA), scratch + <usize>field(job, J_PACKB), scratch + <usize>field(job, J_EDGE))
}

/** y_n = W · cols_n, each row starting from its bias (the GEMM adds onto it), then relu when asked. */
function forwardSample(job: usize, n: i32, scratch: usize): void {
  const C = field(job, J_C), H = field(job, J_H), W = field(job, J_W), F = field(job, J_F)
  const K = C * field(job, J_KH) * field(job, J_KW)
  const OHW = field(job, J_OH) * field(job, J_OW)
  const cols = scratch + <usize>field(job, J_COLS)
  const bias = <usize>field(job, J_BIAS)
  const yn = <usize>field(job, J_Y) + (<usize>(n * F) * <usize>OHW << 2)
  tapRows(job, <usize>field(job, J_X) + (<usize>(n * C) * <usize>(H * W) << 2), 0, K, cols, false)
  if (bias != 0) {
    for (let f: i32 = 0; f < F; f++) fill(yn + (<usize>(f * OHW) << 2), load<f32>(bias + (<usize>f << 2)), OHW)
  }
  gemmOf(job, F, OHW, K, <usize>field(job, J_WGT), K, 1, cols, OHW, 1, yn, OHW, bias != 0 ? 1 : 0, scratch)
  if (field(job, J_RELU) != 0) relu(yn, F * OHW)
}

/** dx_n = col2im(Wᵀ · dz_n). */
function inputGradSample(job: usize, n: i32, scratch: usize): void {
  const C = field(job, J_C), H = field(job, J_H), W = field(job, J_W), F = field(job, J_F)
  const K = C * field(job, J_KH) * field(job, J_KW)
  const OHW = field(job, J_OH) * field(job, J_OW)
  const dcols = scratch + <usize>field(job, J_COLS)
  const dzn = gradOfConv(job, n, F * OHW, scratch)
  const dxn = <usize>field(job, J_DX) + (<usize>(n * C) * <usize>(H * W) << 2)
  gemmOf(job, K, OHW, F, <usize>field(job, J_WGT), 1, K, dzn, OHW, 1, dcols, OHW, 0, scratch)
  fill(dxn, 0, C * H * W)
  tapRows(job, dxn, 0, K, dcols, true)
}

/** Columns [r0, r1) of dW = Σ_n dz_n · cols_nᵀ, samples in order: im2col of those rows only, then C += A·Bᵀ. */
function kernelGradBlock(job: usize, part: i32, scratch: usize): void {
  const N = field(job, J_N), C = field(job, J_C), H = field(job, J_H), W = field(job, J_W), F = field(job, J_F)
  const K = C * field(job, J_KH) * field(job, J_KW)
  const OHW = field(job, J_OH) * field(job, J_OW)
  const r0 = part * field(job, J_KCHUNK)
  const r1 = min(K, r0 + field(job, J_KCHUNK))
  const cols = scratch + <usize>field(job, J_COLS)
  const dw = <usize>field(job, J_DW) + (<usize>r0 << 2)
  const x = <usize>field(job, J_X)
  for (let n: i32 = 0; n < N; n++) {
    const dzn = gradOfConv(job, n, F * OHW, scratch)
    tapRows(job, x + (<usize>(n * C) * <usize>(H * W) << 2), r0, r1, cols, false)
    gemmOf(job, F, r1 - r0, OHW, dzn, OHW, 1, cols, 1, OHW, dw, K, n > 0 ? 1 : 0, scratch)
  }
}

/** db[f] = Σ_n Σ_q dz_n[f, q], one float32 running sum per filter, samples then positions in order, from +0. */
function biasGrad(job: usize, scratch: usize): void {
  const N = field(job, J_N), F = field(job, J_F)
  const OHW = field(job, J_OH) * field(job, J_OW)
  const db = <usize>field(job, J_DB)
  fill(db, 0, F)
  for (let n: i32 = 0; n < N; n++) {
    const dzn = gradOfConv(job, n, F * OHW, scratch)
    for (let f: i32 = 0; f < F; f++) {
      const row = dzn + (<usize>(f * OHW) << 2)
      let s = load<f32>(db + (<usize>f << 2))
      for (let q: i32 = 0; q < OHW; q++) s += load<f32>(row + (<usize>q << 2))
      store<f32>(db + (<usize>f << 2), s)
    }
  }
}

/**
 * im2col (toImage false) of rows [r0, r1) of one sample's im2col matrix into cols (OH·OW per row,
 * padding written as +0), or col2im (toImage true): each entry of those rows added onto its pixel,
 * rows in order. The tap table is ./conv.ts's.
 */
function tapRows(job: usize, image: usize, r0: i32, r1: i32, cols: usize, toImage: bool): void {
  const W = field(job, J_W), SH = field(job, J_SH), SW = field(job, J_SW), OH = field(job, J_OH), OW = field(job, J_OW)
  const ld = OH * OW
  const shifted = !toImage && SH == 1 && SW == 1 && OW == W
  let tap = <usize>field(job, J_TAPS) + <usize>(r0 * 20)
  for (let r = r0; r < r1; r++, tap += 20) {
    const base = load<i32>(tap), ohLo = load<i32>(tap, 4), ohHi = load<i32>(tap, 8), owLo = load<i32>(tap, 12), owHi = load<i32>(tap, 16)
    const row = cols + (<usize>((r - r0) * ld) << 2)
    const src = image + (<usize>base << 2) // base may be negative: address arithmetic wraps
    if (!toImage) {
      fill(row, 0, ohLo * OW)
      fill(row + (<usize>(ohHi * OW) << 2), 0, (OH - ohHi) * OW)
    }
    if (shifted && ohLo < ohHi && owLo < owHi) {
      const first = ohLo * OW + owLo
      memory.copy(row + (<usize>first << 2), src + (<usize>first << 2), <usize>((ohHi - 1) * OW + owHi - first) << 2)
      if (owLo > 0 || owHi < OW) {
        for (let oh = ohLo; oh < ohHi; oh++) {
          const d = row + (<usize>(oh * OW) << 2)
          for (let ow: i32 = 0; ow < owLo; ow++) store<f32>(d + (<usize>ow << 2), 0)
          for (let ow = owHi; ow < OW; ow++) store<f32>(d + (<usize>ow << 2), 0)
        }
      }
      continue
    }
    for (let oh = ohLo; oh < ohHi; oh++) {
      const d = row + (<usize>(oh * OW) << 2)
      if (!toImage) {
        fill(d, 0, owLo)
        fill(d + (<usize>owHi << 2), 0, OW - owHi)
      }
      const s = src + (<usize>(oh * SH * W) << 2)
      if (SW == 1) {
        if (toImage) addTo(s + (<usize>owLo << 2), d + (<usize>owLo << 2), owHi - owLo)
        else memory.copy(d + (<usize>owLo << 2), s + (<usize>owLo << 2), <usize>(owHi - owLo) << 2)
      } else {
        for (let ow = owLo; ow < owHi; ow++) {
          const at = s + (<usize>(ow * SW) << 2)
          const e = d + (<usize>ow << 2)
          if (toImage) store<f32>(at, load<f32>(at) + load<f32>(e))
          else store<f32>(e, load<f32>(at))
        }
      }
    }
  }
}

/** dy_n, or with a fused relu dy_n where y_n > 0, else +0 (written into this thread's scratch). */
function gradOfConv(job: usize, n: i32, count: i32, scratch: usize): usize {
  const dyn = <usize>field(job, J_Y) + (<usize>(n * count) << 2)
  if (field(job, J_RELU) == 0) return dyn
  const yn = <usize>field(job, J_ACTY) + (<usize>(n * count) << 2)
  const dz = scratch + <usize>field(job, J_DZ)
  const zero = f32x4.splat(0)
  let i: i32 = 0
  for (; i + 4 <= count; i += 4) {
    const o = <usize>i << 2
    v128.store(dz + o, v128.and(v128.load(dyn + o), f32x4.gt(v128.load(yn + o), zero)))
  }
  for (; i < count; i++) {
    const o = <usize>i << 2
    store<f32>(dz + o, load<f32>(yn + o) > 0 ? load<f32>(dyn + o) : 0)
  }
  return dz
}

/** relu in place on count f32: max(v, +0) (NaN stays NaN; −0 and −∞ give +0). */
function relu(row: usize, count: i32): void {
  const zero = f32x4.splat(0)
  let i: i32 = 0
  for (; i + 4 <= count; i += 4) v128.store(row + (<usize>i << 2), f32x4.max(v128.load(row + (<usize>i << 2)), zero))
  for (; i < count; i++) store<f32>(row + (<usize>i << 2), max(load<f32>(row + (<usize>i << 2)), 0))
}

/** count f32 at dst = value. */
function fill(dst: usize, value: f32, count: i32): void {
  const v = f32x4.splat(value)
  let k: i32 = 0
  for (; k + 4 <= count; k += 4) v128.store(dst + (<usize>k << 2), v)
  for (; k < count; k++) store<f32>(dst + (<usize>k << 2), value)
}

/** dst[k] += src[k] for count f32, each add one f32 add. */
function addTo(dst: usize, src: usize, count: i32): void {
  let k: i32 = 0
  for (; k + 4 <= count; k += 4) {
    const at = dst + (<usize>k << 2)
    v128.store(at, f32x4.add(v128.load(at), v128.load(src + (<usize>k << 2))))
  }
  for (; k < count; k++) {
    const at = dst + (<usize>k << 2)
    store<f32>(at, load<f32>(at) + load<f32>(src + (<usize>k << 2)))
  }
}
