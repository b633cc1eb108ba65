/**
 * pipe and compose: sequential composition, and where backprop's chain rule lives.
 *
 *   forward:  x → f₁ → f₂ → … → fₙ → y, keeping every tape
 *   vjp:      dy → fₙ.vjp → … → f₁.vjp → dx, collecting every dp
 *
 * d(fₙ ∘ … ∘ f₁)ᵀ = d(f₁)ᵀ ∘ … ∘ d(fₙ)ᵀ: the transposed Jacobians compose in reverse order.
 *
 * Operator fusion: where a child offers to run together with the child after it (`fuseNext`:
 * conv2d followed by relu, and that followed by a 2x2 max-pool), the pipe runs them as that one
 * fused layer, forward and vjp, decided once when the pipe is built. It computes exactly the same
 * numbers (law 13), so params, state, tapes' meaning and results are as if they ran one after the
 * other; only the speed differs.
 *
 *   spec      { kind: 'pipe', children }        (compose and andThen build pipes)
 */
import * as Key from '../key.ts'
import type { Shape, Tensor } from '../tensor/tensor.ts'
import { isTensor, type Tree } from '../tree.ts'
import * as T from '../tensor/index.ts'
import {
  batchlessInput,
  checkChild,
  checkChildren,
  childStateProblem,
  declaredOutShape,
  define,
  isShapeLeaf,
  keepingDType,
  matchesDeclared,
  misshapenY,
  noDx,
  ShapeError,
  none,
  shapesWithin,
  showSpec,
  wantsDx,
  within,
  type AnyLayer,
  type Layer,
  type ParamsOf,
  type Shapes,
  type ShapeSetter,
  type ShapeTree,
  type StateOf,
  type TapeOf,
} from '../layer.ts'
import { Children } from '../io/codecs.ts'
import { layerKind, specOf } from '../io/kind.ts'
import type { Checked, Seq } from '../shape-type.ts'

/** The params of a pipe: a tuple of the children's params. */
export type PipeParams<Ls extends readonly AnyLayer[]> = { readonly [i in keyof Ls]: ParamsOf<Ls[i]> }
/** The state of a pipe: a tuple of the children's states. */
export type PipeState<Ls extends readonly AnyLayer[]> = { readonly [i in keyof Ls]: StateOf<Ls[i]> }
/** The tape of a pipe: a tuple of the children's tapes, in forward order. */
export type PipeTape<Ls extends readonly AnyLayer[]> = { readonly [i in keyof Ls]: TapeOf<Ls[i]> }

/** A sequential network. Params, states and tapes are tuples in the order of the layers; its shape rule runs theirs in turn. */
export type Pipe<Ls extends readonly AnyLayer[]> = Layer<PipeParams<Ls>, PipeState<Ls>, PipeTape<Ls>, Seq<Ls>>

/**
 * Runs layers left to right: pipe(f, g, h)(x) = h(g(f(x))). A layer that cannot take what the
 * layers before it give (where the types know it, e.g. conv2d after flatten) is a compile error
 * on that argument, saying what it expected and what it got.
 * @example const mlp = pipe(dense(128), relu, dense(10))
 */
