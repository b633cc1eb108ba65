/**
 * chainrule's float32 WebAssembly GEMM, in AssemblyScript: C (+)= A·B on f32, BLIS-style, with a
 * 5x8 register tile in f32x4 SIMD (ten accumulators). The same loop nest and packing as the f64
 * GEMM of ./gemm.ts (read that one first), with three differences:
 * - the tile is 5 rows by 8 columns: per k step two loads of B (8 columns), five splat-loads of
 *   A, ten f32x4 multiplies and ten adds;
 * - edge tiles (fewer than 5 rows or 8 columns left) go through a small scratch tile, so the
 *   kernel writes exactly the m×n entries of C and nothing else (no scratch rows in C);
 * - one entry, `gemm32Part`, runs one chunk (a block of rows or of columns) of a product described
 *   by a job block, so that one thread or two can share a product's chunks (`part` of ./index.ts).
 *
 * Rounding: each C[i][j] starts from C (zero on the first k slice when not accumulating) and
 * adds fl32(a·b) for p = 0, 1, …, k-1 in order, one f32x4.mul and one f32x4.add per term (no
 * FMA): the rounding of src/kernels/gemm32.ts's gemm32Reference, bit for bit.
 */

/** Rows of A (and of C) per packed panel and register tile. */
const MR: i32 = 5
/** Columns of B (and of C) per packed panel and register tile. */
const NR: i32 = 8

// The job block: i32 fields, in this order (src/kernels/wasm/gemm32.ts writes the same layout).
const G_M = 0 //      C is m×n, the sum k deep
const G_N = 1
const G_K = 2
const G_A = 3 //      A: byte address of (0, 0), row and column strides in elements
const G_ARS = 4
const G_ACS = 5
const G_B = 6 //      B: likewise
const G_BRS = 7
const G_BCS = 8
const G_C = 9 //      C: byte address, rows ldc elements apart
const G_LDC = 10
const G_ACC = 11 //   1: C += A·B
const G_MC = 12 //    cache blocks
const G_KC = 13
const G_NC = 14
const G_BY_ROWS = 15 // 1: chunks are blocks of rows; 0: of columns
const G_CHUNK = 16 //   rows or columns per chunk
const G_PACKB = 17 //   byte offset, in a thread's scratch, of its B packing workspace (A's is at 0)
const G_EDGE = 18 //    byte offset, in a thread's scratch, of its edge tile (MR·NR f32)
const G_C0 = 19 //      when accumulating: byte address of C's values before the product (rows ldc apart), else 0

@inline function field(job: usize, i: i32): i32 {
  return load<i32>(job + (<usize>i << 2))
}

/**
 * Chunk `index` of the product at `job`, with this thread's workspace at `scratch`. A chunk reads
 * only the job's inputs (A, B, and C's values before the product, copied into its block of C
 * first when accumulating) and writes only its block of C, so running it again gives the same bits.
 */
export function gemm32Part(job: usize, index: i32, scratch: usize): void {
  const m = field(job, G_M), n = field(job, G_N), k = field(job, G_K)
  let a = <usize>field(job, G_A)
  let b = <usize>field(job, G_B)
  let c = <usize>field(job, G_C)
  const aRs = field(job, G_ARS), aCs = field(job, G_ACS)
  const bRs = field(job, G_BRS), bCs = field(job, G_BCS)
  const ldc = field(job, G_LDC)
  const chunk = field(job, G_CHUNK)
  const at = index * chunk
  let c0 = <usize>field(job, G_C0)
  let rows = m, cols = n
  if (field(job, G_BY_ROWS) != 0) {
    rows = min(chunk, m - at)
    a += <usize>(at * aRs) << 2
    c += (<usize>at * <usize>ldc) << 2
    c0 += (<usize>at * <usize>ldc) << 2
  } else {
    cols = min(chunk, n - at)
    b += <usize>(at * bCs) << 2
    c += <usize>at << 2
    c0 += <usize>at << 2
  }
  if (field(job, G_C0) != 0) {
    for (let i: i32 = 0; i < rows; i++) {
      const o = (<usize>i * <usize>ldc) << 2
      memory.copy(c + o, c0 + o, <usize>cols << 2)
    }
  }
  gemm32(rows, cols, k, a, aRs, aCs, b, bRs, bCs, c, ldc, field(job, G_ACC),
    field(job, G_MC), field(job, G_KC), field(job, G_NC),
    scratch, scratch + <usize>field(job, G_PACKB), scratch + <usize>field(job, G_EDGE))
}

