/**
 * A layer written as a user would, outside chainrule, with nothing but its exports (the example
 * of docs/adding-a-layer.md): spec codec, options check, kind, a registry that knows it, and the
 * layer laws with the spec round trip through that registry.
 */
import * as E from 'fp-ts/Either'
import { describe, expect, test } from 'vitest'
import { IO, Key, L, T, type Tensor, type Tree } from '../../src/index.ts'
import { checkLayer } from '../../laws/index.ts'

/** swish with a slope: y = x·σ(βx); dx = dy·(s + βx·s(1 − s)) with s = σ(βx). */
const SwishSpec = IO.specOf('swish', { beta: IO.FiniteNumber })

const swish = (beta = 1) => {
  const spec = IO.checkSpec(SwishSpec, { kind: 'swish', beta })
  return L.define({
    name: 'swish',
    spec,
    forward: (_p, x) => {
      const s = T.map((v) => L.logistic(beta * v))(x)
      return { y: T.mul(x, s), tape: { x, s } }
    },
    vjp: (_p, { x, s }, dy) => ({
      dx: T.mul(
        dy,
        T.zipWith((xi, si) => si + beta * xi * si * (1 - si), x, s),
      ),
      dp: L.none,
    }),
  })
}

const swishKind = IO.layerKind(SwishSpec, (s) => swish(s.beta))
const registry = IO.extend(IO.builtins, IO.registryOf(swishKind))

describe('a layer of your own, declared as the built-ins are', () => {
  test('swish obeys the layer laws, law 12 through the registry that knows it', () => checkLayer(swish(1.5), { inShape: [4], registry }))

  test('its options are checked by its spec codec, in the constructor and in the decoder', () => {
    expect(() => swish(NaN)).toThrow(new RangeError('swish: beta must be a finite number, got NaN'))
    const r = IO.fromSpec({ kind: 'pipe', children: [{ kind: 'swish', beta: 'two' }] }, registry)
    expect(E.isLeft(r) && r.left.message).toBe('spec.children[0].beta: expected a finite number, got "two"')
  })

  test('a network holding it round-trips through a checkpoint with the registry, and is an unknown kind without it', () => {
    const net = L.pipe(L.dense(3), swish(0.5), L.dense(2))
    const { params, state } = L.initialize(net, Key.fromSeed(1), [2])
    const text = IO.encodeCheckpoint(IO.modelCheckpoint(net, [2], params, state))
    const loaded = IO.parseCheckpoint(text, { registry })
    expect(E.isRight(loaded) && loaded.right.model.spec).toEqual(net.spec)
    const without = IO.parseCheckpoint(text)
    expect(E.isLeft(without) && without.left.kind).toBe('unknown-kind')
  })

  test('registryOf refuses a kind given twice', () => {
    expect(() => IO.registryOf(swishKind, swishKind)).toThrow('registryOf: the kind "swish" is given twice')
  })
})

describe("a registry's entries are checked where it is used, each wrong one named with its fix", () => {
  // a plain-JS caller's registry: the kind put there as it is
  const handBuilt = { ...IO.builtins, swish: swishKind } as unknown as IO.Registry

  test('fromSpec (and parseCheckpoint) name the entry that is a kind, not a builder, where they said the kind was unknown', () => {
    expect(() => IO.fromSpec(swish(1).spec, handBuilt)).toThrow(
      new TypeError(
        "the registry (fromSpec's second argument; parseCheckpoint's and loadCheckpoint's option) must be a registry, " +
          'IO.builtins or IO.extend(IO.builtins, IO.registryOf(kind)), got a registry whose entry for "swish" is not a builder but ' +
          'the layer kind itself: make the registry with IO.registryOf(swishKind), ' +
          'e.g. IO.extend(IO.builtins, IO.registryOf(swishKind)), ' +
          'or put its builder there (swishKind.builder)',
      ),
    )
    const net = L.pipe(L.dense(3), swish(0.5))
    const { params, state } = L.initialize(net, Key.fromSeed(1), [2])
    const text = IO.encodeCheckpoint(IO.modelCheckpoint(net, [2], params, state))
    const r = IO.parseCheckpoint(text, { registry: handBuilt }) // never throws: the same words, as a Left
    expect(E.isLeft(r) && r.left.message).toMatch(/got a registry whose entry for "swish" is not a builder but the layer kind itself/)
  })

  test('checkLayer names it too, before any law runs', () => {
    expect(() => checkLayer(swish(1), { inShape: [3], registry: handBuilt })).toThrow(
      /^checkLayer: registry must be a registry, .*, got a registry whose entry for "swish" is not a builder but the layer kind/,
    )
  })

  test('registryOf takes kinds only: a layer or a factory given to it is named by position', () => {
    const untyped = IO.registryOf as (...kinds: readonly unknown[]) => IO.Registry
    expect(() => untyped(swishKind, swish(1))).toThrow(
      new TypeError(
        'registryOf: argument 2 must be a layer kind (IO.layerKind(codec, build)), got a layer ("swish"): a registry rebuilds layers ' +
          "from specs, so give it the layer's kind (IO.layerKind) or a builder, () => layer",
      ),
    )
    expect(() => untyped(swish)).toThrow(/^registryOf: argument 1 must be a layer kind .*, got a function \(swish\): a builder belongs/)
  })

  test('extend checks its base as well as the entries it adds', () => {
    expect(() => IO.extend(handBuilt, {})).toThrow(/^extend: its first argument must be a registry, .*entry for "swish" is not a builder/)
    expect(() => IO.extend(IO.builtins, { swish: swishKind } as unknown as IO.Registry)).toThrow(
      /^extend: the entry for "swish" must be a builder, .*got a layer kind: give IO.registryOf\(swishKind\)/,
    )
  })
})

