/**
 * One float32 Adam (or AdamW) step on one leaf, the float32 twin of the 'adam' member of
 * ./optim/adam.ts's fused pass, at the kernel level (arrays in, arrays out). `adam` is the chain
 *   scaleByAdam(β₁, β₂, ε) → addDecayedWeights(λ)? (AdamW) → scaleByLearningRate(lr) → applyUpdates?
 * and the step computes, per element,
 *   μ = β₁μ' + (1−β₁)·g,   ν = β₂ν' + (1−β₂)·(g·g),   d = (μ/c1) / (√(ν/c2) + ε) (+ λ·p),
 *   u = −lr·d,   out = u, or p + u
 * with c1 = 1 − β₁ᵗ and c2 = 1 − β₂ᵗ (t the step, 1 for the first).
 *
 * Rounding, exactly: the scalars β₁, β₂, 1 − β₁, 1 − β₂, c1, c2, ε, λ and −lr are computed in
 * float64 and rounded to float32; then every multiply, add, divide and square root is one IEEE
 * float32 operation, in the order written (Math.fround of the float64 result is exactly that for
 * float32 operands: double rounding is harmless for +, ×, ÷ and √ when 53 ≥ 2·24 + 2).
 * `adamStep32Reference` is the chain, one whole-array pass per transform (the oracle);
 * `adamStep32` is one fused loop, which the 'wasm' family runs in WebAssembly f32x4 on a leaf of
 * MIN_ADAM32_ELEMENTS or more (./wasm/adam32.ts); they all give the same bits (test/kernels/adam32.test.ts).
 * (NAdam, AMSGrad and Adamax: ./adam-variants32.ts.)
 */
import { resolveKernels, threads } from './backend.ts'
import { adamStep32Wasm, MIN_ADAM32_ELEMENTS } from './wasm/adam32.ts'

/** The step's settings: its rate, β₁, β₂, ε, c1 = 1 − β₁ᵗ, c2 = 1 − β₂ᵗ, AdamW's λ (undefined: Adam), and whether to apply. */
export interface Adam32Settings {
  readonly rate: number
  readonly b1: number
  readonly b2: number
  readonly eps: number
  readonly c1: number
  readonly c2: number
  readonly lambda: number | undefined
  readonly apply: boolean
}

/** A step's arrays: g, p and the moments μ', ν' (read); out (u, or p + u) and the new moments μ, ν (written). All of one length. */
export interface Adam32Arrays {
  readonly g: Float32Array
  readonly p: Float32Array
  readonly muPrev: Float32Array
  readonly nuPrev: Float32Array
  readonly out: Float32Array
  readonly mu: Float32Array
  readonly nu: Float32Array
}

const check = (a: Adam32Arrays): void => {
  const n = a.g.length
  for (const [name, x] of [
    ['p', a.p],
    ['muPrev', a.muPrev],
    ['nuPrev', a.nuPrev],
    ['out', a.out],
    ['mu', a.mu],
    ['nu', a.nu],
  ] as const) {
    if (x.length !== n) throw new RangeError(`adamStep32: ${name} has ${x.length} values, g has ${n}`)
  }
}

/** The scalars, rounded to float32. */
const scalars = (s: Adam32Settings) => {
  const f = Math.fround
  return {
    b1: f(s.b1),
    b2: f(s.b2),
    a1: f(1 - s.b1),
    a2: f(1 - s.b2),
    c1: f(s.c1),
    c2: f(s.c2),
    eps: f(s.eps),
    lambda: f(s.lambda ?? 0),
    minusRate: f(-s.rate),
  }
}

/** x ↦ fl32(f(i)) over whole arrays: one transform's pass. */
const pass = (n: number, f: (i: number) => number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.fround(f(i)))

/** The float32 Adam chain, one pass per transform, each operation rounded to float32 (the oracle). */
export const adamStep32Reference = (a: Adam32Arrays, s: Adam32Settings): void => {
  check(a)
  const { g, p, muPrev, nuPrev } = a
  const n = g.length
  const f = Math.fround
  const k = scalars(s)
  const mu = pass(n, (i) => f(k.b1 * muPrev[i]!) + f(k.a1 * g[i]!)) // scaleByAdam: the moments,
  const nu = pass(n, (i) => f(k.b2 * nuPrev[i]!) + f(k.a2 * f(g[i]! * g[i]!)))
  const d = pass(n, (i) => f(mu[i]! / k.c1) / f(f(Math.sqrt(f(nu[i]! / k.c2))) + k.eps)) //   the direction
  const dw = s.lambda === undefined ? d : pass(n, (i) => d[i]! + f(k.lambda * p[i]!)) // addDecayedWeights (AdamW)
  const u = pass(n, (i) => k.minusRate * dw[i]!) // scaleByLearningRate
  a.out.set(s.apply ? pass(n, (i) => p[i]! + u[i]!) : u) // applyUpdates
  a.mu.set(mu)
  a.nu.set(nu)
}

/** The same step in one loop per leaf, the same operations in the same order: adamStep32Reference's bits. */
export const adamStep32 = (a: Adam32Arrays, s: Adam32Settings): void => {
  check(a)
  const { g, p, muPrev, nuPrev, out, mu, nu } = a
  const n = g.length
  const f = Math.fround
  const { b1, b2, a1, a2, c1, c2, eps, lambda, minusRate } = scalars(s)
  const decay = s.lambda !== undefined
  const apply = s.apply
  for (let i = 0; i < n; i++) {
    const gi = g[i]!
    const m = f(f(b1 * muPrev[i]!) + f(a1 * gi))
    const v = f(f(b2 * nuPrev[i]!) + f(a2 * f(gi * gi)))
    mu[i] = m
    nu[i] = v
    let d = f(f(m / c1) / f(f(Math.sqrt(f(v / c2))) + eps))
    if (decay) d = f(d + f(lambda * p[i]!))
    const u = f(minusRate * d)
    out[i] = apply ? f(p[i]! + u) : u
  }
}

/** adamStep32 in WebAssembly f32x4 on a big leaf (the same bits); the TypeScript loop on a small one, or where SIMD is missing. */
export const adamStep32Fast = (a: Adam32Arrays, s: Adam32Settings): void => {
  check(a)
  if (a.g.length < MIN_ADAM32_ELEMENTS || !adamStep32Wasm(a, s, threads())) adamStep32(a, s)
}

/** The float32 Adam step of the kernel family in use: the chain under 'reference', the fused loop under 'js', WebAssembly under 'wasm'. */
export const adamStep32For = (): ((a: Adam32Arrays, s: Adam32Settings) => void) => {
  switch (resolveKernels()) {
    case 'reference':
      return adamStep32Reference
    case 'js':
      return adamStep32
    case 'wasm':
      return adamStep32Fast
  }
}
