/**
 * Resume equals an uninterrupted run, per fit option: a run is killed (a callback throws) after
 * epoch k, or mid-epoch, its last saved training checkpoint goes through IO (encode, parse,
 * trainState) and fit resumes from it; the final params, state, optimizer state, key and step,
 * the history after the interruption and where training stopped must all match the straight run
 * bit for bit.
 */
import * as E from 'fp-ts/Either'
import { describe, expect, test } from 'vitest'
import { Data, Key, L, Loss, Optim, Schedule, Train, type Tree } from '../../src/index.ts'
import * as IO from '../../src/io/index.ts'
import { Compare } from '../../laws/index.ts'

const identical = (a: Tree.Tree, b: Tree.Tree): boolean => Compare.treesIdentical('tree', a, b).holds
const right = <A>(r: E.Either<IO.IoError, A>): A => {
  if (E.isLeft(r)) throw r.left
  return r.right
}

class Interrupt extends Error {}

type Run = Parameters<typeof Train.fit>[0]
const spiral = Data.spirals(Key.fromSeed(1), { classes: 3, perClass: 30, noise: 0.1 })
const runKey = Key.fromSeed(4)
const base: Run = {
  model: L.pipe(L.dense(12), L.tanh, L.dense(3)),
  loss: Loss.softmaxCrossEntropy,
  optimizer: Optim.sgd({ lr: 0.05, momentum: 0.9 }),
  data: spiral,
  epochs: 6,
  batchSize: 16,
  key: runKey,
}

const callbacksOf = (run: Run): readonly Train.Callbacks[] =>
  run.callbacks === undefined ? [] : Array.isArray(run.callbacks) ? run.callbacks : [run.callbacks as Train.Callbacks]

/** A checkpoint saved when `when` says so, then the run killed there; its text. */
const killedAt = (run: Run, when: { readonly epochsDone: number } | { readonly step: number }): string => {
  let text: string | undefined
  let done = 0
  const save = (state: Train.TrainState): never => {
    text = IO.encodeCheckpoint(IO.trainingCheckpoint({ model: run.model, inShape: [2], state, runKey: run.key }))
    throw new Interrupt()
  }
  const kill: Train.Callbacks = {
    onEpochEnd: ({ state }) => {
      if ('epochsDone' in when && ++done === when.epochsDone) save(state)
    },
    onStep: ({ state }) => {
      if ('step' in when && state.step === when.step) save(state)
    },
  }
  expect(() => Train.fit({ ...run, callbacks: [...callbacksOf(run), kill] })).toThrow(Interrupt)
  if (text === undefined) throw new Error('the run ended before the interruption')
  return text
}

const resumeFrom = (run: Run, text: string): Train.FitResult<Tree.Tree, Tree.Tree, Tree.Tree> => {
  const ck = right(IO.parseCheckpoint(text))
  const initial = right(IO.trainState(ck, run.optimizer))
  return Train.fit({ ...run, model: ck.model, key: ck.training?.runKey ?? Key.fromSeed(99), initial })
}

const withoutSeconds = (h: Train.History): unknown => h.epochs.map(({ seconds: _, ...rest }) => rest)

/** Interrupts after `k` epochs (or at a step), resumes, and compares with the straight run. */
const expectExactResume = (run: Run, when: { readonly epochsDone: number } | { readonly step: number }) => {
  const straight = Train.fit(run)
  const resumed = resumeFrom(run, killedAt(run, when))
  const a = resumed.state
  const b = straight.state
  expect(a.step).toBe(b.step)
  expect(a.key).toEqual(b.key)
  expect(identical(a.params, b.params)).toBe(true)
  expect(identical(a.state, b.state)).toBe(true)
  expect(identical(a.optState, b.optState)).toBe(true)
  expect(resumed.stoppedAt).toBe(straight.stoppedAt)
  const firstStep = resumed.history.steps[0]?.step ?? Infinity
  expect(resumed.history.steps).toEqual(straight.history.steps.filter((s) => s.step >= firstStep))
  const epochs = withoutSeconds(straight.history) as readonly unknown[]
  expect(withoutSeconds(resumed.history)).toEqual(epochs.slice(epochs.length - resumed.history.epochs.length))
  return { straight, resumed }
}