/**
 * C (m×n, rows `ldc` elements apart) = A (m×k) · B (k×n), or C += A·B when `accumulate` is
 * nonzero; element (i, j) of A is the f32 at a + 4·(i·aRs + j·aCs), likewise B. The caller
 * guarantees m, n, k ≥ 1; mcMax a positive multiple of MR, ncMax of NR, kcMax ≥ 1; packA room for
 * min(mcMax, ⌈m⌉₅)·min(kcMax, k) f32, packB for min(ncMax, ⌈n⌉₈)·min(kcMax, k) f32, edge for
 * MR·NR f32, all 16-byte aligned. Only the m×n entries of C are read (when adding) and written.
 */
export function gemm32(
  m: i32, n: i32, k: i32,
  a: usize, aRs: i32, aCs: i32,
  b: usize, bRs: i32, bCs: i32,
  c: usize, ldc: i32,
  accumulate: i32,
  mcMax: i32, kcMax: i32, ncMax: i32,
  packA: usize, packB: usize, edge: usize,
): void {
  const ldcBytes = <usize>ldc << 2
  for (let jc: i32 = 0; jc < n; jc += ncMax) {
    const nc = min(ncMax, n - jc)
    for (let pc: i32 = 0; pc < k; pc += kcMax) {
      const kc = min(kcMax, k - pc)
      // B's column panels are the row panels of Bᵀ: swapping the strides is the transpose.
      pack(b + (<usize>(pc * bRs + jc * bCs) << 2), bCs, bRs, nc, kc, NR, packB)
      const addToC = accumulate != 0 || pc > 0
      for (let ic: i32 = 0; ic < m; ic += mcMax) {
        const mc = min(mcMax, m - ic)
        pack(a + (<usize>(ic * aRs + pc * aCs) << 2), aRs, aCs, mc, kc, MR, packA)
        macroKernel(mc, nc, kc, packA, packB, c + ((<usize>ic * <usize>ldc + <usize>jc) << 2), ldcBytes, addToC, edge)
      }
    }
  }
}

/**
 * Packs the rows×kc block at `src` (strides rs, cs in elements) into ⌈rows/w⌉ panels, w rows
 * tall and k-major: panel q holds row q·w + r, step p at dst[(q·w·kc + p·w + r)·4]. Rows past
 * the block are zeros.
 */
