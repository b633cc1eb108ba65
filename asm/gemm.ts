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
 * Three departures, all for the small products of a training batch:
 * - When A is a single block and C at most 16 columns wide, the tiles read A in place through
 *   its strides (`directTile`) instead of packing it: each packed element would be read by at
 *   most four tiles, too few to pay for packing it.
 * - Likewise B, when C is at most 16 rows tall and B's rows are contiguous: `tile` reads each
 *   4-column strip of B in place, one row of B per k step. A convolution's forward product
 *   (8 or 16 filters by the im2col columns) is such a product.
 * - A last column panel narrower than NR (C 10 wide: two full panels and two columns) goes by
 *   `narrowTile`, six rows by two columns, instead of a 4x4 tile that multiplies B's padding.
 * C needs no padded columns: every kernel writes only the columns that exist.
 *
 * Summation order: each tile of C starts from C (zero on the first slice when not accumulating)
 * and adds a·b for p = 0, 1, …, k-1 in order, one multiply and one add per term in each f64
 * lane (no FMA). So every C[i][j] sees the same roundings as the whiteboard loop
 * (gemmReference): the result is bit-identical to it.
 *
 * Why 4x4 and not 5x4: what limits the tile is V8's register allocation. TurboFan has 15
 * usable XMM registers and schedules all loads of the loop body at its top, before the
 * arithmetic, so every loaded value is live at once: the 4x4 tile holds 8 accumulators +
 * 2 A vectors + 2 B vectors + 2 swapped B vectors = 14 registers (see `tile`), while a 5x4 tile
 * of splatted A values needs 10 + 2 + 5 = 17 and spills three accumulators per k step
 * (disassembled with `node --print-wasm-code`). Unrolling k would put twice the loads at the
 * top again.
 * The k loops of the three tiles run until B's pointer reaches its end rather than counting p:
 * TurboFan then compares two registers instead of a counter with a stack slot, and drops the
 * counter's add.
 */

/** Rows of A (and of C) per packed panel and register tile. */
const MR: i32 = 4
/** Columns of B (and of C) per packed panel and register tile. */
const NR: i32 = 4
/** Products whose A is a single block read A in place, instead of packing it, when C is at most this wide (see `gemm`). */
const DIRECT_COLUMNS: i32 = 4 * NR
/** Products at most this many rows tall read B in place, when its rows are contiguous, instead of packing it (see `gemm`). */
const B_IN_PLACE_ROWS: i32 = 4 * MR
/** Rows of C per `narrowTile`. */
const NARROW_ROWS: i32 = 6

