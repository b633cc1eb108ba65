import { describe, expect, test } from 'vitest'
import fc from 'fast-check'
import { Kernels, T } from '../../src/index.ts'
import { Arb, defaultSeed } from '../../laws/index.ts'

const seed = defaultSeed()
const arr = (t: T.Tensor): number[] => Array.from(t.data)

describe('creating tensors', () => {
  test('from nested arrays, the shape is read from the nesting', () => {
    const t = T.tensor([
      [1, 2, 3],
      [4, 5, 6],
    ])
    expect(t.shape).toEqual([2, 3])
    expect(arr(t)).toEqual([1, 2, 3, 4, 5, 6])
    expect(T.toNested(t)).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ])
  })
  test('ragged nesting is an error that says where', () => {
    expect(() => T.tensor([[1, 2], [3]])).toThrow('tensor: ragged nesting at [1]: expected an array of 2, got an array of 1')
  })
  test('zeros, ones, full, scalar, fromArray, generate', () => {
    expect(arr(T.zeros([2]))).toEqual([0, 0])
    expect(arr(T.ones([1, 2]))).toEqual([1, 1])
    expect(arr(T.full([3], 7))).toEqual([7, 7, 7])
    expect(T.scalar(5).shape).toEqual([])
    expect(arr(T.fromArray([2, 2], [1, 2, 3, 4]))).toEqual([1, 2, 3, 4])
    expect(arr(T.generate([4], (i) => i * i))).toEqual([0, 1, 4, 9])
  })
  test('a data length that does not fit the shape is an error', () => {
    expect(() => T.fromArray([2, 2], [1, 2, 3])).toThrow('fromArray: shape [2, 2] needs 4 values, got 3')
    expect(() => T.zeros([2, -1])).toThrow('zeros: shape [2, -1] must hold non-negative integers')
  })
  test('get reads a multi-index and checks bounds', () => {
    const t = T.tensor([
      [1, 2],
      [3, 4],
    ])
    expect(T.get(t, [1, 0])).toBe(3)
    expect(() => T.get(t, [2, 0])).toThrow('get: index 2 out of range for axis 0 of shape [2, 2]')
  })
})

describe('element-wise operations and reductions', () => {
  const a = T.tensor([
    [1, 2],
    [3, 4],
  ])
  const b = T.tensor([
    [10, 20],
    [30, 40],
  ])
  test('add, sub, mul, div, scale, addScaled', () => {
    expect(arr(T.add(a, b))).toEqual([11, 22, 33, 44])
    expect(arr(T.sub(b, a))).toEqual([9, 18, 27, 36])
    expect(arr(T.mul(a, b))).toEqual([10, 40, 90, 160])
    expect(arr(T.div(b, a))).toEqual([10, 10, 10, 10])
    expect(arr(T.scale(2, a))).toEqual([2, 4, 6, 8])
    expect(arr(T.addScaled(a, -1, a))).toEqual([0, 0, 0, 0])
  })
  test('mismatched shapes are an error naming both', () => {
    expect(() => T.add(a, T.zeros([4]))).toThrow('add: shapes differ, [2, 2] vs [4]')
  })
  test('addRowVector adds a bias to every row', () => {
    expect(arr(T.addRowVector(a, T.tensor([100, 200])))).toEqual([101, 202, 103, 204])
    expect(() => T.addRowVector(a, T.tensor([1, 2, 3]))).toThrow(/does not match/)
  })
  test('sums, means and maxima by axis', () => {
    expect(arr(T.sumAxis(0)(a))).toEqual([4, 6])
    expect(arr(T.sumAxis(1)(a))).toEqual([3, 7])
    expect(arr(T.sumAxis(-1)(a))).toEqual([3, 7])
    expect(arr(T.meanAxis(0)(a))).toEqual([2, 3])
    expect(arr(T.maxAxis(1)(a))).toEqual([2, 4])
    expect(T.sum(a)).toBe(10)
    expect(T.mean(a)).toBe(2.5)
    expect(T.dot(a, b)).toBe(300)
    expect(() => T.sumAxis(2)(a)).toThrow('sumAxis: axis 2 out of range for shape [2, 2]')
  })
  test('sumAxis of a 3-D tensor along the middle axis', () => {
    const t = T.generate([2, 3, 2], (i) => i)
    expect(T.sumAxis(1)(t).shape).toEqual([2, 2])
    expect(arr(T.sumAxis(1)(t))).toEqual([0 + 2 + 4, 1 + 3 + 5, 6 + 8 + 10, 7 + 9 + 11])
  })
  test('argmaxRows picks the first largest value in each row', () => {
    expect(
      Array.from(
        T.argmaxRows(
          T.tensor([
            [0, 3, 1],
            [5, 4, 5],
          ]),
        ),
      ),
    ).toEqual([1, 0])
  })
})

