import { describe, expect, test } from 'vitest'
import { T, Tree } from '../src/index.ts'

const p = { dense: { W: T.tensor([[1, 2], [3, 4]]), b: T.tensor([5, 6]) }, extra: [T.scalar(7)] }

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
    expect(() => Tree.assertSameStructure(p, missingKey, 'update')).toThrow('update: trees differ at dense: a record {W, b} vs a record {W}')
    expect(Tree.structureDiff(p, { ...p, extra: [] })).toBe('at extra: an array of 1 vs an array of 0')
    expect(Tree.structureDiff(p, p)).toBeUndefined()
  })
  test('a non-tree value is reported with its path', () => {
    expect(() => Tree.map({ a: [1] } as unknown as Tree.Tree, (t) => t)).toThrow('Tree.map: number 1 at a[0] is not a tree')
  })
})
