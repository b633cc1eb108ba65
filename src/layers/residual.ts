/**
 * residual(f): y = x + f(x). Its vjp is dx = dy + f.vjp(dy).dx: the input reaches the output
 * along two paths (the skip and f), and the cotangents of the two paths add.
 *
 *   spec      { kind: 'residual', body }
 */
import * as T from '../tensor/index.ts'
import type { Tree } from '../tree.ts'
import type { Shape } from '../tensor/tensor.ts'
import {
  checkChild,
  keepingDType,
  misshapenY,
  ShapeError,
  shapesWithin,
  stateProblemWithin,
  within,
  type AnyLayer,
  type Layer,
  type ParamsOf,
  type Shapes,
  type ShapeSetter,
  type Spec,
  type StateOf,
  type TapeOf,
} from '../layer.ts'
import { SpecShape } from '../io/codecs.ts'
import { layerKind, specOf } from '../io/kind.ts'
import type { RuleOf, Skip } from '../shape-type.ts'

/** The type of `residual(body)`: the body's params, state and tape, and its rule, which must keep the shape. */
export type Residual<B extends AnyLayer> = Layer<ParamsOf<B>, StateOf<B>, TapeOf<B>, Skip<RuleOf<B>>>

/** A skip connection around f; f must keep the shape of its input. */
export function residual<B extends AnyLayer>(f: B): Residual<B>
export function residual<P extends Tree, S extends Tree, Tape>(f: Layer<P, S, Tape>): Layer<P, S, Tape> {
  checkChild('residual: its body', f)
  const body = keepingDType(f) // the body as it runs: a result in another dtype is named at the body
  const rule = f.shapes
  return {
    name: 'residual',
    spec: { kind: 'residual', body: f.spec } satisfies Spec,
    structure: { children: [{ label: 'residual', layer: f }], rebuild: (children) => residual(children[0]!) },
    stateProblem: (s) => stateProblemWithin('residual', undefined, f.stateProblem?.(s)),
    init: (key, inShape) => {
      const r = within('residual', () => f.init(key, inShape))
      keepsShape(inShape, r.outShape)
      return r
    },
    ...(rule === undefined
      ? {}
      : {
          shapes: (inShape: Shape): Shapes => {
            const r = within('residual', () => rule(inShape))
            keepsShape(inShape, r.outShape, r.outFrom)
            return { outShape: r.outShape, params: shapesWithin('body', r.params), state: shapesWithin('body', r.state) }
          },
        }),
    forward: (p, s, x, ctx) => {
      const r = within('residual', () => body.forward(p, s, x, ctx))
      // init checked that the body keeps the shape, so its y must be x's
      if (!T.sameShape(r.y.shape, x.shape)) throw misshapenY(['residual', f.name], x.shape, r.y.shape, x.shape.slice(1))
      return { y: T.add(x, r.y), state: r.state, tape: r.tape }
    },
    vjp: (p, tape, dy) => {
      const { dx, dp } = within('residual', () => body.vjp(p, tape, dy))
      return { dx: T.add(dy, dx), dp } // skip path + body path
    },
  }
}

/** Throws a ShapeError unless the body keeps the shape of its input (naming, when known, the body's layers that set its output size). */
const keepsShape = (inShape: Shape, outShape: Shape, setters: readonly ShapeSetter[] = []): void => {
  if (T.sameShape(outShape, inShape)) return
  const e = new ShapeError(
    ['residual'],
    `the body must keep the shape of its input: input ${T.showShape(inShape)}, body output ${T.showShape(outShape)}`,
  )
  throw setters.length === 0
    ? e
    : e.setAlsoBy({ lead: 'that size is set by', layers: setters.map((s) => ({ path: ['residual', s.label], spec: s.spec })) })
}

/** residual as data: `{ kind: 'residual', body }` rebuilds `residual(body)`. */
export const residualKind = layerKind(specOf('residual', { body: SpecShape }), (s, build) => residual(build(s.body, 'body')))
