import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { Key, L, Optim, T, Train, Tree } from '../../src/index.ts'
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

describe("AMSGrad's nuMax is the largest nu seen", () => {
  it('a nuMax below nu (both non-negative) is refused, naming the path and both values', () => {
    const amsgrad = Optim.amsgrad({ lr: 0.01 })
    const doc = saved(amsgrad)
    const ck = IO.decodeCheckpoint(doc)
    if (E.isLeft(ck)) throw ck.left
    const state = ck.right.training!.optState as readonly { nu: readonly { W: T.Tensor }[] }[]
    const nu = state[0]!.nu[0]!.W
    expect(nu.data.some((v) => v > 0)).toBe(true) // two steps: nu is positive somewhere
    doc.training.optState[0].nuMax[0].W = encodeTensor(T.scale(0.5, nu)) // non-negative, but below nu where nu > 0
    const i = nu.data.findIndex((v) => v > 0)
    expect(message(resume(doc, amsgrad))).toContain(
      `training.optState[0].nuMax[0].W: value ${i} (flat index) is ${nu.data[i]! * 0.5}, below nu's ${nu.data[i]}, ` +
        'but nuMax is the largest nu seen, never below it',
    )
  })
})

describe('the optimizer settings fit records: states of one structure from other settings are told apart', () => {
  const data = {
    x: T.tensor([
      [1, 2],
      [3, -1],
      [0, 1],
      [2, 2],
    ]),
    y: T.tensor([
      [1, 0],
      [0, 1],
      [1, 0],
      [0, 1],
    ]),
  }
  /** A training checkpoint saved by fit after one epoch with `optimizer`, as a document. */
  const savedByFit = (optimizer: Optim.GradientTransformation): Doc => {
    let text = ''
    Train.fit({
      model,
      loss: () => ({ value: 0, grad: T.full([2, 2], 0.1) }),
      optimizer,
      data,
      epochs: 1,
      batchSize: 2,
      key: Key.fromSeed(5),
      callbacks: { onEpochEnd: ({ state }) => void (text = IO.encodeCheckpoint(IO.trainingCheckpoint({ model, inShape: [2], state }))) },
    })
    return JSON.parse(text)
  }

  it('records them in training.fit.optimizer, defaults filled in', () => {
    expect(savedByFit(Optim.sgd({ lr: 0.1, momentum: 0.9 })).training.fit.optimizer).toEqual({
      name: 'sgd',
      lr: 0.1,
      momentum: 0.9,
      nesterov: false,
      weightDecay: 0,
      masked: false,
    })
  })

  it.each([
    ['adam', 'nadam', Optim.adam({ lr: 0.01 }), Optim.nadam({ lr: 0.01 })],
    ['sgd with momentum', 'nesterov', Optim.sgd({ lr: 0.1, momentum: 0.9 }), Optim.sgd({ lr: 0.1, momentum: 0.9, nesterov: true })],
    ['sgd with weight decay 0.01', '0.1', Optim.sgd({ lr: 0.1, weightDecay: 0.01 }), Optim.sgd({ lr: 0.1, weightDecay: 0.1 })],
    ['adamw', 'another weight decay', Optim.adamw({ lr: 0.01 }), Optim.adamw({ lr: 0.01, weightDecay: 0.05 })],
    ['adam', 'another b2', Optim.adam({ lr: 0.01 }), Optim.adam({ lr: 0.01, b2: 0.99 })],
    ['rmsprop', 'another lr', Optim.rmsprop({ lr: 0.01 }), Optim.rmsprop({ lr: 0.02 })],
  ])('%s resumed with %s: same structure, refused by IO.trainState and by fit, naming both settings', (_, __, saver, other) => {
    const doc = savedByFit(saver)
    const ck = IO.decodeCheckpoint(doc)
    if (E.isLeft(ck)) throw ck.left
    // the structure alone would pass: the two make states of one structure
    expect(Tree.structureDiff(saver.init(ck.right.params), other.init(ck.right.params))).toBeUndefined()
    const theirs = Optim.showSettings(saver.settings!)
    const mine = Optim.showSettings(other.settings!)
    expect(message(IO.trainState(ck.right, other))).toBe(
      `training.fit.optimizer: the checkpoint was trained with ${theirs}, but the optimizer given is ${mine}; resume with the optimizer it was trained with`,
    )
    const initial = IO.trainState(ck.right, saver)
    if (E.isLeft(initial)) throw initial.left
    const run = { model, loss, data, epochs: 2, batchSize: 2, key: Key.fromSeed(5) }
    expect(() => Train.fit({ ...run, optimizer: other, initial: initial.right })).toThrow(
      `fit: initial was trained with ${theirs}, this run has ${mine}; resume with the optimizer the state was trained with`,
    )
    expect(() => Train.fit({ ...run, optimizer: saver, initial: initial.right })).not.toThrow()
  })

  it('sgd with and without weight decay make states of other structures: refused by the structure (the decay slot)', () => {
    const doc = savedByFit(Optim.sgd({ lr: 0.1, weightDecay: 0.01 }))
    delete doc.training.fit.optimizer // as if saved before fit recorded the settings: the structure still tells them apart
    expect(message(resume(doc, Optim.sgd({ lr: 0.1 })))).toMatch(
      /^training\.optState: an array of 2 in the checkpoint, but the optimizer given makes an array of 1/,
    )
  })

  it('a checkpoint without the settings (saved outside fit, or before fit recorded them) still resumes', () => {
    const doc = savedByFit(Optim.adam({ lr: 0.01 }))
    delete doc.training.fit.optimizer
    expect(message(resume(doc, Optim.nadam({ lr: 0.01 })))).toBe('accepted') // nothing tells them apart: documented
  })

  it('a copy made by spreading (which may update otherwise) does not claim the settings', () => {
    const adam = Optim.adam({ lr: 0.01 })
    expect(adam.settings?.name).toBe('adam')
    expect({ ...adam }.settings).toBeUndefined()
  })

  it('a bad settings record is refused at decode, naming the field', () => {
    const doc = savedByFit(Optim.adam({ lr: 0.01 }))
    doc.training.fit.optimizer = { name: 'adam', lr: [0.01] }
    const ck = IO.decodeCheckpoint(doc)
    expect(E.isLeft(ck) && ck.left.message).toMatch(/^training\.fit\.optimizer: expected an optimizer's settings/)
  })
})
