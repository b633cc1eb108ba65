/**
 * chainrule's float32 WebAssembly convolution, in AssemblyScript: im2col and col2im around
 * products that read their operands in place, the float32 twin of ./conv.ts (read that one
 * first). The products (formulas and rounding in src/kernels/conv32.ts):
 *
 *   forward       y_n   = W · cols_n                (W: F × K, cols_n: K × OH·OW, K = C·KH·KW)
 *   input grad    dx_n  = col2im(Wᵀ · dy_n)
 *   kernel grad   dWᵀ   = Σ_n cols_n · dy_nᵀ        (one running sum over n, in order)
 *   bias grad     db    = Σ_n 1 · dy_nᵀ             (likewise: the product by a row of ones)
 *
 * With a fused relu, y_n = relu(W · cols_n) and the gradients use dz_n = dy_n where y_n > 0,
 * else +0, in place of dy_n.
 *
 * The products are skinny (F = 8 or 16 rows, or K = 25 or 200 rows by F columns), so instead of
 * the packed GEMM of ./gemm32.ts they run `gemmInPlace`: register tiles of 4 or 5 rows by 8
 * columns (then 4, then one) that splat A's entries and load B's rows straight from the operands,
 * with no packing. The kernel gradient is computed transposed (rows are taps, columns filters),
 * so its tiles are full (K a multiple of 5, F of 8) and its B, dz_nᵀ (OH·OW × F), is a small
 * transpose per sample; src/kernels/wasm/conv32.ts transposes dWᵀ back when copying it out.
 *
 * The backward pass's parts are blocks of dWᵀ's rows (each runs im2col on its rows of cols only,
 * for every sample in order; the last also sums db), then one part per sample of dx. Each output
 * element is computed by one part in a fixed order, so the result is the same on one thread or
 * two, and the same as the readable loops.
 *
 * `convPart32(op, job, part, scratch)` runs one part; `job` is the byte address of the i32
 * fields below, written by src/kernels/wasm/conv32.ts.
 */
import { gemm32 } from './gemm32'
import { pool2x2Planes } from './pool32'

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
const J_WGT = 16 //   W: F × K (backward), or Wᵀ: K × F (forward: a tile's rows side by side)
const J_BIAS = 17 //  b: F, or 0
const J_Y = 18 //     y (forward) or dy (backward): N × F × OH·OW
const J_DX = 19 //    dx: N × C × H × W, or 0
const J_DW = 20 //    dWᵀ: K × F, or 0
const J_DWPARTS = 21 // parts of dWᵀ (blocks of its rows), 0 with no dW
const J_COLS = 22 //  scratch offsets: im2col (or Wᵀ·dy_n) buffer, K × OH·OW
const J_DB = 23 //    db: F, or 0 (summed by dWᵀ's last part)
const J_DZT = 24 //   scratch offset of dz_nᵀ (OH·OW × F, for dW)
const J_ONE = 25 //   scratch offset of one f32 1.0 (db's row of ones)
const J_MC = 26 //    dx's packed GEMM: its cache blocks
const J_KC = 27
const J_NC = 28
const J_TAPS = 29 //  the tap table: per im2col row, 5 i32 (base, ohLo, ohHi, owLo, owHi)
const J_EDGE = 30 //  scratch offsets of dx's GEMM edge tile and packing workspaces
const J_RELU = 31 //  1: the output is relu(conv); backward reads y at J_ACTY
const J_ACTY = 32
const J_DZ = 33 //    scratch offset of dz_n (backward, with J_RELU)
const J_KCHUNK = 34 // dWᵀ rows per part
const J_PACKA = 35
const J_PACKB = 36
const J_POOL = 37 //  1: relu then 2x2 stride-2 max-pooling fused in (with J_RELU)
const J_PY = 38 //    the pooled output (forward) or its gradient (backward): N × F × ⌊OH/2⌋·⌊OW/2⌋
const J_PARGMAX = 39 // i32 per pooled output: the flat index in the conv's N × F × OH × OW output of its max, or −1
const J_YS = 40 //    scratch offset of y_n (forward, with J_POOL): F × OH·OW

const OP_FORWARD = 12 // and 13, the backward pass (asm/index.ts's CONV32_FORWARD, CONV32_BACKWARD)

@inline function field(job: usize, i: i32): i32 {
  return load<i32>(job + (<usize>i << 2))
}

/** Runs part `part` of op `op` (forward, or backward: dWᵀ's row blocks, the last with db, then dx's samples). */
export function convPart32(op: i32, job: usize, part: i32, scratch: usize): void {
  if (op == OP_FORWARD) return forwardSample(job, part, scratch)
  const dwParts = field(job, J_DWPARTS)
  if (part < dwParts) return kernelGradBlock(job, part, scratch)
  inputGradSample(job, part - dwParts, scratch)
}

/**
 * y_n = W · cols_n, each row's sums starting from its bias, then relu when asked; with J_POOL, y_n
 * stays in scratch and its 2x2 max-pooling is written: the values, and the argmax where the value
 * is > 0, else −1 (relu's vjp passes nothing back there, and the pool's then has nothing to send).
 */
