/**
 * Gradient transformations, optax style. An optimizer is a pair of pure functions:
 * `init(params)` builds its state (momenta, step counts: every counter lives here, never in a
 * global), and `update(grads, state, params)` turns gradients into updates and a new state.
 * Updates are *added* to the params, so a descent step carries its own minus sign
 * (scaleByLearningRate supplies it). Small transforms compose with `chain` into the aliases
 * (sgd, adam, ...).
 */
import * as T from '../tensor/index.ts'
import { isTensor, structureDiff, TreeError, map2, type Tree } from '../tree.ts'
import type { OptimizerSettings } from './settings.ts'
import { OptimError } from './validate.ts'

/**
 * A pure optimizer step. `update` never writes into its arguments, and its updates have the
 * params' structure. S is the state's type, itself a Tree (so it can be saved and compared).
 * @example
 * const opt = sgd({ lr: 0.1 })
 * const s0 = opt.init(params)
 * const [updates, s1] = opt.update(grads, s0, params)
 * const next = applyUpdates(params, updates) // params - 0.1 · grads
 */
export interface GradientTransformation<S extends Tree = Tree> {
  /** The state before the first step. */
  init(params: Tree): S
  /** [updates, next state] for these gradients; add the updates to the params with applyUpdates. */
  update(grads: Tree, state: S, params: Tree): readonly [Tree, S]
  /**
   * Optional, a fusion: [params + updates, next state] in one pass, without building the
   * updates. It must give exactly what `update` followed by `applyUpdates` gives, bit for bit
   * (law 13 checks it); it only saves an array per leaf and a pass over memory. Every alias
   * (sgd, adam, adamw, nadam, amsgrad, adamax, rmsprop, adagrad) has one (not enumerable: a
   * copy made by spreading does not carry it). Call it through `updateAndApply`, which falls
   * back to the two steps.
   */
  updateAndApply?<P extends Tree>(grads: Tree, state: S, params: P): readonly [P, S]
  /**
   * Optional: the alias's name and hyper-parameters (every alias has them), which `fit` records
   * so a resumed run is checked against them. Not enumerable: a copy made by spreading, which
   * may update otherwise, does not claim them.
   */
  readonly settings?: OptimizerSettings
}

/** The state of a transform that keeps none: an empty tuple (still a Tree). */
export type EmptyState = readonly []

/** The one empty state value. */
export const emptyState: EmptyState = []

/** The state type of a transformation. */
export type StateOf<G> = G extends GradientTransformation<infer S> ? S : never

/** The tuple of states of a list of transformations (the state of their chain). */
export type ChainState<Ts extends readonly GradientTransformation[]> = { readonly [K in keyof Ts]: StateOf<Ts[K]> }

/**
 * Throws a TreeError naming the first path where the gradients' structure or leaf shapes differ
 * from the params', and a DTypeError naming the first param whose gradient is in another dtype,
 * with both dtypes. Every update calls it, so a mix-up fails before any arithmetic.
 */
export const checkGrads = (where: string, grads: Tree, params: Tree): void => {
  const d = structureDiff(params, grads)
  if (d !== undefined) throw new TreeError(`${where}: the gradients do not have the params' structure, ${d} (params vs gradients)`)
  const bad = dtypeDiff(params, grads)
  if (bad === undefined) return
  const [dp, dg, shape] = [T.dtypeOf(bad.p), T.dtypeOf(bad.g), T.showShape(bad.p.shape)]
  throw new T.DTypeError(
    `${where}: dtypes differ at params${bad.path}: the gradient is ${dg} ${shape}, the param ${dp} ${shape} (a gradient is in its ` +
      `param's dtype: a layer's vjp builds dp with T's operations, T.fullLike(p, v) for a number; or cast it, T.cast(g, '${dp}'))`,
  )
}

