/**
 * float32 GEMM kernels: C = A·B (or C += A·B) on Float32Array, with strided operand views, the
 * float32 twin of ./gemm.ts (same contract, same views, same argument checks).
 *
 * Rounding, exactly: C[i][j] starts from 0 (or, accumulating, from what C[i][j] holds) and, for
 * p = 0, 1, …, k-1 in that order, becomes fl32(C[i][j] + fl32(A[i][p]·B[p][j])), where fl32
 * rounds to the nearest float32 (ties to even). That is IEEE float32 arithmetic with one
 * rounding per multiply and per add (no fused multiply-add). In JS each operation is done in
 * float64 and rounded by Math.fround: the product of two float32s is exact in float64, and a
 * float64 sum of two float32s rounded to float32 is the correctly rounded float32 sum
 * (double rounding is harmless when 53 ≥ 2·24 + 2), so the JS kernels and WebAssembly's
 * f32x4.mul and f32x4.add round identically. Every float32 kernel (reference, blocked, the
 * WebAssembly f32x4 one, on one thread or two) follows this order: their results are
 * bit-identical (test/kernels/gemm32.test.ts).
 *
 * Raw loops only: this file imports from ./gemm.ts only its argument checks.
 */
import { checkArgs, checkBlockSizes, stridedView, type BlockSizes } from './gemm.ts'

/** A float32 matrix view: element (i, j) is data[offset + i*rowStride + j*colStride]. */
export interface MatView32 {
  readonly data: Float32Array
  readonly offset: number
  readonly rowStride: number
  readonly colStride: number
}

/**
 * C (m×n, row-major, contiguous, written into `c` from cOffset) = A (m×k) · B (k×n), or C += A·B
 * when accumulate is true, in float32 with the rounding above. The contract of ./gemm.ts's `Gemm`:
 * `c` must not share memory with A or B; only c[cOffset, cOffset + m·n) is written; k = 0 gives
 * zeros; views or a C range outside their arrays throw a RangeError before anything is written.
 */
export type Gemm32 = (
  m: number,
  n: number,
  k: number,
  a: MatView32,
  b: MatView32,
  c: Float32Array,
  cOffset: number,
  accumulate: boolean,
) => void

/**
 * A view of the row-major `rows`×`cols` float32 matrix stored in `data` from `offset`; with
 * `transposed`, its `cols`×`rows` transpose (strides swapped, no copy). As ./gemm.ts's `view`.
 */
export function view32(data: Float32Array, rows: number, cols: number, transposed = false, offset = 0): MatView32 {
  return stridedView('view32', data, rows, cols, transposed, offset)
}

/** Validates a float32 GEMM call before anything is written: ./gemm.ts's checks, naming gemm32. */
export function checkArgs32(m: number, n: number, k: number, a: MatView32, b: MatView32, c: Float32Array, cOffset: number): void {
  checkArgs(m, n, k, a, b, c, cOffset, 'gemm32')
}

/**
 * The whiteboard float32 GEMM: for each C[i][j], sum = fl32(sum + fl32(A[i][p]·B[p][j])) for
 * p = 0 … k-1, from 0 (or C[i][j] when accumulating). The oracle of every float32 GEMM.
 *
 * @example
 * const a = new Float32Array([1, 2, 3, 4, 5, 6]) // 2×3
 * const b = new Float32Array([7, 8, 9, 10, 11, 12]) // 3×2
 * const c = new Float32Array(4)
 * gemm32Reference(2, 2, 3, view32(a, 2, 3), view32(b, 3, 2), c, 0, false)
 * // c is [58, 64, 139, 154]
 */
export const gemm32Reference: Gemm32 = (m, n, k, a, b, c, cOffset, accumulate) => {
  checkArgs32(m, n, k, a, b, c, cOffset)
  const A = a.data
  const B = b.data
  const round = Math.fround
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      const ij = cOffset + i * n + j
      let sum = accumulate ? c[ij]! : 0
      for (let p = 0; p < k; p++) {
        const aip = A[a.offset + i * a.rowStride + p * a.colStride]! // A[i][p]
        const bpj = B[b.offset + p * b.rowStride + j * b.colStride]! // B[p][j]
        sum = round(sum + round(aip * bpj))
      }
      c[ij] = sum
    }
  }
}

/** Rows and columns of the register tile of `gemm32Blocked`. */
const MR = 4
const NR = 4

/** Block sizes of `gemm32Blocked` (half of ./gemm.ts's packed bytes per element, the same counts). */
export const defaultBlockSizes32: BlockSizes = { mc: 128, kc: 256, nc: 2048 }

/**
 * Builds a blocked float32 GEMM with its own packing workspace (mc and nc multiples of 4,
 * kc ≥ 1); `gemm32Blocked` is `makeGemm32Blocked(defaultBlockSizes32)`. The workspace is
 * scratch, written before it is read in every call.
 */
