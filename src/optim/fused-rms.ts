/**
 * RMSprop and Adagrad in one pass: the two that divide the gradient by the root of a running
 * sum of its squares. By definition they are the chains
 *   rmsprop:  scaleByRms(ρ, ε) → traceMomentum(β)? → scaleByLearningRate(lr)
 *   adagrad:  scaleByAdagrad(ε) → scaleByLearningRate(lr)
 * and `rmspropChain` / `adagradChain` build exactly those. This file computes the same numbers
 * in one loop per leaf, with the same floating-point operations in the same order, so updates
 * and states are bit-identical to the chains' (test/optim.test.ts), and `updateAndApply` writes
 * p + u in the same loop. Under the 'wasm' kernels, a leaf of 4,096 values or more takes the
 * same loop in WebAssembly (asm/optim.ts).
 */
import { rmsStepWasm } from '../kernels/wasm/optim.ts'
import * as T from '../tensor/index.ts'
import type { Tensor } from '../tensor/tensor.ts'
import { isTensor, leavesLike, map, map2, structureDiff, TreeError, type Tree } from '../tree.ts'
import { inWasm } from './fused-sgd.ts'
import { countOf, describeEntry, fused, increment } from './internal.ts'
import type { CountState } from './scale.ts'
import { checkGrads, type GradientTransformation } from './transform.ts'
import { OptimError } from './validate.ts'

/** The hyper-parameters, already validated by the chain's transforms. */
export interface FusedRmsSettings {
  readonly rate: (step: number) => number
  /** RMSprop's ρ; undefined for Adagrad, whose Σ is a plain sum. */
  readonly decay: number | undefined
  readonly eps: number
  /** RMSprop's momentum β (0: no trace). */
  readonly momentum: number
}

/** One leaf's update u (or p + u), its new ν or Σ, and its new trace. */
interface LeafStep {
  readonly out: Tensor
  readonly acc: Tensor
  readonly t: Tensor | undefined
}

/**
 * One step for one leaf: ν = ρν' + (1-ρ)g² (Adagrad: Σ = Σ' + g²), d = g / (√ν + ε), with
 * momentum t = d + βt' and d = t, u = -lr·d, and with `apply` the new param p + u.
 */
const step = (g: Tensor, p: Tensor, accPrev: Tensor, tPrev: Tensor | undefined, s: FusedRmsSettings, rate: number, apply: boolean): LeafStep => {
  const gd = g.data
  const pd = p.data
  const vp = accPrev.data
  const n = gd.length
  const out = T.buffer(n)
  const acc = T.buffer(n)
  const t = tPrev === undefined ? undefined : T.buffer(n)
  const leaf = (): LeafStep => ({ out: T.fromData(g.shape, out), acc: T.fromData(g.shape, acc), t: t === undefined ? undefined : T.fromData(g.shape, t) })
  if (inWasm(n) && rmsStepWasm(gd, pd, vp, tPrev?.data, out, acc, t, { rate, decay: s.decay, eps: s.eps, beta: s.momentum, apply })) return leaf()
  const adagrad = s.decay === undefined
  const rho = s.decay ?? 0
  const a = 1 - rho
  const { eps } = s
  const beta = s.momentum
  const tp = tPrev?.data
  for (let i = 0; i < n; i++) {
    const gi = gd[i] as number
    const v = adagrad ? (vp[i] as number) + gi * gi : rho * (vp[i] as number) + a * (gi * gi)
    acc[i] = v
    let d = gi / (Math.sqrt(v) + eps)
    if (t !== undefined && tp !== undefined) {
      const tr = d + beta * (tp[i] as number)
      t[i] = tr
      d = tr
    }
    const u = -rate * d
    out[i] = apply ? (pd[i] as number) + u : u
  }
  return leaf()
}

/**
 * The fused RMSprop or Adagrad: `reference` (the chain) supplies init, so the state has the
 * chain's structure, [{ nu }, { trace }?, { count }] or [{ sum }, { count }], and this replaces
 * its update with the one-pass loop and adds updateAndApply.
 */
export const fusedRms = <S extends Tree>(reference: GradientTransformation<S>, s: FusedRmsSettings): GradientTransformation<S> => {
  const name = s.decay === undefined ? 'adagrad' : 'rmsprop'
  const key = s.decay === undefined ? 'sum' : 'nu'
  const run = (grads: Tree, state: S, params: Tree, apply: boolean): readonly [Tree, S] => {
    const at = `${name}.${apply ? 'updateAndApply' : 'update'}`
    checkGrads(at, grads, params)
    const parts = state as unknown as readonly Tree[]
    const hasTrace = s.momentum > 0
    const expected = hasTrace ? 3 : 2
    if (!Array.isArray(parts) || parts.length !== expected) {
      throw new OptimError(`${at}: expected a state tuple of ${expected} (from ${name}'s init), got ${Array.isArray(parts) ? `a tuple of ${parts.length}` : describeEntry(parts)}`)
    }
    const accState = parts[0] as Readonly<Record<string, Tree>> | null
    const traceState = hasTrace ? (parts[1] as { readonly trace?: Tree } | null) : undefined
    const countState = parts[parts.length - 1] as Partial<CountState> | null
    if (typeof accState !== 'object' || accState === null || accState[key] === undefined) {
      throw new OptimError(`${at}: state[0] should be {${key}: a tree like the params}, got ${describeEntry(accState)}`)
    }
    if (traceState !== undefined && (typeof traceState !== 'object' || traceState === null || traceState.trace === undefined)) {
      throw new OptimError(`${at}: state[1] should be the momentum buffer {trace: a tree like the params}, got ${describeEntry(traceState)}`)
    }
    if (typeof countState !== 'object' || countState === null || !isTensor(countState.count) || countState.count.data.length !== 1) {
      throw new OptimError(`${at}: state[${expected - 1}] should be the step count {count: a tensor []}, got ${describeEntry(countState)}`)
    }
    const accTree = accState[key] as Tree
    for (const [what, tree] of [[key, accTree], ['the trace', traceState?.trace]] as const) {
      if (tree === undefined) continue
      const d = structureDiff(grads, tree)
      if (d !== undefined) throw new TreeError(`${at}: ${what} does not have the gradients' structure, ${d} (gradients vs ${what})`)
    }
    const rate = s.rate(countOf(countState.count))
    const ps = leavesLike(grads, params)
    const accs = leavesLike(grads, accTree)
    const ts = traceState?.trace === undefined ? undefined : leavesLike(grads, traceState.trace)
    const results: LeafStep[] = []
    let k = 0
    const outs = map(grads, (g) => {
      const r = step(g, ps[k] as Tensor, accs[k] as Tensor, ts?.[k], s, rate, apply)
      k++
      results.push(r)
      return r.out
    })
    let j = 0
    const next: Tree[] = [{ [key]: map(grads, () => (results[j++] as LeafStep).acc) }]
    j = 0
    if (hasTrace) next.push({ trace: map(grads, () => (results[j++] as LeafStep).t as Tensor) })
    next.push({ count: increment(countState.count) })
    // With apply, outs holds the new params in the gradients' structure; map2 lays them out in
    // the params' structure, as applyUpdates does.
    return [apply ? map2(params, outs, (_p, q) => q) : outs, next as unknown as S]
  }
  return fused((params) => reference.init(params), run)
}
