/**
 * A layer written as a user would, outside chainrule, with nothing but its exports (the example
 * of docs/adding-a-layer.md): spec codec, options check, kind, a registry that knows it, and the
 * layer laws with the spec round trip through that registry.
 */
import * as E from 'fp-ts/Either'
import { describe, expect, test } from 'vitest'
import { IO, Key, L, T } from '../../src/index.ts'
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
      dx: T.generate(x.shape, (i) => dy.data[i]! * (s.data[i]! + beta * x.data[i]! * s.data[i]! * (1 - s.data[i]!))),
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
  const handBuilt = { ...IO.builtins, swish: swishKind } as unknown as IO.Registry // a plain-JS caller's registry: the kind put there as it is

  test('fromSpec (and parseCheckpoint) name the entry that is a kind, not a builder, where they said the kind was unknown', () => {
    expect(() => IO.fromSpec(swish(1).spec, handBuilt)).toThrow(
      new TypeError(
        "the registry (fromSpec's second argument; parseCheckpoint's and loadCheckpoint's option) must be a registry of layer kinds, " +
          'IO.builtins or IO.extend(IO.builtins, IO.registryOf(myKind)), got a registry whose entry for "swish" is not a builder but ' +
          'the layer kind itself: make the registry with IO.registryOf(swishKind), e.g. IO.extend(IO.builtins, IO.registryOf(swishKind)), ' +
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
      /^checkLayer: registry must be a registry of layer kinds, .*, got a registry whose entry for "swish" is not a builder but the layer kind itself/,
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
    expect(() => untyped(swish)).toThrow(/^registryOf: argument 1 must be a layer kind .*, got a function \(swish\): a builder belongs in an object/)
  })

  test('extend checks its base as well as the entries it adds', () => {
    expect(() => IO.extend(handBuilt, {})).toThrow(/^extend: its first argument must be a registry .*entry for "swish" is not a builder/)
    expect(() => IO.extend(IO.builtins, { swish: swishKind } as unknown as IO.Registry)).toThrow(
      /^extend: the entry for "swish" must be a builder, .*got a layer kind: give IO.registryOf\(swishKind\)/,
    )
  })
})
