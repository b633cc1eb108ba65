/**
 * Numerical gradient checking: compare the hand-written vjp with central differences,
 *   ∂φ/∂θᵢ ≈ (φ(θ + h eᵢ) - φ(θ - h eᵢ)) / 2h,
 * one coordinate at a time, and print the two side by side. For a layer, φ = <c, f(x, p)> for
 * a cotangent c (so ∂φ/∂x is exactly vjp(c).dx); for a network with a loss, φ is the loss.
 */
import * as Key from './key.ts'
import * as T from './tensor/index.ts'
import type { Tensor } from './tensor/tensor.ts'
import * as Tree from './tree.ts'
import type { Ctx, Layer } from './layer.ts'
import type { Loss } from './loss.ts'
import { checkOptions } from './options.ts'

/** One compared coordinate. */
export interface Row {
  /** "x" or the param leaf's path, e.g. "params[0].W". */
  readonly where: string
  /** The multi-index of the coordinate inside that tensor. */
  readonly index: readonly number[]
  readonly analytic: number
  readonly numeric: number
  /** |analytic - numeric| / max(1, |analytic|, |numeric|): relative for large values, absolute near 0. */
  readonly error: number
}

/** All compared coordinates, the worst error, and whether it is within tolerance. */
export interface Report {
  readonly rows: readonly Row[]
  readonly maxError: number
  readonly tolerance: number
  readonly ok: boolean
}

/** Options shared by the checks. */
export interface Options {
  /** Finite-difference step (default 1e-6). */
  readonly h?: number
  /** Largest acceptable error (default 1e-6). */
  readonly tolerance?: number
  /** Mode and key for forward (default: train, key from seed 0). The same ctx is used for every evaluation. */
  readonly ctx?: Ctx
}

/** The mixed relative/absolute error used in reports. */
export const mixedError = (a: number, n: number): number => Math.abs(a - n) / Math.max(1, Math.abs(a), Math.abs(n))

/** The multi-index of flat index i in a shape. */
const unravel = (shape: readonly number[], i: number): number[] => {
  const out = new Array<number>(shape.length).fill(0)
  let rest = i
  for (let a = shape.length - 1; a >= 0; a--) {
    const d = shape[a]!
    out[a] = rest % d
    rest = Math.floor(rest / d)
  }
  return out
}

/** t with element i moved by delta (a new tensor; t is untouched). */
export const nudge = (t: Tensor, i: number, delta: number): Tensor => {
  const data = t.data.slice()
  data[i] = data[i]! + delta
  return T.fromData(t.shape, data)
}

/** Central-difference gradient of a scalar function of one tensor. */
export const numericGradient = (phi: (t: Tensor) => number, at: Tensor, h = 1e-6): Tensor =>
  T.generate(at.shape, (i) => (phi(nudge(at, i, h)) - phi(nudge(at, i, -h))) / (2 * h))

/** Replaces the leaf at `path` in a tree. */
const replaceLeaf = <P extends Tree.Tree>(p: P, path: string, leaf: Tensor): P => Tree.map(p, (t, q) => (q === path ? leaf : t))

const compare = (
  phi: (x: Tensor, p: Tree.Tree) => number,
  x: Tensor,
  params: Tree.Tree,
  dx: Tensor,
  dp: Tree.Tree,
  h: number,
  tolerance: number,
): Report => {
  const rows: Row[] = []
  const push = (where: string, analytic: Tensor, numeric: Tensor): void => {
    for (let i = 0; i < numeric.data.length; i++) {
      const a = analytic.data[i]!
      const n = numeric.data[i]!
      rows.push({ where, index: unravel(numeric.shape, i), analytic: a, numeric: n, error: mixedError(a, n) })
    }
  }
  push(
    'x',
    dx,
    numericGradient((xi) => phi(xi, params), x, h),
  )
  const dLeaves = Tree.leavesLike(params, dp)
  Tree.leavesWithPaths(params).forEach(({ path, leaf }, k) => {
    const numeric = numericGradient((pi) => phi(x, replaceLeaf(params, path, pi)), leaf, h)
    push(`params${path.startsWith('[') ? '' : '.'}${path}`, dLeaves[k]!, numeric)
  })
  const maxError = rows.reduce((m, r) => Math.max(m, r.error), 0)
  return { rows, maxError, tolerance, ok: maxError <= tolerance }
}

