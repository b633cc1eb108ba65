/**
 * GEMM kernels: C = A·B (or C += A·B) on Float64Array, with strided operand views.
 *
 * Two implementations of one contract (`Gemm`):
 * - `gemmReference`: the whiteboard triple loop. Read this one to learn what the kernel does.
 * - `gemmBlocked`: the fast one. BLIS-style cache blocking with packed panels and a 4x4
 *   register micro-kernel. Property tests (test/kernels/gemm.test.ts) hold it equal to the reference
 *   within a summation-order rounding bound; today it is in fact bit-identical, because it
 *   adds the products for each C[i][j] in the same order (see `gemmBlocked`).
 *
 * Operands are `MatView`s: a Float64Array plus an offset and a row and a column stride. A
 * transposed operand is the same array with the strides swapped, so Aᵀ·B and A·Bᵀ (the
 * products of a backward pass) never copy a transpose; packing reads through the strides.
 *
 * Raw loops only: this file imports nothing, and every kernel sees Float64Array alone, so
 * V8 keeps the hot loops monomorphic.
 */

/** A view of a row-major-or-not matrix: element (i, j) is data[offset + i*rowStride + j*colStride]. */
export interface MatView {
  readonly data: Float64Array
  readonly offset: number
  readonly rowStride: number
  readonly colStride: number
}

/**
 * C (m×n, row-major, contiguous, written into `c` starting at cOffset) = A (m×k) · B (k×n), or C += A·B when accumulate is true.
 *
 * `c` must not share memory with `a.data` or `b.data`. Only c[cOffset, cOffset + m·n) is
 * written; A and B are only read. With k = 0 the product is the zero matrix. Views or a C
 * range that reach outside their arrays throw a RangeError before anything is written.
 */
export type Gemm = (m: number, n: number, k: number, a: MatView, b: MatView, c: Float64Array, cOffset: number, accumulate: boolean) => void

/**
 * A view of the row-major `rows`×`cols` matrix stored in `data` from `offset`; with
 * `transposed` it is the `cols`×`rows` transpose of that matrix, with no copy (strides swapped).
 *
 * @example
 * const w = new Float64Array([1, 2, 3, 4, 5, 6]) // the 2×3 matrix [[1, 2, 3], [4, 5, 6]]
 * view(w, 2, 3)       // 2×3: { offset: 0, rowStride: 3, colStride: 1 }
 * view(w, 2, 3, true) // 3×2 [[1, 4], [2, 5], [3, 6]]: { offset: 0, rowStride: 1, colStride: 3 }
 */
export function view(data: Float64Array, rows: number, cols: number, transposed = false, offset = 0): MatView {
  return stridedView('view', data, rows, cols, transposed, offset)
}

// ---------------------------------------------------------------------------------------------
// Argument checks (O(1); shared by every kernel of either precision)
// ---------------------------------------------------------------------------------------------

/** What the argument checks read of a view of either precision: its array's length, its offset and strides. */
export interface Strided<D extends { readonly length: number } = { readonly length: number }> {
  readonly data: D
  readonly offset: number
  readonly rowStride: number
  readonly colStride: number
}

function isNonNegInt(x: number): boolean {
  return Number.isSafeInteger(x) && x >= 0
}

/** `view` for an array of either precision; `who` names the caller in errors. */
export function stridedView<D extends { readonly length: number }>(
  who: string,
  data: D,
  rows: number,
  cols: number,
  transposed: boolean,
  offset: number,
): Strided<D> {
  if (!isNonNegInt(rows) || !isNonNegInt(cols) || !isNonNegInt(offset)) {
    throw new RangeError(`${who}: rows, cols and offset must be non-negative integers, got rows=${rows}, cols=${cols}, offset=${offset}`)
  }
  if (offset + rows * cols > data.length) {
    throw new RangeError(
      `${who}: a ${rows}×${cols} matrix at offset ${offset} needs ${offset + rows * cols} elements, but data has ${data.length}`,
    )
  }
  return transposed ? { data, offset, rowStride: 1, colStride: cols } : { data, offset, rowStride: cols, colStride: 1 }
}