describe('a run interrupted and resumed from its checkpoint matches the uninterrupted run bit for bit', () => {
  test('epochs and batchSize (interrupted after epoch 2 of 6)', () => {
    expectExactResume(base, { epochsDone: 2 })
  })
  test('dropLast, with a batch size that leaves a short batch', () => {
    expectExactResume({ ...base, batchSize: 14, dropLast: true }, { epochsDone: 3 })
  })
  test('mid-epoch: the resumed epoch record averages over the whole epoch', () => {
    const { resumed } = expectExactResume({ ...base, validation: 0.2 }, { step: 9 })
    expect(resumed.history.epochs[0]!.step).toBe(10)
  })
  test('a validation fraction (split after a shuffle) and evalBatchSize', () => {
    expectExactResume({ ...base, validation: 0.25, evalBatchSize: 7 }, { epochsDone: 1 })
  })
  test('a separate validation set', () => {
    const validation = Data.spirals(Key.fromSeed(7), { classes: 3, perClass: 10, noise: 0.1 })
    expectExactResume({ ...base, validation }, { epochsDone: 3 })
  })
  test('earlyStopping: the best value, best epoch and patience survive the checkpoint', () => {
    const run: Run = {
      ...base,
      optimizer: Optim.sgd({ lr: 0.9, momentum: 0.9 }),
      epochs: 30,
      validation: 0.3,
      earlyStopping: { monitor: 'valLoss', patience: 2 },
    }
    const { straight } = expectExactResume(run, { epochsDone: 2 })
    expect(straight.stoppedAt).toBeDefined()
    expect(straight.history.epochs.length).toBeGreaterThan(3)
  })
  test('earlyStopping without restoreBest, on the training accuracy with minDelta', () => {
    const run: Run = {
      ...base,
      optimizer: Optim.sgd({ lr: 0.9, momentum: 0.9 }),
      epochs: 30,
      earlyStopping: { monitor: 'accuracy', patience: 1, minDelta: 0.01, restoreBest: false },
    }
    const { straight } = expectExactResume(run, { epochsDone: 2 })
    expect(straight.stoppedAt).toBeDefined()
    expect(straight.history.epochs.length).toBeGreaterThan(3)
  })
  test('a callback that stops training', () => {
    const stopper: Train.Callbacks = { onEpochEnd: ({ record }) => (record.loss < 0.9 ? 'stop' : undefined) }
    const { straight } = expectExactResume({ ...base, epochs: 40, callbacks: stopper }, { epochsDone: 2 })
    expect(straight.stoppedAt).toBeDefined()
    expect(straight.history.epochs.length).toBeGreaterThan(2)
  })
  test('a learning-rate schedule (its position is the optimizer count) with adam', () => {
    const steps = 6 * Train.stepsPerEpoch({ data: spiral, batchSize: 16 })
    expectExactResume({ ...base, optimizer: Optim.adam({ lr: Schedule.cosineDecay({ init: 0.05, steps }) }) }, { epochsDone: 4 })
  })
  test('dropout and batch norm: the key and the running statistics', () => {
    const model = L.pipe(L.dense(12), L.batchNorm(), L.relu, L.dropout({ dropProb: 0.2 }), L.dense(3))
    expectExactResume({ ...base, model }, { epochsDone: 3 })
  })
})

