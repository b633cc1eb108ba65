import { describe, expect, test } from 'vitest'
import { checkLayer, Compare } from '../laws/index.ts'
import { compareTrees, nonFiniteError } from '../src/io/tree.ts'
import { Gradcheck, Key, L, Loss, Optim, T, Train, Tree, type Tensor } from '../src/index.ts'

const p = {
  dense: {
    W: T.tensor([
      [1, 2],
      [3, 4],
    ]),
    b: T.tensor([5, 6]),
  },
  extra: [T.scalar(7)],
}

describe('parameter trees', () => {
  test('map keeps the structure and gives each leaf its path', () => {
    const paths: string[] = []
    const doubled = Tree.map(p, (t, path) => {
      paths.push(path)
      return T.scale(2, t)
    })
    expect(paths).toEqual(['dense.W', 'dense.b', 'extra[0]'])
    expect(Array.from(doubled.dense.W.data)).toEqual([2, 4, 6, 8])
    expect(Array.from(p.dense.W.data)).toEqual([1, 2, 3, 4])
  })
  test('firstNonFinite: the first NaN or ±Infinity in leaf order, its path (under a root), flat index and value', () => {
    expect(Tree.firstNonFinite(p)).toBeUndefined()
    const bad = {
      dense: {
        W: T.tensor([
          [1, 2],
          [Infinity, NaN],
        ]),
        b: T.tensor([NaN, 6]),
      },
      extra: [T.scalar(-Infinity)],
    }
    expect(Tree.firstNonFinite(bad)).toMatchObject({ path: 'dense.W', index: 2, value: Infinity })
    expect(Tree.firstNonFinite(bad.extra, 'params.extra')).toMatchObject({ path: 'params.extra[0]', index: 0, value: -Infinity })
    expect(Tree.firstNonFinite(T.tensor([0, NaN]), 'x')).toMatchObject({ path: 'x', index: 1 })
    expect(Tree.firstNonFinite(T.tensor([0, NaN]))?.path).toBe('')
    expect(nonFiniteError({ W: T.tensor([1, NaN]) }, 'params')?.message).toBe(
      'params.W: value 1 (flat index) is NaN; a checkpoint holds only finite numbers',
    )
  })
  test('map2 combines leaf by leaf (one gradient step)', () => {
    const g = Tree.map(p, (t) => T.ones(t.shape))
    const stepped = Tree.map2(p, g, (w, d) => T.addScaled(w, -0.5, d))
    expect(Array.from(stepped.dense.b.data)).toEqual([4.5, 5.5])
  })
  test('leaves, size, reduce, zerosLike, dot', () => {
    expect(Tree.leaves(p)).toHaveLength(3)
    expect(Tree.size(p)).toBe(7)
    expect(Tree.reduce(p, 0, (s, t) => s + T.sum(t))).toBe(28)
    expect(Tree.size(Tree.zerosLike(p))).toBe(7)
    expect(Tree.reduce(Tree.zerosLike(p), 0, (s, t) => s + T.sum(t))).toBe(0)
    expect(Tree.dot(p, p)).toBe(1 + 4 + 9 + 16 + 25 + 36 + 49)
  })
  test('a structure mismatch names the first path where the trees differ', () => {
    const wrongShape = { dense: { W: T.zeros([2, 3]), b: T.zeros([2]) }, extra: [T.scalar(0)] }
    expect(() => Tree.map2(p, wrongShape, (a) => a)).toThrow('Tree.map2: trees differ at dense.W: shape [2, 2] vs [2, 3]')
    const missingKey = { dense: { W: T.zeros([2, 2]) }, extra: [T.scalar(0)] }
    expect(() => Tree.assertSameStructure(p, missingKey, 'update')).toThrow(
      'update: trees differ at dense: a record {W, b} vs a record {W}',
    )
    expect(Tree.structureDiff(p, { ...p, extra: [] })).toBe('at extra: an array of 1 vs an array of 0')
    expect(Tree.structureDiff(p, p)).toBeUndefined()
  })
  test('records match by key, in any key order: { W, b } pairs with { b, W } field by field', () => {
    const swapped = {
      extra: [T.scalar(1)],
      dense: {
        b: T.tensor([10, 20]),
        W: T.tensor([
          [1, 1],
          [1, 1],
        ]),
      },
    }
    expect(Tree.structureDiff(p, swapped)).toBeUndefined()
    const sum = Tree.map2(p, swapped, T.add)
    expect(Object.keys(sum)).toEqual(['dense', 'extra']) // the first tree's order
    expect(Object.keys(sum.dense)).toEqual(['W', 'b'])
    expect(Array.from(sum.dense.W.data)).toEqual([2, 3, 4, 5])
    expect(Array.from(sum.dense.b.data)).toEqual([15, 26])
    expect(Array.from(sum.extra[0]!.data)).toEqual([8])
    expect(Tree.dot(p, swapped)).toBe(1 + 2 + 3 + 4 + 50 + 120 + 7)
    expect(Tree.leavesLike(p, swapped).map((t) => t.shape)).toEqual([[2, 2], [2], []])
    expect(() => Tree.leavesLike(p, { dense: { b: T.zeros([2]) }, extra: [T.scalar(0)] })).toThrow(
      'Tree.leavesLike: trees differ at dense: a record {W, b} vs a record {b}',
    )
  })
  test('the law comparisons and checkpoint checks pair records by key too', () => {
    const X = T.tensor([1, 2])
    const Y = T.tensor([3, 4])
    expect(Compare.treesIdentical('t', { a: X, b: Y }, { b: Y, a: X }).holds).toBe(true)
    expect(Compare.treesIdentical('t', { a: X, b: Y }, { b: X, a: Y }).holds).toBe(false)
    expect(Compare.treesClose('t', { a: X, b: Y }, { b: Y, a: X }, 1e-12).holds).toBe(true)
    expect(compareTrees({ W: X, b: Y }, { b: Y, W: X }, 'optState', 'the optimizer')).toBeUndefined()
    expect(compareTrees({ W: X, b: Y }, { b: Y, V: X }, 'optState', 'the optimizer')?.message).toContain(
      'a record {b, V} in the checkpoint, but the optimizer makes a record {W, b}',
    )
  })
  test('a non-tree value is reported with its path', () => {
    expect(() => Tree.map({ a: [1] } as unknown as Tree.Tree, (t) => t)).toThrow('Tree.map: number 1 at a[0] is not a tree')
  })
})

