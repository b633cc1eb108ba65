/**
 * The layer laws (1-7) as pure predicates: each takes a layer and one concrete
 * sample and returns a Verdict. The runners in run.ts feed them samples from fast-check.
 */
import * as E from 'fp-ts/lib/Either.js'
import { Gradcheck, IO, Key, L, T, Tree, type Ctx, type Layer, type Shape, type Tensor } from '../src/index.ts'
import { close, closeError, magnitude, snapshot, tensorsClose, tensorsIdentical, treesClose, treesIdentical } from './compare.ts'
import { all, fails, holds, type Verdict } from './verdict.ts'

/** One concrete point at which the laws are checked. */
export interface LayerSample<P extends Tree.Tree = Tree.Tree, S extends Tree.Tree = Tree.Tree> {
  readonly initKey: Key.Key
  readonly params: P
  readonly state: S
  /** The input batch [N, ...inShape]. */
  readonly x: Tensor
  readonly ctx: Ctx
  /** Two cotangents with the output's shape, and two scalars, for the linearity law. */
  readonly c: Tensor
  readonly c2: Tensor
  readonly alpha: number
  readonly beta: number
  /** A random direction in (x, params), for the directional derivative law. */
  readonly tx: Tensor
  readonly tp: P
}

/** Tolerances and step for the numerical laws. */
export interface Settings {
  /** Central-difference step (default 1e-6). */
  readonly h: number
  /** Mixed relative tolerance of the gradient laws (default 1e-6). */
  readonly gradientTolerance: number
  /** Tolerance of the exact laws up to rounding: adjoint, linearity, batch consistency (default 1e-10). */
  readonly exactTolerance: number
  /**
   * Tolerance of law 14 (float32 against float64), times each result's largest magnitude or 1, the larger (default 1e-4: about the
   * rounding of a sum of a thousand float32 terms, 1000·2⁻²⁴ = 6·10⁻⁵).
   */
  readonly float32Tolerance: number
}

/** The defaults of Settings. */
export const defaultSettings: Settings = { h: 1e-6, gradientTolerance: 1e-6, exactTolerance: 1e-10, float32Tolerance: 1e-4 }

/**
 * Builds a sample's random parts from keys: params from init, each value then moved by
 * N(0, jitter²) (so a law never sees only init's special values, such as a batch-norm gamma of
 * exactly 1 or biases of exactly 0), cotangents and directions.
 */
export const makeSample = <P extends Tree.Tree, S extends Tree.Tree, Tape>(
  layer: Layer<P, S, Tape>,
  inShape: Shape,
  x: Tensor,
  seed: number,
  mode: Ctx['mode'],
  jitter = 0.5,
): LayerSample<P, S> => {
  const [initKey, ctxKey, cKey, c2Key, tKey, sKey, jKey] = Key.split(Key.fromSeed(seed), 7) as [
    Key.Key,
    Key.Key,
    Key.Key,
    Key.Key,
    Key.Key,
    Key.Key,
    Key.Key,
  ]
  const r = layer.init(initKey, inShape)
  const { state, outShape } = r
  const jitterKeys = Key.split(jKey, Tree.leaves(r.params).length + 1)
  let j = 0
  const params = jitter === 0 ? r.params : Tree.map(r.params, (leaf) => T.add(leaf, Key.normal(jitterKeys[j++]!, leaf.shape, 0, jitter)))
  const yShape = [x.shape[0]!, ...outShape]
  const scalars = Key.uniform(sKey, [2], -2, 2).data
  const leafKeys = Key.split(tKey, Tree.leaves(params).length + 1)
  let k = 1
  return {
    initKey,
    params,
    state,
    x,
    ctx: { mode, key: ctxKey },
    c: Key.normal(cKey, yShape),
    c2: Key.normal(c2Key, yShape),
    alpha: scalars[0]!,
    beta: scalars[1]!,
    tx: Key.normal(leafKeys[0]!, x.shape),
    tp: Tree.map(params, (leaf) => Key.normal(leafKeys[k++]!, leaf.shape)),
  }
}

/** A layer's init, or the message of the ShapeError it threw (a law then fails with it instead of stopping). */
const initOrReason = <P extends Tree.Tree, S extends Tree.Tree, Tape>(
  layer: Layer<P, S, Tape>,
  key: Key.Key,
  inShape: Shape,
): L.Init<P, S> | string => {
  try {
    return layer.init(key, inShape)
  } catch (e) {
    if (e instanceof L.ShapeError) return `init rejected ${T.showShape(inShape)}: ${e.message}`
    throw e
  }
}

