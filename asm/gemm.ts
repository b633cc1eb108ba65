/**
 * chainrule's WebAssembly GEMM, written in AssemblyScript (compiled by scripts/build-wasm.ts;
 * this file is not TypeScript-checked: AssemblyScript has its own types, such as i32, usize, v128).
 *
 * One export, `gemm`: C += A·B (or C = A·B) on f64, BLIS-style, with a 4x4 register tile in
 * f64x2 SIMD. The module imports its memory and owns nothing in it: the caller
 * (src/kernels/wasm/gemm.ts) places A, B and C in that memory, reserves the two packing
 * workspaces, and passes byte addresses. Nothing here allocates, and no state survives a call.
 *
 * Loop nest (Goto & van de Geijn's, as in BLIS):
 *   for each nc-wide column block of B            (jc)
 *     for each kc-deep slice of k                 (pc)   pack B[pc.., jc..] into NR-wide panels
 *       for each mc-tall row block of A           (ic)   pack A[ic.., pc..] into MR-tall panels
 *         for each NR-wide panel of B             (jr)   (stays in L1 while ...)
 *           for each MR-tall panel of A           (ir)   (... the A block streams from L2)
 *             C[ir.., jr..] += A panel · B panel   (the micro-kernel, `tile`)
 * Packing reads A and B through row and column strides, so Aᵀ·B and A·Bᵀ cost nothing extra.
 *
 * Summation order: each tile of C starts from C (zero on the first slice when not accumulating)
 * and adds a·b for p = 0, 1, …, k-1 in order, one multiply and one add per term in each f64
 * lane (no FMA). So every C[i][j] sees the same roundings as the whiteboard loop
 * (gemmReference): the result is bit-identical to it.
 *
 * Why 4x4 and not 5x4: what limits the tile is V8's register allocation. TurboFan (V8 11.3,
 * Node 20) has 15 usable XMM registers and schedules all loads of the loop body at its top, before
 * the arithmetic, so every splatted A value is live at once: a 4x4 tile holds 8 accumulators +
 * 2 B vectors + 4 A values = 14 registers, while 5x4 needs 10 + 2 + 5 = 17 and spills three
 * accumulators per k step (disassembled with `node --print-wasm-code`). Measured at 512, one
 * thread, interleaved: 4x4 ~19.5 GFLOP/s, 5x4 ~11.5 (and ~17 with branches forcing the loads
 * apart). The floating-point pipes, not the loads, are the limit: per k step the 4x4 tile
 * issues 6 loads for 8 multiplies and 8 adds (4 cycles on two multiply and two add pipes, with
 * loads to spare), so the 5x4 tile's better ratio of loads to flops buys nothing here.
 * Unrolling k would put twice the loads at the top again (../shared/PERFORMANCE.md: -30%).
 */

/** Rows of A (and of C) per packed panel and register tile. */
const MR: i32 = 4
/** Columns of B (and of C) per packed panel and register tile. */
const NR: i32 = 4

/**
 * C (m×n, row-major with rows `ldc` elements apart) = A (m×k) · B (k×n), or C += A·B when
 * `accumulate` is nonzero. Element (i, j) of A is the f64 at a + 8·(i·aRs + j·aCs); likewise B.
 *
 * The caller guarantees: m, n, k ≥ 1; ldc ≥ n rounded up to a multiple of NR, and C has room
 * for m rounded up to a multiple of MR rows (every tile is a full 4x4 tile: the extra rows and
 * columns of C are scratch, never meaningful); mcMax a positive multiple of MR, ncMax of NR,
 * kcMax ≥ 1; packA has room for min(mcMax, ⌈m⌉₄)·min(kcMax, k) f64 and packB for
 * min(ncMax, ⌈n⌉₄)·min(kcMax, k) f64, both 16-byte aligned, as is C.
 */