const defaults = (o: Options): { h: number; tolerance: number; ctx: Ctx } => ({
  h: o.h ?? 1e-6,
  tolerance: o.tolerance ?? 1e-6,
  ctx: o.ctx ?? { mode: 'train', key: Key.fromSeed(0) },
})

/**
 * Checks a layer's vjp at (params, x) for a cotangent c (default: all ones, so φ = Σ y).
 * @example
 * const dense = L.dense(2)
 * const { params, state } = L.initialize(dense, key, [3])
 * console.log(Gradcheck.format(Gradcheck.layer(dense, { params, state, x: T.ones([4, 3]) })))
 */
export const layer = <P extends Tree.Tree, S extends Tree.Tree, Tape>(
  l: Layer<P, S, Tape>,
  args: { readonly params: P; readonly state: S; readonly x: Tensor; readonly cotangent?: Tensor } & Options,
): Report => {
  const { h, tolerance, ctx } = defaults(args)
  const { y, tape } = l.forward(args.params, args.state, args.x, ctx)
  const c = args.cotangent ?? T.ones(y.shape)
  const { dx, dp } = l.vjp(args.params, tape, c)
  const phi = (x: Tensor, p: Tree.Tree): number => T.dot(c, l.forward(p as P, args.state, x, ctx).y)
  return compare(phi, args.x, args.params, dx, dp, h, tolerance)
}

/** Checks a whole network plus loss: the gradient of loss(f(x, p), target) in x and every param. */
export const network = <P extends Tree.Tree, S extends Tree.Tree, Tape>(
  l: Layer<P, S, Tape>,
  loss: Loss,
  args: { readonly params: P; readonly state: S; readonly x: Tensor; readonly target: Tensor } & Options,
): Report => {
  const { h, tolerance, ctx } = defaults(args)
  const { y, tape } = l.forward(args.params, args.state, args.x, ctx)
  const { grad } = loss(y, args.target)
  const { dx, dp } = l.vjp(args.params, tape, grad)
  const phi = (x: Tensor, p: Tree.Tree): number => loss(l.forward(p as P, args.state, x, ctx).y, args.target).value
  return compare(phi, args.x, args.params, dx, dp, h, tolerance)
}

/** The report as a table: one line per coordinate (or the worst `limit` ones), then a verdict. */
export const format = (report: Report, options: { limit?: number } = {}): string => {
  checkOptions('Gradcheck.format', options, ['limit'])
  const rows = options.limit === undefined ? report.rows : [...report.rows].sort((a, b) => b.error - a.error).slice(0, options.limit)
  const num = (v: number): string => (v >= 0 ? ' ' : '') + v.toExponential(6)
  const head = `${'where'.padEnd(18)} ${'index'.padEnd(10)} ${'analytic'.padStart(14)} ${'numeric'.padStart(14)} ${'error'.padStart(9)}`
  const lines = rows.map(
    (r) =>
      `${r.where.padEnd(18)} ${`[${r.index.join(',')}]`.padEnd(10)} ${num(r.analytic).padStart(14)} ${num(r.numeric).padStart(14)} ${r.error.toExponential(1).padStart(9)}`,
  )
  const verdict = `${report.ok ? 'OK' : 'FAILED'}: max error ${report.maxError.toExponential(2)} (tolerance ${report.tolerance.toExponential(0)}) over ${report.rows.length} coordinates`
  return [head, '-'.repeat(head.length), ...lines, verdict].join('\n')
}