export function pipe<const Ls extends readonly AnyLayer[]>(...layers: [Checked<Ls>] extends [never] ? Ls : Checked<Ls>): Pipe<Ls>
export function pipe(...layers: readonly AnyLayer[]): AnyLayer {
  checkChildren('pipe', layers)
  const n = layers.length
  const label = (i: number): string => `pipe[${i}]`
  const plan = fuse(layers)
  const run = plan.map(keepingDType) // what runs at each position: the children, fused pairs resolved once, dtypes checked
  const rules = layers.flatMap((l) => (l.shapes === undefined ? [] : [l.shapes]))
  /** The shape rule, when every child has one: the children's rules threaded left to right, as init threads shapes. */
  const shapes =
    rules.length < n
      ? undefined
      : (inShape: Shape): Shapes => {
          const params: ShapeTree[] = []
          const state: ShapeTree[] = []
          let shape: Shape = inShape
          let setters: Setters = [] // the children that set the size of the current shape, nearest first, for messages
          for (let i = 0; i < n; i++) {
            const r = explainError(setters, () => within(label(i), () => rules[i]!(shape)))
            params.push(explain(setters, shapesWithin(`children[${i}]`, r.params)))
            state.push(explain(setters, shapesWithin(`children[${i}]`, r.state)))
            if (T.sizeOf(r.outShape) !== T.sizeOf(shape))
              setters = [{ at: `children[${i}]`, label: label(i), spec: showSpec(layers[i]!.spec) }, ...setters].slice(0, 3)
            shape = r.outShape
          }
          return { outShape: shape, params, state, outFrom: setters }
        }
  const self: Layer<readonly Tree[], readonly Tree[], readonly unknown[]> = {
    name: 'pipe',
    spec: { kind: 'pipe', children: layers.map((l) => l.spec) },
    structure: { children: layers.map((layer, i) => ({ label: label(i), layer })), rebuild: (children) => pipe(...children) },
    stateProblem: (ss) => childStateProblem(layers, label, ss),
    ...(shapes === undefined ? {} : { shapes }),
    init: (key, inShape) => {
      const keys = Key.split(key, Math.max(n, 1))
      const params: Tree[] = []
      const state: Tree[] = []
      let shape: Shape = inShape
      for (let i = 0; i < n; i++) {
        const r = within(label(i), () => layers[i]!.init(keys[i]!, shape))
        params.push(r.params)
        state.push(r.state)
        shape = r.outShape
      }
      return { outShape: shape, params, state }
    },
    forward: (ps, ss, x, ctx) => {
      const keys = Key.split(Key.ctxKey(ctx, 'pipe'), Math.max(n, 1))
      const tapes: unknown[] = []
      const state: Tree[] = []
      const inputs: Shape[] = [] // the shape each child got, to find the one to blame when a later child refuses its input
      let h: Tensor = x
      for (let i = 0; i < n; i++) {
        inputs.push(h.shape)
        const r = atInput(i, x, inputs, () => within(label(i), () => run[i]!.forward(ps[i]!, ss[i]!, h, { mode: ctx.mode, key: keys[i]! })))
        tapes.push(r.tape)
        state.push(r.state)
        h = r.y
      }
      return { y: h, state, tape: tapes }
    },
    // The chain rule: each child, last to first, turns the cotangent of its output into that of its
    // input. Only the first child's dx leaves the pipe (and, when none is wanted, is not computed).
    vjp: (ps, tapes, dy, options) => {
      const dp = new Array<Tree>(n)
      const first = wantsDx(options) ? 0 : leadingWithoutParams(ps, dp) // e.g. flatten: no params, no dx
      let d = dy
      for (let i = n - 1; i >= first; i--) {
        const r = within(label(i), () => run[i]!.vjp(ps[i]!, tapes[i], d, i === first ? options : undefined))
        dp[i] = r.dp
        d = r.dx
      }
      return { dx: first === 0 ? d : noDx, dp }
    },
  }
  /**
   * Runs child i's forward. When it throws a ShapeError: an input without its batch axis is named at the pipe's input x; else,
   * when an earlier child's y disagrees with the output shape its init declares for the input it got, that child is named
   * (the one that broke its word), with what the later child said; else the error passes as it was.
   */
  function atInput<A>(i: number, x: Tensor, inputs: readonly Shape[], f: () => A): A {
    try {
      return f()
    } catch (e) {
      if (i === 0 || !(e instanceof ShapeError)) throw e
      const batchless = batchlessInput('pipe', x, e)
      throw batchless !== e ? batchless : (misshapenBefore(i, inputs, e) ?? e)
    }
  }

  /** The first child before i whose y (inputs[j + 1], or after a fused group) is not [N, ...the outShape its init declares]. */
  function misshapenBefore(i: number, inputs: readonly Shape[], e: ShapeError): ShapeError | undefined {
    for (let j = 0; j < i; j++) {
      if (plan[j] === ranInsidePrevious) continue
      let last = j // a fused group runs j..last in one layer: its y is the last one's
      while (last + 1 < i && plan[last + 1] === ranInsidePrevious) last++
      const x = inputs[j]!
      const y = inputs[last + 1]!
      let declared: Shape = x.slice(1)
      try {
        for (let k = j; k <= last; k++) declared = declaredOutShape(layers[k]!, declared)
      } catch {
        continue // its own rule refuses the input it ran on: not this child's output to judge
      }
      if (matchesDeclared(x, y, declared)) continue
      const next = last + 1 === i ? 'the layer after it' : 'a later layer'
      return misshapenY([label(j), layers[j]!.name], x, y, declared).setAlsoBy({
        lead: `${next} refused that y:`,
        layers: [{ path: e.path, spec: e.detail }],
      })
    }
    return undefined
  }
  return self
}

/**
 * How many children, from the first, have params without a tensor (flatten's and relu's hold
 * none); their dp, those leafless params, goes into dp.
 */
const leadingWithoutParams = (ps: readonly Tree[], dp: Tree[]): number => {
  let i = 0
  for (; i < ps.length && !hasLeaves(ps[i]!); i++) dp[i] = ps[i]!
  return i
}

/** True when a params tree holds a tensor. */
const hasLeaves = (t: Tree): boolean =>
  isTensor(t) || (Array.isArray(t) ? t.some(hasLeaves) : Object.values(t as { readonly [key: string]: Tree }).some(hasLeaves))

