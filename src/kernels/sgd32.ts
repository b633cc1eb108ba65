/**
 * One float32 SGD step on one leaf (a Float32Array of parameters and its gradient), the float32
 * twin of ./optim/sgd.ts's fused pass, at the kernel level (arrays in, arrays out; the optimizer
 * state and its tree are the caller's). `sgd` is the chain
 *   addL2(λ)? → traceMomentum(β, nesterov)? → scaleByLearningRate(lr) → applyUpdates?
 * and the step computes, per element,
 *   d = g (+ λ·p),   t = d + β·t',   u = −lr · (t, or d + β·t with Nesterov; d without momentum),   out = u, or p + u.
 *
 * Rounding, exactly: the scalars λ, β and −lr are first rounded to float32; then every multiply
 * and every add is one IEEE float32 operation (fl32 of the exact result), in the order written.
 * Two implementations of it: `sgdStep32Reference`, the chain itself, one whole-array pass per
 * transform (the oracle: what a float32 `Optim.sgd` chain computes), and `sgdStep32`, one fused
 * loop, which the 'wasm' family runs in WebAssembly f32x4 on a leaf of MIN_SGD32_ELEMENTS or
 * more (./wasm/sgd32.ts); they all give the same bits (test/kernels/sgd32.test.ts).
 */

import { resolveKernels, threads } from './backend.ts'
import { MIN_SGD32_ELEMENTS, sgdStep32Wasm } from './wasm/sgd32.ts'

/** The step's settings: the learning rate of this step, λ (0: no L2 term), β (0: no momentum), Nesterov, and whether to write p + u. */
export interface Sgd32Settings {
  readonly rate: number
  readonly lambda: number
  readonly beta: number
  readonly nesterov: boolean
  readonly apply: boolean
}

/**
 * A step's arrays: g and p (read), the previous trace t' (read; undefined without momentum), out
 * (u, or p + u with `apply`) and the new trace t (written; undefined without momentum). All of one length.
 */
export interface Sgd32Arrays {
  readonly g: Float32Array
  readonly p: Float32Array
  readonly tPrev: Float32Array | undefined
  readonly out: Float32Array
  readonly t: Float32Array | undefined
}

const check = (a: Sgd32Arrays, s: Sgd32Settings): void => {
  const n = a.g.length
  for (const [name, x] of [
    ['p', a.p],
    ['out', a.out],
    ['tPrev', a.tPrev],
    ['t', a.t],
  ] as const) {
    if (x !== undefined && x.length !== n) throw new RangeError(`sgdStep32: ${name} has ${x.length} values, g has ${n}`)
  }
  if (s.beta > 0 !== (a.tPrev !== undefined && a.t !== undefined)) {
    throw new RangeError(`sgdStep32: momentum β = ${s.beta} needs ${s.beta > 0 ? 'both' : 'neither of'} tPrev and t`)
  }
}

/** x ↦ fl32(f(x)) over whole arrays: one transform's pass. */
const pass = (n: number, f: (i: number) => number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.fround(f(i)))

/** The float32 sgd chain, one pass per transform, each operation rounded to float32 (the oracle). */
export const sgdStep32Reference = (a: Sgd32Arrays, s: Sgd32Settings): void => {
  check(a, s)
  const { g, p, tPrev } = a
  const n = g.length
  const f = Math.fround
  const lambda = f(s.lambda)
  const beta = f(s.beta)
  const minusRate = f(-s.rate)
  const d = s.lambda > 0 ? pass(n, (i) => g[i]! + f(lambda * p[i]!)) : g // addL2
  const t = tPrev === undefined ? undefined : pass(n, (i) => d[i]! + f(beta * tPrev[i]!)) // traceMomentum: the new trace
  const v = t === undefined ? d : s.nesterov ? pass(n, (i) => d[i]! + f(beta * t[i]!)) : t //  and its direction
  const u = pass(n, (i) => minusRate * v[i]!) // scaleByLearningRate
  a.out.set(s.apply ? pass(n, (i) => p[i]! + u[i]!) : u) // applyUpdates
  if (t !== undefined) a.t!.set(t)
}

/** The same step in one loop per leaf, the same operations in the same order: sgdStep32Reference's bits. */
export const sgdStep32 = (a: Sgd32Arrays, s: Sgd32Settings): void => {
  check(a, s)
  const { g, p, tPrev, out, t } = a
  const n = g.length
  const f = Math.fround
  const lambda = f(s.lambda)
  const beta = f(s.beta)
  const minusRate = f(-s.rate)
  const decay = s.lambda > 0
  const apply = s.apply
  if (tPrev === undefined || t === undefined) {
    for (let i = 0; i < n; i++) {
      const d = decay ? f(g[i]! + f(lambda * p[i]!)) : g[i]!
      const u = f(minusRate * d)
      out[i] = apply ? f(p[i]! + u) : u
    }
    return
  }
  const nesterov = s.nesterov
  for (let i = 0; i < n; i++) {
    const d = decay ? f(g[i]! + f(lambda * p[i]!)) : g[i]!
    const tr = f(d + f(beta * tPrev[i]!))
    t[i] = tr
    const u = f(minusRate * (nesterov ? f(d + f(beta * tr)) : tr))
    out[i] = apply ? f(p[i]! + u) : u
  }
}

/** sgdStep32 in WebAssembly f32x4 on a big leaf (the same bits); the TypeScript loop on a small one, or where SIMD is missing. */
export const sgdStep32Fast = (a: Sgd32Arrays, s: Sgd32Settings): void => {
  check(a, s)
  if (a.g.length < MIN_SGD32_ELEMENTS || !sgdStep32Wasm(a, s, threads())) sgdStep32(a, s)
}

/** The float32 SGD step of the kernel family in use: the chain under 'reference', the fused loop under 'js', WebAssembly under 'wasm'. */
export const sgdStep32For = (): ((a: Sgd32Arrays, s: Sgd32Settings) => void) => {
  switch (resolveKernels()) {
    case 'reference':
      return sgdStep32Reference
    case 'js':
      return sgdStep32
    case 'wasm':
      return sgdStep32Fast
  }
}