const run = <P extends Tree.Tree, S extends Tree.Tree, Tape>(layer: Layer<P, S, Tape>, s: LayerSample<P, S>, x: Tensor, p: P) =>
  layer.forward(p, s.state, x, s.ctx)

/** φ(x, p) = <c, f(x, p)>: the scalar whose gradient the vjp of c is. */
const phi = <P extends Tree.Tree, S extends Tree.Tree, Tape>(layer: Layer<P, S, Tape>, s: LayerSample<P, S>, x: Tensor, p: P): number =>
  T.dot(s.c, run(layer, s, x, p).y)

/** Law 1: the vjp matches central differences of φ, coordinate by coordinate, in x and every param. */
export const gradientPerCoordinate = <P extends Tree.Tree, S extends Tree.Tree, Tape>(
  layer: Layer<P, S, Tape>,
  s: LayerSample<P, S>,
  settings: Settings = defaultSettings,
): Verdict => {
  const report = Gradcheck.layer(layer, {
    params: s.params,
    state: s.state,
    x: s.x,
    cotangent: s.c,
    ctx: s.ctx,
    h: settings.h,
    tolerance: settings.gradientTolerance,
  })
  if (report.ok) return holds
  const worst = [...report.rows].sort((a, b) => b.error - a.error)[0]
  return worst === undefined
    ? holds
    : fails(
        `d${worst.where}[${worst.index.join(',')}]: vjp gives ${worst.analytic.toPrecision(10)}, central differences give ${worst.numeric.toPrecision(10)} (error ${worst.error.toExponential(2)} > ${settings.gradientTolerance.toExponential(0)})`,
        { error: worst.error, tolerance: settings.gradientTolerance },
      )
}

/** Law 2: along a random direction t in (x, p), <vjp(c), t> equals the central difference of φ along t. */
export const gradientDirectional = <P extends Tree.Tree, S extends Tree.Tree, Tape>(
  layer: Layer<P, S, Tape>,
  s: LayerSample<P, S>,
  settings: Settings = defaultSettings,
): Verdict => {
  const { tape } = run(layer, s, s.x, s.params)
  const { dx, dp } = layer.vjp(s.params, tape, s.c)
  const analytic = T.dot(dx, s.tx) + Tree.dot(dp, s.tp)
  const h = settings.h
  const at = (e: number): number =>
    phi(
      layer,
      s,
      T.addScaled(s.x, e, s.tx),
      Tree.map2(s.params, s.tp, (p, t) => T.addScaled(p, e, t)),
    )
  const numeric = (at(h) - at(-h)) / (2 * h)
  return close(analytic, numeric, settings.gradientTolerance)
    ? holds
    : fails(
        `directional derivative: <vjp(c), t> = ${analytic.toPrecision(10)}, central difference of <c, f> along t = ${numeric.toPrecision(10)} (error ${closeError(analytic, numeric).toExponential(2)} > ${settings.gradientTolerance.toExponential(0)})`,
        { error: closeError(analytic, numeric), tolerance: settings.gradientTolerance },
      )
}

/** Law 3 (maps affine in x): <c, f(x) - f(0)> = <vjp(c).dx, x>, exactly up to rounding. */
export const adjointInInput = <P extends Tree.Tree, S extends Tree.Tree, Tape>(
  layer: Layer<P, S, Tape>,
  s: LayerSample<P, S>,
  settings: Settings = defaultSettings,
): Verdict => {
  const { y, tape } = run(layer, s, s.x, s.params)
  const y0 = run(layer, s, T.zeros(s.x.shape), s.params).y
  const lhs = T.dot(s.c, T.sub(y, y0))
  const rhs = T.dot(layer.vjp(s.params, tape, s.c).dx, s.x)
  const scale = T.norm(s.c) * T.norm(y) + 1
  return close(lhs, rhs, settings.exactTolerance, scale)
    ? holds
    : fails(`adjoint in x: <c, f(x) - f(0)> = ${lhs.toPrecision(14)} but <vjp(c).dx, x> = ${rhs.toPrecision(14)}`, {
        error: closeError(lhs, rhs, scale),
        tolerance: settings.exactTolerance,
      })
}

