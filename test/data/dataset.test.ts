import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import * as T from '../../src/tensor/index.ts'
import * as K from '../../src/key.ts'
import { batches, make, numBatches, shuffle, shuffleSplit, size, slice, split, take, type Dataset } from '../../src/data/dataset.ts'
import { blobs, circles, spirals, xor } from '../../src/data/toy.ts'
import { DataError } from '../../src/data/error.ts'

const SEED = Number(process.env.CHAINRULE_SEED ?? 42)
const key = K.fromSeed(SEED)

/** N examples where x row i is [i, -i] and y[i] = i, so every row says where it came from. */
const indexed = (n: number): Dataset =>
  make(
    T.generate([n, 2], (k) => (k % 2 === 0 ? k / 2 : -(k - 1) / 2)),
    T.generate([n], (i) => i),
  )

/** The row indices a batch or data set holds, checking x and y rows stayed aligned. */
const rows = (b: { x: T.Tensor; y: T.Tensor }): number[] => {
  const ys = Array.from(b.y.data)
  ys.forEach((i, k) => {
    expect(b.x.data[2 * k]).toBe(i)
    expect(b.x.data[2 * k + 1]).toBe(-i)
  })
  return ys
}

const epoch = (k: K.Key | null, ds: Dataset, bs: number, dropLast = false): number[][] => [...batches(k, ds, bs, { dropLast })].map(rows)

describe('make validates its inputs', () => {
  it('rejects x and y with different numbers of rows, naming both shapes', () => {
    expect(() => make(T.zeros([3, 2]), T.zeros([4]))).toThrow(DataError)
    expect(() => make(T.zeros([3, 2]), T.zeros([4]))).toThrow(/x has 3 rows \(shape \[3, 2\]\) but y has 4 \(shape \[4\]\)/)
  })

  it('rejects tensors without an example axis', () => {
    expect(() => make(T.scalar(1), T.zeros([1]))).toThrow(/x needs a leading example axis/)
    expect(() => make(T.zeros([1, 2]), T.scalar(0))).toThrow(/y needs a leading example axis/)
  })

  it('rejects NaN and infinities, naming the first offending index and example', () => {
    const x = T.tensor([
      [
        [0, 1],
        [2, 3],
      ],
      [
        [4, 5],
        [6, NaN],
      ],
      [
        [NaN, 0],
        [0, 0],
      ],
    ])
    expect(() => make(x, T.zeros([3]))).toThrow(/x\[1, 1, 1\] is NaN \(example 1\)/)
    expect(() => make(T.zeros([3, 2]), T.tensor([0, Infinity, 1]))).toThrow(/y\[1\] is Infinity \(example 1\)/)
    expect(() =>
      make(
        T.zeros([2, 2]),
        T.tensor([
          [0, 0],
          [0, -Infinity],
        ]),
      ),
    ).toThrow(/y\[1, 1\] is -Infinity/)
  })

  it('accepts an empty data set and class-index or vector targets', () => {
    expect(size(make(T.zeros([0, 4]), T.zeros([0])))).toBe(0)
    expect(size(make(T.zeros([5, 3]), T.zeros([5, 2])))).toBe(5)
  })
})

describe('take, slice, split', () => {
  const ds = indexed(10)
  it('take gathers the given rows in order, slice a range', () => {
    expect(rows(take(ds, [3, 1, 3]))).toEqual([3, 1, 3])
    expect(rows(slice(ds, 2, 5))).toEqual([2, 3, 4])
    expect(size(slice(ds, 4, 4))).toBe(0)
  })
  it('take and slice reject bad indices', () => {
    expect(() => take(ds, [0, 10])).toThrow(/take: index 10 at position 1 is out of range for a data set of 10 examples/)
    expect(() => take(ds, [0.5])).toThrow(DataError)
    expect(() => slice(ds, 5, 11)).toThrow(/slice: rows 5..11 are not a range within 0..10/)
  })
  it('split takes a count or a fraction, in order', () => {
    const [a, b] = split(ds, 3)
    expect([rows(a), rows(b)]).toEqual([
      [0, 1, 2],
      [3, 4, 5, 6, 7, 8, 9],
    ])
    expect(split(ds, 0.25).map(size)).toEqual([3, 7]) // round(2.5) = 3
    expect(split(ds, 0).map(size)).toEqual([0, 10])
    expect(split(ds, 10).map(size)).toEqual([10, 0])
    expect(() => split(ds, 11)).toThrow(/split: expected a fraction strictly between 0 and 1 or a count of rows in 0..10, got 11/)
    expect(() => split(ds, 1.5)).toThrow(DataError)
    expect(() => split(ds, -0.1)).toThrow(DataError)
  })
  it('shuffle is a permutation fixed by the key', () => {
    const s = rows(shuffle(key, ds))
    expect([...s].sort((p, q) => p - q)).toEqual(rows(ds))
    expect(rows(shuffle(key, ds))).toEqual(s)
  })
})

