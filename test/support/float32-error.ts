/**
 * A running error bound for law 14 (float32 against float64): each value of a computation is an
 * `Approx`, its float64 value v with two bounds, e32 on |float32 result − exact| and e64 on
 * |float64 result − exact|, "exact" being the same formula in real arithmetic on the same inputs
 * (float32 values, exact in both dtypes) and on the float64 scalars the code starts from (β, 1 − β,
 * ε, ...). The two results then differ by at most e32 + e64.
 *
 * Each operation, written in the order the code runs it, adds what it does to its operands' errors
 * and its own rounding (the standard model, Higham §2.2: fl(a ∘ b) = (a ∘ b)(1 + δ), |δ| ≤ u, plus
 * 2⁻¹⁵⁰ (float32) or 2⁻¹⁰⁷⁵ (float64) absolute, half the least subnormal, should a result underflow).
 * With ea, eb its operands' errors in one dtype, A, B bounds on their exact magnitudes (|v| + e64)
 * and Blo a lower bound on |b| (|v_b| − e64_b), the propagated error P is
 *   a ± b: ea + eb      a·b: A·eb + B·ea + ea·eb      a/b: ea/(Blo − eb) + A·eb/(Blo·(Blo − eb))
 *   √a: min(√ea, ea/√Alo)      max(a, b): max(ea, eb)      |a|, −a: ea      (these three exact)
 *   eᵃ and eᵃ − 1: e^(v + e64)·(e^ea − 1)      tanh a: ea (tanh is 1-Lipschitz)
 * and the result's error is P + u·(Z + P), Z a bound on the exact result's magnitude. float32's +,
 * −, ×, ÷ and √ are computed as float64 operations rounded to float32 (innocuous double rounding:
 * 53 ≥ 2·24 + 2), u = 2⁻²⁴; float64's are IEEE, u = 2⁻⁵³. Math.exp, Math.expm1 and Math.tanh are
 * not correctly rounded: we take their float64 results within η = 2⁻⁵⁰ relative (4 ulps; fdlibm,
 * which V8 ports, documents < 1 ulp), so fl32(Math.exp(a)) is within (1 + η)(1 + 2⁻²⁴) − 1 of eᵃ,
 * and Math.exp itself within η. A sum of products in an order the test does not know (a GEMM, a
 * convolution) takes Higham's γ_m = m·u/(1 − m·u) for m roundings on any path, whatever the order.
 *
 * The bounds themselves are computed in float64; `agrees` allows them a relative 2⁻⁴⁰ for that.
 */
import { gamma } from './float32-bound.ts'

/** A value computed both ways: v in float64, e32 and e64 bounds on each dtype's distance to the exact value. */
export interface Approx {
  readonly v: number
  readonly e32: number
  readonly e64: number
}

const u32 = 2 ** -24
const u64 = 2 ** -53
const tiny32 = 2 ** -150
const tiny64 = 2 ** -1075
/** How far Math.exp, Math.expm1 and Math.tanh may be from the exact function, relative (assumed: 4 ulps). */
export const eta = 2 ** -50

/** A float32 input: exact in both dtypes. */
export const exact = (v: number): Approx => ({ v, e32: 0, e64: 0 })

/** A float64 scalar the float32 code rounds once (fl32(c)) and the float64 code uses as it is. */
export const constant = (c: number): Approx => ({ v: c, e32: Math.abs(Math.fround(c) - c), e64: 0 })

/** A result bounded elsewhere: its float64 value and both bounds. */
export const known = (v: number, e32: number, e64: number): Approx => ({ v, e32, e64 })

const mag = (a: Approx): number => Math.abs(a.v) + a.e64

/** One rounded operation: P32, P64 its propagated errors, z its exact magnitude bound, r32, r64 each dtype's relative rounding. */
const round = (v: number, p32: number, p64: number, z: number, r32 = u32, r64 = u64): Approx => ({
  v,
  e32: p32 + r32 * (z + p32) + tiny32,
  e64: p64 + r64 * (z + p64) + tiny64,
})

/** How the float32 path rounds an operation: in float32 (the default), or in float64 (a float64 number computed from float32 inputs). */
export type Path = 'float32' | 'float64'
const r = (path: Path): number => (path === 'float32' ? u32 : u64)

export const add = (a: Approx, b: Approx, path: Path = 'float32'): Approx =>
  round(a.v + b.v, a.e32 + b.e32, a.e64 + b.e64, Math.abs(a.v + b.v) + a.e64 + b.e64, r(path))

