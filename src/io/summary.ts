/**
 * A model summary like Keras's `summary()`: one row per layer (combinators and their children,
 * indented), with its path, kind and hyper-parameters, output shape and parameter count. It
 * comes from the spec plus the layers' shape rules (Layer.shapes), so nothing is allocated and a
 * spec claiming huge sizes costs no more than a small one. A network with a layer that has no
 * shape rule is instrumented instead (see Train.instrument) and initialised once.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as Key from '../key.ts'
import { isShapeLeaf, ShapeError, type AnyLayer, type Init, type Json, type Shapes, type ShapeTree } from '../layer.ts'
import { showShape, type Shape } from '../tensor/tensor.ts'
import { size, type Tree } from '../tree.ts'
import { instrument } from '../train/trace.ts'
import { MAX_UNCHECKED_INPUT } from './checkpoint.ts'
import { IoError } from './error.ts'
import { builtins, fromSpec, isLayer, type Registry } from './registry.ts'

/** One row of a summary. */
export interface SummaryRow {
  /** The layer's path, as in error messages: `pipe[2].dense`. */
  readonly path: string
  /** 0 for the root, +1 per level of nesting. */
  readonly depth: number
  readonly kind: string
  /** The hyper-parameters from the spec, e.g. `units=128, init=he, bias=true`. */
  readonly hyper: string
  /** Per-example output shape (no batch axis). */
  readonly outShape: Shape
  /** Number of trainable values (the layer's whole subtree for a combinator). */
  readonly params: number
  /** Number of non-trainable state values (e.g. batch-norm running statistics). */
  readonly state: number
  readonly leaf: boolean
}

/** The rows of a summary and the totals. */
export interface Summary {
  readonly rows: readonly SummaryRow[]
  readonly inShape: Shape
  readonly outShape: Shape
  readonly params: number
  readonly state: number
}

const showJson = (v: Json): string => (typeof v === 'string' ? v : JSON.stringify(v))

const hyperOf = (spec: AnyLayer['spec']): string =>
  Object.keys(spec)
    .filter((k) => k !== 'kind' && k !== 'children' && k !== 'body')
    .map((k) => `${k}=${showJson(spec[k]!)}`)
    .join(', ')

/**
 * Summarises a network (a layer, or a spec rebuilt through the registry) for a per-example input
 * shape. Left(ShapeError) when the network cannot take the shape, Left(IoError) for a bad spec.
 * @example summarize(L.pipe(L.flatten, L.dense(10)), [1, 28, 28])
 */
export const summarize = (
  network: AnyLayer | unknown,
  inShape: Shape,
  registry: Registry = builtins,
): E.Either<IoError | ShapeError, Summary> => {
  const built = isLayer(network) ? E.right(network) : fromSpec(network, registry)
  if (E.isLeft(built)) return built
  if (built.right.shapes !== undefined) return summarizeShapes(built.right, inShape)
  const claimed = inShape.reduce((a, d) => a * d, 1)
  if (!isLayer(network) && claimed > MAX_UNCHECKED_INPUT)
    return E.left(
      new IoError(
        'too-large',
        'inShape',
        `${showShape(inShape)} is ${claimed} values per example; a spec with a layer without a shape rule is summarised for at most ${MAX_UNCHECKED_INPUT}`,
      ),
    )
  const rows: { row: SummaryRow | undefined }[] = []
  const traced = instrument(built.right, {
    init: (site, _inShape, run) => {
      const slot: { row: SummaryRow | undefined } = { row: undefined }
      rows.push(slot) // parent before children: take the slot now, fill it when init returns
      const r = run()
      const spec = site.layer.spec
      slot.row = {
        path: site.path,
        depth: site.depth,
        kind: spec.kind,
        hyper: hyperOf(spec),
        outShape: r.outShape,
        params: size(r.params),
        state: size(r.state),
        leaf: site.leaf,
      }
      return r
    },
  })
  let r: Init<Tree, Tree>
  try {
    r = traced.init(Key.fromSeed(0), inShape)
  } catch (e) {
    if (e instanceof ShapeError) return E.left(e)
    throw e
  }
  return E.right({
    rows: rows.flatMap((s) => (s.row === undefined ? [] : [s.row])),
    inShape,
    outShape: r.outShape,
    params: size(r.params),
    state: size(r.state),
  })
}

