/**
 * A ShapeError or TensorError thrown during fit names the epoch and step (or the validation pass), as a LossError
 * does, and keeps its class and layer path.
 */
import { describe, expect, test } from 'vitest'
import { Data, Key, L, Loss, Optim, T, Train } from '../../src/index.ts'
import { thrown } from '../support/thrown.ts'

type BiasParams = { readonly b: T.Tensor }

/** A layer written for batches of exactly 8 (a bias per row of the batch): the shorter last batch of an epoch is a shape problem. */
const perRow8 = L.define({
  name: 'perRow8',
  init: (_key, inShape) => ({ outShape: inShape, params: { b: T.zeros([8, ...inShape]) } }),
  forward: ({ b }: BiasParams, x) => ({ y: T.add(x, b), tape: null }),
  vjp: (_p, _tape, dy) => ({ dx: dy, dp: { b: dy } }),
})

const data = Data.make(
  T.generate([20, 2], (i) => Math.sin(i)),
  T.generate([20, 2], (i) => Math.cos(i)),
)
const options = { loss: Loss.mse, optimizer: Optim.sgd({ lr: 0.01 }), data, batchSize: 8, key: Key.fromSeed(1) }

describe('fit names the epoch and step of a ShapeError or TensorError', () => {
  test('a layer that cannot take the last, shorter batch: a ShapeError with its path, the epoch and step in front and in .where', () => {
    const e = thrown(L.ShapeError, () => Train.fit({ ...options, model: L.pipe(L.dense(2), perRow8), epochs: 3 }))
    expect(e.message).toBe('fit: epoch 1, step 3 of 3 (step 3 overall): pipe[1].perRow8: add: shapes differ, [4, 2] vs [8, 2]')
    expect(e.path).toEqual(['pipe[1]', 'perRow8'])
    expect(e.where).toBe('fit: epoch 1, step 3 of 3 (step 3 overall)')
    expect(e.detail).toBe('add: shapes differ, [4, 2] vs [8, 2]')
  })

  test('the epoch and step count from 1, the step within its epoch and overall: a layer that starts mixing dtypes in its 11th step', () => {
    // 32 rows in batches of 8: 4 steps an epoch, so the 11th step is the 3rd of epoch 3.
    let calls = 0
    const late = L.define({
      name: 'late',
      forward: (_p, x) => ({
        y:
          calls++ < 10
            ? x
            : T.add(
                x,
                T.generate(x.shape, () => 0),
              ),
        tape: null,
      }),
      vjp: (_p, _tape, dy) => ({ dx: dy, dp: L.none }),
    })
    const wide = Data.make(T.zeros([32, 2]), T.zeros([32, 2]))
    const e = thrown(T.DTypeError, () =>
      Train.fit({ ...options, data: wide, model: L.pipe(L.dense(2), late), epochs: 5, dtype: 'float32' }),
    )
    expect(calls).toBe(11)
    expect(e.message).toMatch(
      /^fit: epoch 3, step 3 of 4 \(step 11 overall\): pipe\[1\]\.late: add: dtypes differ, float32 \[8, 2\] vs float64 \[8, 2\] \(/,
    )
    expect(e.where).toBe('fit: epoch 3, step 3 of 4 (step 11 overall)')
    expect(e.path).toEqual(['pipe[1]', 'late'])
    expect(e).not.toBeInstanceOf(L.ShapeError)
  })

  test('an optimizer given a gradient in another dtype: the DTypeError names the epoch and step, and the param', () => {
    type ScaleParams = { readonly w: T.Tensor }
    const scale = L.define({
      name: 'scale',
      init: (_key, inShape) => ({ outShape: inShape, params: { w: T.scalar(2) } }),
      forward: ({ w }: ScaleParams, x) => ({ y: T.scale(w.data[0]!, x), tape: x }),
      vjp: ({ w }: ScaleParams, x, dy) => ({ dx: T.scale(w.data[0]!, dy), dp: { w: T.scalar(T.dot(x, dy)) } }), // float64 dp
    })
    const e = thrown(T.DTypeError, () => Train.fit({ ...options, model: scale, epochs: 1, dtype: 'float32' }))
    expect(e.message).toMatch(
      /^fit: epoch 1, step 1 of 3 \(step 1 overall\): sgd\.updateAndApply: dtypes differ at params\.w: the gradient is float64 \[\], the param float32 \[\] \(/,
    )
  })

  test('a TensorError from a loss of one’s own (no layer to name) keeps its class and gets the epoch and step', () => {
    const cut = (pred: T.Tensor, target: T.Tensor): Loss.LossResult => {
      const diff = T.sub(pred, T.sliceRows(target, 0, 3)) // a slip: the batch cut to 3 rows
      return { value: T.dot(diff, diff), grad: T.scale(2, diff) }
    }
    const e = thrown(T.TensorError, () => Train.fit({ ...options, loss: cut, model: L.pipe(L.dense(2)), epochs: 1 }))
    expect(e.constructor).toBe(T.TensorError)
    expect(e.message).toBe('fit: epoch 1, step 1 of 3 (step 1 overall): sub: shapes differ, [8, 2] vs [3, 2]')
    expect(e.where).toBe('fit: epoch 1, step 1 of 3 (step 1 overall)')
    expect(e.detail).toBe('sub: shapes differ, [8, 2] vs [3, 2]')
  })

  test('fitAsync says the same', async () => {
    const e = await Train.fitAsync({ ...options, model: L.pipe(L.dense(2), perRow8), epochs: 3 }).then(
      () => undefined,
      (err: unknown) => err,
    )
    expect(e).toBeInstanceOf(L.ShapeError)
    expect((e as L.ShapeError).message).toBe(
      'fit: epoch 1, step 3 of 3 (step 3 overall): pipe[1].perRow8: add: shapes differ, [4, 2] vs [8, 2]',
    )
  })

  test('the validation pass: a layer that cannot take the validation batch names the epoch and the validation', () => {
    const five = Data.make(T.zeros([5, 2]), T.zeros([5, 2]))
    const sixteen = Data.make(T.zeros([16, 2]), T.zeros([16, 2]))
    const e = thrown(L.ShapeError, () =>
      Train.fit({ ...options, data: sixteen, model: L.pipe(L.dense(2), perRow8), epochs: 2, validation: five }),
    )
    expect(e.message).toBe('fit: epoch 1, validation: pipe[1].perRow8: add: shapes differ, [5, 2] vs [8, 2]')
    expect(e.where).toBe('fit: epoch 1, validation')
    expect(e.path).toEqual(['pipe[1]', 'perRow8'])
  })

  test('trainStep on its own adds nothing: the same error without an epoch', () => {
    const model = L.pipe(L.dense(2), perRow8)
    const opt = Optim.sgd({ lr: 0.01 })
    const ts = Train.initState(model, opt, Key.fromSeed(0), [2])
    const e = thrown(L.ShapeError, () => Train.trainStep(model, Loss.mse, opt)(ts, { x: T.zeros([4, 2]), y: T.zeros([4, 2]) }))
    expect(e.message).toBe('pipe[1].perRow8: add: shapes differ, [4, 2] vs [8, 2]')
    expect(e.where).toBeUndefined()
  })
})

/** A layer that passes its input through for its first `fine` forward calls, then gives `bad(x)`. */
const failingAfter = (fine: number, bad: (x: T.Tensor) => T.Tensor) => {
  let calls = 0
  return L.define({
    name: 'late',
    forward: (_p, x) => ({ y: calls++ < fine ? x : bad(x), tape: null }),
    vjp: (_p, _tape, dy) => ({ dx: dy, dp: L.none }),
  })
}
const mismatched = (x: T.Tensor): T.Tensor => T.add(x, T.zeros([3, 3]))

describe('the step an error names is counted within its epoch, with the count overall beside it', () => {
  // 16 rows in batches of 8: 2 steps an epoch.
  const sixteen = Data.make(T.zeros([16, 2]), T.zeros([16, 2]))

  test('the 5th step is the 1st of epoch 3 (not "step 4" in an epoch of 2 steps)', () => {
    const model = L.pipe(L.dense(2), failingAfter(4, mismatched))
    const e = thrown(L.ShapeError, () => Train.fit({ ...options, data: sixteen, model, epochs: 5 }))
    expect(e.where).toBe('fit: epoch 3, step 1 of 2 (step 5 overall)')
    expect(e.message).toBe('fit: epoch 3, step 1 of 2 (step 5 overall): pipe[1].late: add: shapes differ, [8, 2] vs [3, 3]')
  })

  test('a run resumed mid-epoch counts the steps of that epoch taken before it resumed', () => {
    let saved: Train.TrainState | undefined
    // the first run's 4 steps pass; the resumed run's first step (the 4th, the 2nd of epoch 2) fails
    const first = { ...options, data: sixteen, model: L.pipe(L.dense(2), failingAfter(4, mismatched)), epochs: 2 }
    Train.fit({ ...first, callbacks: { onStep: ({ state }) => void (state.step === 3 ? (saved = state) : undefined) } })
    expect(saved?.step).toBe(3)
    const e = thrown(L.ShapeError, () => Train.fit({ ...first, initial: saved! }))
    expect(e.where).toBe('fit: epoch 2, step 2 of 2 (step 4 overall)')
  })

  test('a NonFiniteError says the same, in its message (in place of "at step N") and in .where; .step stays the steps taken before', () => {
    const model = L.pipe(
      L.dense(2),
      failingAfter(4, (x) => T.scale(NaN, x)),
    )
    const e = thrown(Train.NonFiniteError, () => Train.fit({ ...options, data: sixteen, model, epochs: 5 }))
    expect(e.where).toBe('fit: epoch 3, step 1 of 2 (step 5 overall)')
    expect(e.message).toMatch(/^fit: epoch 3, step 1 of 2 \(step 5 overall\): training stopped: the .* became non-finite/)
    expect(e.message).not.toMatch(/at step/)
    expect(e.step).toBe(4)
    expect(e.layerPath).toBe('pipe[1].late')
  })

  test('trainStep on its own still says "training stopped at step N", N the steps taken before, and has no .where', () => {
    const model = L.pipe(
      L.dense(2),
      failingAfter(0, (x) => T.scale(NaN, x)),
    )
    const opt = Optim.sgd({ lr: 0.01 })
    const ts = { ...Train.initState(model, opt, Key.fromSeed(0), [2]), step: 7 }
    const e = thrown(Train.NonFiniteError, () => Train.trainStep(model, Loss.mse, opt)(ts, { x: T.zeros([4, 2]), y: T.zeros([4, 2]) }))
    expect(e.message).toMatch(/^training stopped at step 7: /)
    expect(e.where).toBeUndefined()
  })
})

describe('a validation set whose inputs have another example shape', () => {
  test('is refused before the first step, naming both shapes', () => {
    let steps = 0
    const run = () =>
      Train.fit({
        ...options,
        model: L.pipe(L.dense(2)),
        epochs: 1,
        validation: Data.make(T.zeros([4, 3]), T.zeros([4, 2])),
        callbacks: { onStep: () => void steps++ },
      })
    const e = thrown(Data.DataError, run)
    expect(e.message).toBe(
      "fit: validation.x holds examples of shape [3] (validation.x is [4, 3]), the training data's are [2] (data.x is [20, 2]); they must match",
    )
    expect(steps).toBe(0)
  })
  test('targets of another width are refused too; class indices beside probability rows are not', () => {
    const fitWith = (validation: Data.Dataset) => () =>
      Train.fit({ ...options, loss: Loss.softmaxCrossEntropy, model: L.pipe(L.dense(2)), epochs: 1, validation })
    expect(thrown(Data.DataError, fitWith(Data.make(T.zeros([4, 2]), T.full([4, 3], 1 / 3)))).message).toBe(
      "fit: validation.y holds examples of shape [3] (validation.y is [4, 3]), the training data's are [2] (data.y is [20, 2]); they must match",
    )
    const onehot = Train.fit({
      ...options,
      loss: Loss.softmaxCrossEntropy,
      model: L.pipe(L.dense(2)),
      epochs: 1,
      data: Data.make(data.x, T.full([20, 2], 0.5)),
      validation: Data.make(T.zeros([4, 2]), T.tensor([0, 1, 1, 0])),
    })
    expect(onehot.history.epochs[0]!.valLoss).toBeGreaterThan(0)
  })
})

describe("a vjp whose dp does not have the params' structure is named as the model's vjp, not as the optimizer", () => {
  /** A shift by a learned vector g whose vjp gets dp wrong: a misspelt key, or the batch not summed over. */
  const shift = (wrong: 'key' | 'batch') =>
    L.define({
      name: 'shift',
      init: (_key, inShape) => ({ outShape: inShape, params: { g: T.zeros([inShape[0]!]) } }),
      forward: (p: { readonly g: T.Tensor }, x) => ({ y: T.addRowVector(x, p.g), tape: null }),
      vjp: (_p, _tape, dy) => ({ dx: dy, dp: (wrong === 'key' ? { G: T.sumAxis(0)(dy) } : { g: dy }) as { readonly g: T.Tensor } }),
    })
  test('trainStep: the path and what differs, and how to find the layer (was the optimizer’s updateAndApply, never called by the user)', () => {
    for (const [wrong, at] of [
      ['key', 'at [1]: a record {g} vs a record {G}'],
      ['batch', 'at [1].g: shape [2] vs [8, 2]'],
    ] as const) {
      const model = L.pipe(L.dense(2), shift(wrong))
      const optimizer = Optim.adam({ lr: 0.01 })
      const step = Train.trainStep(model, Loss.mse, optimizer)
      const e = thrown(Error, () => step(Train.initState(model, optimizer, Key.fromSeed(0), [2]), { x: T.ones([8, 2]), y: T.ones([8, 2]) }))
      expect(e.name).toBe('TreeError')
      expect(e.message).toBe(
        `trainStep: the model's vjp returned a dp that does not have the params' structure, ${at} (params vs dp): each layer's ` +
          "vjp returns dp with its params' structure and shapes (a gradient summed over the batch); checkLayer(layer, { inShape }) " +
          'from chainrule/laws names the layer (law 5)',
      )
    }
  })
  test('under fit, with the epoch and step in front', () => {
    const e = thrown(Error, () => Train.fit({ ...options, model: L.pipe(L.dense(2), shift('key')), epochs: 1 }))
    expect(e.message).toMatch(/^fit: epoch 1, step 1 of 3 \(step 1 overall\): trainStep: the model's vjp returned a dp /)
  })
})
