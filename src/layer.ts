/**
 * The Layer record. A layer is not an object with hidden state: it is a record of three pure
 * functions and a description.
 *
 *   init(key, inShape)       -> the output shape, fresh params and state (shapes checked here:
 *                               a shape the layer cannot take throws a ShapeError)
 *   forward(p, s, x, ctx)    -> y, the new state, and a tape: what the backward pass needs
 *   vjp(p, tape, dy)         -> dx and dp: the vector-Jacobian product, written by hand
 *                               (with { dx: false }: dp only, where the caller discards dx)
 *
 * Backprop through a network is then the chain rule and nothing else: run forward through the
 * layers keeping each tape, then feed dy backwards through each layer's vjp in reverse order.
 */
import { fromSeed, type Key } from './key.ts'
import { DTypeError, dtypeOf, NotATensorError, showShape, TensorError } from './tensor/tensor.ts'
import type { AnyTensor, DType, Shape, Tensor } from './tensor/tensor.ts'
import { castTree, leaves, leavesWithPaths, TreeError, type InDType, type Tree } from './tree.ts'
import type { Out, Plain, Rule, shapeRule } from './shape-type.ts'
import { checkOptions, dtypeOption } from './options.ts'

/** A JSON value (what specs are made of). */
export type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json }

/** A layer described as data: its kind, hyper-parameters and children. */
export interface Spec {
  readonly kind: string
  readonly [key: string]: Json
}

/** What forward needs besides params and input: train or eval mode, and a random key. */
export interface Ctx {
  readonly mode: 'train' | 'eval'
  readonly key: Key
}

/** What init returns: the per-example output shape (its type O known at compile time where the shapes are literal), params and state. */
export interface Init<P, S, O extends Shape = Shape> {
  readonly outShape: O
  readonly params: P
  readonly state: S
}

/**
 * A tree of shapes: the params or state init would make, without their values. A leaf is a
 * tensor's shape; `why` says what set it (e.g. `units 128 on input [784]`) and `at` the spec path
 * of the layer that makes it, relative to the layer asked (`children[2]`, `body.children[0]`).
 */
export type ShapeTree = ShapeLeaf | readonly ShapeTree[] | { readonly [key: string]: ShapeTree }

/** A leaf of a ShapeTree: one tensor's shape, and what set it. */
export interface ShapeLeaf {
  readonly shape: Shape
  readonly why?: string
  readonly at?: string
  /** The layers that set the size of this leaf's layer's input, nearest first: their spec paths (relative, as `at`) and specs. */
  readonly inputFrom?: readonly { readonly at: string; readonly spec: string }[]
}

/** A layer that set the size of a shape, for messages: its spec path and error-path label (relative), and its spec as text. */
export interface ShapeSetter {
  readonly at: string
  readonly label: string
  readonly spec: string
}

/** What a shape rule returns: init's result with shapes in place of values. */
export interface Shapes {
  readonly outShape: Shape
  readonly params: ShapeTree
  readonly state: ShapeTree
  /** The layers inside that set the output's size, nearest first (a pipe says; for messages). */
  readonly outFrom?: readonly ShapeSetter[]
}

/** True for a leaf of a ShapeTree (an object whose `shape` is an array of numbers). */
export const isShapeLeaf = (v: unknown): v is ShapeLeaf => {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || !('shape' in v)) return false
  const shape: unknown = v.shape
  return Array.isArray(shape) && shape.every((d) => typeof d === 'number')
}

/** A shape tree seen from a parent: every leaf's `at` (and `inputFrom` paths) gets `segment` in front. */
export const shapesWithin = (segment: string, tree: ShapeTree): ShapeTree => {
  const under = (at: string | undefined): string => (at === undefined || at === '' ? segment : `${segment}.${at}`)
  if (isShapeLeaf(tree))
    return {
      ...tree,
      at: under(tree.at),
      ...(tree.inputFrom === undefined ? {} : { inputFrom: tree.inputFrom.map((f) => ({ at: under(f.at), spec: f.spec })) }),
    }
  if (Array.isArray(tree)) return tree.map((c: ShapeTree) => shapesWithin(segment, c))
  const out: Record<string, ShapeTree> = {}
  for (const [k, c] of Object.entries(tree)) out[k] = shapesWithin(segment, c)
  return out
}

