/** Comparisons of numbers, tensors and trees, exact and to a tolerance, that explain a mismatch. */
import { T, Tree, type Tensor } from '../src/index.ts'
import { fails, holds, type Verdict } from './verdict.ts'

/** |a - b| <= rtol · max(scale, |a|, |b|): relative for large values, absolute (times scale) near 0. */
export const close = (a: number, b: number, rtol: number, scale = 1): boolean =>
  Math.abs(a - b) <= rtol * Math.max(scale, Math.abs(a), Math.abs(b))

/** The error `close` compares to its tolerance: |a - b| / max(scale, |a|, |b|). */
export const closeError = (a: number, b: number, scale = 1): number => Math.abs(a - b) / Math.max(scale, Math.abs(a), Math.abs(b))

const fmt = (v: number): string => v.toPrecision(10)

/** Element-wise `close` for two tensors; names the first element that differs. */
export const tensorsClose = (what: string, a: Tensor, b: Tensor, rtol: number, scale = 1): Verdict => {
  if (!T.sameShape(a.shape, b.shape)) return fails(`${what}: shape ${T.showShape(a.shape)} vs ${T.showShape(b.shape)}`)
  for (let i = 0; i < a.data.length; i++) {
    const u = a.data[i]!
    const v = b.data[i]!
    if (!close(u, v, rtol, scale))
      return fails(`${what}: element ${i} is ${fmt(u)} vs ${fmt(v)} (tolerance ${rtol})`, {
        error: closeError(u, v, scale),
        tolerance: rtol,
      })
  }
  return holds
}

/** A number as written, keeping the sign of -0. */
const show = (v: number | undefined): string => (Object.is(v, -0) ? '-0' : String(v))

/** Bit-for-bit equality (Object.is per element: NaN equals NaN, 0 differs from -0). */
export const tensorsIdentical = (what: string, a: Tensor, b: Tensor): Verdict => {
  if (!T.sameShape(a.shape, b.shape)) return fails(`${what}: shape ${T.showShape(a.shape)} vs ${T.showShape(b.shape)}`)
  for (let i = 0; i < a.data.length; i++) {
    if (!Object.is(a.data[i], b.data[i]))
      return fails(`${what}: element ${i} is ${show(a.data[i])} vs ${show(b.data[i])}, expected bit-identical`)
  }
  return holds
}

/** Checks two trees leaf by leaf with a tensor comparison, after checking they have the same structure (records pair up by key). */
const leafwise = (what: string, a: Tree.Tree, b: Tree.Tree, check: (what: string, x: Tensor, y: Tensor) => Verdict): Verdict => {
  const d = Tree.structureDiff(a, b)
  if (d !== undefined) return fails(`${what}: structures differ ${d}`)
  const lb = Tree.leavesLike(a, b)
  for (const [k, { path, leaf }] of Tree.leavesWithPaths(a).entries()) {
    const v = check(`${what}${path ? ` at ${path}` : ''}`, leaf, lb[k]!)
    if (!v.holds) return v
  }
  return holds
}

/** Tree version of tensorsClose: same structure, every leaf close. */
export const treesClose = (what: string, a: Tree.Tree, b: Tree.Tree, rtol: number, scale = 1): Verdict =>
  leafwise(what, a, b, (w, x, y) => tensorsClose(w, x, y, rtol, scale))

/** Tree version of tensorsIdentical. */
export const treesIdentical = (what: string, a: Tree.Tree, b: Tree.Tree): Verdict => leafwise(what, a, b, tensorsIdentical)

/** A deep copy of every tensor in a tree (for purity checks). */
export const snapshot = <A extends Tree.Tree>(t: A): A => Tree.map(t, T.copy)

/** Largest |value| in a tree, at least 1 (a scale for tolerances). */
export const magnitude = (...ts: readonly Tree.Tree[]): number =>
  ts.reduce<number>((m, t) => Tree.reduce(t, m, (acc, leaf) => leaf.data.reduce((a, v) => Math.max(a, Math.abs(v)), acc)), 1)
