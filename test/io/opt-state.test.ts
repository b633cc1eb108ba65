import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { Key, L, Optim, T, Train } from '../../src/index.ts'
import * as IO from '../../src/io/index.ts'
import { encodeTensor } from '../../src/io/tree.ts'

const model = L.pipe(L.dense(3), L.relu, L.dense(2))
const batch = {
  x: T.tensor([
    [1, 2],
    [3, -1],
  ]),
  y: T.zeros([2, 2]),
}
const loss = (pred: T.Tensor) => ({ value: 0, grad: T.full(pred.shape, 0.1) })

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a test pokes at the JSON freely
type Doc = Record<string, any>

/** A training checkpoint document after two steps of `optimizer`. */
const saved = (optimizer: Optim.GradientTransformation): Doc => {
  const step = Train.trainStep(model, loss, optimizer)
  let ts = Train.initState(model, optimizer, Key.fromSeed(0), [2])
  for (let i = 0; i < 2; i++) ts = step(ts, batch)[0]
  return JSON.parse(IO.encodeCheckpoint(IO.trainingCheckpoint({ model, inShape: [2], state: ts })))
}

const resume = (doc: unknown, optimizer: Optim.GradientTransformation) => {
  const ck = IO.decodeCheckpoint(doc)
  if (E.isLeft(ck)) throw ck.left
  return IO.trainState(ck.right, optimizer)
}

const message = (r: E.Either<IO.IoError, unknown>): string => (E.isLeft(r) ? r.left.message : 'accepted')

describe('IO.trainState checks what an optimizer state means, not only its structure', () => {
  const adam = Optim.adam({ lr: 0.01 })
  const amsgrad = Optim.amsgrad({ lr: 0.01 })
  const adagrad = Optim.adagrad({ lr: 0.01 })
  const sgd = Optim.sgd({ lr: 0.1, weightDecay: 0.01 })

  it('accepts the states the optimizers themselves saved', () => {
    for (const o of [adam, amsgrad, adagrad, sgd, Optim.sgd({ lr: 0.1, momentum: 0.9 })])
      expect(message(resume(saved(o), o))).toBe('accepted')
  })

  it('refuses a step count that is negative, fractional or larger than the steps taken, naming its path', () => {
    for (const [count, why] of [
      [-1, 'a step count is a non-negative integer, got -1'],
      [0.5, 'a step count is a non-negative integer, got 0.5'],
      [7, 'the optimizer counts 7 updates, but the checkpoint has taken only 2 steps'],
    ] as const) {
      const doc = saved(adam)
      doc.training.optState[0].count = encodeTensor(T.scalar(count))
      expect(message(resume(doc, adam))).toMatch(new RegExp(`^training\\.optState\\[0\\]\\.count: ${why.replace(/[.]/g, '\\.')}`))
    }
    const doc = saved(sgd) // sgd with weight decay: [the decay's empty slot, { count }]
    doc.training.optState[1].count = encodeTensor(T.scalar(-3))
    expect(message(resume(doc, sgd))).toMatch(/^training\.optState\[1\]\.count: a step count is a non-negative integer, got -3/)
  })

  it('refuses negative second moments and accumulators', () => {
    const a = saved(amsgrad)
    a.training.optState[0].nuMax[0].W = encodeTensor(T.full([2, 3], -1e-3))
    expect(message(resume(a, amsgrad))).toMatch(
      /^training\.optState\[0\]\.nuMax\[0\]\.W: value 0 \(flat index\) is -0\.001, but nuMax holds squares/,
    )
    const g = saved(adagrad)
    g.training.optState[0].sum[2].b = encodeTensor(T.tensor([0.5, -2]))
    expect(message(resume(g, adagrad))).toMatch(/^training\.optState\[0\]\.sum\[2\]\.b: value 1 \(flat index\) is -2/)
  })
})
