/**
 * Adam's family in one pass: Adam, AdamW, NAdam, AMSGrad and Adamax. `adam` is, by definition,
 * the chain
 *   scaleByAdam(β₁, β₂, ε) → addDecayedWeights(λ) (AdamW only) → scaleByLearningRate(lr)
 * (NAdam, AMSGrad, Adamax: scaleByNadam, scaleByAmsgrad, scaleByAdamax in place of
 * scaleByAdam; src/optim/alias.ts). A chain walks every parameter about seven times (the
 * moments, the bias-corrected ratio, the decay, the learning rate) and allocates an array per
 * walk. This pass computes the same numbers in one loop per leaf, with the same floating-point
 * operations in the same order, so its updates and states are the chain's, bit for bit (law
 * 13), and its updateAndApply writes p + u in that same loop. Under the 'wasm' kernels, a leaf
 * of MIN_OPTIM_ELEMENTS values or more takes the same loop in WebAssembly (../wasm/optim.ts).
 */
import type { FastPath } from '../../optim/fast-path.ts'
import { countOf, increment } from '../../optim/internal.ts'
import type { Select } from '../../optim/masked.ts'
import type { Rate } from '../../optim/scale.ts'
import * as T from '../../tensor/index.ts'
import type { Tensor } from '../../tensor/tensor.ts'
import { leavesLike, map, type Tree } from '../../tree.ts'
import { adamLeaf32 } from '../../optim/adam32.ts'
import { adamVariantLeaf32 } from '../../optim/adam-variants32.ts'
import { adamStepWasm } from '../wasm/optim.ts'
import { countAt, inWasm, likeGrads, recordAt, stateTuple, passOf } from './pass.ts'

/** Which member of Adam's family: how the direction comes from the moments (see src/optim/adam-variants.ts). */
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

/** The alias's settings, checked by the alias. */
export interface FusedAdamSettings {
  /** The alias's name, for errors ('adam', 'adamw', 'nadam', 'amsgrad' or 'adamax'). */
  readonly where: string
  /** The member of the family (AdamW is 'adam' with a weightDecay). */
  readonly variant: AdamVariant
  readonly rate: Rate
  readonly b1: number
  readonly b2: number
  readonly eps: number
  /** AdamW's decoupled weight decay λ; undefined for the others (no decay transform in the chain). */
  readonly weightDecay: number | undefined
  /** The leaves the weight decay applies to (undefined: all), as Optim.masked picks them. */
  readonly mask: Select | undefined
}

/** One leaf's update u (or, with `apply`, p + u) and its new moments, in MOMENTS' order. */
interface LeafStep {
  readonly out: Tensor
  readonly moments: readonly Tensor[]
}

