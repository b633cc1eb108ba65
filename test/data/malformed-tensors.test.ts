import { describe, expect, test } from 'vitest'
import { Data, Key, L, Loss, Optim, T, Train } from '../../src/index.ts'

// Tensors made by another library or by hand: { shape, data } whose data is not a float array, or not as long as the shape says.
const as = (v: unknown): T.Tensor => v as T.Tensor
const y = T.tensor([0, 1])

describe('data sets of malformed tensors are refused where they enter, naming the argument', () => {
  test('make: data shorter or longer than the shape holds (it used to be accepted, and training read past it)', () => {
    expect(() => Data.make(as({ shape: [2, 2], data: new Float64Array(3) }), y)).toThrow(
      "make: x has shape [2, 2], which holds 4 values, but its data holds 3; a tensor's data is its values in row-major order",
    )
    expect(() => Data.make(T.tensor([[1], [2]]), as({ shape: [2], data: new Float64Array(5) }))).toThrow(
      'make: y has shape [2], which holds 2 values, but its data holds 5',
    )
  })

  test('make: an integer typed array or a DataView as data is named, with the fix', () => {
    expect(() => Data.make(as({ shape: [2, 1], data: new Int32Array([1, 2]) }), y)).toThrow(
      'make: x must be a Tensor, whose data is a Float64Array or a Float32Array, got a Int32Array as data',
    )
    expect(() => Data.make(as({ shape: [2, 1], data: [1, 2] }), y)).toThrow(Data.DataError)
  })

  test('make: a shape holding a fraction, a negative or a string names the axis', () => {
    expect(() => Data.make(as({ shape: [1.5, 2], data: new Float64Array(3) }), y)).toThrow(
      'make: x has shape [1.5, 2]: its axis 0 is the number 1.5, not a non-negative integer',
    )
    expect(() => Data.make(as({ shape: ['2', 1], data: new Float64Array(2) }), y)).toThrow("its axis 0 is the string '2'")
  })

  test('fit and evaluate refuse a hand-built { x, y } whose data does not fill its shape', () => {
    const data = { x: as({ shape: [2, 2], data: new Float64Array(3) }), y }
    const model = L.pipe(L.dense(2))
    const optimizer = Optim.sgd({ lr: 0.1 })
    const run = () => Train.fit({ model, loss: Loss.softmaxCrossEntropy, optimizer, data, batchSize: 2, epochs: 1, key: Key.fromSeed(0) })
    expect(run).toThrow('fit: data.x has shape [2, 2], which holds 4 values, but its data holds 3')
    const { params, state } = L.initialize(model, Key.fromSeed(0), [2])
    expect(() => Train.evaluate(model, params, state, data, { loss: Loss.softmaxCrossEntropy })).toThrow('evaluate: x has shape [2, 2]')
    expect(() => Train.predict(model, params, state, data.x)).toThrow('predict: x has shape [2, 2], which holds 4 values')
  })
})

describe('toy sets given counts no tensor holds', () => {
  test('each names itself and the count, before allocating (it was an unnamed TensorError, or a RangeError of the engine)', () => {
    const key = Key.fromSeed(0)
    expect(() => Data.spirals(key, { classes: 1_000_000, perClass: 1_000_000 })).toThrow(
      'spirals: 1000000000000 examples are more than a data set of 2-D points holds (2147483647)',
    )
    expect(() => Data.xor(key, 2 ** 40)).toThrow('xor: 1099511627776 examples are more than')
    expect(() => Data.circles(key, 2 ** 31)).toThrow('circles: 2147483648 examples are more than')
    expect(() => Data.blobs(key, { centers: 4, perCenter: 2 ** 30 })).toThrow('blobs: 4294967296 examples are more than')
  })
})