function forwardSample(job: usize, n: i32, scratch: usize): void {
  const C = field(job, J_C), H = field(job, J_H), W = field(job, J_W), F = field(job, J_F)
  const K = C * field(job, J_KH) * field(job, J_KW)
  const OH = field(job, J_OH), OW = field(job, J_OW)
  const OHW = OH * OW
  const cols = scratch + <usize>field(job, J_COLS)
  const bias = <usize>field(job, J_BIAS)
  const pool = field(job, J_POOL) != 0
  const yn = pool ? scratch + <usize>field(job, J_YS) : <usize>field(job, J_Y) + (<usize>(n * F) * <usize>OHW << 2)
  tapRows(job, <usize>field(job, J_X) + (<usize>(n * C) * <usize>(H * W) << 2), 0, K, cols, false)
  gemmInPlace(F, OHW, K, <usize>field(job, J_WGT), 1, F, cols, OHW, yn, OHW, false, bias, field(job, J_RELU) != 0)
  if (pool) {
    const PH = OH >> 1, PW = OW >> 1
    const q = <usize>(n * F * PH * PW) << 2
    const py = <usize>field(job, J_PY) + q
    const argmax = <usize>field(job, J_PARGMAX) + q
    pool2x2Planes(yn, n * F * OHW, F, OH, OW, PH, PW, py, argmax)
    noGradientWhereNotPositive(py, argmax, F * PH * PW)
  }
}

/** dx_n = col2im(Wᵀ · dz_n), the product by ./gemm32.ts's packed GEMM (its depth, F, is short: packing pays there). */
function inputGradSample(job: usize, n: i32, scratch: usize): void {
  const C = field(job, J_C), H = field(job, J_H), W = field(job, J_W), F = field(job, J_F)
  const K = C * field(job, J_KH) * field(job, J_KW)
  const OHW = field(job, J_OH) * field(job, J_OW)
  const dcols = scratch + <usize>field(job, J_COLS)
  const dzn = gradOfConv(job, n, F * OHW, scratch)
  const dxn = <usize>field(job, J_DX) + (<usize>(n * C) * <usize>(H * W) << 2)
  gemm32(K, OHW, F, <usize>field(job, J_WGT), 1, K, dzn, OHW, 1, dcols, OHW, 0, field(job, J_MC), field(job, J_KC), field(job, J_NC),
    scratch + <usize>field(job, J_PACKA), scratch + <usize>field(job, J_PACKB), scratch + <usize>field(job, J_EDGE))
  fill(dxn, 0, C * H * W)
  tapRows(job, dxn, 0, K, dcols, true)
}

/**
 * Rows [r0, r1) of dWᵀ = Σ_n cols_n · dz_nᵀ, samples in order: im2col of those rows only, dz_nᵀ,
 * then C += A·B. The last block also sums db = Σ_n 1 · dz_nᵀ (a row of ones times dz_nᵀ).
 */
function kernelGradBlock(job: usize, part: i32, scratch: usize): void {
  const N = field(job, J_N), C = field(job, J_C), H = field(job, J_H), W = field(job, J_W), F = field(job, J_F)
  const K = C * field(job, J_KH) * field(job, J_KW)
  const OHW = field(job, J_OH) * field(job, J_OW)
  const r0 = part * field(job, J_KCHUNK)
  const r1 = min(K, r0 + field(job, J_KCHUNK))
  const cols = scratch + <usize>field(job, J_COLS)
  const dzT = scratch + <usize>field(job, J_DZT)
  const one = scratch + <usize>field(job, J_ONE)
  const dwT = <usize>field(job, J_DW) + (<usize>(r0 * F) << 2)
  const db = part == field(job, J_DWPARTS) - 1 ? <usize>field(job, J_DB) : 0
  const x = <usize>field(job, J_X)
  store<f32>(one, 1)
  for (let n: i32 = 0; n < N; n++) {
    transposedGradOfConv(job, n, F, OHW, dzT, scratch)
    tapRows(job, x + (<usize>(n * C) * <usize>(H * W) << 2), r0, r1, cols, false)
    gemmInPlace(r1 - r0, F, OHW, cols, OHW, 1, dzT, F, dwT, F, n > 0, 0, false)
    if (db != 0) gemmInPlace(1, F, OHW, one, 0, 0, dzT, F, db, F, n > 0, 0, false)
  }
}

// ---------------------------------------------------------------------------------------------
// The in-place product: C (+)= A·B with register tiles, no packing
// ---------------------------------------------------------------------------------------------

/**
 * C (m×n, rows `ldc` f32 apart) = A (m×k) · B (k×n), or C += A·B when `acc`: A's (i, p) is the
 * f32 at a + 4·(i·aRs + p·aCs) (splat-loaded; strides may be 0), B's row p starts at b + 4·p·bRs
 * and its columns are contiguous. Each C[i][j] starts from C (acc), from init[i] (init a nonzero
 * address) or from +0, and adds fl32(a·b) for p = 0, 1, …, k−1, one f32 multiply and one f32 add
 * each (no FMA): gemm32Reference's rounding; then max(·, +0) when `relu` (NaN stays NaN).
 * Rows go in tiles of 5 when m is a multiple of 5, else 4, the rest one at a time; columns in
 * strips of 8, then 4, then one.
 */
