/**
 * The tensor's dtype: float64 by default, float32 by an explicit cast; casts round to nearest one
 * way and are exact the other; operations keep their inputs' dtype; mixing dtypes in one operation
 * is a TensorError naming both (never a silent conversion).
 */
import { describe, expect, test } from 'vitest'
import { Data, Key, L, Loss, Optim, T, Train, Tree } from '../../src/index.ts'
import { biasGrad32Reference } from '../../src/kernels/reduce32.ts'

const f32 = (nested: T.Nested): T.Tensor => T.asTensor(T.cast(T.tensor(nested), 'float32'))

describe('dtype and casts', () => {
  test('a tensor is float64 unless cast', () => {
    expect(T.dtypeOf(T.tensor([1, 2]))).toBe('float64')
    expect(T.dtypeOf(T.zeros([2]))).toBe('float64')
    expect(T.dtypeOf(T.zeros32([2]))).toBe('float32')
  })

  test('cast to float32 rounds to nearest, back to float64 is exact, and the same dtype is the tensor itself', () => {
    const x = T.tensor([0.1, 1 / 3, 1e-50, 3e38, -0])
    const x32 = T.cast(x, 'float32')
    expect(x32.data).toBeInstanceOf(Float32Array)
    expect([...x32.data]).toEqual([...x.data].map(Math.fround))
    const back = T.cast(x32, 'float64')
    expect(back.data).toBeInstanceOf(Float64Array)
    expect([...back.data]).toEqual([...x32.data])
    expect(Object.is(back.data[4], -0)).toBe(true)
    expect(T.cast(x, 'float64')).toBe(x)
    expect(T.cast(x32, 'float32')).toBe(x32)
  })

  test('an unknown dtype is an error', () => {
    expect(() => T.cast(T.tensor([1]), 'float16' as T.DType)).toThrow(/dtype must be 'float64' or 'float32', got float16/)
    expect(() => L.initialize(L.dense(2), Key.fromSeed(0), [3], { dtype: 'int8' as T.DType })).toThrow(/initialize: dtype must be/)
  })

  test('a bad dtype option, or a misspelled one, is named by the function it was given to', () => {
    const sgd = Optim.sgd({ lr: 0.1 })
    const data = Data.make(T.zeros([4, 3]), T.tensor([0, 1, 0, 1]))
    const run = { model: L.dense(2), loss: Loss.softmaxCrossEntropy, optimizer: sgd, data, epochs: 1, batchSize: 2, key: Key.fromSeed(0) }
    const bad = 'float16' as T.DType
    expect(() => Train.fit({ ...run, dtype: bad })).toThrow(new T.DTypeError("fit: dtype must be 'float64' or 'float32', got float16"))
    // one class for a bad dtype name given to a model (fit, initState, initialize): T.DTypeError
    expect(() => Train.fit({ ...run, dtype: bad })).toThrow(T.DTypeError)
    expect(() => Train.initState(L.dense(2), sgd, Key.fromSeed(0), [3], { dtype: bad })).toThrow(T.DTypeError)
    expect(() => L.initialize(L.dense(2), Key.fromSeed(0), [3], { dtype: bad })).toThrow(T.DTypeError)
    expect(() => Train.initState(L.dense(2), sgd, Key.fromSeed(0), [3], { dtype: bad })).toThrow(
      "initState: dtype must be 'float64' or 'float32', got float16",
    )
    expect(() => Data.batches(null, data, 2, { dtype: bad })).toThrow("batches: dtype must be 'float64' or 'float32', got float16")
    // Misspelled (a plain-JavaScript caller, or an options object built elsewhere): refused, not ignored.
    const dType = { dType: 'float32' } as { readonly dtype?: 'float32' }
    expect(() => L.initialize(L.dense(2), Key.fromSeed(0), [3], dType)).toThrow(
      "initialize: unknown option 'dType' (did you mean 'dtype'?); the options are dtype",
    )
    expect(() => Train.initState(L.dense(2), sgd, Key.fromSeed(0), [3], dType)).toThrow(
      "initState: unknown option 'dType' (did you mean 'dtype'?); the options are dtype",
    )
  })

  test('operations keep the float32 dtype and round each result once', () => {
    const a = f32([[0.1, 0.2]])
    const b = f32([[0.3], [0.7]])
    const p = T.matmul(a, b)
    expect(p.data).toBeInstanceOf(Float32Array)
    const f = Math.fround
    expect(p.data[0]).toBe(f(f(a.data[0]! * b.data[0]!) + f(a.data[1]! * b.data[1]!)))
    const s = T.addRowVector(a, f32([0.3, 0.4]))
    expect(s.data).toBeInstanceOf(Float32Array)
    expect(s.data[0]).toBe(f(a.data[0]! + f(0.3)))
    expect(
      T.sumAxis(0)(
        f32([
          [0.1, 0.2],
          [0.3, 0.4],
        ]),
      ).data,
    ).toEqual(new Float32Array([f(f(0.1) + f(0.3)), f(f(0.2) + f(0.4))]))
    expect(T.scale(0.1, a).data).toEqual(new Float32Array([f(f(0.1) * a.data[0]!), f(f(0.1) * a.data[1]!)]))
    expect(T.addScaled(a, 0.1, a).data[1]).toBe(f(a.data[1]! + f(f(0.1) * a.data[1]!)))
    const layout = [T.transpose()(a), T.stack([a, a]), T.concat(0)([a, a]), ...T.split(1, [1, 1])(a), T.reshape([2])(a)]
    for (const t of [
      T.add(a, a),
      T.sub(a, a),
      T.mul(a, a),
      T.exp(a),
      T.meanAxis(1)(a),
      T.gatherRows(a, [0, 0]),
      T.sliceRows(a, 0, 1),
      ...layout,
    ]) {
      expect(t.data).toBeInstanceOf(Float32Array)
    }
  })

  test("float32 sumAxis(0), dense's db, gives biasGrad32Reference's bits", () => {
    let s = 7
    const dy = T.asTensor(
      T.cast(
        T.generate([37, 11], () => ((s = (s * 48271) % 2147483647) / 2147483647) * 2 - 1),
        'float32',
      ),
    )
    const db = new Float32Array(11)
    biasGrad32Reference(37, 11, T.float32Of(dy)!.data, db)
    expect([...T.sumAxis(0)(dy).data]).toEqual([...db])
  })

  for (const dtype of ['float64', 'float32'] as const)
    test(`${dtype} sumAxis over each axis of a 3-D tensor: the sums in index order, each add in ${dtype} (−0, NaN, ±∞ too)`, () => {
      const specials = [-0, NaN, Infinity, -Infinity, 1e30, -1e30]
      const t = T.asTensor(
        T.cast(
          T.generate([3, 5, 7], (i) => (i % 17 === 3 ? specials[i % 6]! : Math.sin(i) * 1e3)),
          dtype,
        ),
      )
      for (const axis of [0, 1, 2, -1]) {
        const a = (axis + 3) % 3
        const [dims, keep] = [t.shape, t.shape.filter((_, i) => i !== a)]
        const want = dtype === 'float32' ? new Float32Array(keep[0]! * keep[1]!) : new Float64Array(keep[0]! * keep[1]!)
        for (let i = 0; i < dims[0]!; i++)
          for (let j = 0; j < dims[1]!; j++)
            for (let k = 0; k < dims[2]!; k++) {
              const [p, q] = [i, j, k].filter((_, d) => d !== a) as [number, number]
              want[p * keep[1]! + q] = want[p * keep[1]! + q]! + t.data[(i * dims[1]! + j) * dims[2]! + k]!
            }
        const got = T.sumAxis(axis)(t)
        expect(got.shape).toEqual(keep)
        expect(T.dtypeOf(got)).toBe(dtype)
        expect([...got.data].every((v, i) => Object.is(v, want[i]))).toBe(true)
      }
    })

  test('mixing dtypes in one operation is a TensorError naming both', () => {
    const a = T.tensor([[1, 2]])
    const b = f32([[3], [4]])
    expect(() => T.matmul(a, b)).toThrow("matmul: dtypes differ, float64 [1, 2] vs float32 [2, 1] (cast one with T.cast(t, 'float64')")
    expect(() => T.matmulTN(b, T.tensor([[1], [2]]))).toThrow(/matmulTN: dtypes differ, float32 \[2, 1\] vs float64 \[2, 1\]/)
    expect(() => T.addRowVector(a, f32([1, 2]))).toThrow(/addRowVector: dtypes differ, float64 \[1, 2\] vs float32 \[2\]/)
    expect(() => T.add(a, f32([[1, 2]]))).toThrow(/add: dtypes differ/)
    expect(() => T.addScaled(f32([[1, 2]]), 2, a)).toThrow(/addScaled: dtypes differ, float32 \[1, 2\] vs float64 \[1, 2\]/)
    expect(() => T.concat(0)([a, f32([[1, 2]])])).toThrow(
      /concat: tensor 1 against tensor 0: dtypes differ, float32 \[1, 2\] vs float64 \[1, 2\]/,
    )
    expect(() => T.stack([f32([1]), T.tensor([1])])).toThrow(
      /stack: tensor 1 against tensor 0: dtypes differ, float64 \[1\] vs float32 \[1\]/,
    )
  })

  test('a layer given an input of another dtype than its params says so', () => {
    const { params } = L.initialize(L.dense(3), Key.fromSeed(1), [2], { dtype: 'float32' })
    const ctx = { mode: 'eval' as const, key: Key.fromSeed(0) }
    // @ts-expect-error float32 params with a float64 input: the types say so too
    expect(() => L.dense(3).forward(params, [], T.tensor([[1, 2]]), ctx)).toThrow(/dtypes differ, float64 \[1, 2\] vs float32 \[2, 3\]/)
    const x = f32([[1, -2]])
    const { tape } = L.relu.forward([], [], x, ctx)
    expect(() => L.relu.vjp([], tape, T.tensor([[1, 1]]))).toThrow(/relu: dtypes differ, float32 \[1, 2\] vs float64 \[1, 2\]/)
  })

  test('initialize in float32 gives the float64 initial params rounded to nearest, and Tree.dtypeOfTree says so', () => {
    const net = L.pipe(L.flatten, L.dense(4), L.relu, L.dense(2))
    const p64 = L.initialize(net, Key.fromSeed(3), [5]).params
    const p32 = L.initialize(net, Key.fromSeed(3), [5], { dtype: 'float32' }).params
    expect(Tree.dtypeOfTree(p64)).toBe('float64')
    expect(Tree.dtypeOfTree(p32)).toBe('float32')
    const l64 = Tree.leaves(p64)
    Tree.leaves(p32).forEach((t, i) => expect([...t.data]).toEqual([...l64[i]!.data].map(Math.fround)))
    expect(() => Tree.dtypeOfTree([p32[1], p64[3]])).toThrow(/dtypes differ: \[0\].W is float32, \[1\].W is float64/)
  })
})

describe('fullLike: a number as a tensor of another tensor’s shape and dtype', () => {
  test('float32 in, float32 out, the value rounded once; float64 exact; the shape kept, a fresh array', () => {
    const w32 = T.cast(T.zeros([2, 3]), 'float32')
    const f32 = T.fullLike(w32, 0.1)
    expect(f32.data).toEqual(new Float32Array(6).fill(Math.fround(0.1)))
    expect(f32.shape).toEqual([2, 3])
    expect(f32.data).not.toBe(w32.data)
    const f64 = T.fullLike(T.scalar(5), 0.1)
    expect(f64.data).toEqual(Float64Array.of(0.1))
    expect(f64.shape).toEqual([])
  })
})
