/**
 * Data sets in float32: `Data.make` from float32 tensors, the row functions and `batches` keep the
 * dtype, MNIST loads straight into float32 (the float64 pixels rounded, half the memory), and a
 * float32 model trained on float32 data is the one trained on float64 data cast batch by batch.
 */
import { describe, expect, test } from 'vitest'
import { Data, Key, L, Loss, Optim, T, Train, Tree } from '../../src/index.ts'
import { loadMnist } from '../../src/node/index.ts'

const key = Key.fromSeed(4)
const x64 = T.generate([6, 3], (i) => Math.sin(i) / 3)
const y64 = T.tensor([0, 1, 2, 0, 1, 2])
const ds32 = Data.make(T.cast(x64, 'float32'), T.cast(y64, 'float32'))
const kinds = (ds: { readonly x: T.AnyTensor; readonly y: T.AnyTensor }): string[] => [
  ds.x.data.constructor.name,
  ds.y.data.constructor.name,
]

describe('a float32 data set', () => {
  test('make takes float32 x and y, and refuses a mix of dtypes naming both', () => {
    expect(kinds(ds32)).toEqual(['Float32Array', 'Float32Array'])
    expect(() => Data.make(T.cast(x64, 'float32') as never, y64)).toThrow(
      'make: x is float32 and y is float64; a data set holds one dtype (cast one with T.cast)',
    )
  })

  test('take, slice, split, shuffle and shuffleSplit keep float32 and pick the same rows as in float64', () => {
    const ds64 = Data.make(x64, y64)
    const pairs: [Data.Dataset<'float32'>, Data.Dataset][] = [
      [Data.take(ds32, [4, 0, 2]), Data.take(ds64, [4, 0, 2])],
      [Data.slice(ds32, 1, 4), Data.slice(ds64, 1, 4)],
      [Data.split(ds32, 2)[1], Data.split(ds64, 2)[1]],
      [Data.shuffle(key, ds32), Data.shuffle(key, ds64)],
      [Data.shuffleSplit(key, ds32, 2).validation, Data.shuffleSplit(key, ds64, 2).validation],
    ]
    for (const [a, b] of pairs) {
      expect(kinds(a)).toEqual(['Float32Array', 'Float32Array'])
      expect(a.x.data).toEqual(Float32Array.from(b.x.data))
      expect(a.y.data).toEqual(Float32Array.from(b.y.data))
    }
  })

  test('its batches are float32 without asking, and float64 when asked', () => {
    expect([...Data.batches(key, ds32, 4)].map(kinds)).toEqual([
      ['Float32Array', 'Float32Array'],
      ['Float32Array', 'Float32Array'],
    ])
    expect(kinds([...Data.batches(null, ds32, 4, { dtype: 'float64' })][0]!)).toEqual(['Float64Array', 'Float64Array'])
  })
})

describe('MNIST in float32', () => {
  const m64 = loadMnist({ train: 300, test: 100 })
  const m32 = loadMnist({ train: 300, test: 100, dtype: 'float32' })

  test("loads as Float32Arrays holding the float64 pixels and labels rounded (T.cast's values), in half the bytes", () => {
    for (const part of ['train', 'test'] as const) {
      expect(kinds(m32[part])).toEqual(['Float32Array', 'Float32Array'])
      expect(m32[part].x.data).toEqual(T.cast(m64[part].x, 'float32').data)
      expect(m32[part].y.data).toEqual(T.cast(m64[part].y, 'float32').data)
      expect(m32[part].x.data.byteLength * 2).toBe(m64[part].x.data.byteLength)
    }
  })

  test('refuses a dtype that is not one', () => {
    expect(() => loadMnist({ train: 1, test: 1, dtype: 'float16' as never })).toThrow(
      "loadMnist: dtype must be 'float64' or 'float32', got float16",
    )
  })

  test('a float32 model fit on float32 MNIST is the one fit on float64 MNIST cast batch by batch, bit for bit', () => {
    const run = {
      model: L.pipe(L.flatten, L.dense(16), L.relu, L.dense(10)),
      loss: Loss.softmaxCrossEntropy,
      optimizer: Optim.sgd({ lr: 0.1, momentum: 0.9 }),
      epochs: 1,
      batchSize: 50,
      key,
      dtype: 'float32',
    } as const
    const a = Train.fit({ ...run, data: m32.train })
    const b = Train.fit({ ...run, data: m64.train })
    expect(Tree.leaves(a.state.params).map((l) => l.data.constructor.name)).toEqual([
      'Float32Array',
      'Float32Array',
      'Float32Array',
      'Float32Array',
    ])
    Tree.leaves(a.state.params).forEach((leaf, i) => expect(leaf.data).toEqual(Tree.leaves(b.state.params)[i]!.data))
    expect(a.history.steps.map((s) => s.loss)).toEqual(b.history.steps.map((s) => s.loss))
  })
})