function gemmInPlace(
  m: i32, n: i32, k: i32, a: usize, aRs: i32, aCs: i32, b: usize, bRs: i32, c: usize, ldc: i32, acc: bool, init: usize, relu: bool,
): void {
  const aRsB = <usize>aRs << 2
  const aCsB = <usize>aCs << 2
  const bRsB = <usize>bRs << 2
  const ldcB = <usize>ldc << 2
  const R: i32 = m % 5 == 0 ? 5 : 4
  const mR = m - m % R // rows in whole R-row tiles
  // Column strips of 8, then 4, outside (a strip of B stays in cache while A's row tiles pass).
  let j: i32 = 0
  for (; j + 8 <= n; j += 8) {
    const bj = b + (<usize>j << 2)
    let i: i32 = 0
    for (; i < mR; i += R) {
      const ai = a + <usize>i * aRsB
      const ci = c + <usize>i * ldcB + (<usize>j << 2)
      if (R == 5) tile5x8(k, ai, aRsB, aCsB, bj, bRsB, ci, ldcB, acc, row(init, i), relu)
      else tile4x8(k, ai, aRsB, aCsB, bj, bRsB, ci, ldcB, acc, row(init, i), relu)
    }
    for (; i < m; i++) tile1x8(k, a + <usize>i * aRsB, aCsB, bj, bRsB, c + <usize>i * ldcB + (<usize>j << 2), acc, row(init, i), relu)
  }
  if (j + 4 <= n) {
    const bj = b + (<usize>j << 2)
    let i: i32 = 0
    for (; i < mR; i += R) {
      const ai = a + <usize>i * aRsB
      const ci = c + <usize>i * ldcB + (<usize>j << 2)
      if (R == 5) tile5x4(k, ai, aRsB, aCsB, bj, bRsB, ci, ldcB, acc, row(init, i), relu)
      else tile4x4(k, ai, aRsB, aCsB, bj, bRsB, ci, ldcB, acc, row(init, i), relu)
    }
    for (; i < m; i++) dots(k, a + <usize>i * aRsB, aCsB, b, bRsB, c + <usize>i * ldcB, j, j + 4, acc, row(init, i), relu)
    j += 4
  }
  for (let i: i32 = 0; i < m; i++) dots(k, a + <usize>i * aRsB, aCsB, b, bRsB, c + <usize>i * ldcB, j, n, acc, row(init, i), relu)
}

/** Entries [j0, j1) of one row of C, one at a time (`dot`). */
function dots(k: i32, a: usize, aCsB: usize, b: usize, bRsB: usize, c: usize, j0: i32, j1: i32, acc: bool, init: usize, relu: bool): void {
  for (let j = j0; j < j1; j++) dot(k, a, aCsB, b + (<usize>j << 2), bRsB, c + (<usize>j << 2), acc, init, relu)
}

/** Row i's start values: init's i-th entry, or no address. */
@inline function row(init: usize, i: i32): usize {
  return init == 0 ? 0 : init + (<usize>i << 2)
}