/**
 * C (m×n, row-major with rows `ldc` elements apart) = A (m×k) · B (k×n), or C += A·B when
 * `accumulate` is nonzero. Element (i, j) of A is the f64 at a + 8·(i·aRs + j·aCs); likewise B.
 *
 * The caller guarantees: m, n, k ≥ 1; ldc ≥ n; C has room for m rounded up to a multiple of
 * MR rows (a last 4x4 tile with fewer rows writes whole tiles: the rows past m are scratch,
 * never meaningful; no column past n is read or written); mcMax a positive multiple of MR,
 * ncMax of NR, kcMax ≥ 1; packA has room for min(mcMax, ⌈m⌉₄)·min(kcMax, k) f64 and packB for
 * min(ncMax, ⌈n⌉₄)·min(kcMax, k) f64, both 16-byte aligned.
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
  // Packing pays for itself when each packed element of A is read by many tiles (one per NR
  // columns of C). When all of A is one mc×kc block and C is at most DIRECT_COLUMNS wide, as in
  // the products of a batch with a 10-wide layer, it does not: the tiles read A where it is,
  // through its strides. (With many columns, as in conv1's input gradient, 25x8·8x784 per
  // sample, packing pays again: each element of A is read by many tiles.)
  const direct = m <= mcMax && k <= kcMax && n <= DIRECT_COLUMNS
  // The same holds for B, one tile per MR rows of C: when C is at most B_IN_PLACE_ROWS tall and
  // B's rows are contiguous (bCs = 1), as in a convolution's forward product (W·cols, with F = 8
  // or 16 rows), the tiles read each 4-column strip of B where it is, a row (bRs) apart per k
  // step. Only a last strip narrower than NR is packed, for `narrowPanel`. (A strip's loop runs
  // to an end pointer, at most b + (k·bRs + n)·8, so it needs B's rows in increasing order,
  // bRs > 0, and that end below 2³²: with k = 1 any row stride is valid, and a huge one would wrap.)
  const bInPlace = !direct && bCs == 1 && bRs > 0 && m <= B_IN_PLACE_ROWS &&
    <u64>b + ((<u64>k * <u64>bRs + <u64>n) << 3) <= <u64>0xffffffff
  for (let jc: i32 = 0; jc < n; jc += ncMax) {
    const nc = min(ncMax, n - jc)
    const full = nc & ~(NR - 1) // columns in whole NR-wide strips
    for (let pc: i32 = 0; pc < k; pc += kcMax) {
      const kc = min(kcMax, k - pc)
      const bBlock = b + (<usize>(pc * bRs + jc * bCs) << 3)
      // Where the tiles find B: the first strip, the bytes from one k step to the next and from
      // one strip to the next, and the packed panel of the leftover columns.
      let bAt = packB, bStep: usize = NR << 3, bPanel = <usize>kc * <usize>(NR << 3), bLeft = packB + <usize>(full >> 2) * bPanel
      if (bInPlace) {
        bAt = bBlock; bStep = <usize>bRs << 3; bPanel = NR << 3; bLeft = packB
        if (full < nc) packPanelsB(bBlock + (<usize>full << 3), bRs, bCs, kc, nc - full, packB)
      } else {
        packPanelsB(bBlock, bRs, bCs, kc, nc, packB)
      }
      // The first slice starts from zero unless accumulating; later slices add to C.
      const addToC = accumulate != 0 || pc > 0
      for (let ic: i32 = 0; ic < m; ic += mcMax) {
        const mc = min(mcMax, m - ic)
        const cBlock = c + ((<usize>ic * <usize>ldc + <usize>jc) << 3)
        const aBlock = a + (<usize>(ic * aRs + pc * aCs) << 3)
        if (direct) {
          // A is a single block: the tiles read it in place, through its strides.
          directMacroKernel(mc, nc, kc, aBlock, <usize>aRs << 3, <usize>aCs << 3, packB, cBlock, ldcBytes, addToC)
        } else {
          packPanelsA(aBlock, aRs, aCs, mc, kc, packA)
          macroKernel(mc, nc, kc, packA, bAt, bStep, bPanel, bLeft, cBlock, ldcBytes, addToC)
        }
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

/**
 * C[0 : mc, 0 : nc] (+)= packed A block · B block. Full-width column strips of B go one
 * MR×NR tile at a time (`tile`); the last tile of a column may have fewer than MR rows (the
 * packed panel's extra rows are zeros): it still writes MR rows, the extra ones into C's
 * scratch rows. Strip q of B starts at b + q·bPanel, its k steps bStep bytes apart: a packed
 * panel (bStep 32, bPanel kc·32), or B in place (bStep a row of B, bPanel 32). A last strip
 * narrower than NR, always packed at bLeft, goes by `narrowPanel`: six rows and at most two
 * columns at a time, writing only the entries that exist.
 */
function macroKernel(
  mc: i32, nc: i32, kc: i32, pa: usize,
  b: usize, bStep: usize, bPanel: usize, bLeft: usize,
  c: usize, ldcBytes: usize, addToC: bool,
): void {
  const panelA = <usize>kc * <usize>(MR << 3)
  const tileRows = ldcBytes * <usize>MR
  let bp = b
  let cCol = c
  for (let jr: i32 = 0; jr < nc; jr += NR) {
    let ap = pa
    let ct = cCol
    if (nc - jr >= NR) {
      for (let ir: i32 = 0; ir < mc; ir += MR) {
        tile(kc, ap, bp, bStep, ct, ldcBytes, addToC)
        ap += panelA
        ct += tileRows
      }
    } else {
      narrowPanel(mc, nc - jr, kc, ap, 8, MR << 3, panelA, bLeft, ct, ldcBytes, addToC)
    }
    bp += bPanel
    cCol += NR << 3
  }
}

/**
 * C[0 : mc, 0 : nc] (+)= A · packed B block, with A read in place: element (i, p) at
 * a + i·rsB + p·csB (bytes). The same walk as macroKernel, with `directTile` for the full tiles;
 * a last tile of fewer than MR rows reads its first row again in place of the missing ones (so it never
 * reads past A) and writes those into C's scratch rows.
 */