/** Law 3 (maps linear in the params): <c, f(x, p) - f(x, 0)> = <vjp(c).dp, p>, exactly up to rounding. */
export const adjointInParams = <P extends Tree.Tree, S extends Tree.Tree, Tape>(
  layer: Layer<P, S, Tape>,
  s: LayerSample<P, S>,
  settings: Settings = defaultSettings,
): Verdict => {
  const { y, tape } = run(layer, s, s.x, s.params)
  const y0 = run(layer, s, s.x, Tree.zerosLike(s.params)).y
  const lhs = T.dot(s.c, T.sub(y, y0))
  const rhs = Tree.dot(layer.vjp(s.params, tape, s.c).dp, s.params)
  const scale = T.norm(s.c) * T.norm(y) + 1
  return close(lhs, rhs, settings.exactTolerance, scale)
    ? holds
    : fails(`adjoint in params: <c, f(x, p) - f(x, 0)> = ${lhs.toPrecision(14)} but <vjp(c).dp, p> = ${rhs.toPrecision(14)}`, {
        error: closeError(lhs, rhs, scale),
        tolerance: settings.exactTolerance,
      })
}

/** Law 4: vjp is linear in the cotangent, vjp(αc + βc') = α vjp(c) + β vjp(c'), and vjp(0) = 0 exactly. */
export const vjpLinearInCotangent = <P extends Tree.Tree, S extends Tree.Tree, Tape>(
  layer: Layer<P, S, Tape>,
  s: LayerSample<P, S>,
  settings: Settings = defaultSettings,
): Verdict => {
  const { tape } = run(layer, s, s.x, s.params)
  const v1 = layer.vjp(s.params, tape, s.c)
  const v2 = layer.vjp(s.params, tape, s.c2)
  const mixed = layer.vjp(s.params, tape, T.add(T.scale(s.alpha, s.c), T.scale(s.beta, s.c2)))
  const zero = layer.vjp(s.params, tape, T.zeros(s.c.shape))
  const scale = magnitude(v1.dx, v1.dp, v2.dx, v2.dp) * (Math.abs(s.alpha) + Math.abs(s.beta) + 1)
  return all(
    () =>
      tensorsClose(
        'vjp(αc + βc′).dx vs α·dx + β·dx′',
        mixed.dx,
        T.add(T.scale(s.alpha, v1.dx), T.scale(s.beta, v2.dx)),
        settings.exactTolerance,
        scale,
      ),
    () =>
      treesClose(
        'vjp(αc + βc′).dp vs α·dp + β·dp′',
        mixed.dp,
        Tree.map2(v1.dp, v2.dp, (a, b) => T.add(T.scale(s.alpha, a), T.scale(s.beta, b))),
        settings.exactTolerance,
        scale,
      ),
    () => (zero.dx.data.every((v) => v === 0) ? holds : fails('vjp(0).dx is not all zeros')),
    () => (Tree.leaves(zero.dp).every((t) => t.data.every((v) => v === 0)) ? holds : fails('vjp(0).dp is not all zeros')),
  )
}

/**
 * Law 5: y has the shape init declared (with the batch axis), dx has x's shape, dp has p's structure and shapes; and a
 * layer with a shape rule (`layer.shapes`) gives init's output shape and the shapes of init's params and state.
 */
export const shapes = <P extends Tree.Tree, S extends Tree.Tree, Tape>(
  layer: Layer<P, S, Tape>,
  s: LayerSample<P, S>,
  inShape: Shape,
): Verdict => {
  const r = initOrReason(layer, s.initKey, inShape)
  if (typeof r === 'string') return fails(r)
  const want = [s.x.shape[0]!, ...r.outShape]
  const { y, state, tape } = run(layer, s, s.x, s.params)
  const { dx, dp } = layer.vjp(s.params, tape, s.c)
  return all(
    () => (T.sameShape(y.shape, want) ? holds : fails(`y has shape ${T.showShape(y.shape)}, init declared ${T.showShape(want)}`)),
    () => (T.sameShape(dx.shape, s.x.shape) ? holds : fails(`dx has shape ${T.showShape(dx.shape)}, x has ${T.showShape(s.x.shape)}`)),
    () => {
      const d = Tree.structureDiff(s.params, dp)
      return d === undefined ? holds : fails(`dp does not match params ${d}`)
    },
    () => {
      const d = Tree.structureDiff(s.state, state)
      return d === undefined ? holds : fails(`forward's state does not match init's state ${d}`)
    },
    () => ruleAgreesWithInit(layer, inShape, r),
  )
}