export const sub = (a: Approx, b: Approx, path: Path = 'float32'): Approx =>
  round(a.v - b.v, a.e32 + b.e32, a.e64 + b.e64, Math.abs(a.v - b.v) + a.e64 + b.e64, r(path))

export const mul = (a: Approx, b: Approx, path: Path = 'float32'): Approx => {
  const [A, B] = [mag(a), mag(b)]
  const p = (ea: number, eb: number): number => A * eb + B * ea + ea * eb
  return round(a.v * b.v, p(a.e32, b.e32), p(a.e64, b.e64), A * B, r(path))
}

export const div = (a: Approx, b: Approx, path: Path = 'float32'): Approx => {
  const A = mag(a)
  const lo = Math.abs(b.v) - b.e64
  const p = (ea: number, eb: number): number => (lo > eb ? ea / (lo - eb) + (A * eb) / (lo * (lo - eb)) : Infinity)
  return round(a.v / b.v, p(a.e32, b.e32), p(a.e64, b.e64), lo > 0 ? A / lo : Infinity, r(path))
}

export const sqrt = (a: Approx): Approx => {
  const lo = a.v - a.e64
  const p = (ea: number): number => Math.min(Math.sqrt(ea), lo > 0 ? ea / Math.sqrt(lo) : Infinity)
  return round(Math.sqrt(a.v), p(a.e32), p(a.e64), Math.sqrt(mag(a)))
}

export const max = (a: Approx, b: Approx): Approx => ({ v: Math.max(a.v, b.v), e32: Math.max(a.e32, b.e32), e64: Math.max(a.e64, b.e64) })
export const abs = (a: Approx): Approx => ({ ...a, v: Math.abs(a.v) })
export const neg = (a: Approx): Approx => ({ ...a, v: -a.v })

/** A function from Math (within η of exact) of an approximate argument: p(e) its propagated error, z its result's magnitude bound. */
const transcendental = (v: number, p: (e: number) => number, a: Approx, z: number, path: Path): Approx =>
  round(v, p(a.e32), p(a.e64), z, path === 'float32' ? (1 + eta) * (1 + u32) - 1 : eta, eta)

export const exp = (a: Approx, path: Path = 'float32'): Approx => {
  const hi = Math.exp(a.v + a.e64)
  return transcendental(Math.exp(a.v), (e) => hi * Math.expm1(e), a, hi, path)
}

export const expm1 = (a: Approx, path: Path = 'float32'): Approx => {
  const hi = Math.exp(a.v + a.e64)
  const z = Math.max(Math.abs(Math.expm1(a.v - a.e64)), Math.abs(Math.expm1(a.v + a.e64)))
  return transcendental(Math.expm1(a.v), (e) => hi * Math.expm1(e), a, z, path)
}

export const tanh = (a: Approx, path: Path = 'float32'): Approx => transcendental(Math.tanh(a.v), (e) => e, a, Math.min(1, mag(a)), path)

/** a₁ + a₂ + … in the order given, from +0 (as the code's loops sum). */
export const sum = (terms: readonly Approx[], path: Path = 'float32'): Approx => terms.reduce((s, t) => add(s, t, path), exact(0))

/**
 * Σ aᵢ·bᵢ in an order the test does not know (a GEMM's, a convolution's), with m roundings at most
 * on any path (Higham's γ_m, any order): P = Σ (Aᵢ·ebᵢ + Bᵢ·eaᵢ + eaᵢ·ebᵢ) and the result within P +
 * γ_m·(Σ Aᵢ·Bᵢ + P) of exact. v is the float64 sum in index order.
 */
export const dot = (pairs: readonly (readonly [Approx, Approx])[], m: number): Approx => {
  let v = 0
  let z = 0
  let p32 = 0
  let p64 = 0
  for (const [a, b] of pairs) {
    const [A, B] = [mag(a), mag(b)]
    v += a.v * b.v
    z += A * B
    p32 += A * b.e32 + B * a.e32 + a.e32 * b.e32
    p64 += A * b.e64 + B * a.e64 + a.e64 * b.e64
  }
  return { v, e32: p32 + gamma(m, u32) * (z + p32) + m * tiny32, e64: p64 + gamma(m, u64) * (z + p64) + m * tiny64 }
}

/** Whether a float32 and a float64 result agree as the bound says: |r32 − r64| ≤ (e32 + e64)·(1 + 2⁻⁴⁰), the bound finite. */
export const agrees = (a: Approx, r32: number, r64: number): boolean => {
  const bound = (a.e32 + a.e64) * (1 + 2 ** -40)
  return Number.isFinite(bound) && Math.abs(r32 - r64) <= bound
}