function directMacroKernel(mc: i32, nc: i32, kc: i32, a: usize, rsB: usize, csB: usize, pb: usize, c: usize, ldcBytes: usize, addToC: bool): void {
  const panelB = <usize>kc * <usize>(NR << 3)
  const tileRows = ldcBytes * <usize>MR
  let bp = pb
  let cCol = c
  for (let jr: i32 = 0; jr < nc; jr += NR) {
    let ap = a
    let ct = cCol
    if (nc - jr >= NR) {
      for (let ir: i32 = 0; ir < mc; ir += MR) {
        directTile(kc, ap, rsB, csB, min(MR, mc - ir), bp, ct, ldcBytes, addToC)
        ap += rsB * MR
        ct += tileRows
      }
    } else {
      narrowPanel(mc, nc - jr, kc, ap, rsB, csB, rsB * MR, bp, ct, ldcBytes, addToC)
    }
    bp += panelB
    cCol += NR << 3
  }
}

/**
 * A column panel nr < NR wide: `narrowTile` on six rows at a time, columns 0-1 and then 2.
 * Row i of A starts at a + ⌊i/4⌋·tileStepA + (i mod 4)·rsB: in a packed block, (i mod 4) picks
 * the row within panel ⌊i/4⌋; in place, this is a + i·rsB.
 */
function narrowPanel(mc: i32, nr: i32, kc: i32, a: usize, rsB: usize, csB: usize, tileStepA: usize, bp: usize, c: usize, ldcBytes: usize, addToC: bool): void {
  for (let ir: i32 = 0; ir < mc; ir += NARROW_ROWS) {
    const mr = min(NARROW_ROWS, mc - ir)
    // Rows past mr read row ir again (never past A); their sums are not stored.
    const p0 = rowOf(a, ir, rsB, tileStepA)
    const p1 = mr > 1 ? rowOf(a, ir + 1, rsB, tileStepA) : p0
    const p2 = mr > 2 ? rowOf(a, ir + 2, rsB, tileStepA) : p0
    const p3 = mr > 3 ? rowOf(a, ir + 3, rsB, tileStepA) : p0
    const p4 = mr > 4 ? rowOf(a, ir + 4, rsB, tileStepA) : p0
    const p5 = mr > 5 ? rowOf(a, ir + 5, rsB, tileStepA) : p0
    const ct = c + <usize>ir * ldcBytes
    narrowTile(kc, p0, p1, p2, p3, p4, p5, csB, mr, bp, ct, ldcBytes, addToC, min(nr, 2))
    if (nr > 2) narrowTile(kc, p0, p1, p2, p3, p4, p5, csB, mr, bp + 16, ct + 16, ldcBytes, addToC, nr - 2)
  }
}

@inline function rowOf(a: usize, i: i32, rsB: usize, tileStepA: usize): usize {
  return a + <usize>(i >> 2) * tileStepA + <usize>(i & 3) * rsB
}

/**
 * The micro-kernel: the 4x4 tile of C at `c` (rows ldcBytes apart) plus Σ_p A[:, p]·B[p, :]
 * over one packed A panel and one strip of B four columns wide (its k steps `bStep` bytes
 * apart: 32 in a packed panel), in eight f64x2 registers. Starts from zero instead of C when
 * `addToC` is false.
 *
 * Per step p it loads two rows' worth of A as vectors, a = (a0, a1) and (a2, a3), and B as
 * b = (b0, b1) and (b2, b3), plus b swapped, w = (b1, b0) and (b3, b2): one shuffle each. Then
 * a·b gives the diagonal pair (a0·b0, a1·b1) and a·w the off-diagonal pair (a0·b1, a1·b0), so
 * the eight sums hold the 16 entries of the tile two by two:
 *   d00 = (c00, c11)  s00 = (c01, c10)  d01 = (c02, c13)  s01 = (c03, c12)   rows 0-1
 *   d10 = (c20, c31)  s10 = (c21, c30)  d11 = (c22, c33)  s11 = (c23, c32)   rows 2-3
 * and are shuffled back into rows at the end (and out of rows at the start, when adding to C).
 * Each entry still sees one multiply and one add per p, in order: the result is the same, bit
 * for bit. The point is the step's instruction mix: 4 loads and 2 shuffles, where splatting
 * each A value (the textbook form) takes 2 loads and 4 splat-loads (bench/gemm.ts compares).
 */
