import { describe, expect, test } from 'vitest'
import { Data, Key, L, Loss, Optim, T, Train, Tree } from '../../src/index.ts'
import { Compare } from '../../laws/index.ts'

const spiral = Data.spirals(Key.fromSeed(1), { classes: 3, perClass: 60, noise: 0.1 })
const model = L.pipe(L.dense(16), L.tanh, L.dense(3))
const base = {
  model,
  loss: Loss.softmaxCrossEntropy,
  optimizer: Optim.sgd({ lr: 0.1, momentum: 0.9 }),
  data: spiral,
  batchSize: 32,
  key: Key.fromSeed(5),
}
const identical = (a: Tree.Tree, b: Tree.Tree): boolean => Compare.treesIdentical('params', a, b).holds

describe('trainStep', () => {
  const ts0 = Train.initState(model, base.optimizer, Key.fromSeed(0), [2])
  const batch = { x: T.sliceRows(spiral.x, 0, 16), y: T.sliceRows(spiral.y, 0, 16) }
  const step = Train.trainStep(model, Loss.softmaxCrossEntropy, base.optimizer)
  test('is pure: the input state is unchanged and the same input gives the same output', () => {
    const before = Compare.snapshot(ts0.params)
    const [a, ma] = step(ts0, batch)
    const [b, mb] = step(ts0, batch)
    expect(identical(ts0.params, before)).toBe(true)
    expect(identical(a.params, b.params)).toBe(true)
    expect(ma).toEqual(mb)
    expect(a.step).toBe(1)
    expect(a.key).not.toEqual(ts0.key)
  })
  test('one SGD step moves params by -lr · (the momentum trace of) the gradient', () => {
    const plain = Optim.sgd({ lr: 0.5 })
    const s0 = Train.initState(model, plain, Key.fromSeed(0), [2])
    const [s1] = Train.trainStep(model, Loss.softmaxCrossEntropy, plain)(s0, batch)
    const { y, tape } = model.forward(s0.params, s0.state, batch.x, { mode: 'train', key: Key.split2(s0.key)[0] })
    const { dp } = model.vjp(s0.params, tape, Loss.softmaxCrossEntropy(y, batch.y).grad)
    const expected = Tree.map2(s0.params, dp, (p, g) => T.addScaled(p, -0.5, g))
    expect(identical(s1.params, expected)).toBe(true)
  })
  test("takes the optimizer's fused updateAndApply: the same params and state as update + applyUpdates, bit for bit", () => {
    const sgd = Optim.sgd({ lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-3 })
    let fusedCalls = 0
    const counted: typeof sgd = { ...sgd, updateAndApply: (g, s, p) => (fusedCalls++, sgd.updateAndApply!(g, s, p)) }
    const unfused: typeof sgd = { init: sgd.init, update: sgd.update } // no updateAndApply: two passes
    const a = Train.fit({ ...base, optimizer: counted, epochs: 2 })
    const b = Train.fit({ ...base, optimizer: unfused, epochs: 2 })
    expect(fusedCalls).toBe(a.state.step)
    expect(a.state.step).toBeGreaterThan(0)
    expect(identical(a.state.params, b.state.params)).toBe(true)
    expect(identical(a.state.optState, b.state.optState)).toBe(true)
  })
  test('reports the batch loss and accuracy', () => {
    const [, m] = step(ts0, batch)
    expect(m.count).toBe(16)
    expect(m.loss).toBeGreaterThan(0)
    expect(m.accuracy).toBeGreaterThanOrEqual(0)
    expect(m.accuracy).toBeLessThanOrEqual(1)
  })
})

