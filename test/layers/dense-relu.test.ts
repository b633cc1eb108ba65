/**
 * dense followed by relu runs as one layer in a pipe (dense's fuseNext): the bias and relu in one
 * pass over the fresh product, and the vjp masked by y > 0. Law 13: the same numbers as the two
 * layers one after the other, bit for bit, in float64 and float32, under every kernel family, with
 * NaN, ±∞ and −0 among the inputs, with and without a bias; and no input is written.
 */
import { describe, expect, test } from 'vitest'
import { Kernels, Key, L, T, Tree } from '../../src/index.ts'

const same = (a: ArrayLike<number>, b: ArrayLike<number>): boolean =>
  a.length === b.length && Array.from(a).every((v, i) => Object.is(v, b[i]))
const sameTree = (a: Tree.Tree, b: Tree.Tree): boolean => {
  const [la, lb] = [Tree.leaves(a), Tree.leaves(b)]
  return la.length === lb.length && la.every((t, i) => same(t.data, lb[i]!.data))
}

const ctx = { mode: 'train' as const, key: Key.fromSeed(0) }
const specials = [NaN, Infinity, -Infinity, -0, 0, 1e-30, -1e-30]

describe('dense then relu, fused (law 13)', () => {
  for (const dtype of ['float64', 'float32'] as const)
    for (const family of ['reference', 'js', 'wasm'] as const)
      for (const bias of [true, false])
        test(`${dtype}, '${family}' kernels, ${bias ? 'with' : 'without'} a bias: y, dx, dp and dp without dx are the two layers'`, () => {
          Kernels.using(family, () => {
            const layer = L.dense(70, { bias })
            const init = L.initialize(layer, Key.fromSeed(1), [9], { dtype })
            // a bias that makes some outputs exactly 0 or −0 where x is 0
            const b = T.asTensor(
              T.cast(
                T.generate([70], (i) => (i % 3 === 0 ? -0 : (i % 5) - 2)),
                dtype,
              ),
            )
            const params = bias ? Tree.map(init.params, (t) => (t.shape.length === 1 ? b : t)) : init.params
            const x64 = T.generate([67, 9], (i) => (i < 63 && i % 9 === 4 ? specials[(i / 9) | 0]! : i % 11 === 0 ? 0 : Math.sin(i) * 3))
            const x = T.asTensor(T.cast(x64, dtype))
            const fused = L.asDType(layer.fuseNext!(L.relu)!, dtype)
            expect(fused).toBeDefined()
            const before = { x: Array.from(x.data), p: Tree.leaves(params).map((l) => Array.from(l.data)) }
            const f = fused.forward(params, L.none, x, ctx)
            const a = L.asDType(layer, dtype).forward(params, L.none, x, ctx)
            const r = L.relu.forward(L.none, L.none, a.y, ctx)
            expect(T.dtypeOf(f.y)).toBe(dtype)
            expect(same(f.y.data, r.y.data)).toBe(true)
            const c = T.asTensor(
              T.cast(
                T.generate(f.y.shape, (i) => (i % 13 === 0 ? -0 : Math.cos(i))),
                dtype,
              ),
            )
            const fb = fused.vjp(params, f.tape, c)
            const rb = L.relu.vjp(L.none, r.tape, c)
            const ab = L.asDType(layer, dtype).vjp(params, a.tape, rb.dx)
            expect(same(fb.dx.data, ab.dx.data)).toBe(true)
            expect(sameTree(fb.dp, ab.dp)).toBe(true)
            const noDx = fused.vjp(params, f.tape, c, { dx: false })
            expect(noDx.dx).toBe(L.noDx)
            expect(sameTree(noDx.dp, ab.dp)).toBe(true)
            expect(Array.from(x.data)).toEqual(before.x) // nothing written into the inputs
            expect(Tree.leaves(params).map((l) => Array.from(l.data))).toEqual(before.p)
          })
        })

  for (const dtype of ['float64', 'float32'] as const)
    test(`${dtype}: sums x·W + b that overflow, cancel to ±0 or stay at the smallest subnormal give the two layers' y`, () => {
      const big = dtype === 'float32' ? 3e38 : 1.7e308
      const tiny = dtype === 'float32' ? 2 ** -149 : 2 ** -1074
      const W = [big, -big, 2 * tiny, tiny, -tiny, big, -0, 0, Infinity, -Infinity]
      const b = [big, -big, -tiny, -tiny, tiny, -big, -0, -0, -Infinity, 1]
      const layer = L.dense(W.length)
      const params = { W: T.asTensor(T.cast(T.tensor([W]), dtype)), b: T.asTensor(T.cast(T.tensor(b), dtype)) }
      const x = T.asTensor(T.cast(T.tensor([[1], [-1], [0.5], [NaN], [-0]]), dtype))
      for (const family of ['js', 'wasm'] as const)
        Kernels.using(family, () => {
          const f = layer.fuseNext!(L.relu)!.forward(params, L.none, x, ctx)
          const r = L.relu.forward(L.none, L.none, layer.forward(params, L.none, x, ctx).y, ctx)
          expect(same(f.y.data, r.y.data)).toBe(true)
        })
    })

  test('a pipe runs dense then relu fused and gives the numbers of the layers one after the other', () => {
    const net = L.pipe(L.dense(6), L.relu, L.dense(4), L.relu, L.dense(3))
    const { params } = L.initialize(net, Key.fromSeed(4), [5], { dtype: 'float32' })
    const x = T.cast(Key.normal(Key.fromSeed(5), [8, 5]), 'float32')
    const y = L.asDType(net, 'float32').forward(params, [L.none, L.none, L.none, L.none, L.none], x, ctx).y
    let h = x
    const layers: L.AnyLayer[] = [L.dense(6), L.relu, L.dense(4), L.relu, L.dense(3)]
    layers.forEach((layer, i) => (h = L.asDType(layer, 'float32').forward(params[i]!, L.none, h, ctx).y))
    expect(same(y.data, h.data)).toBe(true)
  })

  test('dense offers a fused layer for relu only', () => {
    expect(L.dense(3).fuseNext?.(L.relu)).toBeDefined()
    expect(L.dense(3).fuseNext?.(L.tanh)).toBeUndefined()
    expect(L.dense(3).fuseNext?.(L.dense(3))).toBeUndefined()
  })
})