describe('batches', () => {
  it("with dtype, each batch is gathered straight into it: the bits of T.cast of the batch in the data's dtype", () => {
    const ds = make(
      T.generate([37, 3, 2], (i) => Math.sin(i) * 10 ** ((i % 9) - 4)),
      T.generate([37], (i) => i % 10),
    )
    for (const k of [K.fromSeed(7), null]) {
      const plain = [...batches(k, ds, 8)]
      const as32 = [...batches(k, ds, 8, { dtype: 'float32' })]
      const as64 = [...batches(k, ds, 8, { dtype: 'float64' })]
      expect(as32.length).toBe(plain.length)
      as32.forEach((b, i) => {
        const want = plain[i]!
        expect(T.dtypeOf(b.x)).toBe('float32')
        expect(T.dtypeOf(b.y)).toBe('float32')
        expect(b.x.shape).toEqual(want.x.shape)
        expect(Array.from(b.x.data)).toEqual(Array.from(T.cast(want.x, 'float32').data))
        expect(Array.from(b.y.data)).toEqual(Array.from(T.cast(want.y, 'float32').data))
        expect(Array.from(b.rows ?? [])).toEqual(Array.from(want.rows ?? []))
        expect(Array.from(as64[i]!.x.data)).toEqual(Array.from(want.x.data)) // the data's own dtype: the same batch
      })
      // float32 data asked for float64: exact
      const ds32 = { x: T.asTensor(T.cast(ds.x, 'float32')), y: ds.y }
      for (const b of batches(k, ds32, 8, { dtype: 'float64' })) {
        expect(T.dtypeOf(b.x)).toBe('float64')
        expect(Array.from(b.x.data).every((v) => Math.fround(v) === v)).toBe(true)
      }
    }
    expect(() => batches(null, ds, 8, { dtype: 'float16' as never })).toThrow(DataError)
  })

  it('each batch carries the data set rows it holds (rows), shuffled or in order', () => {
    for (const k of [K.fromSeed(3), null]) {
      for (const b of batches(k, indexed(23), 5)) expect(Array.from(b.rows ?? [])).toEqual(rows(b))
    }
  })

  it('law: with a key, every index appears exactly once per epoch and x, y rows stay aligned', () => {
    const arb = fc.integer({ min: 1, max: 120 }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 1, max: n }), fc.nat()))
    fc.assert(
      fc.property(arb, ([n, bs, seed]) => {
        const got = epoch(K.fromSeed(seed), indexed(n), bs)
        expect(got.length).toBe(Math.ceil(n / bs))
        expect(got.slice(0, -1).every((b) => b.length === bs)).toBe(true)
        expect(got.flat().sort((p, q) => p - q)).toEqual(Array.from({ length: n }, (_, i) => i))
      }),
      { seed: SEED, numRuns: 100 },
    )
  })

  it('law: dropLast yields floor(N / B) full batches of distinct indices', () => {
    const arb = fc.integer({ min: 1, max: 120 }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 1, max: n }), fc.nat()))
    fc.assert(
      fc.property(arb, ([n, bs, seed]) => {
        const got = epoch(K.fromSeed(seed), indexed(n), bs, true)
        expect(got.length).toBe(Math.floor(n / bs))
        expect(numBatches(indexed(n), bs, { dropLast: true })).toBe(got.length)
        expect(got.every((b) => b.length === bs)).toBe(true)
        expect(new Set(got.flat()).size).toBe(got.length * bs)
      }),
      { seed: SEED, numRuns: 100 },
    )
  })

  it('the same key gives the same order; different keys give different orders', () => {
    const ds = indexed(100)
    const a = epoch(key, ds, 16)
    expect(epoch(key, ds, 16)).toEqual(a)
    const [k1, k2] = K.split(key, 2) as [K.Key, K.Key]
    expect(epoch(k1, ds, 16)).not.toEqual(epoch(k2, ds, 16))
    expect(a.flat()).not.toEqual(Array.from({ length: 100 }, (_, i) => i))
  })

  it('a batches value can be iterated again and gives the same batches', () => {
    const it = batches(key, indexed(20), 6)
    expect([...it].map(rows)).toEqual([...it].map(rows))
  })

  it('with a null key, batches are in stored order and the last one is short', () => {
    expect(epoch(null, indexed(7), 3)).toEqual([[0, 1, 2], [3, 4, 5], [6]])
    expect(epoch(null, indexed(7), 3, true)).toEqual([
      [0, 1, 2],
      [3, 4, 5],
    ])
  })

  it('keeps feature axes: image batches are [B, C, H, W]', () => {
    const ds = make(T.zeros([10, 1, 4, 4]), T.zeros([10]))
    const shapes = [...batches(key, ds, 4)].map((b) => [b.x.shape, b.y.shape])
    expect(shapes).toEqual([
      [[4, 1, 4, 4], [4]],
      [[4, 1, 4, 4], [4]],
      [[2, 1, 4, 4], [2]],
    ])
  })

  it('rejects a bad batch size or an empty data set at once, with a clear message', () => {
    const ds = indexed(10)
    expect(() => batches(key, ds, 0)).toThrow(/batches: batchSize must be an integer in 1..10 \(the data set size\), got 0/)
    expect(() => batches(key, ds, 2.5)).toThrow(DataError)
    expect(() => batches(key, ds, 11)).toThrow(/got 11/)
    expect(() => batches(null, make(T.zeros([0, 2]), T.zeros([0])), 1)).toThrow(/batches: the data set is empty/)
  })

  it('leaves the data set unchanged', () => {
    const ds = indexed(9)
    const before = [ds.x.data.slice(), ds.y.data.slice()]
    for (const _ of batches(key, ds, 4)) void _
    shuffleSplit(key, ds, 0.3)
    expect([ds.x.data, ds.y.data]).toEqual(before)
  })
})