function tile(kc: i32, ap: usize, bp: usize, bStep: usize, c: usize, ldcBytes: usize, addToC: bool): void {
  const zero = f64x2.splat(0.0)
  let d00 = zero, s00 = zero, d01 = zero, s01 = zero
  let d10 = zero, s10 = zero, d11 = zero, s11 = zero
  const r1 = c + ldcBytes
  const r2 = r1 + ldcBytes
  const r3 = r2 + ldcBytes
  if (addToC) {
    let x = v128.load(c), y = v128.load(r1)
    d00 = v128.shuffle<f64>(x, y, 0, 3); s00 = v128.shuffle<f64>(x, y, 1, 2)
    x = v128.load(c, 16); y = v128.load(r1, 16)
    d01 = v128.shuffle<f64>(x, y, 0, 3); s01 = v128.shuffle<f64>(x, y, 1, 2)
    x = v128.load(r2); y = v128.load(r3)
    d10 = v128.shuffle<f64>(x, y, 0, 3); s10 = v128.shuffle<f64>(x, y, 1, 2)
    x = v128.load(r2, 16); y = v128.load(r3, 16)
    d11 = v128.shuffle<f64>(x, y, 0, 3); s11 = v128.shuffle<f64>(x, y, 1, 2)
  }
  const end = bp + <usize>kc * bStep
  while (bp < end) {
    const a0 = v128.load(ap)
    const a1 = v128.load(ap, 16)
    const b0 = v128.load(bp)
    const b1 = v128.load(bp, 16)
    const w0 = v128.shuffle<f64>(b0, b0, 1, 0)
    const w1 = v128.shuffle<f64>(b1, b1, 1, 0)
    d00 = f64x2.add(d00, f64x2.mul(a0, b0))
    s00 = f64x2.add(s00, f64x2.mul(a0, w0))
    d01 = f64x2.add(d01, f64x2.mul(a0, b1))
    s01 = f64x2.add(s01, f64x2.mul(a0, w1))
    d10 = f64x2.add(d10, f64x2.mul(a1, b0))
    s10 = f64x2.add(s10, f64x2.mul(a1, w0))
    d11 = f64x2.add(d11, f64x2.mul(a1, b1))
    s11 = f64x2.add(s11, f64x2.mul(a1, w1))
    ap += 32
    bp += bStep
  }
  v128.store(c, v128.shuffle<f64>(d00, s00, 0, 2)); v128.store(c, v128.shuffle<f64>(d01, s01, 0, 2), 16)
  v128.store(r1, v128.shuffle<f64>(s00, d00, 1, 3)); v128.store(r1, v128.shuffle<f64>(s01, d01, 1, 3), 16)
  v128.store(r2, v128.shuffle<f64>(d10, s10, 0, 2)); v128.store(r2, v128.shuffle<f64>(d11, s11, 0, 2), 16)
  v128.store(r3, v128.shuffle<f64>(s10, d10, 1, 3)); v128.store(r3, v128.shuffle<f64>(s11, d11, 1, 3), 16)
}

/**
 * `tile` with A read in place: row r of the tile at a + r·rsB, steps csB apart (rows from mr
 * on read the tile's first row). The same sums in the same order; four A pointers instead of
 * one. It is a copy of `tile`, not `tile` with strides, on purpose: one function for both cases
 * slows the packed path (more values live across its loop in V8).
 */
function directTile(kc: i32, a: usize, rsB: usize, csB: usize, mr: i32, bp: usize, c: usize, ldcBytes: usize, addToC: bool): void {
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
  let a0 = a
  let a1 = mr > 1 ? a + rsB : a
  let a2 = mr > 2 ? a + 2 * rsB : a
  let a3 = mr > 3 ? a + 3 * rsB : a
  const end = bp + (<usize>kc << 5)
  while (bp < end) {
    const b0 = v128.load(bp)
    const b1 = v128.load(bp, 16)
    let x = v128.load64_splat(a0)
    c00 = f64x2.add(c00, f64x2.mul(x, b0))
    c01 = f64x2.add(c01, f64x2.mul(x, b1))
    x = v128.load64_splat(a1)
    c10 = f64x2.add(c10, f64x2.mul(x, b0))
    c11 = f64x2.add(c11, f64x2.mul(x, b1))
    x = v128.load64_splat(a2)
    c20 = f64x2.add(c20, f64x2.mul(x, b0))
    c21 = f64x2.add(c21, f64x2.mul(x, b1))
    x = v128.load64_splat(a3)
    c30 = f64x2.add(c30, f64x2.mul(x, b0))
    c31 = f64x2.add(c31, f64x2.mul(x, b1))
    a0 += csB; a1 += csB; a2 += csB; a3 += csB
    bp += 32
  }
  v128.store(c, c00); v128.store(c, c01, 16)
  v128.store(r1, c10); v128.store(r1, c11, 16)
  v128.store(r2, c20); v128.store(r2, c21, 16)
  v128.store(r3, c30); v128.store(r3, c31, 16)
}