/** A spec as one line, e.g. `conv2d(filters=8, kernelSize=[3,3], padding="same")`. */
export const showSpec = (spec: Spec): string => {
  const hyper = Object.keys(spec).filter((k) => k !== 'kind' && k !== 'children' && k !== 'body')
  return hyper.length === 0 ? spec.kind : `${spec.kind}(${hyper.map((k) => `${k}=${JSON.stringify(spec[k])}`).join(', ')})`
}

/** What forward returns: the output, the next state, and the tape for vjp. */
export interface Forward<S, Tape> {
  readonly y: Tensor
  readonly state: S
  readonly tape: Tape
}

/** What vjp returns: the cotangent of the input and of every param (dp has p's structure). */
export interface Backward<P> {
  readonly dx: Tensor
  readonly dp: P
}

/** Options of a vjp call. */
export interface VjpOptions {
  /**
   * false when the caller will not use dx, as a training step does for a model's first layer
   * (its input is data): the layer may then skip computing dx, often a third of the backward
   * pass, and return `noDx` instead. dp must be the same either way (law 6 checks it).
   * Default true.
   */
  readonly dx?: boolean
}

/** The dx of a vjp called with `{ dx: false }` that skipped computing it: an empty tensor, shape [0]. */
export const noDx: Tensor = Object.freeze({ shape: Object.freeze([0]), data: new Float64Array(0) })

/** True when a vjp call's options ask for dx (the default). */
export const wantsDx = (options: VjpOptions | undefined): boolean => options?.dx !== false

/**
 * A layer: forward beside its hand-written vjp.
 * Shapes given to init are per example (no batch axis); tensors through forward and vjp carry a
 * leading batch axis. dp is the gradient of Σ <dy, y> over the whole batch.
 */
export interface Layer<P extends Tree = Tree, S extends Tree = Tree, Tape = unknown, R extends Rule = Rule> {
  readonly name: string
  /**
   * The shape rule at compile time (src/shape-type.ts): a type only, never set at run time. A
   * method, so its parameter is bivariant: any layer fits a Layer type whatever its rule, and
   * annotating a layer with a rule declares it (`Layer<None, None, Tape, Keep>`).
   */
  [shapeRule]?(rule: R): void
  readonly spec: Spec
  /** A combinator's children (absent on a leaf), so tools can walk a network: NaN tracing, summaries. */
  readonly structure?: Structure
  /**
   * Operator fusion (optional): a layer that computes this layer followed by `next` in one go,
   * faster, with exactly the same numbers, this layer's params and state, and `next` having
   * none; or undefined. `pipe` asks each child about the child after it, once, when it is built
   * (conv2d fuses a relu that follows it).
   */
  readonly fuseNext?: (next: AnyLayer) => AnyLayer | undefined
  /** Throws a ShapeError (naming the layer) when the layer cannot take `inShape`. */
  init(key: Key, inShape: Shape): Init<P, S>
  /**
   * The shape rule (optional): what init would return, as shapes, allocating nothing; throws as
   * init does. Loaders use it to check a file's claims before building anything (a combinator
   * has one when all its children do).
   */
  readonly shapes?: (inShape: Shape) => Shapes
  forward(p: P, s: S, x: Tensor, ctx: Ctx): Forward<S, Tape>
  vjp(p: P, tape: Tape, dy: Tensor, options?: VjpOptions): Backward<P>
  /**
   * What a state must hold beyond finite numbers (optional): the first leaf that breaks it, or undefined. The layer's own
   * init and forward never break it; a state edited by hand or corrupted may (batchNorm: a running variance is never
   * negative). A combinator asks its children; predict and evaluate ask before running the model.
   */
  stateProblem?(s: S): StateProblem | undefined
}

/** A state leaf that breaks what its layer's state must hold: where (in the state tree, and the layer), the value, and why. */
export interface StateProblem {
  /** The leaf and index within the state of the layer asked, in Tree's path syntax: `variance[1]`, `[2].variance[1]`. */
  readonly path: string
  /** The layer whose state it is, as an error path: `['batchNorm']`, from a pipe `['pipe[2]', 'batchNorm']`. */
  readonly layer: readonly string[]
  readonly value: number
  /** What the value must be, e.g. `a running variance is a mean of squares, never negative`. */
  readonly why: string
}