function pack(src: usize, rs: i32, cs: i32, rows: i32, kc: i32, w: i32, dst: usize): void {
  const rsB = <usize>rs << 2 // byte strides (negative strides wrap, which address arithmetic undoes)
  const csB = <usize>cs << 2
  for (let ir: i32 = 0; ir < rows; ir += w) {
    const live = min(w, rows - ir)
    let s = src + <usize>ir * rsB
    if (live == w && rs == 1 && w == NR) {
      // The 8 values of one k step are contiguous (B row-major): two vector copies.
      for (let p: i32 = 0; p < kc; p++) {
        v128.store(dst, v128.load(s))
        v128.store(dst, v128.load(s, 16), 16)
        s += csB
        dst += 32
      }
    } else if (live == w && cs == 1 && w == MR) {
      // A row-major (each row's k steps contiguous): four k steps of the five rows at a time, a
      // 4x4 transpose of rows 0-3 (each column four values of one step) and row 4's four lanes.
      let p: i32 = 0
      for (; p + 4 <= kc; p += 4) {
        const r0 = v128.load(s)
        const r1 = v128.load(s + rsB)
        const r2 = v128.load(s + 2 * rsB)
        const r3 = v128.load(s + 3 * rsB)
        const r4 = v128.load(s + 4 * rsB)
        const t0 = v128.shuffle<i32>(r0, r1, 0, 4, 1, 5)
        const t1 = v128.shuffle<i32>(r0, r1, 2, 6, 3, 7)
        const t2 = v128.shuffle<i32>(r2, r3, 0, 4, 1, 5)
        const t3 = v128.shuffle<i32>(r2, r3, 2, 6, 3, 7)
        v128.store(dst, v128.shuffle<i32>(t0, t2, 0, 1, 4, 5))
        v128.store32_lane(dst, r4, 0, 16)
        v128.store(dst, v128.shuffle<i32>(t0, t2, 2, 3, 6, 7), 20)
        v128.store32_lane(dst, r4, 1, 36)
        v128.store(dst, v128.shuffle<i32>(t1, t3, 0, 1, 4, 5), 40)
        v128.store32_lane(dst, r4, 2, 56)
        v128.store(dst, v128.shuffle<i32>(t1, t3, 2, 3, 6, 7), 60)
        v128.store32_lane(dst, r4, 3, 76)
        s += 16
        dst += 80
      }
      for (; p < kc; p++) {
        let t = s
        for (let r: i32 = 0; r < w; r++) {
          store<f32>(dst + (<usize>r << 2), load<f32>(t))
          t += rsB
        }
        s += 4
        dst += <usize>w << 2
      }
    } else if (live == w && rs == 1 && w == MR) {
      // A transposed (Aᵀ of a row-major matrix: the 5 values of one k step are contiguous): a
      // vector copy of rows 0-3 and a scalar one of row 4 per step.
      for (let p: i32 = 0; p < kc; p++) {
        v128.store(dst, v128.load(s))
        store<f32>(dst, load<f32>(s, 16), 16)
        s += csB
        dst += 20
      }
    } else if (live == w && cs == 1 && w == NR) {
      // B transposed (each of the 8 panel rows' k steps contiguous): four k steps at a time, a
      // 4x4 transpose of rows 0-3 and one of rows 4-7 (each column four values of one step).
      let p: i32 = 0
      for (; p + 4 <= kc; p += 4) {
        for (let h: i32 = 0; h < 2; h++) {
          const sh = s + <usize>(h << 2) * rsB
          const r0 = v128.load(sh)
          const r1 = v128.load(sh + rsB)
          const r2 = v128.load(sh + 2 * rsB)
          const r3 = v128.load(sh + 3 * rsB)
          const t0 = v128.shuffle<i32>(r0, r1, 0, 4, 1, 5)
          const t1 = v128.shuffle<i32>(r0, r1, 2, 6, 3, 7)
          const t2 = v128.shuffle<i32>(r2, r3, 0, 4, 1, 5)
          const t3 = v128.shuffle<i32>(r2, r3, 2, 6, 3, 7)
          const d = dst + (<usize>h << 4)
          v128.store(d, v128.shuffle<i32>(t0, t2, 0, 1, 4, 5))
          v128.store(d, v128.shuffle<i32>(t0, t2, 2, 3, 6, 7), 32)
          v128.store(d, v128.shuffle<i32>(t1, t3, 0, 1, 4, 5), 64)
          v128.store(d, v128.shuffle<i32>(t1, t3, 2, 3, 6, 7), 96)
        }
        s += 16
        dst += 128
      }
      for (; p < kc; p++) {
        let t = s
        for (let r: i32 = 0; r < w; r++) {
          store<f32>(dst + (<usize>r << 2), load<f32>(t))
          t += rsB
        }
        s += 4
        dst += <usize>w << 2
      }
    } else if (live == w) {
      for (let p: i32 = 0; p < kc; p++) {
        let t = s
        for (let r: i32 = 0; r < w; r++) {
          store<f32>(dst + (<usize>r << 2), load<f32>(t))
          t += rsB
        }
        s += csB
        dst += <usize>w << 2
      }
    } else {
      for (let p: i32 = 0; p < kc; p++) {
        let t = s
        for (let r: i32 = 0; r < w; r++) {
          store<f32>(dst + (<usize>r << 2), r < live ? load<f32>(t) : <f32>0)
          t += rsB
        }
        s += csB
        dst += <usize>w << 2
      }
    }
  }
}