describe('shuffleSplit', () => {
  it('trainRows and validationRows say which row of the data set each row of each part is', () => {
    const { train, validation, trainRows, validationRows } = shuffleSplit(K.fromSeed(4), indexed(30), 0.2)
    expect(Array.from(trainRows)).toEqual(rows(train))
    expect(Array.from(validationRows)).toEqual(rows(validation))
  })

  it('law: the parts are disjoint, complete, and sized by the fraction', () => {
    const arb = fc.tuple(fc.integer({ min: 2, max: 200 }), fc.double({ min: 0.01, max: 0.99, noNaN: true }), fc.nat())
    fc.assert(
      fc.property(arb, ([n, f, seed]) => {
        const v = Math.round(f * n)
        fc.pre(v >= 1 && v <= n - 1)
        const { train, validation } = shuffleSplit(K.fromSeed(seed), indexed(n), f)
        const a = rows(train)
        const b = rows(validation)
        expect(b.length).toBe(v)
        expect(new Set([...a, ...b]).size).toBe(n)
        expect(a.length + b.length).toBe(n)
      }),
      { seed: SEED, numRuns: 100 },
    )
  })

  it('shuffles before splitting: a class-sorted set gives a validation set of both classes', () => {
    const n = 200
    const sorted = make(
      T.generate([n, 1], (i) => i),
      T.generate([n], (i) => (i < n / 2 ? 0 : 1)),
    )
    const { validation, train } = shuffleSplit(key, sorted, 0.2)
    const ys = Array.from(validation.y.data)
    expect(ys.filter((c) => c === 0).length).toBeGreaterThan(5) // an unshuffled tail split would hold only class 1
    expect(ys.filter((c) => c === 1).length).toBeGreaterThan(5)
    expect(Array.from(validation.x.data)).not.toEqual(Array.from({ length: 40 }, (_, i) => 160 + i))
    expect(Array.from(train.x.data)).not.toEqual(Array.from({ length: 160 }, (_, i) => i))
  })

  it('is fixed by the key and takes a count too', () => {
    const ds = indexed(50)
    expect(rows(shuffleSplit(key, ds, 10).validation)).toEqual(rows(shuffleSplit(key, ds, 10).validation))
    expect(size(shuffleSplit(key, ds, 10).train)).toBe(40)
  })

  it('rejects a split that leaves a part empty', () => {
    expect(() => shuffleSplit(key, indexed(10), 0.01)).toThrow(/gives 0 of 10 examples; both parts need at least one/)
    expect(() => shuffleSplit(key, indexed(10), 10)).toThrow(DataError)
    expect(() => shuffleSplit(key, indexed(10), 1)).not.toThrow()
  })
})

const labelCounts = (ds: Dataset, classes: number): number[] => {
  const c = new Array<number>(classes).fill(0)
  for (const v of ds.y.data) {
    expect(Number.isInteger(v) && v >= 0 && v < classes).toBe(true)
    c[v] = c[v]! + 1
  }
  return c
}