/**
 * A child's state problem seen from its combinator: the combinator's state holds the child's at `key` (an index; undefined
 * when the two are the same tree, as residual's and its body's), and its error paths label the child `label`.
 */
export const stateProblemWithin = (label: string, key: number | undefined, p: StateProblem | undefined): StateProblem | undefined => {
  if (p === undefined) return undefined
  const head = key === undefined ? '' : `[${key}]`
  const path = head === '' || p.path === '' ? head + p.path : p.path.startsWith('[') ? head + p.path : `${head}.${p.path}`
  return { ...p, path, layer: [label, ...p.layer] }
}

/** The first of the children's state problems, child i's state being `states[i]` (pipe's and branches' layout). */
export const childStateProblem = (
  children: readonly AnyLayer[],
  label: (i: number) => string,
  states: readonly Tree[],
): StateProblem | undefined => {
  for (let i = 0; i < children.length; i++) {
    const p = stateProblemWithin(label(i), i, children[i]!.stateProblem?.(states[i]!))
    if (p !== undefined) return p
  }
  return undefined
}

/**
 * The children of a combinator, each with the label the combinator gives it in error paths
 * (`pipe[2]`, `residual`, `branches[0]`), and a way to rebuild the same combinator around other
 * children (e.g. the same children wrapped by a checking layer).
 */
export interface Structure {
  readonly children: readonly { readonly label: string; readonly layer: AnyLayer }[]
  readonly rebuild: (children: readonly AnyLayer[]) => AnyLayer
}

/** Any layer, whatever its params, state and tape. */
// The method syntax above makes parameters bivariant, so every Layer<P, S, Tape> fits here.
export type AnyLayer = Layer<Tree, Tree, unknown>

/**
 * A layer typed in dtype D: the same record, its forward and vjp given params, state and tensors in D (for 'float32',
 * params typed `Tree.Float32<P>`, as `initialize(..., { dtype: 'float32' })` types them) and giving results in D; for the
 * union DType, either. Layers are written once on `Tensor` and follow their params' dtype at run time, so a layer's own
 * type is float64's; `asDType(layer, dtype)` is the view to call one directly on a float32 model. Mixing dtypes stays an
 * error at run time, naming both.
 */
export interface LayerIn<P extends Tree, S extends Tree, Tape, D extends DType> {
  readonly name: string
  forward(
    p: InDType<P, D>,
    s: InDType<S, D>,
    x: Tensor<D>,
    ctx: Ctx,
  ): { readonly y: Tensor<D>; readonly state: InDType<S, D>; readonly tape: Tape }
  vjp(p: InDType<P, D>, tape: Tape, dy: Tensor<D>, options?: VjpOptions): { readonly dx: Tensor<D>; readonly dp: InDType<P, D> }
}

/**
 * The layer typed in dtype `dtype` (the same record, not a copy): see LayerIn.
 * @example
 * const { params, state } = initialize(net, key, [784], { dtype: 'float32' })
 * asDType(net, 'float32').forward(params, state, T.cast(x, 'float32'), { mode: 'eval', key }).y.data // a Float32Array, typed so
 */
export const asDType = <P extends Tree, S extends Tree, Tape, R extends Rule, D extends DType>(
  layer: Layer<P, S, Tape, R>,
  dtype: D,
): LayerIn<P, S, Tape, D> => {
  if (dtype !== 'float64' && dtype !== 'float32')
    throw new DTypeError(`asDType: dtype must be 'float64' or 'float32', got ${String(dtype)}`)
  return layer as unknown as LayerIn<P, S, Tape, D> // what layers do at run time: params and input in D give results in D
}

// A combinator's children are checked when it is built: a plain-JS caller who passes `L.dense` (the factory)
// where `L.dense(4)` belongs learns it there, by position, not from a TypeError deep inside init.
const isFunction = (u: unknown): u is (...args: never[]) => unknown => typeof u === 'function'