describe('fit', () => {
  test('a bad label: a LossError naming the epoch, the step and the row of the data given to fit (not of the shuffled batch)', () => {
    const y = T.tensor([0, 1, 2, 0, 1, 2, 0, 7, 1, 2]) // row 7 holds a label that is not a class
    const data = Data.make(T.zeros([10, 2]), y)
    for (const validation of [undefined, 0.2]) {
      let err: unknown
      try {
        Train.fit({
          model: L.dense(3),
          loss: Loss.softmaxCrossEntropy,
          optimizer: Optim.sgd({ lr: 0.1 }),
          data,
          epochs: 1,
          batchSize: 4,
          key: Key.fromSeed(0),
          ...(validation === undefined ? {} : { validation }),
        })
      } catch (e) {
        err = e
      }
      expect(err).toBeInstanceOf(Loss.LossError)
      const e = err as Loss.LossError
      // With a split, row 7 is in the training part (a step fails) or in the validation part (evaluating it fails).
      expect(e.row).toBe(7)
      expect(e.message).toMatch(
        /^fit: epoch 1, (step \d+ of \d+ \(step \d+ overall\)|validation: evaluate): softmaxCrossEntropy: label 7 at row \d is not a class index in 0..2 .*row 7 of the data given to fit\)$/,
      )
    }
  })

  test('two runs from one seed give bit-identical parameters', () => {
    const a = Train.fit({ ...base, epochs: 3 })
    const b = Train.fit({ ...base, epochs: 3 })
    expect(identical(a.state.params, b.state.params)).toBe(true)
    expect(identical(a.state.optState, b.state.optState)).toBe(true)
    const c = Train.fit({ ...base, epochs: 3, key: Key.fromSeed(6) })
    expect(identical(a.state.params, c.state.params)).toBe(false)
  })
  test('stopping after an epoch and resuming from the state gives bit-identical parameters', () => {
    const straight = Train.fit({ ...base, epochs: 4 })
    const half = Train.fit({ ...base, epochs: 2 })
    const resumed = Train.fit({ ...base, epochs: 4, initial: half.state })
    expect(resumed.state.step).toBe(straight.state.step)
    expect(identical(resumed.state.params, straight.state.params)).toBe(true)
  })
  test('resuming from the middle of an epoch also matches', () => {
    const straight = Train.fit({ ...base, epochs: 2 })
    let mid: Train.TrainState | undefined
    Train.fit({ ...base, epochs: 1, callbacks: { onStep: ({ batch, state }) => (batch === 2 ? (mid = state) : undefined) } })
    expect(mid?.step).toBe(3)
    const resumed = Train.fit({ ...base, epochs: 2, initial: mid })
    expect(identical(resumed.state.params, straight.state.params)).toBe(true)
  })
  test('learns the spiral and records per-step and per-epoch history', () => {
    const { history, state } = Train.fit({ ...base, epochs: 40, validation: 0.2 })
    expect(history.steps.length).toBe(40 * Math.ceil(144 / 32))
    expect(history.epochs).toHaveLength(40)
    const first = history.epochs[0]!
    const last = history.epochs[39]!
    expect(last.loss).toBeLessThan(first.loss)
    expect(last.valAccuracy).toBeDefined()
    expect(last.accuracy).toBeGreaterThan(0.8)
    const ev = Train.evaluate(model, state.params, state.state, spiral, { loss: Loss.softmaxCrossEntropy, batchSize: 50 })
    expect(ev.predictions).toHaveLength(180)
    expect(ev.accuracy).toBeGreaterThan(0.8)
  })
  test('the validation split is taken after a shuffle: both classes of a sorted set appear in it', () => {
    // spirals are stored class by class, so a split before shuffling would validate on the last class only
    let valSize = 0
    const val = Train.fit({ ...base, epochs: 1, validation: 0.25, callbacks: { onStart: (i) => (valSize = i.validationSize) } })
    expect(valSize).toBe(45)
    expect(val.history.epochs[0]?.valAccuracy).toBeDefined()
    const split = Data.shuffleSplit(Key.fromSeed(0), spiral, 0.25)
    expect(new Set(Array.from(split.validation.y.data)).size).toBe(3)
  })
  test('early stopping ends training when the monitored metric stops improving and restores the best state', () => {
    // lr so large the loss cannot improve for long
    const r = Train.fit({
      ...base,
      optimizer: Optim.sgd({ lr: 1e-9 }),
      epochs: 50,
      validation: 0.2,
      earlyStopping: { monitor: 'valLoss', patience: 2, minDelta: 1e-3 },
    })
    // epochs count from 1: the third epoch is the second without improvement, and the last in the history
    expect(r.stoppedAt).toBe(3)
    expect(r.history.epochs.map((e) => e.epoch)).toEqual([1, 2, 3])
    expect(() => Train.fit({ ...base, epochs: 2, earlyStopping: { monitor: 'valLoss', patience: 1 } })).toThrow(
      "fit: early stopping monitors 'valLoss', but no validation set was given",
    )
  })
  test('early-stopping settings are checked before any training', () => {
    const es = (e: object) => () =>
      Train.fit({ ...base, epochs: 2, validation: 0.2, earlyStopping: { monitor: 'valLoss', patience: 1, ...e } })
    expect(es({ monitor: 'val_loss' })).toThrow(
      "fit: earlyStopping.monitor must be one of loss, accuracy, valLoss, valAccuracy, got 'val_loss'",
    )
    expect(es({ patience: NaN })).toThrow('fit: earlyStopping.patience must be a non-negative integer, got NaN')
    expect(es({ minDelta: -1 })).toThrow('fit: earlyStopping.minDelta must be finite and >= 0, got -1')
    expect(() => Train.fit({ ...base, epochs: 1, validation: 0.5, batchSize: 100 })).toThrow(
      'fit: batchSize 100 is larger than the 90 training examples left after the validation split',
    )
  })
  test('a callback can stop training', () => {
    const r = Train.fit({ ...base, epochs: 10, callbacks: { onEpochEnd: ({ record }) => (record.epoch === 2 ? 'stop' : undefined) } })
    expect(r.history.epochs).toHaveLength(2)
    expect(r.stoppedAt).toBe(2)
    expect(r.history.steps[0]!.epoch).toBe(1)
  })
  test('a NaN in the data: NonFiniteError names the row of the data given to fit, not of the shuffled batch', () => {
    const x = T.tensor(Array.from(spiral.x.data))
    const bad = 37
    const xs = T.reshape([180, 2])(x)
    xs.data[bad * 2 + 1] = NaN
    const data = { x: xs, y: spiral.y } // built by hand: Data.make would refuse the NaN
    for (const validation of [undefined, 0.2]) {
      let caught: unknown
      try {
        Train.fit({ ...base, data, epochs: 1, batchSize: 32, validation })
      } catch (e) {
        caught = e
      }
      if (validation !== undefined && !(caught instanceof Train.NonFiniteError)) continue // the row went to the validation part
      expect(caught).toBeInstanceOf(Train.NonFiniteError)
      const e = caught as Train.NonFiniteError
      expect(e.stage).toBe('input')
      expect(e.row).toBe(bad)
      expect(e.message).toMatch(
        /the input batch has x\[(\d+), 1\] = NaN \(row \1 of this shuffled batch is row 37 of the data given to fit\)/,
      )
      expect(e.message).toMatch(/^fit: epoch 1, step \d+ of \d+ \(step \d+ overall\): training stopped: /)
    }
  })
  test('a diverging run stops with the step and hands back the last finite state', () => {
    let caught: unknown
    try {
      // linear regression with a far too large step: the error grows geometrically until it overflows
      const data = Data.make(
        spiral.x,
        T.generate([180, 1], (i) => Math.sin(i)),
      )
      Train.fit({ ...base, model: L.dense(1), loss: Loss.mse, data, optimizer: Optim.sgd({ lr: 1e4 }), epochs: 200 })
    } catch (e) {
      caught = e
    }
    expect(caught).toBeInstanceOf(Train.NonFiniteError)
    const e = caught as Train.NonFiniteError
    expect(e.message).toMatch(/^fit: epoch \d+, step \d+ of \d+ \(step \d+ overall\): training stopped: the .* became non-finite/)
    expect(Tree.leaves(e.lastFinite.params).every(T.allFinite)).toBe(true)
    expect(e.lastFinite.step).toBe(e.step)
  })
  test('fitAsync trains exactly as fit, and lets timers run between epochs', async () => {
    const epochsSeenByTimers: number[] = []
    let epochsDone = 0
    const tick = (): void => {
      epochsSeenByTimers.push(epochsDone)
      if (epochsDone < 3) setTimeout(tick, 0)
    }
    setTimeout(tick, 0)
    const counting = { onEpochEnd: () => void epochsDone++ }
    const a = await Train.fitAsync({ ...base, epochs: 3, validation: 0.2, callbacks: counting }, { yieldEveryMs: Infinity })
    const b = Train.fit({ ...base, epochs: 3, validation: 0.2 })
    expect(identical(a.state.params, b.state.params)).toBe(true)
    expect(identical(a.state.optState, b.state.optState)).toBe(true)
    expect(a.history.epochs.map((e) => e.loss)).toEqual(b.history.epochs.map((e) => e.loss))
    // a timer queued before training ran during it, once after each epoch
    expect(epochsSeenByTimers.slice(0, 3)).toEqual([1, 2, 3])
    await expect(Train.fitAsync({ ...base, epochs: 0 })).rejects.toThrow('fit: epochs must be a positive integer, got 0')
  })
  test('fitAsync also gives the event loop turns within an epoch (yieldEveryMs), with the same result', async () => {
    const stepsSeenByTask: number[] = []
    let stepsDone = 0
    let running = true
    const poll = (): void => {
      stepsSeenByTask.push(stepsDone)
      if (running) setImmediate(poll)
    }
    setImmediate(poll)
    const counting = { onStep: () => void stepsDone++ }
    const a = await Train.fitAsync({ ...base, epochs: 1, callbacks: counting }, { yieldEveryMs: 0 })
    running = false
    const b = Train.fit({ ...base, epochs: 1 })
    expect(identical(a.state.params, b.state.params)).toBe(true)
    expect(a.history.steps.map((r) => r.loss)).toEqual(b.history.steps.map((r) => r.loss))
    // one epoch of 180 rows in batches of 32 is 6 steps: the task ran after each of the first five, mid-epoch
    expect(stepsSeenByTask.slice(0, 5)).toEqual([1, 2, 3, 4, 5])
    for (const bad of [-1, Number.NaN]) {
      await expect(Train.fitAsync({ ...base, epochs: 1 }, { yieldEveryMs: bad })).rejects.toThrow(
        `fitAsync: yieldEveryMs must be a number >= 0 (Infinity: only between epochs), got ${bad}`,
      )
    }
    const loose = Train.fitAsync as (o: unknown, a: unknown) => Promise<unknown>
    await expect(loose({ ...base, epochs: 1 }, { yieldEveryMs: '5' })).rejects.toThrow(
      'fitAsync: yieldEveryMs must be a number >= 0 (Infinity: only between epochs), got string 5',
    )
    await expect(loose({ ...base, epochs: 1 }, { yieldEvery: 5 })).rejects.toThrow(
      "fitAsync: unknown option 'yieldEvery' (did you mean 'yieldEveryMs'?); the options are yieldEveryMs",
    )
    await expect(loose({ ...base, epochs: 1 }, null)).rejects.toThrow(
      'fitAsync: the second argument must be an options object such as { yieldEveryMs: 50 }, got object null',
    )
  })
  test('fit runs start to end in one task: no timer runs during it', () => {
    let ran = false
    setTimeout(() => void (ran = true), 0)
    Train.fit({ ...base, epochs: 2 })
    expect(ran).toBe(false)
  })
  test('resuming from a state of another model or optimizer is a TreeError naming the path, before any step', () => {
    const other = Train.fit({ ...base, model: L.pipe(L.dense(8), L.tanh, L.dense(3)), epochs: 1 }).state
    expect(() => Train.fit({ ...base, epochs: 2, initial: other })).toThrow(
      /^fit: initial\.params does not match this model and optimizer at \[0\]\.W: shape \[2, 16\] vs \[2, 8\] \(a fresh params vs initial\.params\)/,
    )
    const adamState = Train.fit({ ...base, optimizer: Optim.adam({ lr: 0.01 }), epochs: 1 }).state
    expect(() => Train.fit({ ...base, epochs: 2, initial: adamState })).toThrow(
      /^fit: initial\.optState does not match this model and optimizer/,
    )
  })
  test('Train.stepsPerEpoch is the steps per epoch fit reports, for splits, a separate validation set and dropLast', () => {
    const separate = Data.slice(spiral, 0, 20)
    for (const settings of [
      { batchSize: 32 },
      { batchSize: 32, validation: 0.1 },
      { batchSize: 7, validation: 0.25, dropLast: true },
      { batchSize: 16, validation: 0.5 },
      { batchSize: 50, validation: separate, dropLast: true },
    ]) {
      let reported: number | undefined
      Train.fit({ ...base, ...settings, epochs: 1, callbacks: { onStart: (info) => (reported = info.stepsPerEpoch) } })
      expect(
        Train.stepsPerEpoch({ data: spiral, ...settings }),
        JSON.stringify({ ...settings, validation: typeof settings.validation === 'object' ? 'a data set' : settings.validation }),
      ).toBe(reported)
    }
    expect(Train.stepsPerEpoch({ data: spiral, batchSize: 32, validation: 0.1 })).toBe(Math.ceil((180 - 18) / 32))
    expect(() => Train.stepsPerEpoch({ data: spiral, batchSize: 0 })).toThrow('fit: batchSize must be a positive integer, got 0')
    expect(() => Train.stepsPerEpoch({ data: spiral, batchSize: 8, validation: 45 })).toThrow(
      'fit: a validation fraction must be in (0, 1), got 45',
    )
    expect(() => Train.stepsPerEpoch({ data: spiral, batchSize: 170, validation: 0.1 })).toThrow(
      'fit: batchSize 170 is larger than the 162 training examples',
    )
  })
  test('bad settings are clear errors', () => {
    expect(() => Train.fit({ ...base, epochs: 0 })).toThrow('fit: epochs must be a positive integer, got 0')
    expect(() => Train.fit({ ...base, epochs: 1, batchSize: 0 })).toThrow('fit: batchSize must be a positive integer, got 0')
    expect(() => Train.fit({ ...base, epochs: 1, batchSize: 1000 })).toThrow('fit: batchSize 1000 is larger than the 180 training examples')
    expect(() => Train.fit({ ...base, epochs: 1, validation: 1.5 })).toThrow('fit: a validation fraction must be in (0, 1), got 1.5')
    expect(() => Train.fit({ ...base, epochs: 1, data: Data.make(T.zeros([0, 2]), T.zeros([0])) })).toThrow(/empty/)
  })
  test('inputs of the wrong shape for the model are a ShapeError naming the layer', () => {
    const { state } = Train.fit({ ...base, epochs: 1 })
    expect(() =>
      Train.evaluate(model, state.params, state.state, Data.make(T.zeros([4, 3]), T.zeros([4])), { loss: Loss.softmaxCrossEntropy }),
    ).toThrow('pipe[0].dense: input shape: expected [N, 2], got [4, 3]')
  })
})