/** Law 5's part for a layer with a shape rule: the rule's outShape, params and state shapes are init's (rule vs init). */
const ruleAgreesWithInit = (layer: L.AnyLayer, inShape: Shape, init: L.Init<Tree.Tree, Tree.Tree>): Verdict => {
  if (layer.shapes === undefined) return holds
  let rule: L.Shapes
  try {
    rule = layer.shapes(inShape)
  } catch (e) {
    return fails(
      `the shape rule (layer.shapes) threw on ${T.showShape(inShape)}, which init takes: ${e instanceof Error ? e.message : String(e)}`,
    )
  }
  if (!T.sameShape(rule.outShape, init.outShape))
    return fails(`the shape rule (layer.shapes) gives outShape ${T.showShape(rule.outShape)}, init ${T.showShape(init.outShape)}`)
  for (const [what, shapes, tree] of [
    ['params', rule.params, init.params],
    ['state', rule.state, init.state],
  ] as const) {
    const d = Tree.structureDiff(shapes, tree)
    if (d !== undefined) return fails(`the shape rule (layer.shapes) does not give init's ${what} ${d} (rule vs init)`)
  }
  return holds
}

/** What law 6 says of an input a layer wrote into. */
const wroteInto = (what: 'x' | 'params' | 'state'): string =>
  `the ${what} given to forward: forward or vjp wrote into it ` +
  `(a layer computes new tensors${what === 'state' ? ', returns a new state,' : ''} ` +
  'and never writes into its inputs); now vs before'

/**
 * Law 6: init, forward and vjp leave their inputs unchanged bit for bit, and give bit-identical
 * results when repeated; a vjp told `{ dx: false }` (the caller discards dx) gives the same dp,
 * bit for bit, and as dx either `noDx` (empty) or the same dx.
 */
export const purity = <P extends Tree.Tree, S extends Tree.Tree, Tape>(
  layer: Layer<P, S, Tape>,
  s: LayerSample<P, S>,
  inShape: Shape,
): Verdict => {
  const before = { x: snapshot(s.x), params: snapshot(s.params), state: snapshot(s.state), c: snapshot(s.c), key: { ...s.ctx.key } }
  const init1 = initOrReason(layer, s.initKey, inShape)
  const init2 = initOrReason(layer, s.initKey, inShape)
  const f1 = run(layer, s, s.x, s.params)
  const f2 = run(layer, s, s.x, s.params)
  const b1 = layer.vjp(s.params, f1.tape, s.c)
  const b2 = layer.vjp(s.params, f2.tape, s.c)
  const b3 = layer.vjp(s.params, f1.tape, s.c, { dx: false })
  return all(
    () => tensorsIdentical(wroteInto('x'), s.x, before.x),
    () => treesIdentical(wroteInto('params'), s.params, before.params),
    () => treesIdentical(wroteInto('state'), s.state, before.state),
    () =>
      tensorsIdentical(
        'the cotangent given to vjp: vjp wrote into it (a layer never writes into its inputs); now vs before',
        s.c,
        before.c,
      ),
    () => (s.ctx.key.k0 === before.key.k0 && s.ctx.key.k1 === before.key.k1 ? holds : fails('ctx.key was modified')),
    () =>
      typeof init1 !== 'string' && typeof init2 !== 'string'
        ? treesIdentical('params from two inits with one key', init1.params, init2.params)
        : fails(`init failed: ${typeof init1 === 'string' ? init1 : init2}`),
    () => tensorsIdentical('y of two identical forwards', f1.y, f2.y),
    () => treesIdentical('state of two identical forwards', f1.state, f2.state),
    () => tensorsIdentical('dx of two identical vjps', b1.dx, b2.dx),
    () => treesIdentical('dp of two identical vjps', b1.dp, b2.dp),
    () => treesIdentical('dp of a vjp with { dx: false } vs without', b3.dp, b1.dp),
    () =>
      b3.dx.data.length === 0 && T.sameShape(b3.dx.shape, [0])
        ? holds
        : tensorsIdentical('dx of a vjp with { dx: false } (not noDx) vs without', b3.dx, b1.dx),
  )
}

