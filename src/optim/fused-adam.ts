/**
 * Adam, AdamW and NAdam in one pass. `adam` is, by definition, the chain
 *   scaleByAdam(β₁, β₂, ε) → addDecayedWeights(λ) (AdamW only) → scaleByLearningRate(lr)
 * (NAdam: scaleByNadam in place of scaleByAdam), and `adamChain` / `adamwChain` / `nadamChain`
 * build exactly that. The chain walks every parameter about seven
 * times (the two moments, the bias-corrected ratio, the decay, the learning rate) and allocates
 * an array per pass. This file computes the same numbers in one loop per leaf, with the same
 * floating-point operations in the same order, so its updates and states are bit-identical to
 * the chain's (test/optim.test.ts holds it to that), and its `updateAndApply` writes p + u in
 * that same loop. Read the chain to learn; this is the same thing, fused. Under the 'wasm'
 * kernels, a leaf of 4,096 values or more takes the same loop in WebAssembly (asm/optim.ts).
 */
import { adamStepWasm } from '../kernels/wasm/optim.ts'
import type { Tensor } from '../tensor/tensor.ts'
import * as T from '../tensor/index.ts'
import { isTensor, leavesLike, map, map2, structureDiff, TreeError, type Tree } from '../tree.ts'
import type { AdamState } from './adaptive.ts'
import { countOf, describeEntry, fused, increment } from './internal.ts'
import type { CountState } from './scale.ts'
import { inWasm } from './fused-sgd.ts'
import type { Select } from './masked.ts'
import { checkGrads, type GradientTransformation } from './transform.ts'
import { OptimError } from './validate.ts'

/** The hyper-parameters, already validated by the chain's transforms. */
export interface FusedAdamSettings {
  /** The alias's name, for errors ('adam', 'adamw' or 'nadam'). */
  readonly where: string
  readonly rate: (step: number) => number
  readonly b1: number
  readonly b2: number
  readonly eps: number
  /** AdamW's decoupled weight decay λ; undefined for Adam (no decay transform in the chain). */
  readonly weightDecay: number | undefined
  /** The leaves the weight decay applies to (undefined: all), as Optim.masked picks them. */
  readonly mask?: Select | undefined
  /** NAdam's look-ahead on the first moment (scaleByNadam's direction). */
  readonly nesterov?: boolean
}

/** One leaf's new moments and its update u (or, with `apply`, p + u). */
interface LeafStep {
  readonly out: Tensor
  readonly mu: Tensor
  readonly nu: Tensor
}

/**
 * One step for one leaf, t the step (1 for the first), c1 = 1-β₁ᵗ, c2 = 1-β₂ᵗ:
 *   μ = β₁μ + (1-β₁)g,  ν = β₂ν + (1-β₂)g²,  d = μ̂ / (√(ν/c2) + ε)  [+ λp for AdamW],
 *   u = -lr · d,  and with `apply` the new param p + u,
 * where μ̂ = μ/c1 (Adam), or NAdam's look-ahead β₁·(μ/c1') + (1-β₁)·(g/c1), c1' = 1-β₁ᵗ⁺¹.
 */
const step = (g: Tensor, p: Tensor, muPrev: Tensor, nuPrev: Tensor, s: FusedAdamSettings, rate: number, c1: number, c2: number, c1Next: number | undefined, apply: boolean): LeafStep => {
  const gd = g.data
  const pd = p.data
  const mp = muPrev.data
  const vp = nuPrev.data
  const n = gd.length
  const out = T.buffer(n)
  const mu = T.buffer(n)
  const nu = T.buffer(n)
  const { b1, b2, eps } = s
  const a1 = 1 - b1
  const a2 = 1 - b2
  const decay = s.weightDecay !== undefined
  const lambda = s.weightDecay ?? 0
  if (inWasm(n) && adamStepWasm(gd, pd, mp, vp, out, mu, nu, { rate, b1, b2, eps, c1, c2, lambda: s.weightDecay, apply, c1Next })) {
    return { out: T.fromData(g.shape, out), mu: T.fromData(g.shape, mu), nu: T.fromData(g.shape, nu) }
  }
  for (let i = 0; i < n; i++) {
    const gi = gd[i] as number
    const m = b1 * (mp[i] as number) + a1 * gi
    const v = b2 * (vp[i] as number) + a2 * (gi * gi)
    mu[i] = m
    nu[i] = v
    const mHat = c1Next === undefined ? m / c1 : b1 * (m / c1Next) + a1 * (gi / c1)
    let d = mHat / (Math.sqrt(v / c2) + eps)
    if (decay) d = d + lambda * (pd[i] as number)
    const u = -rate * d
    out[i] = apply ? (pd[i] as number) + u : u
  }
  return { out: T.fromData(g.shape, out), mu: T.fromData(g.shape, mu), nu: T.fromData(g.shape, nu) }
}