export function gemm(
  m: i32, n: i32, k: i32,
  a: usize, aRs: i32, aCs: i32,
  b: usize, bRs: i32, bCs: i32,
  c: usize, ldc: i32,
  accumulate: i32,
  mcMax: i32, kcMax: i32, ncMax: i32,
  packA: usize, packB: usize,
): void {
  const ldcBytes = <usize>ldc << 3
  for (let jc: i32 = 0; jc < n; jc += ncMax) {
    const nc = min(ncMax, n - jc)
    for (let pc: i32 = 0; pc < k; pc += kcMax) {
      const kc = min(kcMax, k - pc)
      packPanelsB(b + (<usize>(pc * bRs + jc * bCs) << 3), bRs, bCs, kc, nc, packB)
      // The first slice starts from zero unless accumulating; later slices add to C.
      const addToC = accumulate != 0 || pc > 0
      for (let ic: i32 = 0; ic < m; ic += mcMax) {
        const mc = min(mcMax, m - ic)
        packPanelsA(a + (<usize>(ic * aRs + pc * aCs) << 3), aRs, aCs, mc, kc, packA)
        macroKernel(mc, nc, kc, packA, packB, c + ((<usize>ic * <usize>ldc + <usize>jc) << 3), ldcBytes, addToC)
      }
    }
  }
}

/**
 * Packs the mc×kc block of A at `src` into ⌈mc/MR⌉ panels, each MR rows tall and k-major:
 * panel q holds A[q·MR + r][p] at dst[(q·MR·kc + p·MR + r)·8]. Rows past mc are zeros.
 */
function packPanelsA(src: usize, rs: i32, cs: i32, mc: i32, kc: i32, dst: usize): void {
  const rsB = <usize>rs << 3 // byte strides (negative strides wrap, which address arithmetic undoes)
  const csB = <usize>cs << 3
  for (let ir: i32 = 0; ir < mc; ir += MR) {
    const rows = mc - ir
    let s = src + <usize>ir * rsB
    if (rows >= MR) {
      if (rs == 1) {
        // The MR values of one k step are contiguous (Aᵀ stored row-major, or B row-major).
        for (let p: i32 = 0; p < kc; p++) {
          v128.store(dst, v128.load(s))
          v128.store(dst, v128.load(s, 16), 16)
          s += csB
          dst += 32
        }
      } else {
        let p: i32 = 0
        if (cs == 1) {
          // Each row is contiguous along k (A row-major, or Bᵀ read from B's columns): load two
          // k steps of each of the MR rows as one vector each, and transpose them two by two.
          for (; p + 2 <= kc; p += 2) {
            const a0 = v128.load(s)
            const a1 = v128.load(s + rsB)
            const a2 = v128.load(s + 2 * rsB)
            const a3 = v128.load(s + 3 * rsB)
            v128.store(dst, v128.shuffle<f64>(a0, a1, 0, 2))
            v128.store(dst, v128.shuffle<f64>(a2, a3, 0, 2), 16)
            v128.store(dst, v128.shuffle<f64>(a0, a1, 1, 3), 32)
            v128.store(dst, v128.shuffle<f64>(a2, a3, 1, 3), 48)
            s += 16
            dst += 64
          }
        }
        for (; p < kc; p++) {
          const s1 = s + rsB
          const s2 = s1 + rsB
          const s3 = s2 + rsB
          store<f64>(dst, load<f64>(s))
          store<f64>(dst, load<f64>(s1), 8)
          store<f64>(dst, load<f64>(s2), 16)
          store<f64>(dst, load<f64>(s3), 24)
          s += csB
          dst += 32
        }
      }
    } else {
      for (let p: i32 = 0; p < kc; p++) {
        let t = s
        for (let r: i32 = 0; r < MR; r++) {
          store<f64>(dst + (<usize>r << 3), r < rows ? load<f64>(t) : 0.0)
          t += rsB
        }
        s += csB
        dst += 32
      }
    }
  }
}