/** Law 7: forward of a batch = the per-example forwards stacked; the batch dp = the sum of per-example dps. */
export const batchConsistency = <P extends Tree.Tree, S extends Tree.Tree, Tape>(
  layer: Layer<P, S, Tape>,
  s: LayerSample<P, S>,
  settings: Settings = defaultSettings,
): Verdict => {
  const n = s.x.shape[0]!
  const { y, tape } = run(layer, s, s.x, s.params)
  const { dx, dp } = layer.vjp(s.params, tape, s.c)
  const rows = Array.from({ length: n }, (_, i) => {
    const xi = T.sliceRows(s.x, i, i + 1)
    const f = run(layer, s, xi, s.params)
    return { f, b: layer.vjp(s.params, f.tape, T.sliceRows(s.c, i, i + 1)) }
  })
  const scale = magnitude(y, dx, dp)
  return all(
    () => tensorsClose('batch y vs stacked per-example y', y, T.concat(0)(rows.map((r) => r.f.y)), settings.exactTolerance, scale),
    () => tensorsClose('batch dx vs stacked per-example dx', dx, T.concat(0)(rows.map((r) => r.b.dx)), settings.exactTolerance, scale),
    () =>
      treesClose(
        'batch dp vs sum of per-example dp',
        dp,
        rows.slice(1).reduce((acc, r) => Tree.map2(acc, r.b.dp, T.add), rows[0]!.b.dp),
        settings.exactTolerance,
        scale,
      ),
  )
}

/**
 * Law 14, for any layer: with x, the params, the state and the cotangent rounded to float32 (so both runs see the same
 * numbers), the layer run in float32 keeps the dtype (y, dx and every leaf of dp and of the next state hold a
 * Float32Array) and agrees with its float64 run within `float32Tolerance` of each result's largest magnitude (at least 1).
 * chainrule's own layers are held to bounds derived from the operations they run (docs/laws.md); a layer of yours is
 * held to this one.
 */
export const float32Agrees = <P extends Tree.Tree, S extends Tree.Tree, Tape>(
  layer: Layer<P, S, Tape>,
  s: LayerSample<P, S>,
  settings: Settings = defaultSettings,
): Verdict => {
  const f: L.AnyLayer = layer // run on trees of either dtype: the layer follows its inputs' dtype at run time
  const inputs = (dtype: 'float32' | 'float64') => ({
    x: T.asTensor(T.cast(T.cast(s.x, 'float32'), dtype)),
    params: Tree.castTree(Tree.castTree(s.params, 'float32'), dtype),
    state: Tree.castTree(Tree.castTree(s.state, 'float32'), dtype),
    c: T.asTensor(T.cast(T.cast(s.c, 'float32'), dtype)),
  })
  const go = (dtype: 'float32' | 'float64') => {
    const { x, params, state, c } = inputs(dtype)
    const { y, state: next, tape } = f.forward(params, state, x, s.ctx)
    const { dx, dp } = f.vjp(params, tape, c)
    return { y, next, dx, dp }
  }
  const r32 = go('float32')
  const r64 = go('float64')
  const kept = (what: string, t: Tree.Tree): Verdict => {
    const other = Tree.leavesWithPaths(t).find(({ leaf }) => !T.isFloat32(leaf))
    return other === undefined
      ? holds
      : fails(
          `in float32, ${what}${other.path ? ` at ${other.path}` : ''} holds a ${other.leaf.data.constructor.name}: ` +
            "the layer must keep its inputs' dtype " +
            '(T.generate, T.tensor, T.scalar and T.fromData always make float64; build results with T.map, T.zipWith or ' +
            'T.fullLike(t, value), which follow their inputs, or cast at the end, T.cast(y, T.dtypeOf(x)))',
        )
  }
  const near = (what: string, a: Tree.Tree, b: Tree.Tree): Verdict =>
    treesClose(`${what}, float32 against float64`, Tree.castTree(a, 'float64'), b, settings.float32Tolerance, magnitude(b))
  return all(
    () => kept('y', r32.y),
    () => kept('dx', r32.dx),
    () => kept('dp', r32.dp),
    () => kept("forward's state", r32.next),
    () => near('y', r32.y, r64.y),
    () => near('dx', r32.dx, r64.dx),
    () => near('dp', r32.dp, r64.dp),
    () => near("forward's state", r32.next, r64.next),
  )
}

/**
 * Law 12: the layer's spec, through JSON and `fromSpec` with `registry`, rebuilds a layer with
 * the same spec that computes the same numbers, bit for bit: init's params and state for one
 * key, and y, the next state, dx and dp.
 */
