/**
 * What an optimizer state must mean, beyond its structure: checked when a saved state is resumed
 * (IO.trainState). The structure and every shape come from `optimizer.init(params)`; the values
 * are checked by the role their slot's name gives them, as optax names them:
 *
 *   count                 a scalar step counter: a non-negative integer, at most the steps taken
 *   nu, nuMax, nuInf, sum second moments, their maxima and accumulators: never negative
 *   nuMax                 AMSGrad's largest nu so far: never below nu, element by element
 *
 * A state that passes these can still come from other settings (another momentum, adam for
 * nadam): those are told apart by the settings fit records (IO.trainState compares them).
 */
import { showShape } from '../tensor/tensor.ts'
import { leavesWithPaths, type Tree } from '../tree.ts'
import { compareTrees } from './tree.ts'
import { IoError } from './error.ts'

/** The slots whose values are squares, maxima of magnitudes or sums of them. */
const NON_NEGATIVE = ['nu', 'nuMax', 'nuInf', 'sum']

/** The name of the record key a leaf path ends under: `[0].count` → count, `[0].nu.W` → nu (the first such name, outermost). */
const slots = (path: string): readonly string[] => path.split(/[.[\]]/).filter((s) => s !== '' && !/^\d+$/.test(s))

/**
 * A loaded optimizer state checked against the one `expected` (the optimizer's init on the params)
 * and the steps taken: the same structure and shapes, and values that mean what their slots say.
 * An IoError naming the first bad path, or undefined.
 */
export const checkOptState = (expected: Tree, got: Tree, step: number, path: string): IoError | undefined => {
  const d = compareTrees(expected, got, path, 'the optimizer given')
  if (d !== undefined) return d
  const leaves = leavesWithPaths(got, path)
  const byPath = new Map(leaves.map(({ path: p, leaf }) => [p, leaf]))
  for (const { path: p, leaf } of leaves) {
    const names = slots(p.slice(path.length))
    if (names[names.length - 1] === 'count') {
      if (leaf.shape.length !== 0)
        return new IoError('optimizer-mismatch', p, `a step count is a scalar, got shape ${showShape(leaf.shape)}`)
      const c = leaf.data[0]!
      if (!Number.isInteger(c) || c < 0) return new IoError('optimizer-mismatch', p, `a step count is a non-negative integer, got ${c}`)
      if (c > step)
        return new IoError('optimizer-mismatch', p, `the optimizer counts ${c} updates, but the checkpoint has taken only ${step} steps`)
    }
    const square = names.find((n) => NON_NEGATIVE.includes(n))
    if (square !== undefined) {
      const i = leaf.data.findIndex((v) => v < 0)
      if (i >= 0)
        return new IoError(
          'optimizer-mismatch',
          p,
          `value ${i} (flat index) is ${leaf.data[i]}, but ${square} holds squares or magnitudes, never negative`,
        )
    }
    if (names.includes('nuMax')) {
      const nu = byPath.get(p.replace(/\.nuMax(?=[.[]|$)/, '.nu'))
      const i = nu === undefined ? -1 : leaf.data.findIndex((v, j) => v < nu.data[j]!)
      if (nu !== undefined && i >= 0)
        return new IoError(
          'optimizer-mismatch',
          p,
          `value ${i} (flat index) is ${leaf.data[i]}, below nu's ${nu.data[i]}, but nuMax is the largest nu seen, never below it`,
        )
    }
  }
  return undefined
}