/** What one step needs besides the leaf: c1 = 1-β₁ᵗ, c2 = 1-β₂ᵗ, c1Next = 1-β₁ᵗ⁺¹ (t the step, 1 for the first), λ (undefined: none). */
interface StepConstants {
  readonly rate: number
  readonly c1: number
  readonly c2: number
  readonly c1Next: number
  readonly lambda: number | undefined
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
  const { variant, b1, b2, eps } = s
  const { rate, c1, c2, c1Next, lambda, apply } = k
  if (T.isFloat32(g) || T.isFloat32(p)) {
    // float32: src/kernels/adam32.ts and adam-variants32.ts
    if (variant === 'adam') return adamLeaf32(s.where, g, p, prev, { rate, b1, b2, eps, c1, c2, lambda, apply })
    return adamVariantLeaf32(s.where, variant, g, p, prev, { rate, b1, b2, eps, c1, c2, c1Next, lambda, apply })
  }
  const gd = g.data
  const pd = p.data
  const n = gd.length
  const out = T.buffer(n)
  const next = prev.map(() => T.buffer(n))
  const mp = prev[0]!.data
  const vp = prev[1]!.data
  const mu = next[0]!
  const nu = next[1]!
  const a1 = 1 - b1
  const a2 = 1 - b2
  const decay = lambda !== undefined
  const l = lambda ?? 0
  const done = (): LeafStep => ({ out: T.fromData(g.shape, out), moments: next.map((x) => T.fromData(g.shape, x)) })
  const settings = { rate, b1, b2, eps, c1, c2, c1Next, lambda, apply, variant }
  if (inWasm(n) && adamStepWasm(gd, pd, mp, vp, prev[2]?.data, out, mu, nu, next[2], settings)) return done()
  if (variant === 'adamax') {
    for (let i = 0; i < n; i++) {
      const gi = gd[i]!
      const m = b1 * mp[i]! + a1 * gi
      const vInf = Math.max(b2 * vp[i]!, Math.abs(gi) + eps)
      mu[i] = m
      nu[i] = vInf
      let d = m / c1 / vInf
      if (decay) d = d + l * pd[i]!
      const u = -rate * d
      out[i] = apply ? pd[i]! + u : u
    }
    return done()
  }
  if (variant === 'amsgrad') {
    const wp = prev[2]!.data
    const nuMax = next[2]!
    for (let i = 0; i < n; i++) {
      const gi = gd[i]!
      const m = b1 * mp[i]! + a1 * gi
      const v = b2 * vp[i]! + a2 * (gi * gi)
      const w = Math.max(wp[i]!, v)
      mu[i] = m
      nu[i] = v
      nuMax[i] = w
      let d = m / c1 / (Math.sqrt(w / c2) + eps)
      if (decay) d = d + l * pd[i]!
      const u = -rate * d
      out[i] = apply ? pd[i]! + u : u
    }
    return done()
  }
  const nesterov = variant === 'nadam'
  for (let i = 0; i < n; i++) {
    const gi = gd[i]!
    const m = b1 * mp[i]! + a1 * gi
    const v = b2 * vp[i]! + a2 * (gi * gi)
    mu[i] = m
    nu[i] = v
    const mHat = nesterov ? b1 * (m / c1Next) + a1 * (gi / c1) : m / c1
    let d = mHat / (Math.sqrt(v / c2) + eps)
    if (decay) d = d + l * pd[i]!
    const u = -rate * d
    out[i] = apply ? pd[i]! + u : u
  }
  return done()
}

/**
 * The fused member of Adam's family, on the chain's state [{ count, mu, nu (, nuMax) } or
 * { count, mu, nuInf }, []?, { count }] (the [] is AdamW's decay, which keeps no state).
 */
export const fusedAdam = <S extends Tree>(s: FusedAdamSettings): FastPath<S> => {
  const keys = MOMENTS[s.variant]
  const expected = s.weightDecay === undefined ? 2 : 3
  const what = `${NAMES[s.variant]}'s moments {count: a tensor [], ${keys.join(', ')}: trees like the params}`
  /** update (apply false) or updateAndApply (apply true): the same loop, writing u or p + u, in the gradients' structure. */
  const run = (grads: Tree, state: S, params: Tree, apply: boolean): readonly [Tree, S] => {
    const at = `${s.where}.${apply ? 'updateAndApply' : 'update'}`
    const parts = stateTuple(at, s.where, state, expected)
    const moments = recordAt(at, parts, 0, ['count', ...keys], what, true)
    const momentsCount = countAt(at, parts, 0, what)
    const count = countAt(at, parts, expected - 1)
    for (const key of keys) likeGrads(at, key, grads, moments[key]!)
    const t = countOf(momentsCount) + 1
    const ps = leavesLike(grads, params)
    const prevs = keys.map((key) => leavesLike(grads, moments[key]!))
    const base = { rate: s.rate(countOf(count)), c1: 1 - s.b1 ** t, c2: 1 - s.b2 ** t, c1Next: 1 - s.b1 ** (t + 1), apply }
    const results: LeafStep[] = []
    let k = 0
    const outs = map(grads, (g, path) => {
      const lambda = s.mask === undefined || s.mask(path, g.shape) ? s.weightDecay : undefined // a leaf the mask leaves out: Adam's step
      const r = step(
        g,
        ps[k]!,
        prevs.map((leaves) => leaves[k]!),
        s,
        { ...base, lambda },
      )
      k++
      results.push(r)
      return r.out
    })
    const record: Record<string, Tree> = { count: increment(momentsCount) }
    keys.forEach((key, i) => {
      let j = 0
      record[key] = map(grads, () => results[j++]!.moments[i]!)
    })
    const next: Tree[] = [record]
    if (s.weightDecay !== undefined) next.push(parts[1]!)
    next.push({ count: increment(count) })
    return [outs, next as unknown as S]
  }
  return passOf(run)
}