export const specRoundTrip = <P extends Tree.Tree, S extends Tree.Tree, Tape>(
  layer: Layer<P, S, Tape>,
  registry: IO.Registry,
  s: LayerSample<P, S>,
  inShape: Shape,
): Verdict => {
  const rebuilt = IO.fromSpec(JSON.parse(JSON.stringify(layer.spec)), registry)
  if (E.isLeft(rebuilt)) {
    const missing = /got nothing$/.test(rebuilt.left.detail) // a field the kind requires that the layer's spec lacks
    const hint = missing
      ? `; the layer's spec is ${JSON.stringify(layer.spec)}, which lacks it: a layer made with L.define has the spec ` +
        '{ kind: name } unless given one, so pass define its spec, spec: IO.checkSpec(codec, { kind, ...its settings }) ' +
        '(docs/adding-a-layer.md), or a checkpoint of it cannot be loaded'
      : ''
    return fails(`fromSpec cannot rebuild the layer from its own spec: ${rebuilt.left.message}${hint}`)
  }
  const again = rebuilt.right
  const a = layer.init(s.initKey, inShape)
  const b = again.init(s.initKey, inShape)
  const fa = run(layer, s, s.x, s.params)
  const fb = again.forward(s.params, s.state, s.x, s.ctx)
  const va = layer.vjp(s.params, fa.tape, s.c)
  const vb = again.vjp(s.params, fb.tape, s.c)
  return all(
    () =>
      JSON.stringify(again.spec) === JSON.stringify(layer.spec)
        ? holds
        : fails(`the rebuilt spec ${JSON.stringify(again.spec)} differs from ${JSON.stringify(layer.spec)}`),
    () => treesIdentical('params from init with one key, rebuilt vs original', b.params, a.params),
    () => treesIdentical('state from init, rebuilt vs original', b.state, a.state),
    () => tensorsIdentical('y, rebuilt vs original', fb.y, fa.y),
    () => treesIdentical('next state, rebuilt vs original', fb.state, fa.state),
    () => tensorsIdentical('dx, rebuilt vs original', vb.dx, va.dx),
    () => treesIdentical('dp, rebuilt vs original', vb.dp, va.dp),
  )
}

/**
 * The fusion law (law 13 for a layer's `fuseNext`): the fused layer computes exactly what the layer and
 * `next` compute one after the other, bit for bit (y, state, dx, dp, with and without
 * { dx: false }), takes the layer's params and state, and `next` has no params.
 */
export const fusion = <P extends Tree.Tree, S extends Tree.Tree, Tape>(
  layer: Layer<P, S, Tape>,
  next: Layer<Tree.Tree, Tree.Tree, unknown>,
  s: LayerSample<P, S>,
): Verdict => {
  const fused = layer.fuseNext?.(next)
  if (fused === undefined) return fails(`layer "${layer.name}" offers no fused layer for "${next.name}"`)
  const first = run(layer, s, s.x, s.params)
  const probe = initOrReason(next, s.initKey, first.y.shape.slice(1))
  if (typeof probe === 'string') return fails(`"${next.name}" rejects the layer's output shape: ${probe}`)
  const { params: pn, state: sn } = probe
  if (Tree.leaves(pn).length !== 0) return fails(`"${next.name}" has params: a fused layer takes only the first layer's params`)
  const second = next.forward(pn, sn, first.y, s.ctx)
  const c = Key.normal(s.initKey, second.y.shape)
  const nb = next.vjp(pn, second.tape, c)
  const lb = layer.vjp(s.params, first.tape, nb.dx)
  const lbNoDx = layer.vjp(s.params, first.tape, nb.dx, { dx: false })
  const f = fused.forward(s.params, s.state, s.x, s.ctx)
  const fb = fused.vjp(s.params, f.tape, c)
  const fbNoDx = fused.vjp(s.params, f.tape, c, { dx: false })
  return all(
    () => tensorsIdentical('fused y vs the two layers', f.y, second.y),
    () => treesIdentical('fused state vs the first layer', f.state, first.state),
    () => tensorsIdentical('fused dx vs the two vjps', fb.dx, lb.dx),
    () => treesIdentical('fused dp vs the first layer', fb.dp, lb.dp),
    () => treesIdentical('fused dp with { dx: false }', fbNoDx.dp, lbNoDx.dp),
  )
}

/** A fixed key for probing init (shapes only; values unused). */
export const makeSampleKey: Key.Key = Key.fromSeed(0)