/**
 * The fused Adam: `reference` (the chain) supplies init, so the state has the chain's exact
 * structure, [{ count, mu, nu }, []?, { count }], and this replaces its update with the
 * one-pass loop and adds updateAndApply.
 */
export const fusedAdam = <S extends Tree>(reference: GradientTransformation<S>, s: FusedAdamSettings): GradientTransformation<S> => {
  const noDecay: FusedAdamSettings = { ...s, weightDecay: undefined } // a leaf the mask leaves out: Adam's step
  const run = (grads: Tree, state: S, params: Tree, apply: boolean): readonly [Tree, S] => {
    const at = `${s.where}.${apply ? 'updateAndApply' : 'update'}`
    checkGrads(at, grads, params)
    const parts = state as unknown as readonly Tree[]
    const expected = s.weightDecay === undefined ? 2 : 3
    if (!Array.isArray(parts) || parts.length !== expected) {
      throw new OptimError(`${at}: expected a state tuple of ${expected} (from ${s.where}'s init), got ${Array.isArray(parts) ? `a tuple of ${parts.length}` : typeof parts}`)
    }
    const moments = parts[0] as Partial<AdamState> | null
    const countState = parts[parts.length - 1] as Partial<CountState> | null
    if (typeof moments !== 'object' || moments === null || !isTensor(moments.count) || moments.count.data.length !== 1 || moments.mu === undefined || moments.nu === undefined) {
      throw new OptimError(`${at}: state[0] should be Adam's moments {count: a tensor [], mu, nu: trees like the params}, got ${describeEntry(moments)}`)
    }
    if (typeof countState !== 'object' || countState === null || !isTensor(countState.count) || countState.count.data.length !== 1) {
      throw new OptimError(`${at}: state[${expected - 1}] should be the step count {count: a tensor []}, got ${describeEntry(countState)}`)
    }
    for (const [what, tree] of [['mu', moments.mu], ['nu', moments.nu]] as const) {
      const d = structureDiff(grads, tree)
      if (d !== undefined) throw new TreeError(`${at}: ${what} does not have the gradients' structure, ${d} (gradients vs ${what})`)
    }
    const t = countOf(moments.count) + 1
    const c1 = 1 - s.b1 ** t
    const c2 = 1 - s.b2 ** t
    const c1Next = s.nesterov === true ? 1 - s.b1 ** (t + 1) : undefined
    const rate = s.rate(countOf(countState.count))
    const ps = leavesLike(grads, params)
    const mus = leavesLike(grads, moments.mu)
    const nus = leavesLike(grads, moments.nu)
    const results: LeafStep[] = []
    let k = 0
    const outs = map(grads, (g, path) => {
      const r = step(g, ps[k] as Tensor, mus[k] as Tensor, nus[k] as Tensor, s.mask === undefined || s.mask(path, g.shape) ? s : noDecay, rate, c1, c2, c1Next, apply)
      k++
      results.push(r)
      return r.out
    })
    let j = 0
    const mu = map(grads, () => (results[j++] as LeafStep).mu)
    j = 0
    const nu = map(grads, () => (results[j++] as LeafStep).nu)
    const next: Tree[] = [{ count: increment(moments.count), mu, nu }]
    if (s.weightDecay !== undefined) next.push(parts[1] as Tree)
    next.push({ count: increment(countState.count) })
    // With apply, outs holds the new params in the gradients' structure; map2 lays them out in
    // the params' structure, as applyUpdates does.
    return [apply ? map2(params, outs, (_p, q) => q) : outs, next as unknown as S]
  }
  return fused((params) => reference.init(params), run)
}
