/** Test data shared by the GEMM test files (reference, js blocked, wasm, two threads). */
import type fc from 'fast-check'

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
