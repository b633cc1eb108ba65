/**
 * Combinator laws (8 and 9): pipe has identity as its unit and is associative; a fan-out
 * sums the cotangents of its branches; residual's dx is dy plus the body's dx. Each predicate
 * takes concrete layers and values; the runner in this file feeds it samples.
 */
import fc from 'fast-check'
import { checkOptions } from '../src/options.ts'
import { Key, L, T, Tree, type Ctx, type Layer, type Shape, type Tensor } from '../src/index.ts'
import * as A from './arbitraries.ts'
import { tensorsClose, tensorsIdentical, treesIdentical } from './compare.ts'
import { checkIsLayer } from './contract.ts'
import { checkBatch, checkInShape, checkRunOptions } from './options.ts'
import { runProperty, type RunOptions } from './run.ts'
import { all, fails, holds, type Verdict } from './verdict.ts'

type Any = L.AnyLayer

/** Three layers that chain (f's output fits g, g's fits h), their params and states, an input and a cotangent. */
export interface ChainSample {
  readonly f: { readonly layer: Any; readonly params: Tree.Tree; readonly state: Tree.Tree }
  /** f's params and state drawn again from another key: a second, independent copy of f. */
  readonly f2: { readonly params: Tree.Tree; readonly state: Tree.Tree }
  readonly g: { readonly layer: Any; readonly params: Tree.Tree; readonly state: Tree.Tree }
  readonly h: { readonly layer: Any; readonly params: Tree.Tree; readonly state: Tree.Tree }
  readonly x: Tensor
  /** A cotangent for each of f(x), h(g(f(x))). */
  readonly cf: Tensor
  readonly chgf: Tensor
}

const ctx: Ctx = { mode: 'eval', key: Key.fromSeed(0) }

const both = (l: Layer<Tree.Tree, Tree.Tree, unknown>, params: Tree.Tree, state: Tree.Tree, x: Tensor, c: Tensor) => {
  const r = l.forward(params, state, x, ctx)
  return { y: r.y, ...l.vjp(params, r.tape, c) }
}

const same = (what: string, a: ReturnType<typeof both>, b: ReturnType<typeof both>, dpOfB: Tree.Tree): Verdict =>
  all(
    () => tensorsIdentical(`${what}: y`, a.y, b.y),
    () => tensorsIdentical(`${what}: dx`, a.dx, b.dx),
    () => treesIdentical(`${what}: dp`, a.dp, dpOfB),
  )

/** Law 8: pipe(identity, f) = f = pipe(f, identity), in y, dx and dp (bit for bit, eval mode). */
export const pipeIdentity = (s: ChainSample): Verdict => {
  const { f } = s
  const alone = both(f.layer, f.params, f.state, s.x, s.cf)
  const left = both(L.pipe(L.identity, f.layer), [L.none, f.params], [L.none, f.state], s.x, s.cf)
  const right = both(L.pipe(f.layer, L.identity), [f.params, L.none], [f.state, L.none], s.x, s.cf)
  return all(
    () => same('pipe(identity, f) vs f', left, alone, [L.none, alone.dp]),
    () => same('pipe(f, identity) vs f', right, alone, [alone.dp, L.none]),
  )
}

/** Law 8: pipe(pipe(f, g), h) = pipe(f, pipe(g, h)) = pipe(f, g, h) = compose(h, g, f), with params regrouped. */
export const pipeAssociative = (s: ChainSample): Verdict => {
  const { f, g, h } = s
  const flat = both(L.pipe(f.layer, g.layer, h.layer), [f.params, g.params, h.params], [f.state, g.state, h.state], s.x, s.chgf)
  const [df, dg, dh] = flat.dp as [Tree.Tree, Tree.Tree, Tree.Tree]
  const leftNested = both(
    L.pipe(L.pipe(f.layer, g.layer), h.layer),
    [[f.params, g.params], h.params],
    [[f.state, g.state], h.state],
    s.x,
    s.chgf,
  )
  const rightNested = both(
    L.pipe(f.layer, L.pipe(g.layer, h.layer)),
    [f.params, [g.params, h.params]],
    [f.state, [g.state, h.state]],
    s.x,
    s.chgf,
  )
  const composed = both(L.compose(h.layer, g.layer, f.layer), [f.params, g.params, h.params], [f.state, g.state, h.state], s.x, s.chgf)
  return all(
    () => same('pipe(pipe(f, g), h) vs pipe(f, g, h)', leftNested, flat, [[df, dg], dh]),
    () => same('pipe(f, pipe(g, h)) vs pipe(f, g, h)', rightNested, flat, [df, [dg, dh]]),
    () => same('compose(h, g, f) vs pipe(f, g, h)', composed, flat, flat.dp),
  )
}