/** Throws a RangeError unless every element a rows×cols view can address lies inside its data. */
function checkView(who: string, name: string, rows: number, cols: number, v: Strided): void {
  const { offset, rowStride, colStride } = v
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(rowStride) || !Number.isSafeInteger(colStride)) {
    throw new RangeError(
      `${who}: ${name} view needs integer offset and strides, got offset=${offset}, rowStride=${rowStride}, colStride=${colStride}`,
    )
  }
  if (rows === 0 || cols === 0) return
  const lastRow = (rows - 1) * rowStride
  const lastCol = (cols - 1) * colStride
  const lo = offset + Math.min(0, lastRow) + Math.min(0, lastCol)
  const hi = offset + Math.max(0, lastRow) + Math.max(0, lastCol)
  if (lo < 0 || hi >= v.data.length) {
    throw new RangeError(
      `${who}: ${name} view (${rows}×${cols}, offset ${offset}, rowStride ${rowStride}, colStride ${colStride}) ` +
        `addresses indices ${lo}..${hi}, but its data has length ${v.data.length}`,
    )
  }
}

/** Validates a GEMM call (sizes, views inside their arrays, C large enough) before anything is written; `who` names the kernel. */
export function checkArgs(
  m: number,
  n: number,
  k: number,
  a: Strided,
  b: Strided,
  c: { readonly length: number },
  cOffset: number,
  who = 'gemm',
): void {
  if (!isNonNegInt(m) || !isNonNegInt(n) || !isNonNegInt(k)) {
    throw new RangeError(`${who}: m, n and k must be non-negative integers, got m=${m}, n=${n}, k=${k}`)
  }
  if (!isNonNegInt(cOffset) || cOffset + m * n > c.length) {
    throw new RangeError(`${who}: C (${m}×${n}) at offset ${cOffset} needs ${cOffset + m * n} elements, but c has length ${c.length}`)
  }
  checkView(who, 'A', m, k, a)
  checkView(who, 'B', k, n, b)
}

/** Throws a RangeError unless mc and nc are positive multiples of the register tile's mr and nr, and kc a positive integer. */
export function checkBlockSizes(who: string, { mc, kc, nc }: BlockSizes, mr: number, nr: number): void {
  if (!isNonNegInt(mc) || !isNonNegInt(kc) || !isNonNegInt(nc) || mc % mr !== 0 || nc % nr !== 0 || mc === 0 || kc === 0 || nc === 0) {
    throw new RangeError(
      `${who}: mc must be a positive multiple of ${mr}, nc of ${nr}, kc a positive integer; got mc=${mc}, kc=${kc}, nc=${nc}`,
    )
  }
}

// ---------------------------------------------------------------------------------------------
// Reference
// ---------------------------------------------------------------------------------------------

/**
 * The whiteboard GEMM: C[i][j] = Σ_p A[i][p] · B[p][j], one output element at a time (loops
 * i, then j, then p), adding the products for p = 0, 1, …, k-1 in that order to a running sum.
 * The sum starts from 0, or with `accumulate` from what C[i][j] already holds (C += A·B).
 * The oracle for `gemmBlocked`.
 *
 * @example
 * // A is 2×3, B is 3×2, both row-major. C = A·B is 2×2:
 * //   [1 2 3]   [ 7  8]   [1·7 + 2·9 + 3·11   1·8 + 2·10 + 3·12]   [ 58  64]
 * //   [4 5 6] · [ 9 10] = [4·7 + 5·9 + 6·11   4·8 + 5·10 + 6·12] = [139 154]
 * //             [11 12]
 * const a = new Float64Array([1, 2, 3, 4, 5, 6])
 * const b = new Float64Array([7, 8, 9, 10, 11, 12])
 * const c = new Float64Array(4)
 * gemmReference(2, 2, 3, view(a, 2, 3), view(b, 3, 2), c, 0, false)
 * // c is [58, 64, 139, 154]
 *
 * // Aᵀ·A (3×3) reads A through a transposed view; nothing is copied:
 * const g = new Float64Array(9)
 * gemmReference(3, 3, 2, view(a, 2, 3, true), view(a, 2, 3), g, 0, false)
 * // g is [17, 22, 27, 22, 29, 36, 27, 36, 45]
 */
