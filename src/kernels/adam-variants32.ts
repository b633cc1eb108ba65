/**
 * One float32 NAdam, AMSGrad or Adamax step on one leaf: the float32 twins of the other members of
 * ./optim/adam.ts's fused pass, beside ./adam32.ts (Adam and AdamW; read that one first). Each is
 * the chain scaleByNadam / scaleByAmsgrad / scaleByAdamax(β₁, β₂, ε) → addDecayedWeights(λ)? →
 * scaleByLearningRate(lr) → applyUpdates?, and computes, per element, μ = β₁μ' + (1−β₁)·g, then
 *   nadam    ν = β₂ν' + (1−β₂)·(g·g)            d = (β₁·(μ/c1Next) + (1−β₁)·(g/c1)) / (√(ν/c2) + ε)
 *   amsgrad  ν as nadam, ν_max = max(ν_max', ν)   d = μ/c1 / (√(ν_max/c2) + ε)
 *   adamax   ν∞ = max(β₂ν∞', |g| + ε)            d = μ/c1 / ν∞
 * then d + λ·p (with λ), u = −lr·d, out = u or p + u; c1 = 1 − β₁ᵗ, c2 = 1 − β₂ᵗ, c1Next = 1 − β₁ᵗ⁺¹.
 *
 * Rounding, exactly: the scalars rounded to float32 first, then one float32 operation at a time in
 * the order written (max and |·| are exact). `adamVariantStep32Reference` is the chain, one
 * whole-array pass per transform (the oracle); `adamVariantStep32` one fused loop, which the 'wasm'
 * family runs in WebAssembly f32x4 on a leaf of MIN_ADAM32_ELEMENTS or more (./wasm/adam32.ts);
 * the same bits (test/kernels/adam-variants32.test.ts).
 */
import { resolveKernels, threads } from './backend.ts'
import { adamVariantStep32Wasm, MIN_ADAM32_ELEMENTS } from './wasm/adam32.ts'

/** Which member: NAdam, AMSGrad or Adamax. */
export type AdamVariant32 = 'nadam' | 'amsgrad' | 'adamax'

/** The step's settings: as ./adam32.ts's, with the variant and c1Next = 1 − β₁ᵗ⁺¹ (NAdam). */
export interface AdamVariant32Settings {
  readonly variant: AdamVariant32
  readonly rate: number
  readonly b1: number
  readonly b2: number
  readonly eps: number
  readonly c1: number
  readonly c2: number
  readonly c1Next: number
  readonly lambda: number | undefined
  readonly apply: boolean
}

/**
 * A step's arrays: g, p, μ', ν' (Adamax: ν∞') and, for AMSGrad, ν_max' (read); out (u, or p + u),
 * μ, ν (ν∞) and, for AMSGrad, ν_max (written). One length.
 */
export interface AdamVariant32Arrays {
  readonly g: Float32Array
  readonly p: Float32Array
  readonly muPrev: Float32Array
  readonly nuPrev: Float32Array
  readonly nuMaxPrev?: Float32Array
  readonly out: Float32Array
  readonly mu: Float32Array
  readonly nu: Float32Array
  readonly nuMax?: Float32Array
}

const check = (a: AdamVariant32Arrays, s: AdamVariant32Settings): void => {
  const n = a.g.length
  const arrays: [string, Float32Array | undefined][] = [
    ['p', a.p],
    ['muPrev', a.muPrev],
    ['nuPrev', a.nuPrev],
    ['out', a.out],
    ['mu', a.mu],
    ['nu', a.nu],
  ]
  if (s.variant === 'amsgrad') arrays.push(['nuMaxPrev', a.nuMaxPrev], ['nuMax', a.nuMax])
  for (const [name, x] of arrays) {
    if (x === undefined) throw new RangeError(`adamVariantStep32: ${s.variant} needs ${name}`)
    if (x.length !== n) throw new RangeError(`adamVariantStep32: ${name} has ${x.length} values, g has ${n}`)
  }
}

/** The scalars, rounded to float32. */
const scalars = (s: AdamVariant32Settings) => {
  const f = Math.fround
  return {
    b1: f(s.b1),
    b2: f(s.b2),
    a1: f(1 - s.b1),
    a2: f(1 - s.b2),
    c1: f(s.c1),
    c2: f(s.c2),
    c1Next: f(s.c1Next),
    eps: f(s.eps),
    lambda: f(s.lambda ?? 0),
    minusRate: f(-s.rate),
  }
}

/** x ↦ fl32(f(i)) over whole arrays: one transform's pass. */
const pass = (n: number, f: (i: number) => number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.fround(f(i)))