describe('metrics', () => {
  test('accuracy is reported for classification targets only', () => {
    const pred = T.tensor([
      [2, 1],
      [0, 3],
    ])
    expect(Train.correctCount(pred, T.tensor([0, 1]))).toBe(2) // class indices
    expect(
      Train.correctCount(
        pred,
        T.tensor([
          [1, 0],
          [0.4, 0.6],
        ]),
      ),
    ).toBe(2) // probability rows
    expect(
      Train.correctCount(
        pred,
        T.tensor([
          [0.5, -3],
          [7, 2],
        ]),
      ),
    ).toBeUndefined() // regression targets
    expect(Train.correctCount(T.tensor([[0.3], [-1]]), T.tensor([[1], [0]]))).toBe(2) // binary logits vs 0/1 targets
    expect(Train.correctCount(T.tensor([[0.3], [-1]]), T.tensor([[2.5], [-0.5]]))).toBeUndefined() // one regression output
    expect(Train.correctCount(pred, T.tensor([0.5, 1]))).toBeUndefined() // non-integer labels
  })
  test('a regression run records no accuracy', () => {
    const data = Data.make(
      spiral.x,
      T.generate([180, 1], (i) => 3 * Math.sin(i)),
    )
    const { history } = Train.fit({ ...base, model: L.dense(1), loss: Loss.mse, data, epochs: 1 })
    expect(history.epochs[0]?.accuracy).toBeUndefined()
    expect(history.steps[0]?.accuracy).toBeUndefined()
  })
})
