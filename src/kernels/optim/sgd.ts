/**
 * SGD in one pass. `sgd` is, by definition, the chain
 *   addL2(λ)? → traceMomentum(β, nesterov)? → scaleByLearningRate(lr)
 * (src/optim/alias.ts), which walks every parameter three or four times and allocates a new
 * array per walk. This pass computes the same numbers in one loop per leaf, with the same
 * floating-point operations in the same order, so its updates and states are the chain's, bit
 * for bit (law 13); its updateAndApply writes p + u in that loop and never builds the updates.
 * Under the 'wasm' kernels, a leaf of MIN_OPTIM_ELEMENTS values or more takes the same loop in
 * WebAssembly (../wasm/optim.ts), with the same bits.
 */
import type { FastPath } from '../../optim/fast-path.ts'
import { countOf, increment } from '../../optim/internal.ts'
import type { Select } from '../../optim/masked.ts'
import type { Rate } from '../../optim/scale.ts'
import * as T from '../../tensor/index.ts'
import type { Tensor } from '../../tensor/tensor.ts'
import { leavesLike, map, type Tree } from '../../tree.ts'
import { sgdLeaf32 } from '../../optim/sgd32.ts'
import { sgdStepWasm } from '../wasm/optim.ts'
import { countAt, inWasm, likeGrads, recordAt, stateTuple, TRACE, passOf } from './pass.ts'

/** sgd's settings, checked by sgd. */
export interface FusedSgdSettings {
  readonly rate: Rate
  /** λ of the L2 penalty (0: none, no entry in the state). */
  readonly weightDecay: number
  /** β (0: no trace in the state). */
  readonly momentum: number
  readonly nesterov: boolean
  /** The leaves the weight decay applies to (undefined: all), as Optim.masked picks them. */
  readonly mask: Select | undefined
}

/**
 * One step for one leaf: d = g + λ·p (if λ > 0), t = d + β·t_prev, u = -lr · (t, or d + β·t
 * with Nesterov), exactly as the chain's transforms compute it one after another. `out` is u,
 * or with `apply` the new params p + u (the sum applyUpdates would compute, so the same bits).
 */
const step = (
  g: Tensor,
  p: Tensor,
  tPrev: Tensor | undefined,
  lambda: number,
  s: FusedSgdSettings,
  rate: number,
  apply: boolean,
): { out: Tensor; t: Tensor | undefined } => {
  const beta = s.momentum
  const settings = { rate, lambda, beta, nesterov: s.nesterov, apply }
  if (T.isFloat32(g) || T.isFloat32(p)) return sgdLeaf32('sgd', g, p, tPrev, settings) // float32: src/kernels/sgd32.ts
  const gd = g.data
  const pd = p.data
  const n = gd.length
  const out = T.buffer(n)
  if (tPrev === undefined) {
    if (inWasm(n) && sgdStepWasm(gd, pd, undefined, out, undefined, settings)) return { out: T.fromData(g.shape, out), t: undefined }
    for (let i = 0; i < n; i++) {
      let d = gd[i]!
      if (lambda > 0) d = d + lambda * pd[i]!
      const u = -rate * d
      out[i] = apply ? pd[i]! + u : u
    }
    return { out: T.fromData(g.shape, out), t: undefined }
  }
  const tp = tPrev.data
  const t = T.buffer(n)
  if (inWasm(n) && sgdStepWasm(gd, pd, tp, out, t, settings)) return { out: T.fromData(g.shape, out), t: T.fromData(g.shape, t) }
  for (let i = 0; i < n; i++) {
    let d = gd[i]!
    if (lambda > 0) d = d + lambda * pd[i]!
    const tr = d + beta * tp[i]!
    t[i] = tr
    const u = -rate * (s.nesterov ? d + beta * tr : tr)
    out[i] = apply ? pd[i]! + u : u
  }
  return { out: T.fromData(g.shape, out), t: T.fromData(g.shape, t) }
}

/** The fused sgd, on the chain's state [[]?, { trace }?, { count }]. */
export const fusedSgd = <S extends Tree>(s: FusedSgdSettings): FastPath<S> => {
  const hasL2 = s.weightDecay > 0
  const hasTrace = s.momentum > 0
  const expected = Number(hasL2) + Number(hasTrace) + 1
  const traceAt = hasL2 ? 1 : 0
  /** update (apply false) or updateAndApply (apply true): the same loop, writing u or p + u, in the gradients' structure. */
  const run = (grads: Tree, state: S, params: Tree, apply: boolean): readonly [Tree, S] => {
    const at = apply ? 'sgd.updateAndApply' : 'sgd.update'
    const parts = stateTuple(at, 'sgd', state, expected)
    const trace = hasTrace ? recordAt(at, parts, traceAt, ['trace'], TRACE)['trace']! : undefined
    const count = countAt(at, parts, expected - 1)
    if (trace !== undefined) likeGrads(at, 'the momentum buffer', grads, trace)
    const rate = s.rate(countOf(count))
    const ps = leavesLike(grads, params)
    const ts = trace === undefined ? undefined : leavesLike(grads, trace)
    const newTraces: Tensor[] = []
    let k = 0
    const outs = map(grads, (g, path) => {
      const lambda = s.mask === undefined || s.mask(path, g.shape) ? s.weightDecay : 0 // a leaf the mask leaves out: no decay
      const r = step(g, ps[k]!, ts?.[k], lambda, s, rate, apply)
      k++
      if (r.t !== undefined) newTraces.push(r.t)
      return r.out
    })
    const next: Tree[] = []
    if (hasL2) next.push(parts[0]!)
    let j = 0
    if (hasTrace) next.push({ trace: map(grads, () => newTraces[j++]!) }) // newTraces are in the gradients' order
    next.push({ count: increment(count) })
    return [outs, next as unknown as S]
  }
  return passOf(run)
}
