/** Helpers the transforms share; not part of the public barrel. */
import * as T from '../tensor/index.ts'
import type { Tensor } from '../tensor/tensor.ts'
import { describeNode, isTensor, leavesLike, map, structureDiff, TreeError, type Tree } from '../tree.ts'
import type { GradientTransformation } from './transform.ts'
import { OptimError } from './validate.ts'

/** The number held by a step-count scalar. */
export const countOf = (count: Tensor): number => count.data[0] as number

/**
 * The step count a transform's state holds. A state without one (from another optimizer, or a
 * count that is a plain number after a trip through JSON) is an OptimError naming the transform.
 */
export const stepOf = (at: string, state: unknown): number => {
  const count = typeof state === 'object' && state !== null ? (state as { readonly count?: unknown }).count : undefined
  if (!isTensor(count) || count.data.length !== 1) throw new OptimError(`${at}: the state should hold the step count {count: a tensor []}, got ${describeEntry(state)}`)
  return count.data[0] as number
}

/** A step-count scalar one past `count`. */
export const increment = (count: Tensor): Tensor => T.scalar(countOf(count) + 1)

/**
 * Combines same-structure trees leaf by leaf: f(x, y, z, ...) per leaf. A state whose structure
 * differs from the gradients' (a state from another model, say) is a TreeError naming the path.
 */
export const zipTrees = <A extends Tree>(where: string, f: (...xs: Tensor[]) => Tensor, first: A, ...rest: readonly { readonly what: string; readonly tree: Tree }[]): A => {
  for (const { what, tree } of rest) {
    const d = structureDiff(first, tree)
    if (d !== undefined) throw new TreeError(`${where}: ${what} does not have the gradients' structure, ${d} (gradients vs ${what})`)
  }
  const others = rest.map((r) => leavesLike(first, r.tree))
  let i = 0
  return map(first, (x) => {
    const k = i++
    return f(x, ...others.map((ls) => ls[k] as Tensor))
  })
}

/** A state entry as an error shows it: `{count: a tensor []}`, `{count: number 3}`, `null`. */
export const describeEntry = (x: unknown): string =>
  x === null
    ? 'null'
    : typeof x === 'object' && !Array.isArray(x) && !isTensor(x)
    ? `{${Object.entries(x).map(([k, v]) => `${k}: ${describeNode(v)}`).join(', ')}}`
    : describeNode(x)

/**
 * A fused optimizer from its one-pass step `run` (apply false: the updates; true: the new
 * params) and the init of the chain it stands for, so its state has the chain's structure.
 * `updateAndApply` is not enumerable, so a copy made by spreading (`{ ...opt, update: mine }`)
 * does not carry it, and a step through the copy calls the copy's `update`.
 */
export const fused = <S extends Tree>(init: (params: Tree) => S, run: (grads: Tree, state: S, params: Tree, apply: boolean) => readonly [Tree, S]): GradientTransformation<S> =>
  Object.defineProperty(
    { init, update: (grads: Tree, state: S, params: Tree) => run(grads, state, params, false) },
    'updateAndApply',
    { value: <P extends Tree>(grads: Tree, state: S, params: P) => run(grads, state, params, true) as readonly [P, S], enumerable: false },
  )