/**
 * C[0 : mc, 0 : nc] (+)= packed A block · packed B block, one MR×NR tile at a time. A tile at
 * the bottom or right edge runs on the scratch tile at `edge` (rows 32 bytes apart): C's live
 * entries copied in (when adding), the rest zero; then only the live entries copied back. A last
 * column panel at most 4 wide (C 10 wide: 8 + 2) runs `halfTile`, which skips the 4 padded
 * columns the full tile would multiply.
 */
function macroKernel(mc: i32, nc: i32, kc: i32, pa: usize, pb: usize, c: usize, ldcBytes: usize, addToC: bool, edge: usize): void {
  const panelA = <usize>kc * <usize>(MR << 2)
  const panelB = <usize>kc * <usize>(NR << 2)
  let bp = pb
  for (let jr: i32 = 0; jr < nc; jr += NR) {
    const nr = min(NR, nc - jr)
    let ap = pa
    for (let ir: i32 = 0; ir < mc; ir += MR) {
      const mr = min(MR, mc - ir)
      const ct = c + <usize>ir * ldcBytes + (<usize>jr << 2)
      if (mr == MR && nr == NR) {
        tile(kc, ap, bp, ct, ldcBytes, addToC)
      } else if (mr == MR && nr == 4) {
        halfTile(kc, ap, bp, ct, ldcBytes, addToC)
      } else {
        v128.store(edge, i32x4.splat(0)); v128.store(edge, i32x4.splat(0), 16)
        v128.store(edge, i32x4.splat(0), 32); v128.store(edge, i32x4.splat(0), 48)
        v128.store(edge, i32x4.splat(0), 64); v128.store(edge, i32x4.splat(0), 80)
        v128.store(edge, i32x4.splat(0), 96); v128.store(edge, i32x4.splat(0), 112)
        v128.store(edge, i32x4.splat(0), 128); v128.store(edge, i32x4.splat(0), 144)
        if (addToC) {
          for (let i: i32 = 0; i < mr; i++) {
            const row = ct + <usize>i * ldcBytes
            for (let j: i32 = 0; j < nr; j++) store<f32>(edge + (<usize>(i * NR + j) << 2), load<f32>(row + (<usize>j << 2)))
          }
        }
        if (nr <= 4) halfTile(kc, ap, bp, edge, NR << 2, addToC)
        else tile(kc, ap, bp, edge, NR << 2, addToC)
        for (let i: i32 = 0; i < mr; i++) {
          const row = ct + <usize>i * ldcBytes
          for (let j: i32 = 0; j < nr; j++) store<f32>(row + (<usize>j << 2), load<f32>(edge + (<usize>(i * NR + j) << 2)))
        }
      }
      ap += panelA
    }
    bp += panelB
  }
}

/**
 * The micro-kernel: the 5x8 tile of C at `c` (rows ldcBytes apart) plus Σ_p A[:, p]·B[p, :] over
 * one packed A panel (5 f32 per step) and one packed B panel (8 f32 per step), in ten f32x4
 * accumulators (row r: q{r}0 holds columns 0-3, q{r}1 columns 4-7). Starts from zero instead of C
 * when `addToC` is false. The loop runs until A's pointer reaches its end.
 */