/** The 5x8 tile of C at c: ten f32x4 accumulators (row r: columns 0-3 and 4-7); per step two loads of B, five splats of A. */
function tile5x8(
  k: i32, a: usize, aRsB: usize, aCsB: usize, b: usize, bRsB: usize, c: usize, ldcB: usize, acc: bool, init: usize, relu: bool,
): void {
  const zero = f32x4.splat(0)
  let q00 = zero, q01 = zero, q10 = zero, q11 = zero, q20 = zero, q21 = zero, q30 = zero, q31 = zero, q40 = zero, q41 = zero
  const c1 = c + ldcB, c2 = c1 + ldcB, c3 = c2 + ldcB, c4 = c3 + ldcB
  if (acc) {
    q00 = v128.load(c); q01 = v128.load(c, 16)
    q10 = v128.load(c1); q11 = v128.load(c1, 16)
    q20 = v128.load(c2); q21 = v128.load(c2, 16)
    q30 = v128.load(c3); q31 = v128.load(c3, 16)
    q40 = v128.load(c4); q41 = v128.load(c4, 16)
  } else if (init != 0) {
    q00 = v128.load32_splat(init, 0); q01 = q00
    q10 = v128.load32_splat(init, 4); q11 = q10
    q20 = v128.load32_splat(init, 8); q21 = q20
    q30 = v128.load32_splat(init, 12); q31 = q30
    q40 = v128.load32_splat(init, 16); q41 = q40
  }
  let a0 = a
  if (aRsB == 4) {
    // A's rows side by side (a step's entries contiguous): the splats at fixed offsets, no address arithmetic
    for (let p: i32 = 0; p < k; p++) {
      const b0 = v128.load(b)
      const b1 = v128.load(b, 16)
      let x = v128.load32_splat(a0)
      q00 = f32x4.add(q00, f32x4.mul(x, b0))
      q01 = f32x4.add(q01, f32x4.mul(x, b1))
      x = v128.load32_splat(a0, 4)
      q10 = f32x4.add(q10, f32x4.mul(x, b0))
      q11 = f32x4.add(q11, f32x4.mul(x, b1))
      x = v128.load32_splat(a0, 8)
      q20 = f32x4.add(q20, f32x4.mul(x, b0))
      q21 = f32x4.add(q21, f32x4.mul(x, b1))
      x = v128.load32_splat(a0, 12)
      q30 = f32x4.add(q30, f32x4.mul(x, b0))
      q31 = f32x4.add(q31, f32x4.mul(x, b1))
      x = v128.load32_splat(a0, 16)
      q40 = f32x4.add(q40, f32x4.mul(x, b0))
      q41 = f32x4.add(q41, f32x4.mul(x, b1))
      a0 += aCsB
      b += bRsB
    }
  } else {
    const o1 = aRsB, o2 = aRsB + aRsB, o3 = o2 + aRsB, o4 = o3 + aRsB
    for (let p: i32 = 0; p < k; p++) {
      const b0 = v128.load(b)
      const b1 = v128.load(b, 16)
      let x = v128.load32_splat(a0)
      q00 = f32x4.add(q00, f32x4.mul(x, b0))
      q01 = f32x4.add(q01, f32x4.mul(x, b1))
      x = v128.load32_splat(a0 + o1)
      q10 = f32x4.add(q10, f32x4.mul(x, b0))
      q11 = f32x4.add(q11, f32x4.mul(x, b1))
      x = v128.load32_splat(a0 + o2)
      q20 = f32x4.add(q20, f32x4.mul(x, b0))
      q21 = f32x4.add(q21, f32x4.mul(x, b1))
      x = v128.load32_splat(a0 + o3)
      q30 = f32x4.add(q30, f32x4.mul(x, b0))
      q31 = f32x4.add(q31, f32x4.mul(x, b1))
      x = v128.load32_splat(a0 + o4)
      q40 = f32x4.add(q40, f32x4.mul(x, b0))
      q41 = f32x4.add(q41, f32x4.mul(x, b1))
      a0 += aCsB
      b += bRsB
    }
  }
  if (relu) {
    q00 = f32x4.max(q00, zero); q01 = f32x4.max(q01, zero)
    q10 = f32x4.max(q10, zero); q11 = f32x4.max(q11, zero)
    q20 = f32x4.max(q20, zero); q21 = f32x4.max(q21, zero)
    q30 = f32x4.max(q30, zero); q31 = f32x4.max(q31, zero)
    q40 = f32x4.max(q40, zero); q41 = f32x4.max(q41, zero)
  }
  v128.store(c, q00); v128.store(c, q01, 16)
  v128.store(c1, q10); v128.store(c1, q11, 16)
  v128.store(c2, q20); v128.store(c2, q21, 16)
  v128.store(c3, q30); v128.store(c3, q31, 16)
  v128.store(c4, q40); v128.store(c4, q41, 16)
}