/** Throws a TypeError naming `where` unless `u` has a layer's init, forward and vjp. */
export const checkChild = (where: string, u: unknown): void => {
  if (typeof u === 'object' && u !== null && 'init' in u && 'forward' in u && 'vjp' in u)
    if (isFunction(u.init) && isFunction(u.forward) && isFunction(u.vjp)) return
  const hint = isFunction(u)
    ? `: did you forget to call ${u.name === '' ? 'it' : `${u.name}(…)`}?`
    : `, got ${u === null ? 'null' : Array.isArray(u) ? 'an array' : typeof u}`
  throw new TypeError(`${where} is not a layer${hint}`)
}

/** checkChild for each of a combinator's children, labelled `name[i]`. */
export const checkChildren = (name: string, layers: readonly unknown[]): void => layers.forEach((l, i) => checkChild(`${name}[${i}]`, l))

/** The params type of a layer. */
export type ParamsOf<L> = L extends Layer<infer P extends Tree, Tree, unknown> ? P : never
/** The state type of a layer. */
export type StateOf<L> = L extends Layer<Tree, infer S extends Tree, unknown> ? S : never
/** The tape type of a layer. */
export type TapeOf<L> = L extends Layer<Tree, Tree, infer Tape> ? Tape : never

/** The empty tree: params or state of a layer that has none. */
export type None = readonly []
/** The empty tree as a value. */
export const none: None = []

/**
 * Other layers a ShapeError names, after its detail: `; ${lead} ${path}, ${spec}, on an input set by ${path}, ${spec}`.
 * Each path starts where the error's own path starts, so a parent's `within` lengthens both: messages give full paths.
 */
export interface SetBy {
  /** The words before the layers, e.g. `that input's size is set by`. */
  readonly lead: string
  /** The layers, nearest first: each one's path (as the error's path, e.g. `['pipe[1]', 'residual', 'pipe[0]']`) and spec as text. */
  readonly layers: readonly { readonly path: readonly string[]; readonly spec: string }[]
}

/**
 * A shape problem, found at init or at forward, with the path of the layer that found it
 * (e.g. `pipe[2].dense`) and, where there are two, both shapes. A dtype problem inside a layer is a
 * `T.DTypeError` instead, with the layer's path too.
 */
export class ShapeError extends Error {
  override readonly name = 'ShapeError'
  constructor(
    readonly path: readonly string[],
    readonly detail: string,
    /**
     * Set when a layer's input held exactly one example's values, cut another way: how many, the
     * shape it got, and (once a combinator named this at its input) that layer's path from there.
     */
    readonly oneExample?: { readonly values: number; readonly got: Shape; readonly at?: readonly string[] },
    /** Where training was when it was thrown, e.g. `fit: epoch 3, step 1 of 4 (step 9 overall)` (set by fit); undefined otherwise. */
    readonly where?: string,
    /** The layers that set the sizes the detail speaks of (a pipe's or residual's note), by full path. */
    readonly setBy: readonly SetBy[] = [],
  ) {
    const notes = setBy.map((n) => `; ${n.lead} ${n.layers.map((l) => `${l.path.join('.')}, ${l.spec}`).join(', on an input set by ')}`)
    super(`${where === undefined ? '' : `${where}: `}${path.join('.') || 'layer'}: ${detail}${notes.join('')}`)
  }
  /** The same error seen from a parent: its path, and the paths of the layers it names, get `segment` in front. */
  within(segment: string): ShapeError {
    const setBy = this.setBy.map((n) => ({ lead: n.lead, layers: n.layers.map((l) => ({ path: [segment, ...l.path], spec: l.spec })) }))
    return new ShapeError([segment, ...this.path], this.detail, this.oneExample, this.where, setBy)
  }
  /** The same error with `where` (e.g. `fit: epoch 3, step 1 of 4 (step 9 overall)`) in front of its message. */
  during(where: string): ShapeError {
    return new ShapeError(this.path, this.detail, this.oneExample, where, this.setBy)
  }
  /** The same error with one more note naming the layers that set a size (paths from where this error's path starts). */
  setAlsoBy(note: SetBy): ShapeError {
    return new ShapeError(this.path, this.detail, this.oneExample, this.where, [...this.setBy, note])
  }
}