// The combinator of docs/adding-a-layer.md, as it is there.

type Gate = { readonly g: Tensor }
type GatedTape = { readonly s: number; readonly yf: Tensor; readonly yh: Tensor; readonly tf: unknown; readonly th: unknown }
type GatedLayer = L.Layer<readonly [Gate, Tree.Tree, Tree.Tree], readonly [Tree.Tree, Tree.Tree], GatedTape>

/**
 * gated(f, h): y = s·f(x) + (1 − s)·h(x), s = σ(g). f gets s·dy, h gets (1 − s)·dy, dx is the sum of their dx,
 * and dg = s(1 − s)·⟨dy, f(x) − h(x)⟩.
 */
const gated = (f: L.AnyLayer, h: L.AnyLayer): GatedLayer => {
  L.checkChild('gated: its first branch', f)
  L.checkChild('gated: its second branch', h)
  const labels = ['gated[0]', 'gated[1]'] as const
  const [rf, rh] = [L.keepingDType(f), L.keepingDType(h)]
  return {
    name: 'gated',
    spec: { kind: 'gated', children: [f.spec, h.spec] },
    structure: {
      children: [
        { label: labels[0], layer: f },
        { label: labels[1], layer: h },
      ],
      rebuild: ([f2, h2]) => gated(f2!, h2!),
    },
    stateProblem: (s) => L.childStateProblem([f, h], (i) => labels[i === 0 ? 0 : 1], s),
    init: (key, inShape) => {
      const [kf, kh] = Key.split(key)
      const a = L.within(labels[0], () => f.init(kf, inShape))
      const b = L.within(labels[1], () => h.init(kh, inShape))
      if (!T.sameShape(a.outShape, b.outShape))
        throw new L.ShapeError(['gated'], `the branches give ${T.showShape(a.outShape)} and ${T.showShape(b.outShape)}: they must agree`)
      return { outShape: a.outShape, params: [{ g: T.scalar(0) }, a.params, b.params], state: [a.state, b.state] }
    },
    forward: ([{ g }, pf, ph], [sf, sh], x, ctx) => {
      const [kf, kh] = Key.split(Key.ctxKey(ctx, 'gated'))
      const a = L.within(labels[0], () => rf.forward(pf, sf, x, { mode: ctx.mode, key: kf }))
      const b = L.within(labels[1], () => rh.forward(ph, sh, x, { mode: ctx.mode, key: kh }))
      const s = L.logistic(g.data[0]!)
      const y = T.add(T.scale(s, a.y), T.scale(1 - s, b.y))
      return { y, state: [a.state, b.state], tape: { s, yf: a.y, yh: b.y, tf: a.tape, th: b.tape } }
    },
    vjp: ([{ g }, pf, ph], { s, yf, yh, tf, th }, dy) => {
      const a = L.within(labels[0], () => rf.vjp(pf, tf, T.scale(s, dy)))
      const b = L.within(labels[1], () => rh.vjp(ph, th, T.scale(1 - s, dy)))
      const dg = s * (1 - s) * (T.dot(dy, yf) - T.dot(dy, yh))
      return { dx: T.add(a.dx, b.dx), dp: [{ g: T.fullLike(g, dg) }, a.dp, b.dp] }
    },
  }
}

