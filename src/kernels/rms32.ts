/**
 * One float32 RMSprop or Adagrad step on one leaf, the float32 twin of ./optim/rms.ts's fused
 * pass, at the kernel level (arrays in, arrays out). By definition they are the chains
 *   rmsprop:  scaleByRms(ρ, ε) → traceMomentum(β)? → scaleByLearningRate(lr) → applyUpdates?
 *   adagrad:  scaleByAdagrad(ε) → scaleByLearningRate(lr) → applyUpdates?
 * and the step computes, per element,
 *   ν = ρν' + (1−ρ)·(g·g)   (Adagrad: Σ = Σ' + g·g),   d = g / (√ν + ε),
 *   with momentum t = d + β·t' and d = t,   u = −lr·d,   out = u, or p + u.
 *
 * Rounding, exactly: the scalars ρ, 1 − ρ, ε, β and −lr are computed in float64 and rounded to
 * float32; then every multiply, add, divide and square root is one float32 operation, in the
 * order written (as ./adam32.ts explains). `rmsStep32Reference` is the chain, one whole-array
 * pass per transform (the oracle); `rmsStep32` is one fused loop, which the 'wasm' family runs in
 * WebAssembly f32x4 on a leaf of MIN_RMS32_ELEMENTS or more (./wasm/rms32.ts); they all give the
 * same bits (test/kernels/rms32.test.ts).
 */
import { resolveKernels, threads } from './backend.ts'
import { MIN_RMS32_ELEMENTS, rmsStep32Wasm } from './wasm/rms32.ts'

/** The step's settings: its rate, RMSprop's ρ (undefined: Adagrad), ε, the momentum β (0: no trace), and whether to apply. */
export interface Rms32Settings {
  readonly rate: number
  readonly decay: number | undefined
  readonly eps: number
  readonly momentum: number
  readonly apply: boolean
}

/**
 * A step's arrays: g, p, the accumulator ν' (Adagrad's Σ') and, with momentum, the trace t' (read);
 * out (u, or p + u), the new accumulator and, with momentum, the new trace (written). One length.
 */
export interface Rms32Arrays {
  readonly g: Float32Array
  readonly p: Float32Array
  readonly accPrev: Float32Array
  readonly tracePrev?: Float32Array
  readonly out: Float32Array
  readonly acc: Float32Array
  readonly trace?: Float32Array
}

const check = (a: Rms32Arrays, s: Rms32Settings): void => {
  const n = a.g.length
  const arrays: [string, Float32Array | undefined][] = [
    ['p', a.p],
    ['accPrev', a.accPrev],
    ['out', a.out],
    ['acc', a.acc],
  ]
  if (s.momentum !== 0) arrays.push(['tracePrev', a.tracePrev], ['trace', a.trace])
  for (const [name, x] of arrays) {
    if (x === undefined) throw new RangeError(`rmsStep32: momentum ${s.momentum} needs ${name}`)
    if (x.length !== n) throw new RangeError(`rmsStep32: ${name} has ${x.length} values, g has ${n}`)
  }
}

/** The scalars, rounded to float32. */
const scalars = (s: Rms32Settings) => {
  const f = Math.fround
  return { rho: f(s.decay ?? 0), a: f(1 - (s.decay ?? 0)), eps: f(s.eps), beta: f(s.momentum), minusRate: f(-s.rate) }
}

/** x ↦ fl32(f(i)) over whole arrays: one transform's pass. */
const pass = (n: number, f: (i: number) => number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.fround(f(i)))

/** The float32 RMSprop or Adagrad chain, one pass per transform, each operation rounded to float32 (the oracle). */
export const rmsStep32Reference = (a: Rms32Arrays, s: Rms32Settings): void => {
  check(a, s)
  const { g, p, accPrev } = a
  const n = g.length
  const f = Math.fround
  const k = scalars(s)
  const acc =
    s.decay === undefined
      ? pass(n, (i) => accPrev[i]! + f(g[i]! * g[i]!)) // scaleByAdagrad: Σ,
      : pass(n, (i) => f(k.rho * accPrev[i]!) + f(k.a * f(g[i]! * g[i]!))) // scaleByRms: ν,
  const d = pass(n, (i) => g[i]! / f(f(Math.sqrt(acc[i]!)) + k.eps)) //                     then the direction
  const tp = a.tracePrev
  const t = s.momentum === 0 || tp === undefined ? d : pass(n, (i) => d[i]! + f(k.beta * tp[i]!)) // traceMomentum
  const u = pass(n, (i) => k.minusRate * t[i]!) // scaleByLearningRate
  a.out.set(s.apply ? pass(n, (i) => p[i]! + u[i]!) : u) // applyUpdates
  a.acc.set(acc)
  if (s.momentum !== 0) a.trace?.set(t)
}

/** The same step in one loop per leaf, the same operations in the same order: rmsStep32Reference's bits. */
export const rmsStep32 = (a: Rms32Arrays, s: Rms32Settings): void => {
  check(a, s)
  const { g, p, accPrev, out, acc } = a
  const n = g.length
  const f = Math.fround
  const { rho, a: oneMinusRho, eps, beta, minusRate } = scalars(s)
  const adagrad = s.decay === undefined
  const tp = s.momentum === 0 ? undefined : a.tracePrev
  const tr = s.momentum === 0 ? undefined : a.trace
  const apply = s.apply
  for (let i = 0; i < n; i++) {
    const gi = g[i]!
    const v = adagrad ? f(accPrev[i]! + f(gi * gi)) : f(f(rho * accPrev[i]!) + f(oneMinusRho * f(gi * gi)))
    acc[i] = v
    let d = f(gi / f(f(Math.sqrt(v)) + eps))
    if (tp !== undefined && tr !== undefined) {
      d = f(d + f(beta * tp[i]!))
      tr[i] = d
    }
    const u = f(minusRate * d)
    out[i] = apply ? f(p[i]! + u) : u
  }
}

/** rmsStep32 in WebAssembly f32x4 on a big leaf (the same bits); the TypeScript loop on a small one, or where SIMD is missing. */
export const rmsStep32Fast = (a: Rms32Arrays, s: Rms32Settings): void => {
  check(a, s)
  if (a.g.length < MIN_RMS32_ELEMENTS || !rmsStep32Wasm(a, s, threads())) rmsStep32(a, s)
}

/** The float32 RMSprop/Adagrad step of the kernel family in use: the chain ('reference'), the loop ('js'), WebAssembly ('wasm'). */
export const rmsStep32For = (): ((a: Rms32Arrays, s: Rms32Settings) => void) => {
  switch (resolveKernels()) {
    case 'reference':
      return rmsStep32Reference
    case 'js':
      return rmsStep32
    case 'wasm':
      return rmsStep32Fast
  }
}