describe('layout', () => {
  test('transpose of a matrix, and a permutation of a 3-D tensor', () => {
    expect(
      T.toNested(
        T.transpose()(
          T.tensor([
            [1, 2, 3],
            [4, 5, 6],
          ]),
        ),
      ),
    ).toEqual([
      [1, 4],
      [2, 5],
      [3, 6],
    ])
    const t = T.generate([2, 3, 4], (i) => i)
    const p = T.transpose([2, 0, 1])(t)
    expect(p.shape).toEqual([4, 2, 3])
    expect(T.get(p, [3, 1, 2])).toBe(T.get(t, [1, 2, 3]))
  })
  test('transpose twice is the identity (property)', () => {
    fc.assert(
      fc.property(
        Arb.shape(4, 4).chain((s) => Arb.tensor(s)),
        (t) => {
          const r = t.shape.length
          const perm = t.shape.map((_, i) => (i + 1) % r)
          const inv = t.shape.map((_, i) => (i - 1 + r) % r)
          expect(arr(T.transpose(inv)(T.transpose(perm)(t)))).toEqual(arr(t))
        },
      ),
      { seed, numRuns: 100 },
    )
  })
  test('reshape keeps the data and infers one -1', () => {
    const t = T.generate([2, 6], (i) => i)
    expect(T.reshape([3, -1])(t).shape).toEqual([3, 4])
    expect(() => T.reshape([5, -1])(t)).toThrow('reshape: cannot reshape [2, 6] to [5, -1]')
  })
  test('rows: slice, gather, stack, concat and split', () => {
    const t = T.tensor([
      [1, 2],
      [3, 4],
      [5, 6],
    ])
    expect(T.toNested(T.sliceRows(t, 1, 3))).toEqual([
      [3, 4],
      [5, 6],
    ])
    expect(T.toNested(T.gatherRows(t, [2, 0]))).toEqual([
      [5, 6],
      [1, 2],
    ])
    expect(() => T.gatherRows(t, [3])).toThrow('gatherRows: index 3 (position 0) out of range for 3 rows')
    expect(T.stack([T.tensor([1, 2]), T.tensor([3, 4])]).shape).toEqual([2, 2])
    const c = T.concat(1)([t, T.tensor([[7], [8], [9]])])
    expect(T.toNested(c)).toEqual([
      [1, 2, 7],
      [3, 4, 8],
      [5, 6, 9],
    ])
    const [l, r] = T.split(1, [2, 1])(c)
    expect(l && T.toNested(l)).toEqual(T.toNested(t))
    expect(r && arr(r)).toEqual([7, 8, 9])
    expect(() => T.sliceRows(t, 2, 4)).toThrow('sliceRows: rows 2..4 out of range for shape [3, 2]')
  })
})

describe('matrix products', () => {
  const a = T.tensor([
    [1, 2, 3],
    [4, 5, 6],
  ])
  const b = T.tensor([
    [7, 8],
    [9, 10],
    [11, 12],
  ])
  test('A·B, AᵀB and ABᵀ as a textbook writes them', () => {
    expect(T.toNested(T.matmul(a, b))).toEqual([
      [58, 64],
      [139, 154],
    ])
    expect(T.toNested(T.matmulTN(a, a))).toEqual([
      [17, 22, 27],
      [22, 29, 36],
      [27, 36, 45],
    ])
    expect(T.toNested(T.matmulNT(a, a))).toEqual([
      [14, 32],
      [32, 77],
    ])
  })
  test('inner size mismatch is an error showing both shapes', () => {
    expect(() => T.matmul(a, a)).toThrow('matmul: inner sizes differ, [2, 3] · [2, 3]')
  })
  test('the reference and fast kernel families give the same products (within 1e-12)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 }), (m, k, n) => {
        const x = T.generate([m, k], (i) => Math.sin(i + 1))
        const y = T.generate([k, n], (i) => Math.cos(i))
        const fast = T.matmul(x, y)
        const ref = withRef(() => T.matmul(x, y))
        fast.data.forEach((v, i) => expect(Math.abs(v - ref.data[i]!)).toBeLessThanOrEqual(1e-12 * k))
      }),
      { seed, numRuns: 100 },
    )
  })
})

const withRef = <A>(f: () => A): A => Kernels.using('reference', f)

describe('showing tensors', () => {
  test('toString writes a matrix with aligned columns and its shape', () => {
    expect(
      T.toString(
        T.tensor([
          [1, -2],
          [3, 4],
        ]),
        { digits: 1 },
      ),
    ).toBe('Tensor [2, 2]\n[[ 1.0, -2.0],\n [ 3.0,  4.0]]')
  })
  test('long axes are elided', () => {
    const s = T.toString(
      T.generate([20], (i) => i),
      { digits: 0, edge: 2 },
    )
    expect(s).toBe('Tensor [20]\n[ 0,  1, …, 18, 19]')
  })
})