const norms = (ds: Dataset): number[] => Array.from({ length: size(ds) }, (_, i) => Math.hypot(ds.x.data[2 * i]!, ds.x.data[2 * i + 1]!))

describe('toy data sets', () => {
  const [k1, k2] = K.split(key, 2) as [K.Key, K.Key]
  const sets: [string, (k: K.Key) => Dataset][] = [
    ['xor', (k) => xor(k, 100)],
    ['circles', (k) => circles(k, 100)],
    ['spirals', (k) => spirals(k)],
    ['blobs', (k) => blobs(k, { centers: 3, perCenter: 20 })],
  ]
  for (const [name, f] of sets) {
    it(`${name}: the same key gives the same data bit for bit; another key, different data`, () => {
      const a = f(k1)
      expect(f(k1)).toEqual(a)
      expect(f(k2).x.data).not.toEqual(a.x.data)
      expect(a.x.shape).toEqual([size(a), 2])
      expect(a.y.shape).toEqual([size(a)])
    })
  }

  it('xor: 4 balanced clusters, class 1 where the coordinate signs differ', () => {
    const ds = xor(key, 400, { noise: 0.1 })
    expect(labelCounts(ds, 2)).toEqual([200, 200])
    for (let i = 0; i < 400; i++) {
      const sameSign = ds.x.data[2 * i]! * ds.x.data[2 * i + 1]! > 0
      expect(ds.y.data[i]).toBe(sameSign ? 0 : 1)
    }
    expect(labelCounts(xor(key, 7), 2)).toEqual([4, 3])
  })

  it('circles: class 0 on the unit circle, class 1 on the radius-factor circle', () => {
    const ds = circles(key, 101, { noise: 0, factor: 0.3 })
    expect(labelCounts(ds, 2)).toEqual([51, 50])
    norms(ds).forEach((r, i) => expect(r).toBeCloseTo(ds.y.data[i] === 0 ? 1 : 0.3, 12))
  })

  it('spirals: k classes of perClass points, radii running 0 to 1 along each arm', () => {
    const ds = spirals(key, { classes: 5, perClass: 40, noise: 0 })
    expect(ds.x.shape).toEqual([200, 2])
    expect(labelCounts(ds, 5)).toEqual([40, 40, 40, 40, 40])
    const r = norms(ds)
    expect(r[0]).toBe(0)
    expect(r[39]).toBeCloseTo(1, 12)
    expect(r.every((v) => v <= 1 + 1e-12)).toBe(true)
    // the cs231n arm 0 at radius 1 sits at angle 4: (sin 4, cos 4)
    expect([ds.x.data[78], ds.x.data[79]]).toEqual([Math.sin(4), Math.cos(4)])
    expect(spirals(key, { classes: 2, perClass: 10, turns: 1.5 }).x.shape).toEqual([20, 2])
  })

  it('blobs: one class per centre, points spread around it', () => {
    const ds = blobs(key, {
      centers: [
        [0, 0],
        [10, -10],
      ],
      perCenter: 500,
      std: 0.5,
    })
    expect(labelCounts(ds, 2)).toEqual([500, 500])
    const mean = (c: number, axis: number): number => {
      let s = 0
      for (let i = 0; i < 1000; i++) if (ds.y.data[i] === c) s += ds.x.data[2 * i + axis]!
      return s / 500
    }
    // 5 standard errors of a mean of 500 N(., 0.5²) samples: 5 × 0.5 / √500 ≈ 0.11
    expect(Math.abs(mean(0, 0))).toBeLessThan(0.12)
    expect(Math.abs(mean(1, 1) + 10)).toBeLessThan(0.12)
    expect(labelCounts(blobs(key, { centers: 4, perCenter: 3 }), 4)).toEqual([3, 3, 3, 3])
  })

  it('toy sets reject bad arguments with a clear message', () => {
    expect(() => xor(key, 0)).toThrow(/xor: n must be a positive integer, got 0/)
    expect(() => xor(key, 10, { noise: -1 })).toThrow(/noise must be a finite number >= 0/)
    expect(() => circles(key, 10, { factor: 1 })).toThrow(/circles: factor must be in \(0, 1\), got 1/)
    expect(() => spirals(key, { classes: 0 })).toThrow(/spirals: classes must be a positive integer/)
    expect(() => blobs(key, { centers: [], perCenter: 3 })).toThrow(/at least one point/)
    expect(() => blobs(key, { centers: [[0, NaN]], perCenter: 3 })).toThrow(/centers\[0\] must be a point/)
  })
})
