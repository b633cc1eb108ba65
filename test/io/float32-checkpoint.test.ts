/**
 * Checkpoints of float32 models: the float32 bytes stored as they are (4 a value, never widened),
 * the dtype recorded per tensor and checked on load (a model's params and state hold one dtype;
 * an optimizer state is in its params' dtype; a caller may ask for a dtype), and a float32
 * training run saved, loaded and resumed equals the run that never stopped, bit for bit.
 */
import * as E from 'fp-ts/Either'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { Compare } from '../../laws/index.ts'
import { Data, Key, L, Loss, Optim, T, Train, Tree } from '../../src/index.ts'
import * as IO from '../../src/io/index.ts'
import { loadCheckpoint, saveModel } from '../../src/node/index.ts'

const right = <A>(r: E.Either<IO.IoError, A>): A => {
  if (E.isLeft(r)) throw r.left
  return r.right
}
const left = <A>(r: E.Either<IO.IoError, A>): IO.IoError => {
  if (E.isRight(r)) throw new Error('expected a Left, got a Right')
  return r.left
}
const identical = (a: Tree.Tree, b: Tree.Tree): boolean => Compare.treesIdentical('tree', a, b).holds
const dtypes = (t: Tree.Tree): string[] => Tree.leaves(t).map(T.dtypeOf)

const spiral = Data.spirals(Key.fromSeed(3), { perClass: 40 })
const model = L.pipe(L.dense(8), L.batchNorm(), L.tanh, L.dense(3))
const init32 = L.initialize(model, Key.fromSeed(0), [2], { dtype: 'float32' })