/**
 * Law 9: a fan-out of f and a second copy f′ (same layer, independent params) sums:
 * y = f(x) + f′(x), dx = dx_f + dx_f′, and each branch gets its own dp.
 */
export const fanOutSumsCotangents = (s: ChainSample): Verdict => {
  const { f, f2 } = s
  const one = both(f.layer, f.params, f.state, s.x, s.cf)
  const two = both(f.layer, f2.params, f2.state, s.x, s.cf)
  const fan = both(L.branches('sum', f.layer, f.layer), [f.params, f2.params], [f.state, f2.state], s.x, s.cf)
  const scale = 1 + T.norm(one.dx) + T.norm(two.dx) + T.norm(one.y) + T.norm(two.y)
  return all(
    () => tensorsClose('branches(sum, f, f′) y vs f(x) + f′(x)', fan.y, T.add(one.y, two.y), 1e-12, scale),
    () => tensorsClose('branches(sum, f, f′) dx vs dx_f + dx_f′', fan.dx, T.add(one.dx, two.dx), 1e-12, scale),
    () => treesIdentical('branches(sum, f, f′) dp vs [dp_f, dp_f′]', fan.dp, [one.dp, two.dp]),
  )
}

/**
 * Law 9: concat branches split the cotangent: branches(concat, f, f′) with cotangent [c₁, c₂]
 * gives dp = [dp_f(c₁), dp_f′(c₂)] and dx = dx_f(c₁) + dx_f′(c₂).
 */
export const fanOutConcatSplits = (s: ChainSample): Verdict => {
  const { f, f2 } = s
  const c2 = T.scale(-0.5, s.cf)
  const one = both(f.layer, f.params, f.state, s.x, s.cf)
  const two = both(f.layer, f2.params, f2.state, s.x, c2)
  const fan = both(L.branches('concat', f.layer, f.layer), [f.params, f2.params], [f.state, f2.state], s.x, T.concat(1)([s.cf, c2]))
  const scale = 1 + T.norm(one.dx) + T.norm(two.dx)
  return all(
    () => tensorsIdentical('branches(concat, f, f′) y vs [f(x), f′(x)]', fan.y, T.concat(1)([one.y, two.y])),
    () => tensorsClose('branches(concat) dx vs dx_f(c₁) + dx_f′(c₂)', fan.dx, T.add(one.dx, two.dx), 1e-12, scale),
    () => treesIdentical('branches(concat) dp vs [dp_f(c₁), dp_f′(c₂)]', fan.dp, [one.dp, two.dp]),
  )
}

/** Law 9: residual(g ∘ f) where the body keeps the shape: y = x + body(x) and dx = dy + body's dx. */
export const residualAddsSkip = (body: Any, params: Tree.Tree, state: Tree.Tree, x: Tensor, c: Tensor): Verdict => {
  const inner = both(body, params, state, x, c)
  if (!T.sameShape(inner.y.shape, x.shape))
    return fails(`the body changes the shape ${T.showShape(x.shape)} -> ${T.showShape(inner.y.shape)}`)
  const res = both(L.residual(body), params, state, x, c)
  return all(
    () => tensorsIdentical('residual y vs x + body(x)', res.y, T.add(x, inner.y)),
    () => tensorsIdentical('residual dx vs dy + body dx', res.dx, T.add(c, inner.dx)),
    () => treesIdentical('residual dp vs body dp', res.dp, inner.dp),
  )
}

/** What checkCombinators needs: three layers that chain from inShape. */
export interface CheckCombinatorsOptions extends RunOptions {
  readonly f: Any
  readonly g: Any
  readonly h: Any
  readonly inShape: Shape
  readonly batch?: { readonly min: number; readonly max: number }
}