/**
 * Packs the kc×nc block of B at `src` into ⌈nc/NR⌉ panels, each NR columns wide and k-major:
 * panel q holds B[p][q·NR + j] at dst[(q·NR·kc + p·NR + j)·8]. Columns past nc are zeros.
 * B's column panels are exactly the row panels of Bᵀ (and NR = MR), so this is packPanelsA on
 * the transposed view: swapping the strides is the transpose.
 */
@inline function packPanelsB(src: usize, rs: i32, cs: i32, kc: i32, nc: i32, dst: usize): void {
  packPanelsA(src, cs, rs, nc, kc, dst)
}

/** C[0 : mc, 0 : nc] (+)= packed A block · packed B block, one full MR×NR tile at a time. */
function macroKernel(mc: i32, nc: i32, kc: i32, pa: usize, pb: usize, c: usize, ldcBytes: usize, addToC: bool): void {
  const panelA = <usize>kc * <usize>(MR << 3)
  const panelB = <usize>kc * <usize>(NR << 3)
  const tileRows = ldcBytes * <usize>MR
  let bp = pb
  let cCol = c
  for (let jr: i32 = 0; jr < nc; jr += NR) {
    let ap = pa
    let ct = cCol
    for (let ir: i32 = 0; ir < mc; ir += MR) {
      tile(kc, ap, bp, ct, ldcBytes, addToC)
      ap += panelA
      ct += tileRows
    }
    bp += panelB
    cCol += NR << 3
  }
}

/**
 * The micro-kernel: the 4x4 tile of C at `c` (rows ldcBytes apart) plus Σ_p A[:, p]·B[p, :]
 * over one packed A panel and one packed B panel, kept in eight f64x2 registers (two per row).
 * Per step p: two loads of B, four splat-loads of A, eight multiplies and eight adds. Starts
 * from zero instead of C when `addToC` is false.
 */
function tile(kc: i32, ap: usize, bp: usize, c: usize, ldcBytes: usize, addToC: bool): void {
  const zero = f64x2.splat(0.0)
  let c00 = zero, c01 = zero, c10 = zero, c11 = zero
  let c20 = zero, c21 = zero, c30 = zero, c31 = zero
  const r1 = c + ldcBytes
  const r2 = r1 + ldcBytes
  const r3 = r2 + ldcBytes
  if (addToC) {
    c00 = v128.load(c); c01 = v128.load(c, 16)
    c10 = v128.load(r1); c11 = v128.load(r1, 16)
    c20 = v128.load(r2); c21 = v128.load(r2, 16)
    c30 = v128.load(r3); c31 = v128.load(r3, 16)
  }
  for (let p: i32 = 0; p < kc; p++) {
    const b0 = v128.load(bp)
    const b1 = v128.load(bp, 16)
    let x = v128.load64_splat(ap)
    c00 = f64x2.add(c00, f64x2.mul(x, b0))
    c01 = f64x2.add(c01, f64x2.mul(x, b1))
    x = v128.load64_splat(ap, 8)
    c10 = f64x2.add(c10, f64x2.mul(x, b0))
    c11 = f64x2.add(c11, f64x2.mul(x, b1))
    x = v128.load64_splat(ap, 16)
    c20 = f64x2.add(c20, f64x2.mul(x, b0))
    c21 = f64x2.add(c21, f64x2.mul(x, b1))
    x = v128.load64_splat(ap, 24)
    c30 = f64x2.add(c30, f64x2.mul(x, b0))
    c31 = f64x2.add(c31, f64x2.mul(x, b1))
    ap += 32
    bp += 32
  }
  v128.store(c, c00); v128.store(c, c01, 16)
  v128.store(r1, c10); v128.store(r1, c11, 16)
  v128.store(r2, c20); v128.store(r2, c21, 16)
  v128.store(r3, c30); v128.store(r3, c31, 16)
}