/** The 4x8 tile: eight accumulators; per step two loads of B, four splats of A. */
function tile4x8(
  k: i32, a: usize, aRsB: usize, aCsB: usize, b: usize, bRsB: usize, c: usize, ldcB: usize, acc: bool, init: usize, relu: bool,
): void {
  const zero = f32x4.splat(0)
  let q00 = zero, q01 = zero, q10 = zero, q11 = zero, q20 = zero, q21 = zero, q30 = zero, q31 = zero
  const c1 = c + ldcB, c2 = c1 + ldcB, c3 = c2 + ldcB
  if (acc) {
    q00 = v128.load(c); q01 = v128.load(c, 16)
    q10 = v128.load(c1); q11 = v128.load(c1, 16)
    q20 = v128.load(c2); q21 = v128.load(c2, 16)
    q30 = v128.load(c3); q31 = v128.load(c3, 16)
  } else if (init != 0) {
    q00 = v128.load32_splat(init, 0); q01 = q00
    q10 = v128.load32_splat(init, 4); q11 = q10
    q20 = v128.load32_splat(init, 8); q21 = q20
    q30 = v128.load32_splat(init, 12); q31 = q30
  }
  let a0 = a
  if (aRsB == 4) {
    // A's rows side by side (a step's entries contiguous): the splats at fixed offsets, no address arithmetic
    for (let p: i32 = 0; p < k; p++) {
      const b0 = v128.load(b)
      const b1 = v128.load(b, 16)
      let x = v128.load32_splat(a0)
      q00 = f32x4.add(q00, f32x4.mul(x, b0))
      q01 = f32x4.add(q01, f32x4.mul(x, b1))
      x = v128.load32_splat(a0, 4)
      q10 = f32x4.add(q10, f32x4.mul(x, b0))
      q11 = f32x4.add(q11, f32x4.mul(x, b1))
      x = v128.load32_splat(a0, 8)
      q20 = f32x4.add(q20, f32x4.mul(x, b0))
      q21 = f32x4.add(q21, f32x4.mul(x, b1))
      x = v128.load32_splat(a0, 12)
      q30 = f32x4.add(q30, f32x4.mul(x, b0))
      q31 = f32x4.add(q31, f32x4.mul(x, b1))
      a0 += aCsB
      b += bRsB
    }
  } else {
    const o1 = aRsB, o2 = aRsB + aRsB, o3 = o2 + aRsB
    for (let p: i32 = 0; p < k; p++) {
      const b0 = v128.load(b)
      const b1 = v128.load(b, 16)
      let x = v128.load32_splat(a0)
      q00 = f32x4.add(q00, f32x4.mul(x, b0))
      q01 = f32x4.add(q01, f32x4.mul(x, b1))
      x = v128.load32_splat(a0 + o1)
      q10 = f32x4.add(q10, f32x4.mul(x, b0))
      q11 = f32x4.add(q11, f32x4.mul(x, b1))
      x = v128.load32_splat(a0 + o2)
      q20 = f32x4.add(q20, f32x4.mul(x, b0))
      q21 = f32x4.add(q21, f32x4.mul(x, b1))
      x = v128.load32_splat(a0 + o3)
      q30 = f32x4.add(q30, f32x4.mul(x, b0))
      q31 = f32x4.add(q31, f32x4.mul(x, b1))
      a0 += aCsB
      b += bRsB
    }
  }
  if (relu) {
    q00 = f32x4.max(q00, zero); q01 = f32x4.max(q01, zero)
    q10 = f32x4.max(q10, zero); q11 = f32x4.max(q11, zero)
    q20 = f32x4.max(q20, zero); q21 = f32x4.max(q21, zero)
    q30 = f32x4.max(q30, zero); q31 = f32x4.max(q31, zero)
  }
  v128.store(c, q00); v128.store(c, q01, 16)
  v128.store(c1, q10); v128.store(c1, q11, 16)
  v128.store(c2, q20); v128.store(c2, q21, 16)
  v128.store(c3, q30); v128.store(c3, q31, 16)
}

/** The 5x4 tile (the last four columns): five accumulators. */
function tile5x4(
  k: i32, a: usize, aRsB: usize, aCsB: usize, b: usize, bRsB: usize, c: usize, ldcB: usize, acc: bool, init: usize, relu: bool,
): void {
  const zero = f32x4.splat(0)
  let q0 = zero, q1 = zero, q2 = zero, q3 = zero, q4 = zero
  const c1 = c + ldcB, c2 = c1 + ldcB, c3 = c2 + ldcB, c4 = c3 + ldcB
  if (acc) {
    q0 = v128.load(c); q1 = v128.load(c1); q2 = v128.load(c2); q3 = v128.load(c3); q4 = v128.load(c4)
  } else if (init != 0) {
    q0 = v128.load32_splat(init, 0)
    q1 = v128.load32_splat(init, 4)
    q2 = v128.load32_splat(init, 8)
    q3 = v128.load32_splat(init, 12)
    q4 = v128.load32_splat(init, 16)
  }
  let a0 = a
  const o1 = aRsB, o2 = aRsB + aRsB, o3 = o2 + aRsB, o4 = o3 + aRsB
  for (let p: i32 = 0; p < k; p++) {
    const b0 = v128.load(b)
    q0 = f32x4.add(q0, f32x4.mul(v128.load32_splat(a0), b0))
    q1 = f32x4.add(q1, f32x4.mul(v128.load32_splat(a0 + o1), b0))
    q2 = f32x4.add(q2, f32x4.mul(v128.load32_splat(a0 + o2), b0))
    q3 = f32x4.add(q3, f32x4.mul(v128.load32_splat(a0 + o3), b0))
    q4 = f32x4.add(q4, f32x4.mul(v128.load32_splat(a0 + o4), b0))
    a0 += aCsB
    b += bRsB
  }
  if (relu) {
    q0 = f32x4.max(q0, zero)
    q1 = f32x4.max(q1, zero)
    q2 = f32x4.max(q2, zero)
    q3 = f32x4.max(q3, zero)
    q4 = f32x4.max(q4, zero)
  }
  v128.store(c, q0); v128.store(c1, q1); v128.store(c2, q2); v128.store(c3, q3); v128.store(c4, q4)
}

