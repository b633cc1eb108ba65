/**
 * vjp's `{ dx: false }`: the caller discards dx (a training step, for the model's first layer),
 * so dense and conv2d skip computing it and return `noDx`; a pipe passes the option to its first
 * layer only; dp is bit-identical either way (law 6 checks that for every layer the laws see).
 */
import { describe, expect, test } from 'vitest'
import { Key, L, Loss, Optim, T, Train, Tree, type Tensor } from '../../src/index.ts'

const sample = <P extends Tree.Tree, S extends Tree.Tree, Tape>(
  layer: L.Layer<P, S, Tape>,
  inShape: number[],
  batch: number,
  seed: number,
) => {
  const init = layer.init(Key.fromSeed(seed), inShape)
  const x = Key.normal(Key.fromSeed(seed + 1), [batch, ...inShape])
  const f = layer.forward(init.params, init.state, x, { mode: 'train', key: Key.fromSeed(seed + 2) })
  const dy = Key.normal(Key.fromSeed(seed + 3), f.y.shape)
  return { params: init.params, tape: f.tape, dy, x }
}

const identical = (a: Tree.Tree, b: Tree.Tree): boolean => {
  const la = Tree.leaves(a)
  const lb = Tree.leaves(b)
  return la.length === lb.length && la.every((t, i) => t.data.every((v, j) => Object.is(v, lb[i]!.data[j])))
}

describe('vjp with { dx: false }', () => {
  test.each<[string, L.AnyLayer, number[]]>([
    ['dense', L.dense(5), [7]],
    ['dense without bias', L.dense(4, { bias: false }), [3]],
    ['conv2d', L.conv2d(4, 3, { padding: 1 }), [2, 6, 6]],
    ['conv2d, strided, no bias', L.conv2d(3, 3, { stride: 2, bias: false }), [1, 7, 7]],
  ])('%s skips dx (returns noDx) and gives the same dp, bit for bit', (_name, layer, inShape) => {
    const s = sample(layer, inShape, 3, 5)
    const full = layer.vjp(s.params, s.tape, s.dy)
    const skipped = layer.vjp(s.params, s.tape, s.dy, { dx: false })
    expect(full.dx.shape).toEqual(s.x.shape)
    expect(skipped.dx).toBe(L.noDx)
    expect(skipped.dx.shape).toEqual([0])
    expect(identical(skipped.dp, full.dp)).toBe(true)
    expect(layer.vjp(s.params, s.tape, s.dy, { dx: true }).dx.shape).toEqual(s.x.shape) // asking for dx still gives it
  })

  test('a pipe passes the option to its first layer only: later layers still hand their dx back', () => {
    const net = L.pipe(L.dense(6), L.relu, L.dense(4), L.relu, L.dense(2))
    const s = sample(net, [5], 4, 9)
    const full = net.vjp(s.params, s.tape, s.dy)
    const skipped = net.vjp(s.params, s.tape, s.dy, { dx: false })
    expect(skipped.dx).toBe(L.noDx)
    expect(identical(skipped.dp, full.dp)).toBe(true)
    const dW0 = Tree.leaves(skipped.dp)[0]!
    expect(dW0.data.some((v) => v !== 0)).toBe(true) // the first layer's gradient needed the later layers' dx
  })

  test('a pipe skips its leading layers without params when no dx is wanted, and asks the first with params for none', () => {
    const spy = (layer: L.AnyLayer, seen: (L.VjpOptions | undefined)[]): L.AnyLayer => ({
      ...layer,
      vjp: (p, tape, dy, options) => (seen.push(options), layer.vjp(p, tape, dy, options)),
    })
    const flattenSeen: (L.VjpOptions | undefined)[] = []
    const denseSeen: (L.VjpOptions | undefined)[] = []
    const net = L.pipe(spy(L.flatten, flattenSeen), spy(L.dense(5), denseSeen), L.tanh, L.dense(3)) // tanh: no fusion hides the spy
    const s = sample(net, [2, 3, 3], 4, 11)
    const full = net.vjp(s.params, s.tape, s.dy)
    expect(full.dx.shape).toEqual([4, 2, 3, 3])
    expect([flattenSeen, denseSeen]).toEqual([[undefined], [undefined]])
    const skipped = net.vjp(s.params, s.tape, s.dy, { dx: false })
    expect(skipped.dx).toBe(L.noDx)
    expect(identical(skipped.dp, full.dp)).toBe(true)
    expect(Tree.structureDiff(skipped.dp, full.dp)).toBeUndefined()
    expect(flattenSeen).toHaveLength(1) // flatten's vjp was not called again
    expect(denseSeen[1]).toEqual({ dx: false }) // the first layer with params computed no dx
  })

  test('a pipe of layers without params asked for no dx runs none of their vjps', () => {
    const seen: unknown[] = []
    const relu: L.AnyLayer = L.relu
    const counted: L.AnyLayer = { ...relu, vjp: (p, tape, dy, options) => (seen.push(options), relu.vjp(p, tape, dy, options)) }
    const net = L.pipe(L.flatten, counted)
    const s = sample(net, [2, 2], 3, 4)
    const r = net.vjp(s.params, s.tape, s.dy, { dx: false })
    expect(r.dx).toBe(L.noDx)
    expect(seen).toEqual([])
    expect(Tree.structureDiff(r.dp, net.vjp(s.params, s.tape, s.dy).dp)).toBeUndefined()
  })

  test('layers that ignore the option still return their dx (correct, only not faster)', () => {
    const s = sample(L.relu, [4], 2, 1)
    expect(L.relu.vjp(s.params, s.tape, s.dy, { dx: false }).dx.shape).toEqual([2, 4])
  })

  test('a training step asks its model for no dx, and its update equals one computed from the full vjp', () => {
    const inner: L.AnyLayer = L.pipe(L.conv2d(3, 3, { padding: 1 }), L.relu, L.flatten, L.dense(4))
    const seen: (L.VjpOptions | undefined)[] = []
    const model: L.AnyLayer = { ...inner, vjp: (p, tape, dy, options) => (seen.push(options), inner.vjp(p, tape, dy, options)) }
    const optimizer = Optim.sgd({ lr: 0.1 })
    const ts = Train.initState(model, optimizer, Key.fromSeed(2), [1, 5, 5])
    const x = Key.normal(Key.fromSeed(3), [6, 1, 5, 5])
    const y = T.fromArray([6], [0, 1, 2, 3, 0, 1])
    const [next] = Train.trainStep(model, Loss.softmaxCrossEntropy, optimizer)(ts, { x, y })
    // The same step by hand, with the full vjp: p − 0.1·dp.
    const f = model.forward(ts.params, ts.state, x, { mode: 'train', key: ts.key })
    const { grad } = Loss.softmaxCrossEntropy(f.y, y)
    const { dp } = model.vjp(ts.params, f.tape, grad)
    const byHand = Tree.map2(ts.params, dp, (p, g) => T.sub(p, T.scale(0.1, g)))
    expect(identical(next.params, byHand)).toBe(true)
    expect(seen[0]).toEqual({ dx: false }) // the step's own call
    expect(seen[1]).toBeUndefined() //         the full vjp above
  })
})