/** The first param whose gradient has another dtype, in two trees of one structure (checked before), and its path (`[1].W`). */
const dtypeDiff = (p: Tree, g: Tree): { path: string; p: T.AnyTensor; g: T.AnyTensor } | undefined => {
  if (isTensor(p)) return isTensor(g) && T.dtypeOf(p) !== T.dtypeOf(g) ? { path: '', p, g } : undefined
  if (Array.isArray(p)) {
    const gs = g as readonly Tree[]
    for (let i = 0; i < p.length; i++) {
      const d = dtypeDiff(p[i]!, gs[i]!)
      if (d !== undefined) return { ...d, path: `[${i}]${d.path}` } // a path is built only for a mismatch
    }
    return undefined
  }
  const ps = p as { readonly [key: string]: Tree }
  const gs = g as { readonly [key: string]: Tree }
  for (const k of Object.keys(ps)) {
    const d = dtypeDiff(ps[k]!, gs[k]!)
    if (d !== undefined) return { ...d, path: `.${k}${d.path}` }
  }
  return undefined
}

/**
 * Runs transformations one after another: the first gets the gradients, each next one gets the
 * updates of the one before. The state is the tuple of their states, in order.
 * @example
 * // SGD with momentum 0.9: u = -lr · (g + 0.9 · trace)
 * const opt = chain(traceMomentum({ decay: 0.9 }), scaleByLearningRate(0.01))
 * opt.init(params) // [{ trace: zeros like params }, { count: 0 }]
 */
export const chain = <const Ts extends readonly GradientTransformation[]>(...ts: Ts): GradientTransformation<ChainState<Ts>> => {
  ts.forEach((t, i) => {
    if (typeof t === 'object' && t !== null && typeof t.init === 'function' && typeof t.update === 'function') return
    const hint =
      typeof t === 'function'
        ? ' (a function: call it with its options first, e.g. sgd({ lr: 0.1 }), not sgd)'
        : Array.isArray(t)
          ? ' (an array: pass the transforms as separate arguments, chain(a, b), not chain([a, b]))'
          : ''
    const got = t === null ? 'null' : Array.isArray(t) ? 'an array' : typeof t
    throw new OptimError(`chain: transform ${i} is not a gradient transformation { init, update }, got ${got}${hint}`)
  })
  return chainOf(ts)
}

const chainOf = <const Ts extends readonly GradientTransformation[]>(ts: Ts): GradientTransformation<ChainState<Ts>> => ({
  init: (params) => ts.map((t) => t.init(params)) as unknown as ChainState<Ts>,
  update: (grads, state, params) => {
    checkGrads('chain.update', grads, params)
    const states = state as readonly Tree[]
    if (!Array.isArray(states) || states.length !== ts.length) {
      const got = Array.isArray(states) ? `a tuple of ${states.length}` : typeof states
      throw new OptimError(`chain.update: expected a state tuple of ${ts.length} (one per transform), got ${got}`)
    }
    let updates = grads
    const next: Tree[] = []
    ts.forEach((t, i) => {
      const [u, s] = t.update(updates, states[i]!, params)
      updates = u
      next.push(s)
    })
    return [updates, next as unknown as ChainState<Ts>]
  },
})

/**
 * params + updates, leaf by leaf: the step that actually moves the params. A structure mismatch
 * is a TreeError naming the first differing path.
 * @example applyUpdates({ w: T.tensor([1, 2]) }, { w: T.tensor([-0.5, 0.5]) }) // { w: [0.5, 2.5] }
 */
export const applyUpdates = <P extends Tree>(params: P, updates: Tree): P => {
  const d = structureDiff(params, updates)
  if (d !== undefined) throw new TreeError(`applyUpdates: the updates do not have the params' structure, ${d} (params vs updates)`)
  return map2(params, updates, T.add)
}

/**
 * One optimizer step on the params: [applyUpdates(params, updates), next state]. Runs the
 * optimizer's fused `updateAndApply` where it has one (the same numbers, bit for bit, in one
 * pass), else `update` then `applyUpdates`. trainStep steps through this.
 * @example
 * const opt = sgd({ lr: 0.1 })
 * const [params1, state1] = updateAndApply(opt, grads, opt.init(params), params)
 */
export const updateAndApply = <P extends Tree, S extends Tree>(
  optimizer: GradientTransformation<S>,
  grads: Tree,
  state: S,
  params: P,
): readonly [P, S] => {
  if (optimizer.updateAndApply !== undefined) return optimizer.updateAndApply(grads, state, params)
  const [updates, next] = optimizer.update(grads, state, params)
  return [applyUpdates(params, updates), next]
}
