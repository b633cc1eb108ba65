/**
 * Adam's family in one pass: Adam, AdamW, NAdam, AMSGrad and Adamax. `adam` is, by definition,
 * the chain
 *   scaleByAdam(β₁, β₂, ε) → addDecayedWeights(λ) (AdamW only) → scaleByLearningRate(lr)
 * (NAdam, AMSGrad, Adamax: scaleByNadam, scaleByAmsgrad, scaleByAdamax in place of
 * scaleByAdam), and `adamChain`, `adamwChain`, `nadamChain`, `amsgradChain` and `adamaxChain`
 * build exactly that. A chain walks every parameter about seven times (the moments, the
 * bias-corrected ratio, the decay, the learning rate) and allocates an array per pass. This file
 * computes the same numbers in one loop per leaf, with the same floating-point operations in the
 * same order, so its updates and states are bit-identical to the chain's (test/optim.test.ts
 * holds it to that), and its `updateAndApply` writes p + u in that same loop. Read the chain to
 * learn; this is the same thing, fused. Under the 'wasm' kernels, a leaf of 4,096 values or more
 * takes the same loop in WebAssembly (asm/optim.ts).
 */
import { adamStepWasm } from '../kernels/wasm/optim.ts'
import type { Tensor } from '../tensor/tensor.ts'
import * as T from '../tensor/index.ts'
import { isTensor, leavesLike, map, map2, structureDiff, TreeError, type Tree } from '../tree.ts'
import { countOf, describeEntry, fused, increment } from './internal.ts'
import type { CountState } from './scale.ts'
import { inWasm } from './fused-sgd.ts'
import type { Select } from './masked.ts'
import { checkGrads, type GradientTransformation } from './transform.ts'
import { OptimError } from './validate.ts'

/** Which member of Adam's family: how the direction comes from the moments (see adam-variants.ts). */
export type AdamVariant = 'adam' | 'nadam' | 'amsgrad' | 'adamax'

/** Each variant's name in messages. */
const NAMES: { readonly [V in AdamVariant]: string } = { adam: 'Adam', nadam: 'NAdam', amsgrad: 'AMSGrad', adamax: 'Adamax' }

/** The trees of each variant's moments record besides count, in the chain's key order. */
const MOMENTS: { readonly [V in AdamVariant]: readonly string[] } = {
  adam: ['mu', 'nu'],
  nadam: ['mu', 'nu'],
  amsgrad: ['mu', 'nu', 'nuMax'],
  adamax: ['mu', 'nuInf'],
}

/** The hyper-parameters, already validated by the chain's transforms. */
export interface FusedAdamSettings {
  /** The alias's name, for errors ('adam', 'adamw', 'nadam', 'amsgrad' or 'adamax'). */
  readonly where: string
  readonly rate: (step: number) => number
  readonly b1: number
  readonly b2: number
  readonly eps: number
  /** AdamW's decoupled weight decay λ; undefined for Adam (no decay transform in the chain). */
  readonly weightDecay: number | undefined
  /** The leaves the weight decay applies to (undefined: all), as Optim.masked picks them. */
  readonly mask?: Select | undefined
  /** The member of the family (default 'adam'; AdamW is 'adam' with a weightDecay). */
  readonly variant?: AdamVariant
}

/** One leaf's update u (or, with `apply`, p + u) and its new moments, in MOMENTS' order. */
interface LeafStep {
  readonly out: Tensor
  readonly moments: readonly Tensor[]
}

/** What one step needs besides the leaf: t the step (1 for the first), c1 = 1-β₁ᵗ, c2 = 1-β₂ᵗ, c1Next = 1-β₁ᵗ⁺¹. */
interface StepConstants {
  readonly rate: number
  readonly c1: number
  readonly c2: number
  readonly c1Next: number
  readonly apply: boolean
}

/**
 * One step for one leaf (`prev` the moments before it, in MOMENTS' order):
 *   μ = β₁μ + (1-β₁)g, then d by the variant:
 *   adam     ν = β₂ν + (1-β₂)g²                      d = (μ/c1) / (√(ν/c2) + ε)
 *   nadam    ν as adam                               d = (β₁·(μ/c1Next) + (1-β₁)·(g/c1)) / (√(ν/c2) + ε)
 *   amsgrad  ν as adam, ν_max = max(ν_max, ν)         d = μ/c1 / (√(ν_max/c2) + ε)
 *   adamax   ν∞ = max(β₂ν∞, |g| + ε)                  d = μ/c1 / ν∞
 * then d + λp for AdamW, u = -lr·d, and with `apply` the new param p + u.
 */