describe("fit's state in the checkpoint", () => {
  const esRun: Run = {
    ...base,
    optimizer: Optim.sgd({ lr: 0.9, momentum: 0.9 }),
    epochs: 30,
    validation: 0.3,
    earlyStopping: { monitor: 'valLoss', patience: 2 },
  }
  test('round-trips through encode and parse bit for bit, best state included', () => {
    const text = killedAt(esRun, { epochsDone: 2 })
    const ck = right(IO.parseCheckpoint(text))
    const fs = ck.training?.fit
    expect(fs?.epoch).toBe(2)
    expect(fs?.seen).toBe(0)
    expect(fs?.best?.state).toBeDefined()
    // saving what was loaded gives the same text again
    expect(IO.encodeCheckpoint({ ...ck, training: ck.training })).toBe(text)
  })
  test('a checkpoint without training.fit (as saved before fit kept it) loads and resumes at the epoch its step lies in', () => {
    const text = killedAt(base, { epochsDone: 2 })
    const doc = JSON.parse(text) as { training: { fit?: unknown } }
    delete doc.training.fit
    const old = right(IO.decodeCheckpoint(doc))
    expect(old.training?.fit).toBeUndefined()
    const initial = right(IO.trainState(old, base.optimizer))
    const resumed = Train.fit({ ...base, model: old.model, initial })
    const straight = Train.fit(base)
    expect(identical(resumed.state.params, straight.state.params)).toBe(true)
    expect(resumed.history.epochs[0]!.epoch).toBe(3)
  })
  test('a state saved at the epoch early stopping stopped at resumes to the same end, without training on', () => {
    const straight = Train.fit(esRun)
    const stop = straight.stoppedAt!
    const resumed = resumeFrom(esRun, killedAt(esRun, { epochsDone: stop }))
    expect(resumed.stoppedAt).toBe(stop)
    expect(resumed.history.epochs).toHaveLength(0)
    expect(identical(resumed.state.params, straight.state.params)).toBe(true)
    expect(resumed.state.step).toBe(straight.state.step)
  })
  test("a state saved at the epoch a callback's 'stop' ended the run at resumes to the same end, without training on", () => {
    const stopper: Train.Callbacks = { onEpochEnd: ({ record }) => (record.loss < 0.9 ? 'stop' : undefined) }
    const run: Run = { ...base, epochs: 40, callbacks: stopper }
    const straight = Train.fit(run)
    const stop = straight.stoppedAt!
    expect(stop).toBeLessThan(40)
    expect(straight.state.fit?.stopped).toBe(true) // the returned state knows it stopped
    // the saver runs after the stopper, at the epoch it stopped: the state it saves records the stop
    const text = killedAt(run, { epochsDone: stop })
    expect(right(IO.parseCheckpoint(text)).training?.fit?.stopped).toBe(true)
    const resumed = resumeFrom(run, text)
    expect(resumed.stoppedAt).toBe(stop)
    expect(resumed.history.epochs).toHaveLength(0)
    expect(identical(resumed.state.params, straight.state.params)).toBe(true)
    expect(identical(resumed.state.optState, straight.state.optState)).toBe(true)
    expect(resumed.state.step).toBe(straight.state.step)
    // and so does a run resumed from the state fit returned
    const again = Train.fit({ ...run, initial: straight.state })
    expect(again.stoppedAt).toBe(stop)
    expect(again.history.epochs).toHaveLength(0)
  })
  test('a stop recorded anywhere but at the end of an epoch is refused before any step', () => {
    const ck = right(IO.parseCheckpoint(killedAt(base, { step: 9 })))
    const initial = right(IO.trainState(ck, base.optimizer))
    expect(() => Train.fit({ ...base, initial: { ...initial, fit: { ...initial.fit!, stopped: true } } })).toThrow(
      'fit: initial.fit.stopped says the run stopped at the end of epoch 1, but step 9 is not that epoch',
    )
  })
  test('resuming with another number of steps per epoch is a RangeError before any step', () => {
    const ck = right(IO.parseCheckpoint(killedAt(base, { epochsDone: 1 })))
    const initial = right(IO.trainState(ck, base.optimizer))
    expect(() => Train.fit({ ...base, batchSize: 10, initial })).toThrow(
      'fit: initial was trained with steps per epoch 6, this run has 9; resume with the data',
    )
    // 90 rows in batches of 15 or 16 are both 6 steps, but not the same batches
    expect(() => Train.fit({ ...base, batchSize: 15, initial })).toThrow('fit: initial was trained with batchSize 16, this run has 15')
    const fewer = { x: spiral.x, y: spiral.y }
    expect(() => Train.fit({ ...base, data: fewer, validation: 0.01, initial })).toThrow(
      'fit: initial was trained with training examples 90, this run has 89',
    )
  })
  test('a best state that does not fit the optimizer is refused by IO.trainState, naming the path', () => {
    const ck = right(IO.parseCheckpoint(killedAt(esRun, { epochsDone: 2 })))
    const fs = ck.training!.fit!
    const best = fs.best!
    const bad = { ...ck, training: { ...ck.training!, fit: { ...fs, best: { ...best, state: { ...best.state!, optState: [] } } } } }
    const e = IO.trainState(bad, esRun.optimizer)
    expect(E.isLeft(e) && e.left.path).toMatch(/^training\.fit\.best\.state\.optState/)
  })
})

test('fitAsync resumes as fit does: the same state and history after the interruption', async () => {
  const run: Run = { ...base, validation: 0.2, earlyStopping: { monitor: 'valLoss', patience: 1 }, epochs: 12 }
  const straight = Train.fit(run)
  const ck = right(IO.parseCheckpoint(killedAt(run, { epochsDone: 2 })))
  const initial = right(IO.trainState(ck, run.optimizer))
  const resumed = await Train.fitAsync({ ...run, model: ck.model, initial }, { yieldEveryMs: 0 })
  expect(identical(resumed.state.params, straight.state.params)).toBe(true)
  expect(resumed.stoppedAt).toBe(straight.stoppedAt)
  expect(withoutSeconds(resumed.history)).toEqual((withoutSeconds(straight.history) as unknown[]).slice(2))
})

test('a misspelt callback is an error, not a callback silently never called', () => {
  const misspelt = { onEpochEnds: () => 'stop' } as unknown as Train.Callbacks
  expect(() => Train.fit({ ...base, callbacks: [misspelt] })).toThrow(
    "fit: callbacks: unknown option 'onEpochEnds' (did you mean 'onEpochEnd'?); the options are onStart, onStep, onEpochEnd, onEnd",
  )
  const keras = { on_epoch_end: () => undefined } as unknown as Train.Callbacks
  expect(() => Train.fit({ ...base, callbacks: keras })).toThrow("fit: callbacks: unknown option 'on_epoch_end' (here onEpochEnd)")
})