const GatedSpec = IO.specOf(
  'gated',
  { children: IO.Children },
  { check: (s) => (s.children.length === 2 ? undefined : { field: 'children', detail: `expected two specs, got ${s.children.length}` }) },
)
/** gated as data: `{ kind: 'gated', children: [f, h] }`; `build(childSpec, ...keys)` builds a child, keys saying where it sits. */
const gatedKind = IO.layerKind(GatedSpec, (s, build) => gated(build(s.children[0], 'children', 0), build(s.children[1], 'children', 1)))

describe('a combinator of your own (docs/adding-a-layer.md)', () => {
  const withGated = IO.extend(IO.builtins, IO.registryOf(gatedKind))

  test('gated obeys the layer laws, its children inside, law 12 through the registry', () =>
    checkLayer(gated(L.dense(3), L.pipe(L.dense(3), L.tanh)), { inShape: [4], registry: withGated }))

  test('in float32 too', () => checkLayer(gated(L.dense(3), L.tanh), { inShape: [3], float32: true }))

  test('an error inside a branch names the whole path; the summary walks into it', () => {
    const net = L.pipe(L.dense(4), gated(L.dense(3), L.pipe(L.dense(3), L.tanh)))
    const { params, state } = L.initialize(net, Key.fromSeed(0), [2])
    const bad = [params[0], [params[1][0], { ...params[1][1], W: T.zeros([5, 3]) }, params[1][2]]] as const
    const run = () => net.forward(bad, state, T.zeros([1, 2]), { mode: 'eval', key: Key.fromSeed(0) })
    expect(run).toThrow(/^pipe\[1\]\.gated\[0\]\.dense: /)
    expect(IO.summary(net, [2])).toContain('pipe[1].gated[1].pipe[0].dense')
  })

  test('a network holding it round-trips through a checkpoint, bit for bit; a spec with three children is refused at its field', () => {
    const net = L.pipe(L.dense(4), gated(L.dense(3), L.pipe(L.dense(3), L.tanh)))
    const { params, state } = L.initialize(net, Key.fromSeed(2), [2])
    const text = IO.encodeCheckpoint(IO.modelCheckpoint(net, [2], params, state))
    const ck = IO.parseCheckpoint(text, { registry: withGated })
    if (E.isLeft(ck)) throw ck.left
    const x = T.tensor([
      [1, -2],
      [0.5, 3],
    ])
    const ctx = { mode: 'eval', key: Key.fromSeed(0) } as const
    expect(ck.right.model.forward(ck.right.params, ck.right.state, x, ctx).y).toEqual(net.forward(params, state, x, ctx).y)
    const three = IO.fromSpec({ kind: 'gated', children: [{ kind: 'tanh' }, { kind: 'tanh' }, { kind: 'relu' }] }, withGated)
    expect(E.isLeft(three) && three.left.message).toBe('spec.children: expected two specs, got 3')
  })
})

describe('a layer whose constructor forgets to give define its spec', () => {
  const ScaleBySpec = IO.specOf('scaleBy', { c: IO.FiniteNumber })
  // checks its option but does not pass the spec to define: its spec is { kind: 'scaleBy' }, without c
  const scaleBy = (c: number) => {
    IO.checkSpec(ScaleBySpec, { kind: 'scaleBy', c })
    return L.define({
      name: 'scaleBy',
      forward: (_p, x) => ({ y: T.scale(c, x), tape: null }),
      vjp: (_p, _t, dy) => ({ dx: T.scale(c, dy), dp: L.none }),
    })
  }
  const withScaleBy = IO.extend(IO.builtins, IO.registryOf(IO.layerKind(ScaleBySpec, (s) => scaleBy(s.c))))

  test('law 12 says its spec lacks the field, and how to give define the spec', () => {
    expect(() => checkLayer(scaleBy(2), { inShape: [3], registry: withScaleBy, numRuns: 5 })).toThrow(
      'Why: fromSpec cannot rebuild the layer from its own spec: spec.c: expected a finite number, got nothing; ' +
        'the layer\'s spec is {"kind":"scaleBy"}, which lacks it: a layer made with L.define has the spec { kind: name } unless given one',
    )
  })
})
