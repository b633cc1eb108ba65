/**
 * Fan-out: several layers read the same input, and their outputs merge by sum or by
 * concatenation along the feature (channel) axis. Because x is used by every branch, the vjp
 * sums the branches' dx: a variable used twice collects the cotangents of both uses.
 *
 *   spec      { kind: 'branches', merge, children }
 */
import * as Key from '../key.ts'
import * as T from '../tensor/index.ts'
import type { Shape, Tensor } from '../tensor/tensor.ts'
import type { Tree } from '../tree.ts'
import {
  checkChildren,
  childStateProblem,
  declaredOutShape,
  keepingDType,
  matchesDeclared,
  misshapenY,
  ShapeError,
  shapesWithin,
  within,
  type AnyLayer,
  type Layer,
  type Shapes,
} from '../layer.ts'
import { NonEmptyChildren, oneOf } from '../io/codecs.ts'
import { checkSpec, layerKind, specOf } from '../io/kind.ts'
import type { PipeParams, PipeState, PipeTape } from './pipe.ts'
import type { Fan } from '../shape-type.ts'

/** How branch outputs are merged: summed (same shapes) or concatenated along axis 1 (features or channels). */
export type Merge = 'sum' | 'concat'

/** The tape of a fan-out: each branch's tape, and each branch's width along axis 1 (to split dy for concat). */
export interface BranchesTape<Tapes> {
  readonly tapes: Tapes
  readonly widths: readonly number[]
}

/** Fan-out layer: params and states are tuples, one entry per branch; its shape rule merges theirs as M says. */
export type Branches<Ls extends readonly AnyLayer[], M extends Merge = Merge> = Layer<
  PipeParams<Ls>,
  PipeState<Ls>,
  BranchesTape<PipeTape<Ls>>,
  Fan<M, Ls>
>

const BranchesSpec = specOf('branches', { merge: oneOf('sum', 'concat'), children: NonEmptyChildren })

/**
 * Runs every branch on the same input and merges the outputs.
 * @example branches('concat', dense(4), dense(3)) // per example: [d] -> [7]
 */