describe('NaN, empty inputs and bad arguments (as NumPy would have it, or a clear error)', () => {
  test('max and maxAxis are NaN where a NaN is among the values, also when it is the only value', () => {
    expect(T.max(T.tensor([1, NaN, 2]))).toBeNaN()
    expect(T.max(T.tensor([NaN]))).toBeNaN()
    expect(T.max(T.tensor([1, 3, 2]))).toBe(3)
    expect(
      arr(
        T.maxAxis(1)(
          T.tensor([
            [1, NaN, 2],
            [4, 5, 6],
          ]),
        ),
      ),
    ).toEqual([NaN, 6])
    expect(arr(T.maxAxis(0)(T.tensor([[NaN]])))).toEqual([NaN])
    expect(arr(T.maxAxis(1)(T.zeros([2, 0])))).toEqual([-Infinity, -Infinity]) // the empty max, as T.max of an empty tensor
  })
  test("argmaxRows gives a row's first NaN (as NumPy and PyTorch), ties to the first, and refuses rows with no values", () => {
    expect(
      Array.from(
        T.argmaxRows(
          T.tensor([
            [4, NaN, 1, NaN],
            [NaN, 9, 9, 1],
            [2, 7, 7, 1],
          ]),
        ),
      ),
    ).toEqual([1, 0, 1])
    expect(() => T.argmaxRows(T.zeros([3, 0]))).toThrow(/argmaxRows: rows of no values have no argmax, got shape \[3, 0\]/)
    expect(T.argmaxRows(T.zeros([0, 0])).length).toBe(0)
  })
  test('concat and split check their axis and sizes', () => {
    const a = T.zeros([2, 3])
    expect(() => T.concat(0.5)([a, a])).toThrow(/concat: axis 0.5 must be an integer in -2..1 for shape \[2, 3\]/)
    expect(() => T.concat(Number.NaN)([a, a])).toThrow(/concat: axis NaN must be an integer/)
    expect(() => T.split(1, [1.5, 1.5])(a)).toThrow(/split: sizes must be non-negative integers, got 1.5 at position 0/)
    expect(() => T.split(1, [4, -1])(a)).toThrow(/split: sizes must be non-negative integers, got -1 at position 1/)
    expect(() => T.split(2, [1, 1])(a)).toThrow(/split: axis 2 must be an integer in -2..1/)
    expect(() => T.split(1, [1, 1])(a)).toThrow(/split: sizes \[1, 1\] add up to 2, not to 3, the size of axis 1 of \[2, 3\]/)
  })
  test('errors name the function called', () => {
    expect(() => T.fromArray([2, 2], [1, 2, 3])).toThrow(/^fromArray: shape \[2, 2\] needs 4 values, got 3$/)
    expect(() => T.zeros([2, -1])).toThrow(/^zeros: shape/)
    expect(() => T.ones([1.5])).toThrow(/^ones: shape/)
    expect(() => T.div(T.zeros([2]), T.zeros([3]))).toThrow(/^div: /)
    expect(() => T.tensor([1, null as unknown as number])).toThrow(/tensor: expected a number at \[1\], got null/)
    expect(() => T.tensor([1, 'a' as unknown as number])).toThrow(/tensor: expected a number at \[1\], got string/)
  })
  test('a shape too big for any tensor is a TensorError, not a failed allocation', () => {
    expect(() => T.zeros([2 ** 31, 2 ** 31])).toThrow(/zeros: shape \[2147483648, 2147483648\] holds .* elements, more than a tensor can/)
  })
})

describe('allFinite', () => {
  test('is false exactly when some value is NaN or ±Infinity (property)', () => {
    const value = fc.oneof(fc.double(), fc.constantFrom(NaN, Infinity, -Infinity, -0, Number.MAX_VALUE, -Number.MAX_VALUE))
    fc.assert(
      fc.property(fc.array(value, { maxLength: 40 }), (vs) => {
        expect(T.allFinite(T.fromArray([vs.length], vs))).toBe(vs.every(Number.isFinite))
      }),
      { seed, numRuns: 200 },
    )
  })

  test('finds one NaN or ±Infinity at every position of arrays of 0 to 9 values (the scan keeps four sums and a tail)', () => {
    for (let n = 0; n <= 9; n++) {
      const finite = Array.from({ length: n }, (_, i) => (i % 2 === 0 ? Number.MAX_VALUE : -0))
      expect(T.allFinite(T.fromArray([n], finite))).toBe(true)
      for (let at = 0; at < n; at++) {
        for (const bad of [NaN, Infinity, -Infinity]) {
          const vs = finite.slice()
          vs[at] = bad
          expect(T.allFinite(T.fromArray([n], vs))).toBe(false)
        }
      }
    }
  })
})