/** The output shape a layer's init declares for an input shape (its shape rule's, which allocates nothing, when it has one). */
export const declaredOutShape = (layer: AnyLayer, inShape: Shape): Shape =>
  layer.shapes !== undefined ? layer.shapes(inShape).outShape : layer.init(fromSeed(0), inShape).outShape

/**
 * The ShapeError for a child (at `path`) whose forward gave y of another shape than `[N, ...declared]`, the output shape its
 * init declares for the input x it got: a combinator throws it, found on its error path, to name the child that broke its word.
 */
export const misshapenY = (path: readonly string[], x: Shape, y: Shape, declared: Shape): ShapeError =>
  new ShapeError(
    path,
    `its forward returned y of shape ${showShape(y)} for x of shape ${showShape(x)}, but its init declares the output shape ` +
      `${showShape(declared)} for the input ${showShape(x.slice(1))}, so y must be ${showShape([x[0]!, ...declared])}: ` +
      'make forward return the shape init declares (law 5 checks it: checkLayer from chainrule/laws)',
  )

/** Whether y is [N, ...declared] for an x of batch N. */
export const matchesDeclared = (x: Shape, y: Shape, declared: Shape): boolean =>
  y.length === declared.length + 1 && y[0] === x[0] && declared.every((d, i) => y[i + 1] === d)

/** A ShapeError for the layer `name` when a shape is not the one expected. */
export const shapeMismatch = (name: string, what: string, expected: Shape | string, got: Shape): ShapeError =>
  new ShapeError([name], `${what}: expected ${typeof expected === 'string' ? expected : showShape(expected)}, got ${showShape(got)}`)

/**
 * Runs f and, if it throws a ShapeError (or a TensorError from an op), rethrows it with
 * `segment` added to the front of its path. Combinators wrap each child call in this, so an
 * error deep inside a network names the whole way down to the layer.
 */
export const within = <A>(segment: string, f: () => A): A => {
  try {
    return f()
  } catch (e) {
    if (e instanceof ShapeError) throw e.within(segment)
    if (e instanceof TensorError) throw fromOp(segment, e)
    throw e
  }
}

/**
 * Runs a leaf layer's own code: a TensorError from an op inside names the layer (fromOp); a
 * ShapeError or DTypeError the layer threw itself (already naming it, e.g. checkDyDType's) passes through,
 * and one from a layer it wraps (a dense inside, naming itself `dense`) gets this layer's name in front.
 */
export const guard = <A>(name: string, f: () => A): A => {
  try {
    return f()
  } catch (e) {
    if (e instanceof TensorError && e.path[0] !== name) throw fromOp(name, e)
    if (e instanceof ShapeError && e.path[0] !== name) throw e.within(name)
    throw e
  }
}

/**
 * A TensorError from an op, seen from the layer `segment`: a DTypeError or NotATensorError keeps its class, with
 * `segment` in front of its path (`pipe[2].bad: add: dtypes differ, ...`); any other TensorError is a shape problem
 * (shapes that differ, an index out of range) and becomes a ShapeError naming the layer.
 */
const fromOp = (segment: string, e: TensorError): Error =>
  e instanceof DTypeError || e instanceof NotATensorError ? e.within(segment) : new ShapeError([segment], e.message)

/**
 * A ShapeError for a layer given one example without its batch axis (`shape` is the example's).
 * @example batchAxisMissing('dense', [4]).message // "dense: the input has shape [4]: forward takes a batch [N, 4]; add a batch axis, e.g. T.reshape([1, 4])"
 */
export const batchAxisMissing = (name: string, shape: Shape, want = `[${['N', ...shape].join(', ')}]`): ShapeError =>
  new ShapeError(
    [name],
    `the input has shape ${showShape(shape)}: forward takes a batch ${want}; add a batch axis, e.g. T.reshape(${showShape([1, ...shape])})`,
  )

/**
 * Throws a DTypeError naming the layer `name` (in its path) and both dtypes unless dy has the dtype the forward pass's input
 * had, which a layer's results keep (for tapes that keep only that dtype).
 * @example
 * checkDyDType('dense', 'float32', y) // y float64 [4, 3]: "dense: dtypes differ, the input was float32 but dy is float64 [4, 3] (…)"
 */