/** The 4x4 tile (the last four columns): four accumulators. */
function tile4x4(
  k: i32, a: usize, aRsB: usize, aCsB: usize, b: usize, bRsB: usize, c: usize, ldcB: usize, acc: bool, init: usize, relu: bool,
): void {
  const zero = f32x4.splat(0)
  let q0 = zero, q1 = zero, q2 = zero, q3 = zero
  const c1 = c + ldcB, c2 = c1 + ldcB, c3 = c2 + ldcB
  if (acc) {
    q0 = v128.load(c); q1 = v128.load(c1); q2 = v128.load(c2); q3 = v128.load(c3)
  } else if (init != 0) {
    q0 = v128.load32_splat(init, 0)
    q1 = v128.load32_splat(init, 4)
    q2 = v128.load32_splat(init, 8)
    q3 = v128.load32_splat(init, 12)
  }
  let a0 = a
  const o1 = aRsB, o2 = aRsB + aRsB, o3 = o2 + aRsB
  for (let p: i32 = 0; p < k; p++) {
    const b0 = v128.load(b)
    q0 = f32x4.add(q0, f32x4.mul(v128.load32_splat(a0), b0))
    q1 = f32x4.add(q1, f32x4.mul(v128.load32_splat(a0 + o1), b0))
    q2 = f32x4.add(q2, f32x4.mul(v128.load32_splat(a0 + o2), b0))
    q3 = f32x4.add(q3, f32x4.mul(v128.load32_splat(a0 + o3), b0))
    a0 += aCsB
    b += bRsB
  }
  if (relu) {
    q0 = f32x4.max(q0, zero)
    q1 = f32x4.max(q1, zero)
    q2 = f32x4.max(q2, zero)
    q3 = f32x4.max(q3, zero)
  }
  v128.store(c, q0); v128.store(c1, q1); v128.store(c2, q2); v128.store(c3, q3)
}

/** One row by 8 columns: two accumulators. */
function tile1x8(k: i32, a: usize, aCsB: usize, b: usize, bRsB: usize, c: usize, acc: bool, init: usize, relu: bool): void {
  let q0 = f32x4.splat(0), q1 = f32x4.splat(0)
  if (acc) {
    q0 = v128.load(c); q1 = v128.load(c, 16)
  } else if (init != 0) {
    q0 = v128.load32_splat(init); q1 = q0
  }
  for (let p: i32 = 0; p < k; p++) {
    const x = v128.load32_splat(a)
    q0 = f32x4.add(q0, f32x4.mul(x, v128.load(b)))
    q1 = f32x4.add(q1, f32x4.mul(x, v128.load(b, 16)))
    a += aCsB
    b += bRsB
  }
  if (relu) {
    const zero = f32x4.splat(0)
    q0 = f32x4.max(q0, zero); q1 = f32x4.max(q1, zero)
  }
  v128.store(c, q0); v128.store(c, q1, 16)
}

/** One entry of C: the same sum, one f32 multiply and one f32 add per step. */
function dot(k: i32, a: usize, aCsB: usize, b: usize, bRsB: usize, c: usize, acc: bool, init: usize, relu: bool): void {
  let s: f32 = acc ? load<f32>(c) : init != 0 ? load<f32>(init) : 0
  for (let p: i32 = 0; p < k; p++) {
    s = s + load<f32>(a) * load<f32>(b)
    a += aCsB
    b += bRsB
  }
  store<f32>(c, relu ? max(s, 0) : s)
}

/**
 * im2col (toImage false) of rows [r0, r1) of one sample's im2col matrix into cols (OH·OW per row,
 * padding written as +0), or col2im (toImage true): each entry of those rows added onto its pixel,
 * rows in order. The tap table is ./conv.ts's. col2im writes +0 over its buffer's padding entries.
 */