export function makeGemm32Blocked(blocks: BlockSizes): Gemm32 {
  checkBlockSizes('makeGemm32Blocked', blocks, MR, NR)
  const { mc: MC, kc: KC, nc: NC } = blocks
  let packedA: Float64Array | undefined
  let packedB: Float64Array | undefined
  return (m, n, k, a, b, c, cOffset, accumulate) => {
    checkArgs32(m, n, k, a, b, c, cOffset)
    if (m === 0 || n === 0) return
    if (!accumulate) c.fill(0, cOffset, cOffset + m * n)
    if (k === 0) return
    const ap = (packedA ??= new Float64Array(MC * KC))
    const bp = (packedB ??= new Float64Array(KC * NC))
    for (let jc = 0; jc < n; jc += NC) {
      const nc = Math.min(NC, n - jc)
      for (let pc = 0; pc < k; pc += KC) {
        const kc = Math.min(KC, k - pc)
        pack({ data: b.data, offset: b.offset, rowStride: b.colStride, colStride: b.rowStride }, jc, pc, nc, kc, bp)
        for (let ic = 0; ic < m; ic += MC) {
          const mc = Math.min(MC, m - ic)
          pack(a, ic, pc, mc, kc, ap)
          macroKernel(mc, nc, kc, ap, bp, c, cOffset + ic * n + jc, n)
        }
      }
    }
  }
}

/**
 * The plain-TypeScript float32 GEMM: BLIS-style blocking and packing as ./gemm.ts's
 * gemmBlocked, a 4x4 register tile, every multiply and add rounded with Math.fround in the
 * reference's k order: bit-identical to gemm32Reference.
 */
export const gemm32Blocked: Gemm32 = makeGemm32Blocked(defaultBlockSizes32)

/**
 * Packs rows [r0, r0+rows) × columns [p0, p0+kc) of `v` into ⌈rows/4⌉ panels, 4 rows tall and
 * k-major (panel q holds row q·4 + r, step p at dst[q·4·kc + p·4 + r]); rows past the end are
 * zeros. Packing B is packing Bᵀ: the caller swaps B's strides.
 */
function pack(v: MatView32, r0: number, p0: number, rows: number, kc: number, dst: Float64Array): void {
  const S = v.data
  const rs = v.rowStride
  const cs = v.colStride
  const base = v.offset + r0 * rs + p0 * cs
  let d = 0
  for (let ir = 0; ir < rows; ir += MR) {
    const live = Math.min(MR, rows - ir)
    let s = base + ir * rs
    for (let p = 0; p < kc; p++) {
      let t = s
      for (let r = 0; r < MR; r++) {
        dst[d + r] = r < live ? S[t]! : 0
        t += rs
      }
      d += MR
      s += cs
    }
  }
}

/** The tile of C on its way into and out of the register tile (scratch, written before read; float64, exact for float32 values). */
const cTile = new Float64Array(MR * NR)

/**
 * C[0 : mc, 0 : nc] += packed A block · packed B block, one 4x4 tile at a time, each sum rounded
 * to float32 per step. Every tile goes through `cTile`, so the loop reads and writes only
 * Float64Arrays (one element type keeps V8's loop monomorphic); the tile's entries past C's edge are zeros.
 */
function macroKernel(
  mc: number,
  nc: number,
  kc: number,
  ap: Float64Array,
  bp: Float64Array,
  c: Float32Array,
  cBase: number,
  ldc: number,
): void {
  const f = Math.fround
  const panel = kc * MR
  const t = cTile
  for (let jr = 0; jr < nc; jr += NR) {
    const nr = Math.min(NR, nc - jr)
    for (let ir = 0; ir < mc; ir += MR) {
      const mr = Math.min(MR, mc - ir)
      let ai = (ir / MR) * panel
      let bi = (jr / NR) * panel
      const ci = cBase + ir * ldc + jr
      if (mr < MR || nr < NR) t.fill(0)
      for (let i = 0; i < mr; i++) for (let j = 0; j < nr; j++) t[i * NR + j] = c[ci + i * ldc + j]!
      let c00 = t[0]!,
        c01 = t[1]!,
        c02 = t[2]!,
        c03 = t[3]!
      let c10 = t[4]!,
        c11 = t[5]!,
        c12 = t[6]!,
        c13 = t[7]!
      let c20 = t[8]!,
        c21 = t[9]!,
        c22 = t[10]!,
        c23 = t[11]!
      let c30 = t[12]!,
        c31 = t[13]!,
        c32 = t[14]!,
        c33 = t[15]!
      for (let p = 0; p < kc; p++) {
        const b0 = bp[bi]!
        const b1 = bp[bi + 1]!
        const b2 = bp[bi + 2]!
        const b3 = bp[bi + 3]!
        const a0 = ap[ai]!
        c00 = f(c00 + f(a0 * b0))
        c01 = f(c01 + f(a0 * b1))
        c02 = f(c02 + f(a0 * b2))
        c03 = f(c03 + f(a0 * b3))
        const a1 = ap[ai + 1]!
        c10 = f(c10 + f(a1 * b0))
        c11 = f(c11 + f(a1 * b1))
        c12 = f(c12 + f(a1 * b2))
        c13 = f(c13 + f(a1 * b3))
        const a2 = ap[ai + 2]!
        c20 = f(c20 + f(a2 * b0))
        c21 = f(c21 + f(a2 * b1))
        c22 = f(c22 + f(a2 * b2))
        c23 = f(c23 + f(a2 * b3))
        const a3 = ap[ai + 3]!
        c30 = f(c30 + f(a3 * b0))
        c31 = f(c31 + f(a3 * b1))
        c32 = f(c32 + f(a3 * b2))
        c33 = f(c33 + f(a3 * b3))
        ai += MR
        bi += NR
      }
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
      for (let i = 0; i < mr; i++) for (let j = 0; j < nr; j++) c[ci + i * ldc + j] = t[i * NR + j]!
    }
  }
}
