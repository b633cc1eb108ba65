/** Test data shared by the GEMM test files (reference, js blocked, wasm, two threads). */
import type fc from 'fast-check'
import type { Gemm, MatView } from '../../src/kernels/gemm.ts'

/** The fast-check seed: $CHAINRULE_SEED, else 42. */
export const seed = Number(process.env['CHAINRULE_SEED'] ?? 42)

/** fast-check parameters with the shared seed. */
export const runs = (numRuns: number): fc.Parameters<unknown> => ({ seed, numRuns })

/** The relative tolerance every fast GEMM is held to against the reference. */
export const RTOL = 1e-12

/**
 * Deterministic values from a 32-bit seed (mulberry32): mixed signs, magnitudes 2^-8..2^8 so
 * sums cancel and products differ in scale, and about one in ten exactly zero.
 */
export function values(length: number, seed32: number): Float64Array {
  let s = seed32 >>> 0
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32
  }
  const out = new Float64Array(length)
  for (let i = 0; i < length; i++) {
    const u = next()
    out[i] = u < 0.1 ? 0 : (2 * next() - 1) * 2 ** Math.floor(next() * 17 - 8)
  }
  return out
}

/** A rows×cols operand embedded in a larger array whose other elements are NaN (so a stray read shows). */
export interface Operand {
  readonly view: MatView
  /** Element (i, j) of the logical matrix. */
  readonly at: (i: number, j: number) => number
}

/** One GEMM test case; L says how each operand is stored (each test file has its own layouts). */
export interface GemmCase<L> {
  readonly m: number
  readonly n: number
  readonly k: number
  readonly a: L
  readonly b: L
  readonly cOffset: number
  readonly accumulate: boolean
  readonly seed: number
}

/** A case's operands, and c before the call: sentinels around an m×n region holding the accumulator (or NaN when overwriting). */
export interface Built {
  readonly a: Operand
  readonly b: Operand
  readonly c: Float64Array
}

/** What fills c outside the m×n region: a kernel must never write there. */
export const SENTINEL = -7.25

/** build, run and firstMismatch for cases whose operands `operand` stores. */
export const gemmCases = <L>(operand: (rows: number, cols: number, layout: L, seed32: number) => Operand) => {
  const build = (t: GemmCase<L>): Built => {
    const a = operand(t.m, t.k, t.a, t.seed)
    const b = operand(t.k, t.n, t.b, t.seed + 1)
    const c = new Float64Array(t.cOffset + t.m * t.n + 3).fill(SENTINEL)
    const acc = values(t.m * t.n, t.seed + 2)
    // When overwriting, start from NaN: the old contents must not leak into the result.
    for (let i = 0; i < t.m * t.n; i++) c[t.cOffset + i] = t.accumulate ? acc[i]! : NaN
    return { a, b, c }
  }
  const run = (gemm: Gemm, t: GemmCase<L>, built: Built): Float64Array => {
    const out = built.c.slice()
    gemm(t.m, t.n, t.k, built.a.view, built.b.view, out, t.cOffset, t.accumulate)
    return out
  }
  /** The first element where fast and ref differ by more than the summation-order bound, or undefined. */
  const firstMismatch = (t: GemmCase<L>, built: Built, fast: Float64Array, ref: Float64Array): string | undefined => {
    const { m, n, k, cOffset } = t
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        const ij = cOffset + i * n + j
        let magnitude = t.accumulate ? Math.abs(built.c[ij]!) : 0
        for (let p = 0; p < k; p++) magnitude += Math.abs(built.a.at(i, p) * built.b.at(p, j))
        const bound = RTOL * magnitude + 2 * (k + 1) * Number.MIN_VALUE
        if (!Number.isFinite(ref[ij]!)) {
          // Inf and NaN terms give the same Inf or NaN in any summation order.
          if (!Object.is(fast[ij], ref[ij])) return `C[${i}][${j}]: fast ${fast[ij]}, ref ${ref[ij]}`
          continue
        }
        const diff = Math.abs(fast[ij]! - ref[ij]!)
        if (!(diff <= bound)) return `C[${i}][${j}]: fast ${fast[ij]}, ref ${ref[ij]}, |diff| ${diff} > bound ${bound}`
      }
    }
    return undefined
  }
  return { build, run, firstMismatch }
}