const step = (g: Tensor, p: Tensor, prev: readonly Tensor[], s: FusedAdamSettings, k: StepConstants): LeafStep => {
  const variant = s.variant ?? 'adam'
  const gd = g.data
  const pd = p.data
  const n = gd.length
  const out = T.buffer(n)
  const next = prev.map(() => T.buffer(n))
  const mp = (prev[0] as Tensor).data
  const vp = (prev[1] as Tensor).data
  const mu = next[0] as Float64Array
  const nu = next[1] as Float64Array
  const { b1, b2, eps } = s
  const { rate, c1, c2, c1Next, apply } = k
  const a1 = 1 - b1
  const a2 = 1 - b2
  const decay = s.weightDecay !== undefined
  const lambda = s.weightDecay ?? 0
  const done = (): LeafStep => ({ out: T.fromData(g.shape, out), moments: next.map((x) => T.fromData(g.shape, x)) })
  if (inWasm(n) && adamStepWasm(gd, pd, mp, vp, prev[2]?.data, out, mu, nu, next[2], { rate, b1, b2, eps, c1, c2, c1Next, lambda: s.weightDecay, apply, variant })) {
    return done()
  }
  if (variant === 'adamax') {
    for (let i = 0; i < n; i++) {
      const gi = gd[i] as number
      const m = b1 * (mp[i] as number) + a1 * gi
      const vInf = Math.max(b2 * (vp[i] as number), Math.abs(gi) + eps)
      mu[i] = m
      nu[i] = vInf
      let d = m / c1 / vInf
      if (decay) d = d + lambda * (pd[i] as number)
      const u = -rate * d
      out[i] = apply ? (pd[i] as number) + u : u
    }
    return done()
  }
  if (variant === 'amsgrad') {
    const wp = (prev[2] as Tensor).data
    const nuMax = next[2] as Float64Array
    for (let i = 0; i < n; i++) {
      const gi = gd[i] as number
      const m = b1 * (mp[i] as number) + a1 * gi
      const v = b2 * (vp[i] as number) + a2 * (gi * gi)
      const w = Math.max(wp[i] as number, v)
      mu[i] = m
      nu[i] = v
      nuMax[i] = w
      let d = m / c1 / (Math.sqrt(w / c2) + eps)
      if (decay) d = d + lambda * (pd[i] as number)
      const u = -rate * d
      out[i] = apply ? (pd[i] as number) + u : u
    }
    return done()
  }
  const nesterov = variant === 'nadam'
  for (let i = 0; i < n; i++) {
    const gi = gd[i] as number
    const m = b1 * (mp[i] as number) + a1 * gi
    const v = b2 * (vp[i] as number) + a2 * (gi * gi)
    mu[i] = m
    nu[i] = v
    const mHat = nesterov ? b1 * (m / c1Next) + a1 * (gi / c1) : m / c1
    let d = mHat / (Math.sqrt(v / c2) + eps)
    if (decay) d = d + lambda * (pd[i] as number)
    const u = -rate * d
    out[i] = apply ? (pd[i] as number) + u : u
  }
  return done()
}

/**
 * The fused Adam (or another member of the family): `reference` (the chain) supplies init, so
 * the state has the chain's exact structure, [{ count, mu, nu (, nuMax) } or { count, mu, nuInf },
 * []?, { count }], and this replaces its update with the one-pass loop and adds updateAndApply.
 */
export const fusedAdam = <S extends Tree>(reference: GradientTransformation<S>, s: FusedAdamSettings): GradientTransformation<S> => {
  const noDecay: FusedAdamSettings = { ...s, weightDecay: undefined } // a leaf the mask leaves out: Adam's step
  const keys = MOMENTS[s.variant ?? 'adam']
  const run = (grads: Tree, state: S, params: Tree, apply: boolean): readonly [Tree, S] => {
    const at = `${s.where}.${apply ? 'updateAndApply' : 'update'}`
    checkGrads(at, grads, params)
    const parts = state as unknown as readonly Tree[]
    const expected = s.weightDecay === undefined ? 2 : 3
    if (!Array.isArray(parts) || parts.length !== expected) {
      throw new OptimError(`${at}: expected a state tuple of ${expected} (from ${s.where}'s init), got ${Array.isArray(parts) ? `a tuple of ${parts.length}` : describeEntry(parts)}`)
    }
    const moments = parts[0] as { readonly count?: Tensor; readonly [key: string]: Tree | undefined } | null
    const countState = parts[parts.length - 1] as Partial<CountState> | null
    if (typeof moments !== 'object' || moments === null || !isTensor(moments.count) || moments.count.data.length !== 1 || keys.some((key) => moments[key] === undefined) || Object.keys(moments).length !== keys.length + 1) {
      throw new OptimError(`${at}: state[0] should be ${NAMES[s.variant ?? 'adam']}'s moments {count: a tensor [], ${keys.join(', ')}: trees like the params}, got ${describeEntry(moments)}`)
    }
    if (typeof countState !== 'object' || countState === null || !isTensor(countState.count) || countState.count.data.length !== 1) {
      throw new OptimError(`${at}: state[${expected - 1}] should be the step count {count: a tensor []}, got ${describeEntry(countState)}`)
    }
    for (const key of keys) {
      const d = structureDiff(grads, moments[key] as Tree)
      if (d !== undefined) throw new TreeError(`${at}: ${key} does not have the gradients' structure, ${d} (gradients vs ${key})`)
    }
    const t = countOf(moments.count) + 1
    const constants: StepConstants = { rate: s.rate(countOf(countState.count)), c1: 1 - s.b1 ** t, c2: 1 - s.b2 ** t, c1Next: 1 - s.b1 ** (t + 1), apply }
    const ps = leavesLike(grads, params)
    const prevs = keys.map((key) => leavesLike(grads, moments[key] as Tree))
    const results: LeafStep[] = []
    let k = 0
    const outs = map(grads, (g, path) => {
      const r = step(g, ps[k] as Tensor, prevs.map((leaves) => leaves[k] as Tensor), s.mask === undefined || s.mask(path, g.shape) ? s : noDecay, constants)
      k++
      results.push(r)
      return r.out
    })
    const record: Record<string, Tree> = { count: increment(moments.count) }
    keys.forEach((key, i) => {
      let j = 0
      record[key] = map(grads, () => (results[j++] as LeafStep).moments[i] as Tensor)
    })
    const next: Tree[] = [record]
    if (s.weightDecay !== undefined) next.push(parts[1] as Tree)
    next.push({ count: increment(countState.count) })
    // With apply, outs holds the new params in the gradients' structure; map2 lays them out in
    // the params' structure, as applyUpdates does.
    return [apply ? map2(params, outs, (_p, q) => q) : outs, next as unknown as S]
  }
  return fused((params) => reference.init(params), run)
}
