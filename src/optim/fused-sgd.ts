/**
 * SGD in one pass. `sgd` is, by definition, the chain
 *   addL2(λ)? → traceMomentum(β, nesterov)? → scaleByLearningRate(lr)
 * and `sgdChain` builds exactly that. Running it walks every parameter three or four times and
 * allocates a new array per pass; on an MLP step that costs more than the matrix products. This
 * file computes the same numbers in one loop per leaf, with the same floating-point operations
 * in the same order, so its updates and states are bit-identical to the chain's (a law in
 * test/optim.test.ts holds it to that). Read the chain to learn; this is the same thing, fused.
 * Its `updateAndApply` goes one step further and writes p + u in the same loop, so a training
 * step never builds the updates at all (law 11 holds it to update + applyUpdates, bit for bit).
 * Under the 'wasm' kernels, a leaf of 4,096 values or more takes the same loop in WebAssembly
 * (asm/optim.ts), with the same bits.
 */
import { resolveKernels } from '../kernels/backend.ts'
import { MIN_OPTIM_ELEMENTS, sgdStepWasm } from '../kernels/wasm/optim.ts'
import * as T from '../tensor/index.ts'
import type { Tensor } from '../tensor/tensor.ts'
import { isTensor, leavesLike, map, map2, structureDiff, TreeError, type Tree } from '../tree.ts'
import { countOf, describeEntry, fused, increment } from './internal.ts'
import type { CountState } from './scale.ts'
import type { Select } from './masked.ts'
import { checkGrads, type GradientTransformation } from './transform.ts'
import { OptimError } from './validate.ts'

/** The hyper-parameters, already validated by sgd. */
export interface FusedSgdSettings {
  readonly rate: (step: number) => number
  readonly weightDecay: number
  readonly momentum: number
  readonly nesterov: boolean
  /** The leaves the weight decay applies to (undefined: all), as Optim.masked picks them. */
  readonly mask?: Select | undefined
}

/** Whether a leaf of n values takes its step in WebAssembly (src/kernels/wasm/optim.ts: the same loop, the same bits). */
export const inWasm = (n: number): boolean => n >= MIN_OPTIM_ELEMENTS && resolveKernels() === 'wasm'

/**
 * One step for one leaf: with d = g + λ·p (if λ > 0), t = d + β·t_prev, u = -lr · (t, or d + β·t
 * with Nesterov), exactly as the chain's transforms compute it one after another. `out` is u,
 * or with `apply` the new params p + u (the sum applyUpdates would compute, so the same bits).
 */
const step = (g: Tensor, p: Tensor, tPrev: Tensor | undefined, s: FusedSgdSettings, rate: number, apply: boolean): { out: Tensor; t: Tensor | undefined } => {
  const gd = g.data
  const pd = p.data
  const n = gd.length
  const out = T.buffer(n)
  const lambda = s.weightDecay
  const beta = s.momentum
  const settings = { rate, lambda, beta, nesterov: s.nesterov, apply }
  if (tPrev === undefined) {
    if (inWasm(n) && sgdStepWasm(gd, pd, undefined, out, undefined, settings)) return { out: T.fromData(g.shape, out), t: undefined }
    for (let i = 0; i < n; i++) {
      let d = gd[i] as number
      if (lambda > 0) d = d + lambda * (pd[i] as number)
      const u = -rate * d
      out[i] = apply ? (pd[i] as number) + u : u
    }
    return { out: T.fromData(g.shape, out), t: undefined }
  }
  const tp = tPrev.data
  const t = T.buffer(n)
  if (inWasm(n) && sgdStepWasm(gd, pd, tp, out, t, settings)) return { out: T.fromData(g.shape, out), t: T.fromData(g.shape, t) }
  for (let i = 0; i < n; i++) {
    let d = gd[i] as number
    if (lambda > 0) d = d + lambda * (pd[i] as number)
    const tr = d + beta * (tp[i] as number)
    t[i] = tr
    const u = -rate * (s.nesterov ? d + beta * tr : tr)
    out[i] = apply ? (pd[i] as number) + u : u
  }
  return { out: T.fromData(g.shape, out), t: T.fromData(g.shape, t) }
}

/**
 * The fused SGD: `reference` supplies init (so the state has the chain's exact structure:
 * [[]?, { trace }?, { count }]) and this replaces its update with the one-pass loop.
 */
export const fusedSgd = <S extends Tree>(reference: GradientTransformation<S>, s: FusedSgdSettings): GradientTransformation<S> => {
  const noDecay: FusedSgdSettings = { ...s, weightDecay: 0 } // a leaf the mask leaves out
  /** update (apply false) or updateAndApply (apply true): the same loop, writing u or p + u. */
  const run = (grads: Tree, state: S, params: Tree, apply: boolean): readonly [Tree, S] => {
    const at = apply ? 'sgd.updateAndApply' : 'sgd.update'
    checkGrads(at, grads, params)
    const parts = state as unknown as readonly Tree[]
    const hasL2 = s.weightDecay > 0
    const hasTrace = s.momentum > 0
    // The state must be what init gave: [[]?, { trace }?, { count }] (as the chain would check).
    const expected = Number(hasL2) + Number(hasTrace) + 1
    if (!Array.isArray(parts) || parts.length !== expected) {
      throw new OptimError(`${at}: expected a state tuple of ${expected} (from sgd's init), got ${Array.isArray(parts) ? `a tuple of ${parts.length}` : describeEntry(parts)}`)
    }
    const traceAt = hasL2 ? 1 : 0
    const traceState = hasTrace ? (parts[traceAt] as { readonly trace?: Tree } | null) : undefined
    const countState = parts[parts.length - 1] as Partial<CountState> | null
    if (traceState !== undefined && (typeof traceState !== 'object' || traceState === null || traceState.trace === undefined)) {
      throw new OptimError(`${at}: state[${traceAt}] should be the momentum buffer {trace: a tree like the params}, got ${describeEntry(traceState)}`)
    }
    if (typeof countState !== 'object' || countState === null || !isTensor(countState.count) || countState.count.data.length !== 1) {
      throw new OptimError(`${at}: state[${expected - 1}] should be the step count {count: a tensor []}, got ${describeEntry(countState)}`)
    }
    const rate = s.rate(countOf(countState.count))
    if (traceState?.trace !== undefined) {
      const d = structureDiff(grads, traceState.trace)
      if (d !== undefined) throw new TreeError(`${at}: the momentum buffer does not have the gradients' structure, ${d} (gradients vs buffer)`)
    }
    const ps = leavesLike(grads, params)
    const ts = traceState?.trace === undefined ? undefined : leavesLike(grads, traceState.trace)
    const newTraces: Tensor[] = []
    let k = 0
    const outs = map(grads, (g, path) => {
      const r = step(g, ps[k] as Tensor, ts?.[k], s.mask === undefined || s.mask(path, g.shape) ? s : noDecay, rate, apply)
      k++
      if (r.t !== undefined) newTraces.push(r.t)
      return r.out
    })
    let j = 0
    const next: Tree[] = []
    if (hasL2) next.push(parts[0] as Tree)
    if (traceState?.trace !== undefined) next.push({ trace: map(grads, () => newTraces[j++] as Tensor) }) // newTraces are in the gradients' order
    next.push({ count: increment(countState.count) })
    // With apply, outs holds the new params in the gradients' structure; map2 lays them out in
    // the params' structure (records may order their keys differently), as applyUpdates does.
    return [apply ? map2(params, outs, (_p, q) => q) : outs, next as unknown as S]
  }
  return fused((params) => reference.init(params), run)
}