function tapRows(job: usize, image: usize, r0: i32, r1: i32, cols: usize, toImage: bool): void {
  const W = field(job, J_W), SH = field(job, J_SH), SW = field(job, J_SW), OH = field(job, J_OH), OW = field(job, J_OW)
  const ld = OH * OW
  const shifted = SH == 1 && SW == 1 && OW == W
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
      // One block: the row's entries that wrapped around from the neighbouring image row are padding
      // (+0 in cols; col2im clears them in its own buffer and adds +0 there, which changes no pixel:
      // a pixel summed from +0 is never −0).
      const first = ohLo * OW + owLo
      const count = (ohHi - 1) * OW + owHi - first
      if (!toImage) memory.copy(row + (<usize>first << 2), src + (<usize>first << 2), <usize>count << 2)
      if (owLo > 0 || owHi < OW) {
        for (let oh = ohLo; oh < ohHi; oh++) {
          const d = row + (<usize>(oh * OW) << 2)
          for (let ow: i32 = 0; ow < owLo; ow++) store<f32>(d + (<usize>ow << 2), 0)
          for (let ow = owHi; ow < OW; ow++) store<f32>(d + (<usize>ow << 2), 0)
        }
      }
      if (toImage) addTo(src + (<usize>first << 2), row + (<usize>first << 2), count)
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

/** dy_n, or with a fused relu dy_n where y_n > 0, else +0 (written into this thread's scratch); with J_POOL, pooledGradOfConv. */
function gradOfConv(job: usize, n: i32, count: i32, scratch: usize): usize {
  if (field(job, J_POOL) != 0) return pooledGradOfConv(job, n, count, scratch)
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

/**
 * dz_nᵀ (OH·OW × F, row-major) at dzT: dy_n transposed, or with a fused relu dy_n where y_n > 0,
 * else +0 (with relu and pooling fused, pooledGradByWindows's dz_n transposed, else pooledGradOfConvT's).
 * Four filters by four positions at a
 * time (a 4x4 transpose in registers), the rest one by one.
 */
function transposedGradOfConv(job: usize, n: i32, F: i32, P: i32, dzT: usize, scratch: usize): void {
  const count = F * P
  let dyn = <usize>field(job, J_Y) + (<usize>(n * count) << 2)
  let masked = field(job, J_RELU) != 0
  if (field(job, J_POOL) != 0) {
    const dz = scratch + <usize>field(job, J_DZ)
    if (!pooledGradByWindows(job, n, dz)) return pooledGradOfConvT(job, n, F, P, dzT)
    dyn = dz // then transposed as it is
    masked = false
  }
  const yn = <usize>field(job, J_ACTY) + (<usize>(n * count) << 2)
  const zero = f32x4.splat(0)
  const rowB = <usize>P << 2
  const outB = <usize>F << 2
  let f: i32 = 0
  for (; f + 4 <= F; f += 4) {
    const d0 = dyn + <usize>f * rowB
    const y0 = yn + <usize>f * rowB
    let p: i32 = 0
    for (; p + 4 <= P; p += 4) {
      const o = <usize>p << 2
      let v0 = v128.load(d0 + o)
      let v1 = v128.load(d0 + rowB + o)
      let v2 = v128.load(d0 + 2 * rowB + o)
      let v3 = v128.load(d0 + 3 * rowB + o)
      if (masked) {
        v0 = v128.and(v0, f32x4.gt(v128.load(y0 + o), zero))
        v1 = v128.and(v1, f32x4.gt(v128.load(y0 + rowB + o), zero))
        v2 = v128.and(v2, f32x4.gt(v128.load(y0 + 2 * rowB + o), zero))
        v3 = v128.and(v3, f32x4.gt(v128.load(y0 + 3 * rowB + o), zero))
      }
      const t0 = v128.shuffle<i32>(v0, v1, 0, 4, 1, 5)
      const t1 = v128.shuffle<i32>(v0, v1, 2, 6, 3, 7)
      const t2 = v128.shuffle<i32>(v2, v3, 0, 4, 1, 5)
      const t3 = v128.shuffle<i32>(v2, v3, 2, 6, 3, 7)
      const d = dzT + <usize>p * outB + (<usize>f << 2)
      v128.store(d, v128.shuffle<i32>(t0, t2, 0, 1, 4, 5))
      v128.store(d + outB, v128.shuffle<i32>(t0, t2, 2, 3, 6, 7))
      v128.store(d + 2 * outB, v128.shuffle<i32>(t1, t3, 0, 1, 4, 5))
      v128.store(d + 3 * outB, v128.shuffle<i32>(t1, t3, 2, 3, 6, 7))
    }
    for (; p < P; p++) {
      for (let r: i32 = 0; r < 4; r++) transposeOne(dyn, yn, masked, f + r, p, P, F, dzT)
    }
  }
  for (; f < F; f++) {
    for (let p: i32 = 0; p < P; p++) transposeOne(dyn, yn, masked, f, p, P, F, dzT)
  }
}

/** dzT[p][f] = dy[f][p], or with the mask y[f][p] > 0 ? dy[f][p] : +0. */
@inline function transposeOne(dyn: usize, yn: usize, masked: bool, f: i32, p: i32, P: i32, F: i32, dzT: usize): void {
  const at = <usize>(f * P + p) << 2
  const v = load<f32>(dyn + at)
  store<f32>(dzT + (<usize>(p * F + f) << 2), masked && !(load<f32>(yn + at) > 0) ? 0 : v)
}

/**
 * With relu and pooling fused: the gradient at the conv's output for sample n, in this thread's
 * scratch, as the pool's and relu's vjps give it: +0, then for each pooled output q of the sample,
 * in order, dy[q] added (one f32 add) onto its argmax (−1 where the value, the relu output there,
 * is not > 0: nothing). An argmax outside the sample's block is skipped (as −1 is).
 */
function pooledGradOfConv(job: usize, n: i32, count: i32, scratch: usize): usize {
  const dz = scratch + <usize>field(job, J_DZ)
  if (pooledGradByWindows(job, n, dz)) return dz
  fill(dz, 0, count)
  const Q = field(job, J_F) * (field(job, J_OH) >> 1) * (field(job, J_OW) >> 1)
  const q0 = <usize>(n * Q) << 2
  const dy = <usize>field(job, J_PY) + q0
  const argmax = <usize>field(job, J_PARGMAX) + q0
  const k0 = n * count
  for (let q: i32 = 0; q < Q; q++) {
    const o = <usize>q << 2
    const k = load<i32>(argmax + o) - k0
    if (<u32>k < <u32>count) {
      const e = dz + (<usize>k << 2)
      store<f32>(e, load<f32>(e) + load<f32>(dy + o))
    }
  }
  return dz
}

/**
 * pooledGradOfConv's dz_n in one vector pass, for the common case: written window by window, four
 * windows at a time, +0 + dy[q] at the window's argmax and +0 at its three other entries, which
 * are pooledGradOfConv's values (each entry lies in one window, so it receives at most one add).
 * False, having written part of dz, where that does not apply: OH or OW odd, fewer than four
 * windows a row, or an argmax other than −1 outside its own window (a tape the forward pass did
 * not write). A row whose width is not a multiple of 4 ends with its last four windows, some of
 * them again (the same values written twice).
 */
function pooledGradByWindows(job: usize, n: i32, dz: usize): bool {
  const F = field(job, J_F), OH = field(job, J_OH), OW = field(job, J_OW)
  const PH = OH >> 1, PW = OW >> 1
  if ((OH & 1) != 0 || (OW & 1) != 0 || PW < 4) return false
  const P = OH * OW
  const q0 = <usize>(n * F * PH * PW) << 2
  const dy = <usize>field(job, J_PY) + q0
  const argmax = <usize>field(job, J_PARGMAX) + q0
  const zero = f32x4.splat(0)
  const none = i32x4.splat(-1), right = i32x4.splat(1), below = i32x4.splat(OW), belowRight = i32x4.splat(OW + 1)
  const lanes = i32x4(0, 2, 4, 6)
  const rowB = <usize>OW << 2
  let stray = zero // lanes whose argmax is neither −1 nor in its window
  for (let f: i32 = 0; f < F; f++) {
    for (let ph: i32 = 0; ph < PH; ph++) {
      const q = (f * PH + ph) * PW
      const corner = f * P + 2 * ph * OW // the row's first window's top-left entry in dz_n
      for (let pw: i32 = 0; ; pw = min(pw + 4, PW - 4)) {
        const o = <usize>(q + pw) << 2
        const a = v128.load(argmax + o)
        const d = f32x4.add(zero, v128.load(dy + o))
        const at = i32x4.sub(a, i32x4.add(i32x4.splat(n * F * P + corner + 2 * pw), lanes))
        const m00 = i32x4.eq(at, zero), m01 = i32x4.eq(at, right), m10 = i32x4.eq(at, below), m11 = i32x4.eq(at, belowRight)
        stray = v128.or(stray, v128.andnot(i32x4.ne(a, none), v128.or(v128.or(m00, m01), v128.or(m10, m11))))
        const v00 = v128.and(d, m00), v01 = v128.and(d, m01), v10 = v128.and(d, m10), v11 = v128.and(d, m11)
        const e = dz + (<usize>(corner + 2 * pw) << 2)
        v128.store(e, v128.shuffle<f32>(v00, v01, 0, 4, 1, 5))
        v128.store(e, v128.shuffle<f32>(v00, v01, 2, 6, 3, 7), 16)
        v128.store(e + rowB, v128.shuffle<f32>(v10, v11, 0, 4, 1, 5))
        v128.store(e + rowB, v128.shuffle<f32>(v10, v11, 2, 6, 3, 7), 16)
        if (pw == PW - 4) break
      }
    }
  }
  return !v128.any_true(stray)
}

/** pooledGradOfConv's dz_n, written transposed (OH·OW × F) at dzT: the same adds in the same order, onto +0. */
function pooledGradOfConvT(job: usize, n: i32, F: i32, P: i32, dzT: usize): void {
  const count = F * P
  fill(dzT, 0, count)
  const Qf = (field(job, J_OH) >> 1) * (field(job, J_OW) >> 1) // pooled outputs per filter
  const q0 = <usize>(n * F * Qf) << 2
  const dy = <usize>field(job, J_PY) + q0
  const argmax = <usize>field(job, J_PARGMAX) + q0
  const k0 = n * count
  let o: usize = 0
  for (let f: i32 = 0; f < F; f++) {
    for (let q: i32 = 0; q < Qf; q++, o += 4) {
      const k = load<i32>(argmax + o) - k0
      if (<u32>k < <u32>count) {
        let kf = f // the filter of the conv output the argmax points at: f, unless a tape the forward did not write
        let at = k - f * P
        if (<u32>at >= <u32>P) {
          kf = k / P
          at = k - kf * P
        }
        const e = dzT + (<usize>(at * F + kf) << 2)
        store<f32>(e, load<f32>(e) + load<f32>(dy + o))
      }
    }
  }
}

/** argmax[q] = −1 where y[q] > 0 is false (NaN included), for count outputs. */
function noGradientWhereNotPositive(y: usize, argmax: usize, count: i32): void {
  const zero = f32x4.splat(0)
  const none = i32x4.splat(-1)
  let q: i32 = 0
  for (; q + 4 <= count; q += 4) {
    const o = <usize>q << 2
    v128.store(argmax + o, v128.bitselect(v128.load(argmax + o), none, f32x4.gt(v128.load(y + o), zero)))
  }
  for (; q < count; q++) {
    const o = <usize>q << 2
    if (!(load<f32>(y + o) > 0)) store<i32>(argmax + o, -1)
  }
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