describe('a layer whose gradients list their fields in another order than its params', () => {
  // params { W, b }, but the vjp writes dp as { b, W }: the same record, so nothing may care
  const affine = L.define({
    name: 'affineBW',
    init: (key: Key.Key, inShape: readonly number[]) => ({
      outShape: [2],
      params: { W: Key.normal(key, [inShape[0]!, 2]), b: T.zeros([2]) },
    }),
    forward: (p: { W: Tensor; b: Tensor }, x: Tensor) => {
      const xw = T.matmul(x, p.W)
      return { y: T.generate(xw.shape, (i) => xw.data[i]! + p.b.data[i % 2]!), tape: { x } }
    },
    vjp: (p: { W: Tensor; b: Tensor }, { x }: { x: Tensor }, dy: Tensor) => ({
      dx: T.matmulNT(dy, p.W),
      dp: { b: T.generate([2], (j) => dy.data.reduce((s, v, i) => (i % 2 === j ? s + v : s), 0)), W: T.matmulTN(x, dy) },
    }),
  })

  test('passes the layer laws', () => checkLayer(affine, { inShape: [3], affineInInput: true }))

  test('gradient-checks, and trains with SGD + Nesterov momentum and with Adam', () => {
    const { params } = affine.init(Key.fromSeed(1), [3])
    const x = Key.normal(Key.fromSeed(2), [4, 3])
    expect(Gradcheck.layer(affine, { params, state: L.none, x }).ok).toBe(true)
    const batch = { x, y: Key.normal(Key.fromSeed(3), [4, 2]) }
    for (const optimizer of [Optim.sgd({ lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-3 }), Optim.adam({ lr: 0.05 })]) {
      const step = Train.trainStep(affine, Loss.mse, optimizer)
      let ts = Train.initState(affine, optimizer, Key.fromSeed(1), [3])
      const first = step(ts, batch)[1].loss
      for (let i = 0; i < 30; i++) [ts] = step(ts, batch)
      expect(Object.keys(ts.params)).toEqual(['W', 'b'])
      expect(step(ts, batch)[1].loss).toBeLessThan(first / 2)
    }
  })
})