/** The first `count` (1, or 2 and more) lanes of the f64x2 at p; zero in the other. */
@inline function loadLanes(p: usize, count: i32): v128 {
  return count >= 2 ? v128.load(p) : f64x2.replace_lane(f64x2.splat(0.0), 0, load<f64>(p))
}

/** Stores the first `count` (1, or 2 and more) lanes of v at p. */
@inline function storeLanes(p: usize, v: v128, count: i32): void {
  if (count >= 2) v128.store(p, v)
  else store<f64>(p, f64x2.extract_lane(v, 0))
}

/**
 * The micro-kernel of a column panel narrower than NR: up to six rows (row r read from pr,
 * steps csB apart) by one or two columns of C, in six f64x2 registers (one per row: its two
 * columns). Per step p: one load of B, six splat-loads of A, six multiplies and six adds. Where
 * `tile` would multiply B's zero padding, this does only the columns that exist: for the MLP's
 * 10-wide layer, the last two columns cost about half as much. Six rows, not eight: V8 loads
 * every operand of the loop body first, and eight sums plus nine loaded values would not fit
 * in the 16 vector registers (it spills). Reads and writes only
 * the first mr rows and nr columns of C. Each C[i][j] still adds a·b for p = 0, 1, …, k-1 in
 * order: the same result, bit for bit.
 */
function narrowTile(
  kc: i32, p0: usize, p1: usize, p2: usize, p3: usize, p4: usize, p5: usize, csB: usize, mr: i32,
  bp: usize, c: usize, ldcBytes: usize, addToC: bool, nr: i32,
): void {
  const zero = f64x2.splat(0.0)
  let q0 = zero, q1 = zero, q2 = zero, q3 = zero, q4 = zero, q5 = zero
  if (addToC) {
    q0 = loadLanes(c, nr)
    if (mr > 1) q1 = loadLanes(c + ldcBytes, nr)
    if (mr > 2) q2 = loadLanes(c + 2 * ldcBytes, nr)
    if (mr > 3) q3 = loadLanes(c + 3 * ldcBytes, nr)
    if (mr > 4) q4 = loadLanes(c + 4 * ldcBytes, nr)
    if (mr > 5) q5 = loadLanes(c + 5 * ldcBytes, nr)
  }
  const end = bp + (<usize>kc << 5)
  while (bp < end) {
    const y = v128.load(bp)
    q0 = f64x2.add(q0, f64x2.mul(v128.load64_splat(p0), y))
    q1 = f64x2.add(q1, f64x2.mul(v128.load64_splat(p1), y))
    q2 = f64x2.add(q2, f64x2.mul(v128.load64_splat(p2), y))
    q3 = f64x2.add(q3, f64x2.mul(v128.load64_splat(p3), y))
    q4 = f64x2.add(q4, f64x2.mul(v128.load64_splat(p4), y))
    q5 = f64x2.add(q5, f64x2.mul(v128.load64_splat(p5), y))
    p0 += csB; p1 += csB; p2 += csB; p3 += csB; p4 += csB; p5 += csB
    bp += 32
  }
  storeLanes(c, q0, nr)
  if (mr > 1) storeLanes(c + ldcBytes, q1, nr)
  if (mr > 2) storeLanes(c + 2 * ldcBytes, q2, nr)
  if (mr > 3) storeLanes(c + 3 * ldcBytes, q3, nr)
  if (mr > 4) storeLanes(c + 4 * ldcBytes, q4, nr)
  if (mr > 5) storeLanes(c + 5 * ldcBytes, q5, nr)
}
