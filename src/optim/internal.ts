/** Helpers the transforms share; not part of the public barrel. */
import * as T from '../tensor/index.ts'
import type { Tensor } from '../tensor/tensor.ts'
import { describeNode, isTensor, leavesLike, map, structureDiff, TreeError, type Tree } from '../tree.ts'
import { OptimError } from './validate.ts'

/** The number held by a step-count scalar. */
export const countOf = (count: Tensor): number => count.data[0]!

/**
 * The step count a transform's state holds. A state without one (from another optimizer, or a
 * count that is a plain number after a trip through JSON) is an OptimError naming the transform.
 */
export const stepOf = (at: string, state: unknown): number => {
  const count = typeof state === 'object' && state !== null && 'count' in state ? state.count : undefined
  if (!isTensor(count) || count.data.length !== 1) {
    throw new OptimError(`${at}: the state should hold the step count {count: a tensor []}, got ${describeEntry(state)}`)
  }
  return count.data[0]!
}

/** A step-count scalar one past `count`. */
export const increment = (count: Tensor): Tensor => T.scalar(countOf(count) + 1)

/**
 * Combines same-structure trees leaf by leaf: f(x, y, z, ...) per leaf. A state whose structure
 * differs from the gradients' (a state from another model, say) is a TreeError naming the path.
 */
export const zipTrees = <A extends Tree>(
  where: string,
  f: (...xs: Tensor[]) => Tensor,
  first: A,
  ...rest: readonly { readonly what: string; readonly tree: Tree }[]
): A => {
  for (const { what, tree } of rest) {
    const d = structureDiff(first, tree)
    if (d !== undefined) throw new TreeError(`${where}: ${what} does not have the gradients' structure, ${d} (gradients vs ${what})`)
  }
  const others = rest.map((r) => leavesLike(first, r.tree))
  let i = 0
  return map(first, (x) => {
    const k = i++
    return f(x, ...others.map((ls) => ls[k]!))
  })
}

/** A state entry as an error shows it: `{count: a tensor []}`, `{count: number 3}`, `null`. */
export const describeEntry = (x: unknown): string =>
  x === null
    ? 'null'
    : typeof x === 'object' && !Array.isArray(x) && !isTensor(x)
      ? `{${Object.entries(x)
          .map(([k, v]) => `${k}: ${describeNode(v)}`)
          .join(', ')}}`
      : describeNode(x)
