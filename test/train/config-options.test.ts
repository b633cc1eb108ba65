import { describe, expect, test } from 'vitest'
import { Data, Key, L, Loss, Optim, T, Train } from '../../src/index.ts'

// Options read from a config file arrive as strings ("0.1", "true"): each is named, never silently read as something else.
const data = Data.make(
  T.tensor([
    [1, 2],
    [3, 4],
    [5, 6],
    [7, 8],
  ]),
  T.tensor([0, 1, 0, 1]),
)
const run = { model: L.dense(2), loss: Loss.softmaxCrossEntropy, optimizer: Optim.sgd({ lr: 0.1 }), data, batchSize: 2, epochs: 1 }
const loose = <A>(v: unknown): A => v as A

describe('options from a config file', () => {
  test("fit's validation given as a string or null is named (it failed reading 'shape' of undefined)", () => {
    expect(() => Train.fit({ ...run, key: Key.fromSeed(0), validation: loose<number>('0.5') })).toThrow(
      "fit: validation must be a fraction in (0, 1) or a data set { x, y }, got the string '0.5'",
    )
    expect(() => Train.fit({ ...run, key: Key.fromSeed(0), validation: loose<number>(null) })).toThrow('got null')
    expect(() => Train.stepsPerEpoch({ data, batchSize: 2, validation: loose<number>('0.5') })).toThrow("got the string '0.5'")
  })

  test('dropLast given as a string is named (it read as false, whatever it said)', () => {
    expect(() => Data.numBatches(data, 3, { dropLast: loose<boolean>('true') })).toThrow(
      "numBatches: dropLast must be true or false, got the string 'true'",
    )
    expect(() => Data.batches(null, data, 3, { dropLast: loose<boolean>(1) })).toThrow('batches: dropLast must be true or false, got 1')
    expect(() => Train.fit({ ...run, key: Key.fromSeed(0), dropLast: loose<boolean>('yes') })).toThrow('dropLast must be true or false')
  })
})

describe('predict given a scalar', () => {
  test('says x needs an example axis, not that it has 0 rows', () => {
    const model = L.dense(2)
    const { params } = L.initialize(model, Key.fromSeed(0), [2])
    expect(() => Train.predict(model, params, [], T.scalar(1))).toThrow(
      'predict: x needs a leading example axis [N, ...], got a scalar (shape [])',
    )
  })
})