export const checkDyDType = (name: string, inDType: DType, dy: AnyTensor): void => {
  const d = dtypeOf(dy)
  if (d !== inDType)
    throw new DTypeError(
      `dtypes differ, the input was ${inDType} but dy is ${d} ${showShape(dy.shape)} ` +
        `(cast one with T.cast(t, '${inDType}') or T.cast(t, '${d}'))`,
      [name],
    )
}

/**
 * Throws a DTypeError naming the layer `name` (in its path) and both dtypes and shapes unless a and b have one dtype; `what`
 * says which tensors they are where that helps.
 * @example
 * checkLayerDTypes('batchNorm', x, y, 'x and gamma') // x float32 [4, 3], y float64 [3]: "batchNorm: x and gamma: dtypes differ, …"
 */
export const checkLayerDTypes = (name: string, a: AnyTensor, b: AnyTensor, what?: string): void => {
  if (dtypeOf(a) !== dtypeOf(b)) throw layerDTypesError(a, b, what).within(name)
}

/**
 * checkLayerDTypes's error, naming no layer yet: for a helper two layers share (relu's vjp, which dense runs with relu fused
 * in), named by the layer running it (guard, or the combinator around it).
 */
export const layerDTypesError = (a: AnyTensor, b: AnyTensor, what?: string): DTypeError => {
  const [da, db] = [dtypeOf(a), dtypeOf(b)]
  return new DTypeError(
    `${what === undefined ? '' : `${what}: `}dtypes differ, ${da} ${showShape(a.shape)} vs ${db} ${showShape(b.shape)} ` +
      `(cast one with T.cast(t, '${da}') or T.cast(t, '${db}'))`,
  )
}

const KEEP = "a layer keeps its input's dtype: build its results with T's operations (T.fullLike for a number)"

/**
 * A child layer as a combinator runs it (pipe, residual, branches): the same, but a result not in its input's dtype
 * (forward's y, the vjp's dx or a leaf of its dp) is a DTypeError naming the child and the result, and an error that
 * names no layer (an op's, let out by the child's own code, as a fused pair's may) names the child, as guard would.
 */
export const keepingDType = <P extends Tree, S extends Tree, Tape>(layer: Layer<P, S, Tape>): Layer<P, S, Tape> => ({
  ...layer,
  forward: (p, s, x, ctx) =>
    keptOut(
      layer.name,
      named(layer.name, () => layer.forward(p, s, x, ctx)),
      x,
    ),
  vjp: (p, tape, dy, options) =>
    keptBack(
      layer.name,
      named(layer.name, () => layer.vjp(p, tape, dy, options)),
      dy,
    ),
})

/** Runs f; a ShapeError or TensorError it throws that names no layer (an empty path) gets the layer `name`. */
const named = <A>(name: string, f: () => A): A => {
  try {
    return f()
  } catch (e) {
    if (e instanceof ShapeError && e.path.length === 0) throw e.within(name)
    if (e instanceof TensorError && e.path.length === 0) throw fromOp(name, e)
    throw e
  }
}

/** A child's forward result, unless its y is not in its input x's dtype. */
const keptOut = <R extends { readonly y: AnyTensor }>(name: string, r: R, x: AnyTensor): R => {
  if (dtypeOf(r.y) !== dtypeOf(x)) throw new DTypeError(`its forward gave a ${dtypeOf(r.y)} y for a ${dtypeOf(x)} input; ${KEEP}`, [name])
  return r
}

/** A child's vjp result, unless its dx or a leaf of its dp is not in its cotangent dy's dtype. */
const keptBack = <R extends { readonly dx: AnyTensor; readonly dp: Tree }>(name: string, r: R, dy: AnyTensor): R => {
  const want = dtypeOf(dy)
  if (r.dx !== noDx && dtypeOf(r.dx) !== want) throw new DTypeError(`its vjp gave a ${dtypeOf(r.dx)} dx for a ${want} dy; ${KEEP}`, [name])
  if (leaves(r.dp).some((leaf) => dtypeOf(leaf) !== want)) {
    const bad = leavesWithPaths(r.dp).find(({ leaf }) => dtypeOf(leaf) !== want)!
    throw new DTypeError(`its vjp gave dp at ${bad.path || 'its root'} in ${dtypeOf(bad.leaf)} for a ${want} dy; ${KEEP}`, [name])
  }
  return r
}

