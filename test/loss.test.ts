import { describe, expect, test } from 'vitest'
import { Loss, T } from '../src/index.ts'
import { Arb, checkLoss } from '../laws/index.ts'

describe('every loss obeys the loss laws', () => {
  test('mse', () => checkLoss(Loss.mse, 'mse', { predShape: [3], target: (n) => Arb.tensor([n, 3], { awayFromZero: 0 }) }))
  test('softmaxCrossEntropy with class indices', () =>
    checkLoss(Loss.softmaxCrossEntropy, 'softmaxCrossEntropy', { predShape: [4], target: (n) => Arb.classIndices(n, 4) }))
  test('softmaxCrossEntropy with probability rows', () =>
    checkLoss(Loss.softmaxCrossEntropy, 'softmaxCrossEntropy', { predShape: [3], target: (n) => Arb.probabilityRows(n, 3) }))
  test('crossEntropy on probabilities (kept inside the clip range)', () =>
    checkLoss(Loss.crossEntropy(), 'crossEntropy', {
      predShape: [3],
      target: (n) => Arb.probabilityRows(n, 3),
      pred: (shape) => Arb.tensor(shape, { min: 0.05, max: 0.95, awayFromZero: 0 }),
    }))
  test('binaryCrossEntropy on logits', () =>
    checkLoss(Loss.binaryCrossEntropy, 'binaryCrossEntropy', {
      predShape: [2],
      target: (n) => Arb.tensor([n, 2], { min: 0, max: 1, awayFromZero: 0 }),
    }))
})

describe('losses by hand', () => {
  test('softmax cross-entropy of logits [2, 0] with label 0 is log(1 + e^-2), grad (softmax - onehot)', () => {
    const { value, grad } = Loss.softmaxCrossEntropy(T.tensor([[2, 0]]), T.tensor([0]))
    const p0 = Math.exp(2) / (Math.exp(2) + 1)
    expect(value).toBeCloseTo(Math.log(1 + Math.exp(-2)), 14)
    expect(grad.data[0]).toBeCloseTo(p0 - 1, 14)
    expect(grad.data[1]).toBeCloseTo(1 - p0, 14)
  })
  test('mse of [1, 2] vs [0, 0] is (1 + 4) / 2, grad 2(p - t)/2', () => {
    const { value, grad } = Loss.mse(T.tensor([[1, 2]]), T.tensor([[0, 0]]))
    expect(value).toBe(2.5)
    expect(Array.from(grad.data)).toEqual([1, 2])
  })
  test('binary cross-entropy of logit 0 is log 2 whatever the target', () => {
    expect(Loss.binaryCrossEntropy(T.tensor([[0]]), T.tensor([[1]])).value).toBeCloseTo(Math.LN2, 15)
  })
  test('softmax cross-entropy stays finite for logits of ±1000', () => {
    const { value, grad } = Loss.softmaxCrossEntropy(T.tensor([[1000, -1000, 0]]), T.tensor([1]))
    expect(value).toBeCloseTo(2000, 9)
    expect(T.allFinite(grad)).toBe(true)
    const bce = Loss.binaryCrossEntropy(T.tensor([[1000, -1000]]), T.tensor([[0, 1]]))
    expect(bce.value).toBeCloseTo(1000, 9)
  })
})

describe('losses reject bad targets with clear errors', () => {
  const logits = T.zeros([2, 3])
  test('label out of range', () =>
    expect(() => Loss.softmaxCrossEntropy(logits, T.tensor([0, 3]))).toThrow(
      'softmaxCrossEntropy: label 3 at row 1 is not a class index in 0..2',
    ))
  test('non-integer label', () => expect(() => Loss.softmaxCrossEntropy(logits, T.tensor([0.5, 1]))).toThrow('label 0.5 at row 0'))
  test('negative label', () => expect(() => Loss.crossEntropy()(T.full([2, 3], 1 / 3), T.tensor([-1, 1]))).toThrow('label -1 at row 0'))
  test('batch size mismatch', () =>
    expect(() => Loss.softmaxCrossEntropy(logits, T.tensor([0, 1, 2]))).toThrow('batch sizes differ, prediction [2, 3] vs target [3]'))
  test('probability rows of the wrong width', () =>
    expect(() => Loss.softmaxCrossEntropy(logits, T.zeros([2, 4]))).toThrow(
      'target must be class indices [2] or probability rows [2, 3], got [2, 4]',
    ))
  test('mse with mismatched shapes', () =>
    expect(() => Loss.mse(T.zeros([2, 3]), T.zeros([2, 2]))).toThrow('mse: target shape [2, 2] must equal prediction shape [2, 3]'))
  test('non-finite target', () =>
    expect(() => Loss.mse(T.zeros([1, 2]), T.tensor([[0, NaN]]))).toThrow('mse: target has a non-finite value (NaN) at flat index 1'))
  test('binary targets outside [0, 1]', () =>
    expect(() => Loss.binaryCrossEntropy(T.zeros([1, 2]), T.tensor([[0, 2]]))).toThrow('target 2 at flat index 1 is outside [0, 1]'))
  test('empty batch', () => expect(() => Loss.mse(T.zeros([0, 2]), T.zeros([0, 2]))).toThrow('mse: empty batch'))
})