export const branches = <M extends Merge, Ls extends readonly AnyLayer[]>(merge: M, ...layers: Ls): Branches<Ls, M> => {
  checkChildren('branches', layers)
  const spec = { kind: 'branches', merge, children: layers.map((l) => l.spec) }
  const run = layers.map(keepingDType) // the children as they run: a result in another dtype is named at its child
  checkSpec(BranchesSpec, spec)
  const n = layers.length
  const name = 'branches'
  const label = (i: number): string => `${name}[${i}]`
  /** The merged output shape of the branches' output shapes, or a ShapeError. */
  const merged = (shapes: readonly Shape[]): Shape => {
    const first = shapes[0]!
    if (merge === 'sum') {
      const bad = shapes.findIndex((s) => !T.sameShape(s, first))
      if (bad >= 0)
        throw new ShapeError(
          [name],
          `sum needs equal shapes: branch 0 gives ${T.showShape(first)}, branch ${bad} gives ${T.showShape(shapes[bad]!)}`,
        )
      return first
    }
    const bad = shapes.findIndex((s) => s.length === 0 || s.length !== first.length || s.some((d, k) => k > 0 && d !== first[k]))
    if (bad >= 0) {
      throw new ShapeError(
        [name],
        `concat needs shapes that agree except on the first (feature) axis: branch 0 gives ${T.showShape(first)}, branch ${bad} gives ${T.showShape(shapes[bad]!)}`,
      )
    }
    const total = shapes.reduce((s, sh) => s + sh[0]!, 0)
    return [total, ...first.slice(1)]
  }
  const rules = layers.flatMap((l) => (l.shapes === undefined ? [] : [l.shapes]))
  /** The shape rule, when every branch has one: each branch's rule on the input, merged as init merges. */
  const shapesRule = (inShape: Shape): Shapes => {
    const rs = rules.map((rule, i) => within(label(i), () => rule(inShape)))
    return {
      outShape: merged(rs.map((r) => r.outShape)),
      params: rs.map((r, i) => shapesWithin(`children[${i}]`, r.params)),
      state: rs.map((r, i) => shapesWithin(`children[${i}]`, r.state)),
    }
  }
  const self: Layer<readonly Tree[], readonly Tree[], BranchesTape<readonly unknown[]>> = {
    name,
    spec,
    structure: { children: layers.map((layer, i) => ({ label: label(i), layer })), rebuild: (children) => branches(merge, ...children) },
    stateProblem: (ss) => childStateProblem(layers, label, ss),
    ...(rules.length < n ? {} : { shapes: shapesRule }),
    init: (key, inShape) => {
      const keys = Key.split(key, n)
      const params: Tree[] = []
      const state: Tree[] = []
      const shapes: Shape[] = []
      for (let i = 0; i < n; i++) {
        const r = within(label(i), () => layers[i]!.init(keys[i]!, inShape))
        params.push(r.params)
        state.push(r.state)
        shapes.push(r.outShape)
      }
      return { outShape: merged(shapes), params, state }
    },
    forward: (ps, ss, x, ctx) => {
      const keys = Key.split(Key.ctxKey(ctx, name), Math.max(n, 1))
      const rs = run.map((l, i) => within(label(i), () => l.forward(ps[i]!, ss[i]!, x, { mode: ctx.mode, key: keys[i]! })))
      const ys = rs.map((r) => r.y)
      const y = misshapenBranch(x, ys, () =>
        merge === 'sum' ? ys.slice(1).reduce((a, b) => within(name, () => T.add(a, b)), ys[0]!) : within(name, () => T.concat(1)(ys)),
      )
      return { y, state: rs.map((r) => r.state), tape: { tapes: rs.map((r) => r.tape), widths: ys.map((t) => t.shape[1] ?? 0) } }
    },
    vjp: (ps, { tapes, widths }, dy) => {
      // Each branch gets its share of dy: all of it for a sum, its slice for a concat.
      const dys: readonly Tensor[] = merge === 'sum' ? layers.map(() => dy) : within(name, () => T.split(1, widths)(dy))
      let dx: Tensor | undefined
      const dps: Tree[] = []
      for (let i = 0; i < n; i++) {
        const r = within(label(i), () => run[i]!.vjp(ps[i]!, tapes[i], dys[i]!))
        dps.push(r.dp)
        dx = dx === undefined ? r.dx : T.add(dx, r.dx) // x fanned out, so its cotangents add up
      }
      return { dx: dx!, dp: dps } // a branches layer has at least one branch
    },
  }
  /**
   * Merges the branches' ys; when that fails, names the first branch whose y is not the shape its init declares for x
   * (the one that broke its word), with what the merge said. Only on the error path.
   */
  function misshapenBranch(x: Tensor, ys: readonly Tensor[], f: () => Tensor): Tensor {
    try {
      return f()
    } catch (e) {
      if (!(e instanceof ShapeError)) throw e
      for (let i = 0; i < n; i++) {
        let declared: Shape
        try {
          declared = declaredOutShape(layers[i]!, x.shape.slice(1))
        } catch {
          continue
        }
        if (!matchesDeclared(x.shape, ys[i]!.shape, declared))
          throw misshapenY([label(i), layers[i]!.name], x.shape, ys[i]!.shape, declared).setAlsoBy({
            lead: 'so the merge failed:',
            layers: [{ path: e.path, spec: e.detail }],
          })
      }
      throw e
    }
  }
  // Branches<Ls> is this record with its tuple types spelt out per branch; tsc cannot relate the mapped tuple types to readonly Tree[].
  return self as unknown as Branches<Ls, M>
}

/** branches as data: `{ kind: 'branches', merge, children }` rebuilds `branches(merge, ...children)`. */
export const branchesKind = layerKind(BranchesSpec, (s, build) => branches(s.merge, ...s.children.map((c, i) => build(c, 'children', i))))