/** Checks the batch input of a layer: rank (batch axis + per-example rank) and, where given, sizes. */
export const checkInput = (name: string, x: Tensor, perExample: readonly (number | null)[]): void => {
  const sizesFit = (from: number): boolean => perExample.every((d, i) => d === null || x.shape[i + from] === d)
  const want = `[N, ${perExample.map((d) => (d === null ? '*' : String(d))).join(', ')}]`
  if (x.shape.length === perExample.length + 1 && sizesFit(1)) return
  if (x.shape.length === perExample.length && sizesFit(0)) throw batchAxisMissing(name, x.shape, want)
  const mismatch = shapeMismatch(name, 'input shape', want, x.shape)
  const one = perExample.reduce<number>((n, d) => n * (d ?? NaN), 1)
  if (x.data.length !== one || x.shape[0] === 1) throw mismatch
  // Exactly one example's worth of values, cut another way: most often an earlier flatten or
  // reshape took the first axis of an input without a batch axis for the batch (a pipe holding
  // that input names it there: batchlessInput).
  throw new ShapeError(
    mismatch.path,
    `${mismatch.detail}, which holds one example's values (${one}): if the model's input has no batch axis, a flatten or reshape before ` +
      `this layer read its first axis as the batch; add a batch axis to the input, e.g. T.reshape([1, ...shape])`,
    { values: one, got: x.shape },
  )
}

/**
 * An error from a layer inside a combinator, seen at the combinator's input `x`: if that layer
 * got exactly one example's values cut another way (checkInput) and `x` holds that many values,
 * `x` is one example without its batch axis, which an earlier flatten or reshape read as the
 * batch; the error then says so at the input (as `name`). Any other error is returned as it was.
 */
export const batchlessInput = (name: string, x: Tensor, e: unknown): unknown => {
  if (!(e instanceof ShapeError) || e.oneExample === undefined || x.data.length !== e.oneExample.values || x.shape.length === 0) return e
  const { values, got, at } = e.oneExample
  const layer = at === undefined ? e.path : [...e.path.slice(0, -1), ...at] // the layer that found it, from this input
  const missing = batchAxisMissing(name, x.shape)
  const seen = `${layer.join('.')} got them as ${showShape(got)}, the first axis read as the batch`
  return new ShapeError(missing.path, `${missing.detail} (it holds one example's values, ${values}: ${seen})`, { values, got, at: layer })
}

/** A simple, stateless layer definition: forward and vjp without state or ctx. */
export interface Definition<P extends Tree, Tape> {
  /** Shown in error paths and summaries. */
  readonly name: string
  /** Hyper-parameters; defaults to `{ kind: name }`. */
  readonly spec?: Spec
  /** Output shape and fresh params for an input shape; throw a ShapeError (e.g. `shapeMismatch`) to reject the shape. */
  readonly init?: (key: Key, inShape: Shape) => { readonly outShape: Shape; readonly params: P }
  /** init's shape rule: its output shape and the shapes of its params, allocating nothing (see Layer.shapes). */
  readonly shapes?: (inShape: Shape) => { readonly outShape: Shape; readonly params: ShapeTree }
  /** For a layer without params that changes the shape (flatten, pooling): the output shape, or a thrown ShapeError. */
  readonly outShape?: (inShape: Shape) => Shape
  readonly forward: (p: P, x: Tensor) => { readonly y: Tensor; readonly tape: Tape }
  readonly vjp: (p: P, tape: Tape, dy: Tensor, options?: VjpOptions) => Backward<P>
}

/**
 * Lifts a stateless definition into a full Layer record. Without `init` the layer has no params
 * and keeps the input shape (an element-wise layer), or takes the shape `outShape` gives.
 *
 * @example
 * const square = define({
 *   name: 'square',
 *   forward: (_p, x) => ({ y: T.mul(x, x), tape: x }),
 *   vjp: (_p, x, dy) => ({ dx: T.scale(2, T.mul(x, dy)), dp: none }),  // d(x²) = 2x dx
 * })
 */