describe('crossEntropy options', () => {
  test('given the prediction directly (the factory not called): says to call it first', () => {
    const call = Loss.crossEntropy as unknown as (p: T.Tensor, y: T.Tensor) => unknown
    expect(() => call(T.full([1, 2], 0.5), T.tensor([0]))).toThrow(
      new Loss.LossError(
        'crossEntropy: given a tensor, but Loss.crossEntropy makes the loss: call it first, Loss.crossEntropy()(pred, target) (or Loss.crossEntropy(eps) for another clip)',
      ),
    )
  })
  test('eps outside (0, 1) is an error', () => {
    for (const eps of [0, -1e-3, 1, NaN]) expect(() => Loss.crossEntropy(eps)).toThrow(`crossEntropy: eps must be in (0, 1), got ${eps}`)
  })
})

describe('crossEntropy takes probabilities', () => {
  test('a prediction outside [0, 1] (logits: the softmax is missing) is an error naming the row, the class and the fix', () => {
    const logits = T.tensor([
      [0.2, 0.3, 0.5],
      [3, -2, 5],
    ])
    expect(() => Loss.crossEntropy()(logits, T.tensor([0, 1]))).toThrow(
      'crossEntropy: prediction 3 at row 1, class 0 is not a probability in [0, 1]: end the network with L.softmax',
    )
    expect(() => Loss.crossEntropy()(T.tensor([[-1e-9, 1]]), T.tensor([1]))).toThrow('prediction -1e-9 at row 0, class 0')
    expect(() => Loss.crossEntropy()(T.tensor([[1 + 2 ** -52, 0]]), T.tensor([0]))).toThrow('is not a probability in [0, 1]')
  })
  test('the error carries the row, so fit can name the data row', () => {
    let row: number | undefined
    try {
      Loss.crossEntropy()(
        T.tensor([
          [0.5, 0.5],
          [0.5, 7],
        ]),
        T.tensor([0, 1]),
      )
    } catch (e) {
      if (e instanceof Loss.LossError) row = e.row
    }
    expect(row).toBe(1)
  })
  test('0 and 1 are probabilities: p = 1 gives loss 0, p = 0 is clipped to eps with gradient 0', () => {
    const { value, grad } = Loss.crossEntropy(1e-12)(T.tensor([[1, 0]]), T.tensor([0]))
    expect(value).toBe(0)
    expect(Array.from(grad.data)).toEqual([-1, 0])
    expect(Loss.crossEntropy(1e-12)(T.tensor([[0, 1]]), T.tensor([0])).value).toBeCloseTo(-Math.log(1e-12), 12)
  })
})

describe('probability-row targets must sum to 1', () => {
  for (const [name, loss] of [
    ['softmaxCrossEntropy', Loss.softmaxCrossEntropy],
    ['crossEntropy', Loss.crossEntropy()],
  ] as const) {
    test(`${name}: a row summing to 1.4 is an error naming the row; rows from a softmax pass`, () => {
      const pred = T.full([2, 3], 1 / 3)
      expect(() =>
        loss(
          pred,
          T.tensor([
            [0, 1, 0],
            [0.5, 0.9, 0],
          ]),
        ),
      ).toThrow(`${name}: target row 1 sums to 1.4, not 1`)
      expect(() =>
        loss(
          pred,
          T.tensor([
            [0, 0, 0],
            [0, 1, 0],
          ]),
        ),
      ).toThrow(`${name}: target row 0 sums to 0, not 1`)
      const soft = T.tensor([
        [0.1, 0.2, 0.7],
        [1 / 3, 1 / 3, 1 / 3],
      ])
      expect(Number.isFinite(loss(pred, soft).value)).toBe(true)
    })
  }
})