const CHECK_COMBINATORS_OPTIONS = ['f', 'g', 'h', 'inShape', 'batch', 'numRuns', 'seed', 'path'] as const

/**
 * Checks checkCombinators' options before any law runs, as checkLayer does its own: the names, the values, that f, g
 * and h are layers, and that they chain from inShape (each init takes the shape the one before declares).
 */
const checkCombinatorsOptions = (options: CheckCombinatorsOptions): void => {
  const where = 'checkCombinators'
  if (typeof options === 'object' && options !== null && 'forward' in options && 'vjp' in options)
    throw new TypeError(`${where}: takes one options object, checkCombinators({ f, g, h, inShape }), got a layer`)
  checkOptions(where, options, [...CHECK_COMBINATORS_OPTIONS])
  for (const k of ['f', 'g', 'h'] as const) checkIsLayer(`${where}: ${k}`, options[k])
  const inShape = checkInShape(where, options.inShape)
  checkBatch(where, options.batch)
  checkRunOptions(where, options)
  let shape = inShape
  for (const k of ['f', 'g', 'h'] as const) {
    try {
      shape = options[k].init(Key.fromSeed(0), shape).outShape
    } catch (e) {
      throw new Error(
        `${where}: f, g and h must chain from inShape ${T.showShape(inShape)} (f then g then h), but ${k}'s init ` +
          `(${options[k].name}) rejected input shape ${T.showShape(shape)}: ${e instanceof Error ? e.message : String(e)}`,
        { cause: e },
      )
    }
  }
}

/** Runs laws 8 and 9 on f, g, h (they must chain: f then g then h). Throws on the first failing law. */
export const checkCombinators = (options: CheckCombinatorsOptions): void => {
  checkCombinatorsOptions(options)
  const { f, g, h, inShape } = options
  const batch = options.batch ?? { min: 1, max: 3 }
  const sample = fc
    .integer({ min: batch.min, max: batch.max })
    .chain((n) => fc.tuple(A.tensor([n, ...inShape]), fc.integer()))
    .map(([x, seed]): ChainSample => {
      const [kf, kg, kh, kc1, kc2, kf2] = Key.split(Key.fromSeed(seed), 6) as [Key.Key, Key.Key, Key.Key, Key.Key, Key.Key, Key.Key]
      const fi = L.initialize(f, kf, inShape)
      const fi2 = L.initialize(f, kf2, inShape)
      const gi = L.initialize(g, kg, fi.outShape)
      const hi = L.initialize(h, kh, gi.outShape)
      const n = x.shape[0]!
      return {
        f: { layer: f, params: fi.params, state: fi.state },
        f2: { params: fi2.params, state: fi2.state },
        g: { layer: g, params: gi.params, state: gi.state },
        h: { layer: h, params: hi.params, state: hi.state },
        x,
        cf: Key.normal(kc1, [n, ...fi.outShape]),
        chgf: Key.normal(kc2, [n, ...hi.outShape]),
      }
    })
  const subject = `f = ${f.name}, g = ${g.name}, h = ${h.name}`
  runProperty('8. pipe(identity, f) = f = pipe(f, identity)', subject, [sample], pipeIdentity, options)
  runProperty('8. pipe is associative; compose is pipe reversed', subject, [sample], pipeAssociative, options)
  runProperty('9. fan-out by sum adds the cotangents', subject, [sample], fanOutSumsCotangents, options)
  runProperty('9. fan-out by concat splits the cotangent', subject, [sample], fanOutConcatSplits, options)
  // The residual body is pipe(f, g, h) followed by a projection back to the input's shape, so the
  // law applies whatever shapes f, g and h produce.
  const width = T.sizeOf(inShape)
  const body = L.pipe(f, g, h, L.flatten, L.dense(width), L.reshape(inShape))
  const residualSample = sample.map((s) => {
    const init = L.initialize(body, Key.fromSeed(s.x.data.length + 17), inShape)
    return { s, params: init.params, state: init.state }
  })
  runProperty(
    "9. residual's dx = dy + body's dx",
    subject,
    [residualSample],
    ({ s, params, state }) => residualAddsSkip(body, params, state, s.x, Key.normal(Key.fromSeed(1), s.x.shape)),
    options,
  )
}