function tile(kc: i32, ap: usize, bp: usize, c: usize, ldcBytes: usize, addToC: bool): void {
  const zero = f32x4.splat(0)
  let q00 = zero, q01 = zero, q10 = zero, q11 = zero, q20 = zero, q21 = zero
  let q30 = zero, q31 = zero, q40 = zero, q41 = zero
  const r1 = c + ldcBytes
  const r2 = r1 + ldcBytes
  const r3 = r2 + ldcBytes
  const r4 = r3 + ldcBytes
  if (addToC) {
    q00 = v128.load(c); q01 = v128.load(c, 16)
    q10 = v128.load(r1); q11 = v128.load(r1, 16)
    q20 = v128.load(r2); q21 = v128.load(r2, 16)
    q30 = v128.load(r3); q31 = v128.load(r3, 16)
    q40 = v128.load(r4); q41 = v128.load(r4, 16)
  }
  const end = ap + <usize>kc * <usize>(MR << 2)
  while (ap < end) {
    const b0 = v128.load(bp)
    const b1 = v128.load(bp, 16)
    let x = v128.load32_splat(ap)
    q00 = f32x4.add(q00, f32x4.mul(x, b0))
    q01 = f32x4.add(q01, f32x4.mul(x, b1))
    x = v128.load32_splat(ap, 4)
    q10 = f32x4.add(q10, f32x4.mul(x, b0))
    q11 = f32x4.add(q11, f32x4.mul(x, b1))
    x = v128.load32_splat(ap, 8)
    q20 = f32x4.add(q20, f32x4.mul(x, b0))
    q21 = f32x4.add(q21, f32x4.mul(x, b1))
    x = v128.load32_splat(ap, 12)
    q30 = f32x4.add(q30, f32x4.mul(x, b0))
    q31 = f32x4.add(q31, f32x4.mul(x, b1))
    x = v128.load32_splat(ap, 16)
    q40 = f32x4.add(q40, f32x4.mul(x, b0))
    q41 = f32x4.add(q41, f32x4.mul(x, b1))
    ap += MR << 2
    bp += NR << 2
  }
  v128.store(c, q00); v128.store(c, q01, 16)
  v128.store(r1, q10); v128.store(r1, q11, 16)
  v128.store(r2, q20); v128.store(r2, q21, 16)
  v128.store(r3, q30); v128.store(r3, q31, 16)
  v128.store(r4, q40); v128.store(r4, q41, 16)
}

/**
 * `tile` on the first 4 columns of a B panel only: five f32x4 accumulators, one load of B and
 * five splat-loads of A per step. The same sums in the same order, bit for bit.
 */
function halfTile(kc: i32, ap: usize, bp: usize, c: usize, ldcBytes: usize, addToC: bool): void {
  const zero = f32x4.splat(0)
  let q0 = zero, q1 = zero, q2 = zero, q3 = zero, q4 = zero
  const r1 = c + ldcBytes
  const r2 = r1 + ldcBytes
  const r3 = r2 + ldcBytes
  const r4 = r3 + ldcBytes
  if (addToC) {
    q0 = v128.load(c); q1 = v128.load(r1); q2 = v128.load(r2); q3 = v128.load(r3); q4 = v128.load(r4)
  }
  const end = ap + <usize>kc * <usize>(MR << 2)
  while (ap < end) {
    const b0 = v128.load(bp)
    q0 = f32x4.add(q0, f32x4.mul(v128.load32_splat(ap), b0))
    q1 = f32x4.add(q1, f32x4.mul(v128.load32_splat(ap, 4), b0))
    q2 = f32x4.add(q2, f32x4.mul(v128.load32_splat(ap, 8), b0))
    q3 = f32x4.add(q3, f32x4.mul(v128.load32_splat(ap, 12), b0))
    q4 = f32x4.add(q4, f32x4.mul(v128.load32_splat(ap, 16), b0))
    ap += MR << 2
    bp += NR << 2
  }
  v128.store(c, q0); v128.store(r1, q1); v128.store(r2, q2); v128.store(r3, q3); v128.store(r4, q4)
}