/** The number of values in a tree of shapes. */
const countShapes = (tree: ShapeTree): number => {
  if (isShapeLeaf(tree)) return tree.shape.reduce((a, d) => a * d, 1)
  return (Array.isArray(tree) ? tree : Object.values(tree)).reduce((n: number, c: ShapeTree) => n + countShapes(c), 0)
}

/** summarize from the shape rules alone: every node's rule wrapped to report its row, nothing allocated. */
const summarizeShapes = (layer: AnyLayer, inShape: Shape): E.Either<ShapeError, Summary> => {
  const rows: { row: SummaryRow | undefined }[] = []
  const wrap = (node: AnyLayer, segments: readonly string[]): AnyLayer => {
    const st = node.structure
    const inner =
      st === undefined ? node : st.rebuild(st.children.map((c) => wrap(c.layer, [...segments.slice(0, -1), c.label, c.layer.name])))
    const rule = inner.shapes
    if (rule === undefined) return inner
    const shapes = (shape: Shape): Shapes => {
      const slot: { row: SummaryRow | undefined } = { row: undefined }
      rows.push(slot) // parent before children: take the slot now, fill it when the rule returns
      const r = rule(shape)
      const spec = node.spec
      slot.row = {
        path: segments.join('.'),
        depth: segments.length - 1,
        kind: spec.kind,
        hyper: hyperOf(spec),
        outShape: r.outShape,
        params: countShapes(r.params),
        state: countShapes(r.state),
        leaf: st === undefined,
      }
      return r
    }
    return { ...inner, shapes }
  }
  let r: Shapes
  try {
    r = wrap(layer, [layer.name]).shapes!(inShape)
  } catch (e) {
    if (e instanceof ShapeError) return E.left(e)
    throw e
  }
  return E.right({
    rows: rows.flatMap((s) => (s.row === undefined ? [] : [s.row])),
    inShape,
    outShape: r.outShape,
    params: countShapes(r.params),
    state: countShapes(r.state),
  })
}

const pad = (s: string, n: number): string => (s.length >= n ? s : s + ' '.repeat(n - s.length))
const padLeft = (s: string, n: number): string => (s.length >= n ? s : ' '.repeat(n - s.length) + s)
const count = (n: number): string => n.toLocaleString('en-US')

/** A summary as a table of text. */
export const formatSummary = (s: Summary): string => {
  const head = ['Layer (path)', 'Kind', 'Output shape', 'Params']
  const body = s.rows.map((r) => [
    `${'  '.repeat(r.depth)}${r.path}`,
    r.hyper === '' ? r.kind : `${r.kind}(${r.hyper})`,
    showShape(r.outShape),
    count(r.params),
  ])
  const widths = head.map((h, c) => Math.max(h.length, ...body.map((row) => row[c]!.length)))
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, c) => (c === 3 ? padLeft(cell, widths[c]!) : pad(cell, widths[c]!)))
      .join('   ')
      .trimEnd()
  const rule = (ch: string): string => ch.repeat(widths.reduce((a, w) => a + w, 0) + 3 * (widths.length - 1))
  const kb = (n: number, bytes: number): string => `${((bytes * n) / 1024).toFixed(1)} KB`
  return [
    line(head),
    rule('='),
    ...body.map(line),
    rule('='),
    `Input shape: ${showShape(s.inShape)} per example   Output shape: ${showShape(s.outShape)}`,
    `Trainable params: ${count(s.params)} (${kb(s.params, 8)} as float64, ${kb(s.params, 4)} as float32)`,
    `Non-trainable state: ${count(s.state)}`,
  ].join('\n')
}

/**
 * The summary of a network as text, like Keras's `model.summary()`; throws the ShapeError or
 * IoError when the network cannot be built or take the shape.
 *
 * @example
 * console.log(IO.summary(L.pipe(L.flatten, L.dense(128), L.relu, L.dense(10)), [1, 28, 28]))
 * // Layer (path)       Kind                                   Output shape   Params
 * // ===============================================================================
 * // pipe               pipe                                   [10]          101,770
 * //   pipe[0].flatten  flatten                                [784]               0
 * //   pipe[1].dense    dense(units=128, init=he, bias=true)   [128]         100,480
 * // ...
 */
export const summary = (network: AnyLayer | unknown, inShape: Shape, registry: Registry = builtins): string => {
  const r = summarize(network, inShape, registry)
  if (E.isLeft(r)) throw r.left
  return formatSummary(r.right)
}