export const gemmReference: Gemm = (m, n, k, a, b, c, cOffset, accumulate) => {
  checkArgs(m, n, k, a, b, c, cOffset)
  const A = a.data
  const B = b.data
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      const ij = cOffset + i * n + j // C is row-major with n columns
      let sum = accumulate ? c[ij]! : 0
      for (let p = 0; p < k; p++) {
        const aip = A[a.offset + i * a.rowStride + p * a.colStride]! // A[i][p]
        const bpj = B[b.offset + p * b.rowStride + j * b.colStride]! // B[p][j]
        sum += aip * bpj
      }
      c[ij] = sum
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Blocked
// ---------------------------------------------------------------------------------------------

/** Rows of A (and of C) per micro-panel / register tile. */
const MR = 4
/** Columns of B (and of C) per micro-panel / register tile. */
const NR = 4

/** Cache-block sizes of `gemmBlocked`: rows of A per packed block (mc), depth per pass (kc), columns of B per packed block (nc). */
export interface BlockSizes {
  readonly mc: number
  readonly kc: number
  readonly nc: number
}

/**
 * Block sizes `gemmBlocked` uses. A packed kc×NR panel of B (8 KB) stays in L1 while the
 * micro-kernel sweeps the packed mc×kc block of A (256 KB, in L2); the kc×nc block of B
 * (4 MB) lives in L3. In plain JS the 4x4 micro-kernel, not the memory hierarchy, is the
 * limit, so other sizes change little (`npx tsx bench/gemm.ts --tune` compares them).
 */
export const defaultBlockSizes: BlockSizes = { mc: 128, kc: 256, nc: 2048 }

/**
 * Builds a blocked GEMM with its own packing workspace for the given block sizes (mc and nc
 * multiples of 4, kc ≥ 1). `gemmBlocked` is `makeGemmBlocked(defaultBlockSizes)`; other sizes
 * are for tuning and for tests that cross block edges with small matrices.
 *
 * Workspace: two Float64Arrays of fixed size (mc·kc and kc·nc elements), allocated on the
 * first call and reused by every later call of the returned function. They are pure scratch:
 * every element read in a call was written earlier in that same call, so results never depend
 * on earlier calls. (JS runs one call at a time per realm, and a worker has its own module.)
 */
export function makeGemmBlocked(blocks: BlockSizes): Gemm {
  checkBlockSizes('makeGemmBlocked', blocks, MR, NR)
  const { mc: MC, kc: KC, nc: NC } = blocks
  let packedA: Float64Array | undefined
  let packedB: Float64Array | undefined
  return (m, n, k, a, b, c, cOffset, accumulate) => {
    checkArgs(m, n, k, a, b, c, cOffset)
    if (m === 0 || n === 0) return
    if (!accumulate) c.fill(0, cOffset, cOffset + m * n)
    if (k === 0) return
    const ap = (packedA ??= new Float64Array(MC * KC))
    const bp = (packedB ??= new Float64Array(KC * NC))
    blocked(m, n, k, a, b, c, cOffset, MC, KC, NC, ap, bp)
  }
}

/**
 * The fast GEMM: same contract and same result as `gemmReference`, several times faster.
 * BLIS loop nest: for each nc-wide column block of B, for each kc-deep slice, pack B into
 * NR-wide panels; for each mc-tall row block of A, pack A into MR-tall panels; then a 4x4
 * register micro-kernel adds each tile of the partial product into C. Packing reads through
 * the view strides, so transposed operands cost nothing extra.
 *
 * Summation order: each micro-tile starts from the C values (0, or the accumulator) and adds
 * the products for p in ascending order, one kc slice after another, so every C[i][j] sees
 * exactly the reference's sequence of roundings: the result is bit-identical to
 * `gemmReference` (JS never fuses or reassociates float operations). The contract promised to
 * callers is only closeness (a future kernel may reorder); the tests check both.
 */
export const gemmBlocked: Gemm = makeGemmBlocked(defaultBlockSizes)

/** The loop nest over cache blocks; C is already zeroed (or holds the accumulator). */
function blocked(
  m: number,
  n: number,
  k: number,
  a: MatView,
  b: MatView,
  c: Float64Array,
  cOffset: number,
  MC: number,
  KC: number,
  NC: number,
  ap: Float64Array,
  bp: Float64Array,
): void {
  for (let jc = 0; jc < n; jc += NC) {
    const nc = Math.min(NC, n - jc)
    for (let pc = 0; pc < k; pc += KC) {
      const kc = Math.min(KC, k - pc)
      packB(b, pc, jc, kc, nc, bp)
      for (let ic = 0; ic < m; ic += MC) {
        const mc = Math.min(MC, m - ic)
        packA(a, ic, pc, mc, kc, ap)
        macroKernel(mc, nc, kc, ap, bp, c, cOffset + ic * n + jc, n)
      }
    }
  }
}

/**
 * Packs A[ic : ic+mc, pc : pc+kc] into ⌈mc/MR⌉ panels, each MR rows tall and stored k-major:
 * panel q holds A[ic + q·MR + r][pc + p] at ap[q·MR·kc + p·MR + r]. Rows past m are zeros.
 */
function packA(a: MatView, ic: number, pc: number, mc: number, kc: number, ap: Float64Array): void {
  const A = a.data
  const rs = a.rowStride
  const cs = a.colStride
  const base = a.offset + ic * rs + pc * cs
  let dst = 0
  for (let ir = 0; ir < mc; ir += MR) {
    const rows = mc - ir
    let s0 = base + ir * rs
    if (rows >= MR) {
      let s1 = s0 + rs
      let s2 = s1 + rs
      let s3 = s2 + rs
      for (let p = 0; p < kc; p++) {
        ap[dst] = A[s0]!
        ap[dst + 1] = A[s1]!
        ap[dst + 2] = A[s2]!
        ap[dst + 3] = A[s3]!
        dst += MR
        s0 += cs
        s1 += cs
        s2 += cs
        s3 += cs
      }
    } else {
      for (let p = 0; p < kc; p++) {
        let s = s0
        for (let r = 0; r < MR; r++) {
          ap[dst + r] = r < rows ? A[s]! : 0
          s += rs
        }
        dst += MR
        s0 += cs
      }
    }
  }
}

/**
 * Packs B[pc : pc+kc, jc : jc+nc] into ⌈nc/NR⌉ panels, each NR columns wide and stored
 * k-major: panel q holds B[pc + p][jc + q·NR + j] at bp[q·NR·kc + p·NR + j]. Columns past n
 * are zeros. B's column panels are exactly the row panels of Bᵀ (and NR = MR), so this is
 * packA on the transposed view: swapping the strides is the transpose.
 */
function packB(b: MatView, pc: number, jc: number, kc: number, nc: number, bp: Float64Array): void {
  packA({ data: b.data, offset: b.offset, rowStride: b.colStride, colStride: b.rowStride }, jc, pc, nc, kc, bp)
}

/** An edge tile of C on its way into and out of the register tile (pure scratch, written before read). */
const edgeTile = new Float64Array(MR * NR)

/**
 * C[0 : mc, 0 : nc] += (packed A block)·(packed B block), tile by tile. cBase indexes C[0][0]
 * of this block inside `c`, whose rows are ldc apart. The micro-kernel is written out inline:
 * it loads a 4x4 tile of C into sixteen locals, per p does four loads of A, four of B and
 * sixteen multiply-adds, then stores the tile back.
 */
function macroKernel(
  mc: number,
  nc: number,
  kc: number,
  ap: Float64Array,
  bp: Float64Array,
  c: Float64Array,
  cBase: number,
  ldc: number,
): void {
  const panelStep = kc * MR // = kc * NR: size of one packed panel
  for (let jr = 0; jr < nc; jr += NR) {
    const nr = Math.min(NR, nc - jr)
    const bStart = (jr / NR) * panelStep
    for (let ir = 0; ir < mc; ir += MR) {
      const mr = Math.min(MR, mc - ir)
      let ai = (ir / MR) * panelStep
      let bi = bStart
      const ci = cBase + ir * ldc + jr
      const full = mr === MR && nr === NR
      // Load the tile of C (an edge tile through edgeTile, zero beyond the matrix).
      const t = edgeTile
      if (!full) {
        t.fill(0)
        for (let i = 0; i < mr; i++) {
          for (let j = 0; j < nr; j++) t[i * NR + j] = c[ci + i * ldc + j]!
        }
      }
      const src = full ? c : t
      const r0 = full ? ci : 0
      const rs = full ? ldc : NR
      let c00 = src[r0]!,
        c01 = src[r0 + 1]!,
        c02 = src[r0 + 2]!,
        c03 = src[r0 + 3]!
      let c10 = src[r0 + rs]!,
        c11 = src[r0 + rs + 1]!,
        c12 = src[r0 + rs + 2]!,
        c13 = src[r0 + rs + 3]!
      let c20 = src[r0 + 2 * rs]!,
        c21 = src[r0 + 2 * rs + 1]!,
        c22 = src[r0 + 2 * rs + 2]!,
        c23 = src[r0 + 2 * rs + 3]!
      let c30 = src[r0 + 3 * rs]!,
        c31 = src[r0 + 3 * rs + 1]!,
        c32 = src[r0 + 3 * rs + 2]!,
        c33 = src[r0 + 3 * rs + 3]!
      for (let p = 0; p < kc; p++) {
        const b0 = bp[bi]!
        const b1 = bp[bi + 1]!
        const b2 = bp[bi + 2]!
        const b3 = bp[bi + 3]!
        const a0 = ap[ai]!
        c00 += a0 * b0
        c01 += a0 * b1
        c02 += a0 * b2
        c03 += a0 * b3
        const a1 = ap[ai + 1]!
        c10 += a1 * b0
        c11 += a1 * b1
        c12 += a1 * b2
        c13 += a1 * b3
        const a2 = ap[ai + 2]!
        c20 += a2 * b0
        c21 += a2 * b1
        c22 += a2 * b2
        c23 += a2 * b3
        const a3 = ap[ai + 3]!
        c30 += a3 * b0
        c31 += a3 * b1
        c32 += a3 * b2
        c33 += a3 * b3
        ai += MR
        bi += NR
      }
      // Store the tile back (an edge tile only where it lies inside C).
      if (full) {
        let r = ci
        c[r] = c00
        c[r + 1] = c01
        c[r + 2] = c02
        c[r + 3] = c03
        r += ldc
        c[r] = c10
        c[r + 1] = c11
        c[r + 2] = c12
        c[r + 3] = c13
        r += ldc
        c[r] = c20
        c[r + 1] = c21
        c[r + 2] = c22
        c[r + 3] = c23
        r += ldc
        c[r] = c30
        c[r + 1] = c31
        c[r + 2] = c32
        c[r + 3] = c33
      } else {
        t[0] = c00
        t[1] = c01
        t[2] = c02
        t[3] = c03
        t[4] = c10
        t[5] = c11
        t[6] = c12
        t[7] = c13
        t[8] = c20
        t[9] = c21
        t[10] = c22
        t[11] = c23
        t[12] = c30
        t[13] = c31
        t[14] = c32
        t[15] = c33
        for (let i = 0; i < mr; i++) {
          for (let j = 0; j < nr; j++) c[ci + i * ldc + j] = t[i * NR + j]!
        }
      }
    }
  }
}