describe('a float32 model saves and loads exactly', () => {
  test('IO.encode/parseCheckpoint: float32 params and batch-norm state come back float32, bit for bit, predicting the same', () => {
    const text = IO.encodeCheckpoint(IO.modelCheckpoint(model, [2], init32.params, init32.state))
    const doc = JSON.parse(text)
    expect(doc.version).toBe(1)
    expect(doc.params[0].W.dtype).toBe('float32')
    expect(Buffer.from(doc.params[0].W.data, 'base64')).toHaveLength(4 * 2 * 8) // 4 bytes a value, not widened to 8
    const ck = right(IO.parseCheckpoint(text))
    expect(new Set([...dtypes(ck.params), ...dtypes(ck.state)])).toEqual(new Set(['float32']))
    expect(identical(ck.params, init32.params)).toBe(true)
    expect(identical(ck.state, init32.state)).toBe(true)
    expect(IO.encodeCheckpoint(IO.modelCheckpoint(ck.model, [2], ck.params, ck.state))).toBe(text)
  })

  test('a trained float32 MLP reloads to the same predictions, bit for bit', () => {
    const mlp = L.pipe(L.dense(8), L.tanh, L.dense(3))
    const { state } = Train.fit({
      ...{ model: mlp, loss: Loss.softmaxCrossEntropy, optimizer: Optim.adam({ lr: 0.01 }), data: spiral },
      ...{ epochs: 2, batchSize: 16, key: Key.fromSeed(1), dtype: 'float32' },
    })
    const ck = right(IO.parseCheckpoint(IO.encodeCheckpoint(IO.modelCheckpoint(mlp, [2], state.params, state.state))))
    const before = Train.predict(mlp, state.params, state.state, spiral.x)
    const after = Train.predict(ck.model, ck.params, ck.state, spiral.x)
    expect(after.data).toBeInstanceOf(Float32Array)
    expect(identical(after, before)).toBe(true)
  })

  test("chainrule/node's saveModel and loadCheckpoint keep float32; { dtype } asks for one", () => {
    const dir = mkdtempSync(join(tmpdir(), 'chainrule-f32-'))
    try {
      const path = join(dir, 'model.json')
      saveModel(path, { model, inShape: [2], params: init32.params, state: init32.state, metadata: { dtype: 'float32' } })
      expect(readFileSync(path, 'utf8')).toContain('"dtype": "float32"')
      const ck = right(loadCheckpoint(path, { dtype: 'float32' }))
      expect(identical(ck.params, init32.params)).toBe(true)
      const e = left(loadCheckpoint(path, { dtype: 'float64' }))
      expect(e.kind).toBe('dtype-mismatch')
      expect(e.message).toMatch(
        /^params: the checkpoint holds float32 params, but float64 was asked for; .*Tree\.castTree\(params, 'float64'\) \(exact\)/,
      )
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('old float64 checkpoints load unchanged, and a float64 model saves the same text as before float32 existed', () => {
    const init64 = L.initialize(model, Key.fromSeed(0), [2])
    const text = IO.encodeCheckpoint(IO.modelCheckpoint(model, [2], init64.params, init64.state))
    expect(text).not.toContain('float32')
    expect((text.match(/"dtype": "float64"/g) ?? []).length).toBe(Tree.leaves(init64.params).length + Tree.leaves(init64.state).length)
    const ck = right(IO.parseCheckpoint(text, { dtype: 'float64' }))
    expect(identical(ck.params, init64.params)).toBe(true)
    expect(left(IO.parseCheckpoint(text, { dtype: 'float32' })).message).toMatch(/holds float64 params, but float32 was asked for/)
  })
})

describe('the dtype is checked on save and load', () => {
  test('float32 params with float64 state: a dtype-mismatch naming both, when saving and when loading', () => {
    const state64 = Tree.castTree(init32.state, 'float64')
    expect(() => IO.encodeCheckpoint(IO.modelCheckpoint(model, [2], init32.params, state64))).toThrow(
      /^state\[1\]\.mean: a float64 tensor, but params\[0\]\.W is float32/,
    )
    const doc = JSON.parse(IO.encodeCheckpoint(IO.modelCheckpoint(model, [2], init32.params, init32.state)))
    doc.params[3].b = IO.encodeTensor(T.zeros([3]))
    const e = left(IO.decodeCheckpoint(doc))
    expect(e.kind).toBe('dtype-mismatch')
    expect(e.message).toBe(
      "params[3].b: a float64 tensor, but params[0].W is float32: a model's params and state (and its optimizer's moments) hold one dtype",
    )
  })

  test('a float32 tensor relabelled float64 (or the reverse) is a wrong length counted in its own bytes', () => {
    const doc = JSON.parse(IO.encodeCheckpoint(IO.modelCheckpoint(model, [2], init32.params, init32.state)))
    doc.params[0].W.dtype = 'float64'
    expect(left(IO.decodeCheckpoint(doc)).message).toBe('params[0].W: expected 16 values (128 bytes) for shape [2, 8], got 8 (64 bytes)')
    doc.params[0].W = { ...IO.encodeTensor(T.zeros([2, 8])), dtype: 'float32' }
    expect(left(IO.decodeCheckpoint(doc)).message).toBe(
      'params[0].W: expected 16 float32 values (64 bytes) for shape [2, 8], got 32 (128 bytes)',
    )
  })
})

describe('a float32 training run resumes bit for bit', () => {
  const cases = [
    ['sgd', Optim.sgd({ lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3 })],
    ['adam', Optim.adam({ lr: 0.01 })],
    ['adamw', Optim.adamw({ lr: 0.01, weightDecay: 1e-3 })],
    ['nadam', Optim.nadam({ lr: 0.01 })],
    ['amsgrad', Optim.amsgrad({ lr: 0.01 })],
    ['adamax', Optim.adamax({ lr: 0.01 })],
    ['rmsprop', Optim.rmsprop({ lr: 0.01, momentum: 0.5 })],
    ['adagrad', Optim.adagrad({ lr: 0.05, initialAccumulator: 0.1 })],
  ] as const
  test.each(cases)('%s: stop mid-epoch, save, load, resume with fit = a float32 run that never stopped', (_name, optimizer) => {
    const net = L.pipe(L.dense(12), L.relu, L.dense(3))
    const base = { model: net, loss: Loss.softmaxCrossEntropy, optimizer, data: spiral, batchSize: 16, dtype: 'float32' as const }
    const runKey = Key.fromSeed(7)
    const straight = Train.fit({ ...base, epochs: 4, key: runKey })
    expect(dtypes(straight.state.params)).toEqual(['float32', 'float32', 'float32', 'float32'])
    let mid: Train.TrainState | undefined
    Train.fit({ ...base, epochs: 2, key: runKey, callbacks: { onStep: ({ step, state }) => (step === 9 ? (mid = state) : undefined) } })
    if (mid === undefined) throw new Error('no state at step 9')
    const ck = right(IO.parseCheckpoint(IO.encodeCheckpoint(IO.trainingCheckpoint({ model: net, inShape: [2], state: mid, runKey }))))
    const initial = right(IO.trainState(ck, optimizer))
    expect(identical(initial.optState, mid.optState)).toBe(true)
    const { dtype: _, ...rest } = base
    const resumed = Train.fit({ ...rest, model: ck.model, epochs: 4, key: runKey, initial }) // the params' dtype, float32
    expect(resumed.state.step).toBe(straight.state.step)
    expect(identical(resumed.state.params, straight.state.params)).toBe(true)
    expect(identical(resumed.state.optState, straight.state.optState)).toBe(true)
  })

  test('resuming float32 params with a float64 optimizer state, or in a float64 model, is an error naming both dtypes', () => {
    const net = L.pipe(L.dense(4), L.relu, L.dense(3))
    const optimizer = Optim.adam({ lr: 0.01 })
    const ts = Train.initState(net, optimizer, Key.fromSeed(1), [2], { dtype: 'float32' })
    const text = IO.encodeCheckpoint(IO.trainingCheckpoint({ model: net, inShape: [2], state: { ...ts, step: 3 } }))
    const doc = JSON.parse(text)
    doc.training.optState[0].mu[0].W = IO.encodeTensor(T.zeros([2, 4]))
    const e = left(IO.trainState(right(IO.decodeCheckpoint(doc)), optimizer))
    expect(e.kind).toBe('dtype-mismatch')
    expect(e.message).toMatch(
      /^training\.optState\[0\]\.mu\[0\]\.W: float64 in the checkpoint, but the optimizer given makes float32 \(the params are float32\)/,
    )
    const initial = right(IO.trainState(right(IO.parseCheckpoint(text)), optimizer))
    const run = {
      model: net,
      loss: Loss.softmaxCrossEntropy,
      optimizer,
      data: spiral,
      batchSize: 16,
      epochs: 1,
      key: Key.fromSeed(2),
      initial,
    }
    expect(() => Train.fit({ ...run, dtype: 'float64' })).toThrow(
      "fit: initial.params[0].W is float32, but this run's model is float64 (dtype: 'float64'); resume in the dtype the state was " +
        'trained in',
    )
    const mixed = { ...initial, optState: Tree.castTree(initial.optState, 'float64') }
    expect(() => Train.fit({ ...run, initial: mixed })).toThrow(
      "fit: initial.optState[0].mu[0].W is float64, but this run's model is float32 (the dtype of initial.params)",
    )
    // Early stopping's best state too: a run that restores it would train on in its dtype.
    const es = { monitor: 'loss', patience: 2 } as const
    const { state: withBest } = Train.fit({ ...run, initial: undefined, dtype: 'float32', earlyStopping: es })
    const best = withBest.fit!.best!.state!
    const edited = {
      ...withBest,
      fit: { ...withBest.fit!, best: { ...withBest.fit!.best!, state: { ...best, params: Tree.castTree(best.params, 'float64') } } },
    }
    expect(() => Train.fit({ ...run, epochs: 2, earlyStopping: es, initial: edited })).toThrow(
      "fit: initial.fit.best.state.params[0].W is float64, but this run's model is float32 (the dtype of initial.params)",
    )
  })
})
