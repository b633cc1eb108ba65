/**
 * RMSprop and Adagrad in one pass: the two that divide the gradient by the root of a running
 * sum of its squares. By definition they are the chains (src/optim/alias.ts)
 *   rmsprop:  scaleByRms(ρ, ε) → traceMomentum(β)? → scaleByLearningRate(lr)
 *   adagrad:  scaleByAdagrad(ε) → scaleByLearningRate(lr)
 * This pass computes the same numbers in one loop per leaf, with the same floating-point
 * operations in the same order, so updates and states are the chains', bit for bit (law 13),
 * and its updateAndApply writes p + u in the same loop. Under the 'wasm' kernels, a leaf of
 * MIN_OPTIM_ELEMENTS values or more takes the same loop in WebAssembly (../wasm/optim.ts).
 */
import type { FastPath } from '../../optim/fast-path.ts'
import { countOf, increment } from '../../optim/internal.ts'
import type { Rate } from '../../optim/scale.ts'
import * as T from '../../tensor/index.ts'
import type { Tensor } from '../../tensor/tensor.ts'
import { leavesLike, map, type Tree } from '../../tree.ts'
import { rmsLeaf32 } from '../../optim/rms32.ts'
import { rmsStepWasm } from '../wasm/optim.ts'
import { countAt, inWasm, likeGrads, recordAt, stateTuple, TRACE, passOf } from './pass.ts'

/** rmsprop's or adagrad's settings, checked by the alias. */
export interface FusedRmsSettings {
  readonly rate: Rate
  /** RMSprop's ρ; undefined for Adagrad, whose Σ is a plain sum. */
  readonly decay: number | undefined
  readonly eps: number
  /** RMSprop's momentum β (0: no trace in the state). */
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
const step = (
  g: Tensor,
  p: Tensor,
  accPrev: Tensor,
  tPrev: Tensor | undefined,
  s: FusedRmsSettings,
  rate: number,
  apply: boolean,
): LeafStep => {
  if (T.isFloat32(g) || T.isFloat32(p)) {
    const settings = { rate, decay: s.decay, eps: s.eps, momentum: s.momentum, apply }
    return rmsLeaf32(s.decay === undefined ? 'adagrad' : 'rmsprop', g, p, accPrev, tPrev, settings) // float32: src/kernels/rms32.ts
  }
  const gd = g.data
  const pd = p.data
  const vp = accPrev.data
  const n = gd.length
  const out = T.buffer(n)
  const acc = T.buffer(n)
  const t = tPrev === undefined ? undefined : T.buffer(n)
  const leaf = (): LeafStep => ({
    out: T.fromData(g.shape, out),
    acc: T.fromData(g.shape, acc),
    t: t === undefined ? undefined : T.fromData(g.shape, t),
  })
  const settings = { rate, decay: s.decay, eps: s.eps, beta: s.momentum, apply }
  if (inWasm(n) && rmsStepWasm(gd, pd, vp, tPrev?.data, out, acc, t, settings)) return leaf()
  const adagrad = s.decay === undefined
  const rho = s.decay ?? 0
  const a = 1 - rho
  const { eps } = s
  const beta = s.momentum
  const tp = tPrev?.data
  for (let i = 0; i < n; i++) {
    const gi = gd[i]!
    const v = adagrad ? vp[i]! + gi * gi : rho * vp[i]! + a * (gi * gi)
    acc[i] = v
    let d = gi / (Math.sqrt(v) + eps)
    if (t !== undefined && tp !== undefined) {
      const tr = d + beta * tp[i]!
      t[i] = tr
      d = tr
    }
    const u = -rate * d
    out[i] = apply ? pd[i]! + u : u
  }
  return leaf()
}

/** The fused rmsprop or adagrad, on the chain's state [{ nu }, { trace }?, { count }] or [{ sum }, { count }]. */
export const fusedRms = <S extends Tree>(s: FusedRmsSettings): FastPath<S> => {
  const name = s.decay === undefined ? 'adagrad' : 'rmsprop'
  const key = s.decay === undefined ? 'sum' : 'nu'
  const hasTrace = s.momentum > 0
  const expected = hasTrace ? 3 : 2
  /** update (apply false) or updateAndApply (apply true): the same loop, writing u or p + u, in the gradients' structure. */
  const run = (grads: Tree, state: S, params: Tree, apply: boolean): readonly [Tree, S] => {
    const at = `${name}.${apply ? 'updateAndApply' : 'update'}`
    const parts = stateTuple(at, name, state, expected)
    const accTree = recordAt(at, parts, 0, [key], `{${key}: a tree like the params}`)[key]!
    const trace = hasTrace ? recordAt(at, parts, 1, ['trace'], TRACE)['trace']! : undefined
    const count = countAt(at, parts, expected - 1)
    likeGrads(at, key, grads, accTree)
    if (trace !== undefined) likeGrads(at, 'the trace', grads, trace)
    const rate = s.rate(countOf(count))
    const ps = leavesLike(grads, params)
    const accs = leavesLike(grads, accTree)
    const ts = trace === undefined ? undefined : leavesLike(grads, trace)
    const results: LeafStep[] = []
    let k = 0
    const outs = map(grads, (g) => {
      const r = step(g, ps[k]!, accs[k]!, ts?.[k], s, rate, apply)
      k++
      results.push(r)
      return r.out
    })
    let j = 0
    const next: Tree[] = [{ [key]: map(grads, () => results[j++]!.acc) }]
    j = 0
    if (hasTrace) next.push({ trace: map(grads, () => results[j++]!.t!) })
    next.push({ count: increment(count) })
    return [outs, next as unknown as S]
  }
  return passOf(run)
}