/** pipe without the compile-time check of its arguments, for callers whose layer types are type parameters. */
// Pipe<Ls> is pipe's record with its tuple types spelt out per child; tsc cannot relate the mapped tuple types to readonly Tree[].
const pipeOf = pipe as unknown as <const Ls extends readonly AnyLayer[]>(...layers: Ls) => Pipe<Ls>

/** The children of a pipe that changed the size of the shape flowing through it, nearest first. */
type Setters = readonly ShapeSetter[]

/** Runs a child's shape rule (within its label); a ShapeError it throws says which earlier children set its input's size. */
const explainError = <A>(setters: Setters, f: () => A): A => {
  try {
    return f()
  } catch (e) {
    if (e instanceof ShapeError && setters.length > 0)
      throw e.setAlsoBy({ lead: "that input's size is set by", layers: setters.map((s) => ({ path: [s.label], spec: s.spec })) })
    throw e
  }
}

/** Every leaf without its own `inputFrom` gets the setters of its layer's input. */
const explain = (setters: Setters, tree: ShapeTree): ShapeTree => {
  if (setters.length === 0) return tree
  if (isShapeLeaf(tree))
    return tree.inputFrom === undefined ? { ...tree, inputFrom: setters.map((s) => ({ at: s.at, spec: s.spec })) } : tree
  if (Array.isArray(tree)) return tree.map((c: ShapeTree) => explain(setters, c))
  const out: Record<string, ShapeTree> = {}
  for (const [k, c] of Object.entries(tree)) out[k] = explain(setters, c)
  return out
}

/**
 * What a pipe runs at each position: the child itself, or, where a child offers to run together
 * with the next one (`fuseNext`), the fused layer in its place and `ranInsidePrevious` in the
 * next one's. The params, states and tapes keep one slot per child either way.
 */
const fuse = (layers: readonly AnyLayer[]): readonly AnyLayer[] => {
  const run: AnyLayer[] = []
  for (let i = 0; i < layers.length; i++) {
    let layer = layers[i]!
    let inside = 0 // children after it that run inside it (a fused layer may fuse the next one too)
    for (let next = layers[i + 1]; next !== undefined; next = layers[i + inside + 1]) {
      const fused = layer.fuseNext?.(next)
      if (fused === undefined) break
      layer = fused
      inside++
    }
    run.push(layer, ...Array<AnyLayer>(inside).fill(ranInsidePrevious))
    i += inside
  }
  return run
}

/** The tape slot of a child that ran inside the fused layer of the child before it. */
const FUSED: unique symbol = Symbol('fused into the previous layer')

/** In the slot of a child that ran inside the fused layer before it: y = x, dx = dy (its map is in the fused layer), state kept. */
const ranInsidePrevious = define({
  name: 'fused into the previous layer',
  forward: (_p, x) => ({ y: x, tape: FUSED }),
  vjp: (_p, _tape, dy) => ({ dx: dy, dp: none }),
})

/** Reversed tuple type, so compose's types read right to left. */
type Reverse<Ls extends readonly unknown[]> = Ls extends readonly [infer H, ...infer R] ? [...Reverse<R>, H] : []
/** Reversed layer tuple type. */
type Reversed<Ls extends readonly AnyLayer[]> = Reverse<Ls> extends infer R extends readonly AnyLayer[] ? R : never

/**
 * Runs layers right to left, like function composition: compose(h, g, f) = pipe(f, g, h).
 * The params are ordered as in the equivalent pipe (first applied first).
 */
export function compose<const Ls extends readonly AnyLayer[]>(
  ...layers: [Checked<Reverse<Ls>>] extends [never] ? Ls : Reverse<Checked<Reverse<Ls>>>
): Pipe<Reversed<Ls>>
export function compose(...layers: readonly AnyLayer[]): AnyLayer {
  checkChildren('compose', layers)
  return pipe(...[...layers].reverse())
}

/**
 * Data-last composition for fp-ts's pipe: `pipe(dense(8), andThen(relu), andThen(dense(1)))`
 * builds the network pipe(pipe(dense(8), relu), dense(1)), which computes the same function
 * as pipe(dense(8), relu, dense(1)).
 */
export const andThen = <B extends AnyLayer>(next: B) => {
  checkChild('andThen: its argument', next)
  return <A extends AnyLayer>(first: A): Pipe<readonly [A, B]> => pipeOf(first, next)
}

/** pipe as data: `{ kind: 'pipe', children }` rebuilds `pipe(...children)`. */
export const pipeKind = layerKind(specOf('pipe', { children: Children }), (s, build) =>
  pipe(...s.children.map((c, i) => build(c, 'children', i))),
)