/** The float32 chain of NAdam, AMSGrad or Adamax, one pass per transform, each operation rounded to float32 (the oracle). */
export const adamVariantStep32Reference = (a: AdamVariant32Arrays, s: AdamVariant32Settings): void => {
  check(a, s)
  const { g, p, muPrev, nuPrev } = a
  const n = g.length
  const f = Math.fround
  const k = scalars(s)
  const mu = pass(n, (i) => f(k.b1 * muPrev[i]!) + f(k.a1 * g[i]!)) // the variant's scaleBy…: μ,
  const nu =
    s.variant === 'adamax'
      ? pass(n, (i) => Math.max(f(k.b2 * nuPrev[i]!), f(Math.abs(g[i]!) + k.eps))) // ν∞,
      : pass(n, (i) => f(k.b2 * nuPrev[i]!) + f(k.a2 * f(g[i]! * g[i]!))) // or ν,
  const wp = a.nuMaxPrev
  const nuMax = s.variant === 'amsgrad' && wp !== undefined ? pass(n, (i) => Math.max(wp[i]!, nu[i]!)) : nu // and ν_max;
  const d = pass(n, (i) => {
    // the direction
    if (s.variant === 'adamax') return f(mu[i]! / k.c1) / nu[i]!
    const den = f(f(Math.sqrt(f(nuMax[i]! / k.c2))) + k.eps)
    if (s.variant === 'amsgrad') return f(mu[i]! / k.c1) / den
    return f(f(k.b1 * f(mu[i]! / k.c1Next)) + f(k.a1 * f(g[i]! / k.c1))) / den
  })
  const dw = s.lambda === undefined ? d : pass(n, (i) => d[i]! + f(k.lambda * p[i]!)) // addDecayedWeights
  const u = pass(n, (i) => k.minusRate * dw[i]!) // scaleByLearningRate
  a.out.set(s.apply ? pass(n, (i) => p[i]! + u[i]!) : u) // applyUpdates
  a.mu.set(mu)
  a.nu.set(nu)
  if (s.variant === 'amsgrad') a.nuMax?.set(nuMax)
}

/** The same step in one loop per leaf, the same operations in the same order: adamVariantStep32Reference's bits. */
export const adamVariantStep32 = (a: AdamVariant32Arrays, s: AdamVariant32Settings): void => {
  check(a, s)
  const { g, p, muPrev, nuPrev, out, mu, nu } = a
  const n = g.length
  const f = Math.fround
  const { b1, b2, a1, a2, c1, c2, c1Next, eps, lambda, minusRate } = scalars(s)
  const decay = s.lambda !== undefined
  const apply = s.apply
  const variant = s.variant
  const wp = a.nuMaxPrev
  const w = a.nuMax
  for (let i = 0; i < n; i++) {
    const gi = g[i]!
    const m = f(f(b1 * muPrev[i]!) + f(a1 * gi))
    mu[i] = m
    let d: number
    if (variant === 'adamax') {
      const vInf = Math.max(f(b2 * nuPrev[i]!), f(Math.abs(gi) + eps))
      nu[i] = vInf
      d = f(f(m / c1) / vInf)
    } else {
      const v = f(f(b2 * nuPrev[i]!) + f(a2 * f(gi * gi)))
      nu[i] = v
      let vHat = v
      if (wp !== undefined && w !== undefined && variant === 'amsgrad') {
        vHat = Math.max(wp[i]!, v)
        w[i] = vHat
      }
      const den = f(f(Math.sqrt(f(vHat / c2))) + eps)
      d = variant === 'amsgrad' ? f(f(m / c1) / den) : f(f(f(b1 * f(m / c1Next)) + f(a1 * f(gi / c1))) / den)
    }
    if (decay) d = f(d + f(lambda * p[i]!))
    const u = f(minusRate * d)
    out[i] = apply ? f(p[i]! + u) : u
  }
}

/** adamVariantStep32 in WebAssembly f32x4 on a big leaf (the same bits); the TypeScript loop on a small one, or where SIMD is missing. */
export const adamVariantStep32Fast = (a: AdamVariant32Arrays, s: AdamVariant32Settings): void => {
  check(a, s)
  if (a.g.length < MIN_ADAM32_ELEMENTS || !adamVariantStep32Wasm(a, s, threads())) adamVariantStep32(a, s)
}

/** The float32 NAdam/AMSGrad/Adamax step of the kernel family in use: the chain ('reference'), the loop ('js'), WebAssembly ('wasm'). */
export const adamVariantStep32For = (): ((a: AdamVariant32Arrays, s: AdamVariant32Settings) => void) => {
  switch (resolveKernels()) {
    case 'reference':
      return adamVariantStep32Reference
    case 'js':
      return adamVariantStep32
    case 'wasm':
      return adamVariantStep32Fast
  }
}