export function define<Tape>(def: Definition<None, Tape> & { readonly init?: undefined }): Layer<None, None, Tape>
export function define<P extends Tree, Tape>(def: Definition<P, Tape>): Layer<P, None, Tape>
export function define<P extends Tree, Tape>(def: Definition<P, Tape>): Layer<P, None, Tape> {
  const { name, init, outShape: outOf, shapes: paramShapes } = def
  const outShape = (inShape: Shape): Shape => (outOf === undefined ? inShape : guard(name, () => outOf(inShape)))
  const shapes =
    init === undefined
      ? (inShape: Shape): Shapes => ({ outShape: outShape(inShape), params: none, state: none })
      : paramShapes === undefined
        ? undefined
        : (inShape: Shape): Shapes => ({ ...guard(name, () => paramShapes(inShape)), state: none })
  return {
    name,
    spec: def.spec ?? { kind: name },
    init: (key, inShape) => {
      // Without init the params are none: the first overload above is the one that allows it.
      if (init === undefined) return { outShape: outShape(inShape), params: none as unknown as P, state: none }
      const r = guard(name, () => init(key, inShape))
      return { outShape: r.outShape, params: r.params, state: none }
    },
    ...(shapes === undefined ? {} : { shapes }),
    forward: (p, s, x) => {
      const { y, tape } = guard(name, () => def.forward(p, x))
      return { y, state: s, tape }
    },
    vjp: (p, tape, dy, options) => guard(name, () => def.vjp(p, tape, dy, options)),
  }
}

/**
 * Runs a layer's init (the same as `layer.init(key, inShape)`): its output shape, params and state, or a thrown ShapeError.
 * With a literal input shape the output shape's type is exact, and an input the layer cannot take is a compile error
 * saying which layer and why (the error message is the type of `inShape`). With `{ dtype: 'float32' }` the params and
 * state are typed as they are, float32 (`Tree.Float32<P>`: every leaf a Tensor32); with a dtype typed `DType`, as either.
 * @example L.initialize(L.pipe(L.flatten, L.dense(128), L.relu, L.dense(10)), key, [1, 28, 28]).outShape // type [10]
 */
export const initialize = <P extends Tree, S extends Tree, Tape, R extends Rule, const I extends Shape, D extends DType = 'float64'>(
  layer: Layer<P, S, Tape, R>,
  key: Key,
  inShape: Out<R, I> extends string ? Out<R, I> : I,
  options: InitOptions<D> = {},
): Init<InDType<P, D>, InDType<S, D>, Extract<Plain<Out<R, I>>, Shape>> => {
  checkOptions('initialize', options, ['dtype'])
  const dtype: DType = dtypeOption('initialize', options.dtype, 'float64', DTypeError)
  const init = layer.init(key, inShape as I)
  for (const [what, tree] of [
    ['params', init.params],
    ['state', init.state],
  ] as const) {
    try {
      leaves(tree)
    } catch (e) {
      if (!(e instanceof TreeError)) throw e
      throw new TreeError(
        `initialize: ${layer.name}'s init returned ${what === 'params' ? 'params that are' : 'a state that is'} not a tree of ` +
          `tensors (${e.message}); make each leaf a ` +
          'tensor: T.tensor, T.zeros, L.initWeights',
        { cause: e },
      )
    }
  }
  const inDType = dtype === 'float64' ? init : { ...init, params: castTree(init.params, dtype), state: castTree(init.state, dtype) }
  // Two claims tsc cannot see: the rule gives init's run-time output shape (test/types holds the two to agreement),
  // and the trees are in dtype D (castTree made them so).
  return inDType as Init<InDType<P, D>, InDType<S, D>, Extract<Plain<Out<R, I>>, Shape>>
}

/** Options of `initialize` (D: the dtype asked for, which the params' type follows). */
export interface InitOptions<D extends DType = DType> {
  /**
   * The dtype of the params and state: 'float64' (default) or 'float32', the float64 initial values rounded to nearest.
   * @example initialize(net, key, [784], { dtype: 'float32' }).params // hold Float32Arrays, typed so (Tree.Float32<P>)
   */
  readonly dtype?: D
}
