import { describe, expect, test } from 'vitest'
import { Data, Key, L, Loss, Optim, T, Train, Tree, type Tensor } from '../src/index.ts'
import * as IO from '../src/io/index.ts'
import { Compare } from '../laws/index.ts'

const spiral = Data.spirals(Key.fromSeed(1), { classes: 3, perClass: 40, noise: 0.1 })
const allFinite = (tree: Tree.Tree): boolean => Tree.leaves(tree).every((t) => T.allFinite(t))

/** Runs f and returns the NonFiniteError it throws. */
const nonFinite = (f: () => unknown): Train.NonFiniteError => {
  try {
    f()
  } catch (e) {
    if (e instanceof Train.NonFiniteError) return e
    throw e
  }
  throw new Error('expected a NonFiniteError, but training finished')
}

/** log(x): NaN for negative inputs, a custom layer that emits NaN once its input goes below 0. */
const log = L.define({
  name: 'log',
  forward: (_p, x: Tensor) => ({ y: T.map(Math.log)(x), tape: x }),
  vjp: (_p, x, dy) => ({ dx: T.zipWith((v, d) => d / v, x, dy), dp: L.none }),
})

describe('NaN provenance: training stops naming the step and the first layer that went non-finite', () => {
  test('a planted divergence (huge learning rate): the first dense layer whose output overflowed, forward', () => {
    const model = L.pipe(L.dense(16), L.leakyRelu(0.1), L.dense(16), L.leakyRelu(0.1), L.dense(3))
    const e = nonFinite(() =>
      Train.fit({
        model,
        loss: Loss.softmaxCrossEntropy,
        optimizer: Optim.sgd({ lr: 1e3 }),
        data: spiral,
        epochs: 50,
        batchSize: 16,
        key: Key.fromSeed(5),
      }),
    )
    expect(e.step).toBeGreaterThan(0)
    expect(e.stage).toBe('forward')
    expect(e.layerPath).toMatch(/^pipe\[[024]\]\.dense$/)
    expect(e.detail).toMatch(/^output y\[\d+, \d+\] = (NaN|-?Infinity) from a finite input \(max \|x\| = .*, max \|param\| = .*\)$/)
    expect(e.message).toContain(`(step ${e.step + 1} overall): training stopped: `)
    expect(e.message).toContain(`the forward pass of ${e.layerPath} gave`)
    // nothing is lost: the last finite state is the one before the failing step
    expect(e.lastFinite.step).toBe(e.step)
    expect(allFinite(e.lastFinite.params)).toBe(true)
    expect(allFinite(e.lastFinite.optState)).toBe(true)
  })
  test('the last finite state is whole: it saves as a training checkpoint', () => {
    const model = L.pipe(L.dense(16), L.leakyRelu(0.1), L.dense(3))
    const e = nonFinite(() =>
      Train.fit({
        model,
        loss: Loss.softmaxCrossEntropy,
        optimizer: Optim.sgd({ lr: 1e4 }),
        data: spiral,
        epochs: 50,
        batchSize: 16,
        key: Key.fromSeed(5),
      }),
    )
    const text = IO.encodeCheckpoint(IO.trainingCheckpoint({ model, inShape: [2], state: e.lastFinite }))
    expect(text).toContain('"format": "chainrule-checkpoint"')
  })
  test('a custom layer that emits NaN, deep inside a residual: named by its full path', () => {
    // log of the dense layer's output: NaN wherever that output is negative
    const model = L.pipe(L.dense(4), L.residual(L.pipe(L.dense(4), log)), L.dense(3))
    const e = nonFinite(() =>
      Train.fit({
        model,
        loss: Loss.softmaxCrossEntropy,
        optimizer: Optim.sgd({ lr: 0.1 }),
        data: spiral,
        epochs: 5,
        batchSize: 16,
        key: Key.fromSeed(5),
      }),
    )
    expect(e.step).toBe(0)
    expect(e.what).toBe('loss')
    expect(e.stage).toBe('forward')
    expect(e.layerPath).toBe('pipe[1].residual.pipe[1].log')
    expect(e.detail).toMatch(/^output y\[\d+, \d+\] = NaN from a finite input \(max \|x\| = [\d.e+-]+\)$/)
  })
  test('a NaN that is not the first value of its max-pooling window still stops training, naming the layer that made it', () => {
    // On a [1, 1, 2, 2] image [[1, 2], [3, -4]], log gives NaN only at the last tap of the 2x2
    // window, next to larger values: a max-pool that skipped it would hide it, and the loss would stay finite.
    const model = L.pipe(log, L.maxPool2d(2), L.flatten, L.dense(2))
    const opt = Optim.sgd({ lr: 0.1 })
    const ts = Train.initState(model, opt, Key.fromSeed(0), [1, 2, 2])
    const x = T.tensor([
      [
        [
          [1, 2],
          [3, -4],
        ],
      ],
    ])
    const e = nonFinite(() => Train.trainStep(model, Loss.softmaxCrossEntropy, opt)(ts, { x, y: T.tensor([1]) }))
    expect(e.what).toBe('loss')
    expect(e.stage).toBe('forward')
    expect(e.layerPath).toBe('pipe[0].log')
  })
  test('a custom layer whose vjp emits NaN: the backward stage and that layer', () => {
    const badVjp = L.define({
      name: 'badVjp',
      forward: (_p, x) => ({ y: x, tape: null }),
      vjp: (_p, _t, dy) => ({ dx: T.map((v) => v * NaN)(dy), dp: L.none }),
    })
    const model = L.pipe(L.dense(4), L.relu, badVjp, L.dense(3))
    const e = nonFinite(() =>
      Train.fit({
        model,
        loss: Loss.softmaxCrossEntropy,
        optimizer: Optim.sgd({ lr: 0.1 }),
        data: spiral,
        epochs: 1,
        batchSize: 16,
        key: Key.fromSeed(5),
      }),
    )
    expect(e.step).toBe(0)
    expect(e.what).toBe('gradient at params [0].W')
    expect(e.stage).toBe('backward')
    expect(e.layerPath).toBe('pipe[2].badVjp')
    expect(e.detail).toBe('dx[0, 0] = NaN')
    expect(e.message).toContain('the backward pass (vjp) of pipe[2].badVjp gave dx[0, 0] = NaN')
  })
  test('an optimizer update that overflows finite params: the update stage and the layer owning the param', () => {
    const model = L.pipe(L.relu, L.dense(4), L.relu, L.dense(3))
    // an update that multiplies finite gradients by 1e600: every non-zero one becomes ±Infinity
    const blowUp: Optim.GradientTransformation<readonly []> = {
      init: () => [],
      update: (g, s) => [Tree.map(g, (x) => T.map((v) => v * 1e300 * 1e300)(x)), s],
    }
    const e = nonFinite(() =>
      Train.fit({ model, loss: Loss.softmaxCrossEntropy, optimizer: blowUp, data: spiral, epochs: 1, batchSize: 16, key: Key.fromSeed(5) }),
    )
    expect(e.step).toBe(0)
    expect(e.what).toBe('params at [1].W')
    expect(e.stage).toBe('update')
    expect(e.layerPath).toBe('pipe[1].dense')
    expect(e.detail).toMatch(/^the optimizer update made its param W\[\d+, \d+\] = -?Infinity non-finite from finite gradients/)
  })
  test('a non-finite input batch given straight to trainStep: the input stage, no layer', () => {
    const model = L.pipe(L.dense(4), L.dense(3))
    const opt = Optim.sgd({ lr: 0.1 })
    const ts = Train.initState(model, opt, Key.fromSeed(0), [2])
    const x = T.tensor([
      [1, 2],
      [3, NaN],
    ])
    const e = nonFinite(() => Train.trainStep(model, Loss.softmaxCrossEntropy, opt)(ts, { x, y: T.tensor([0, 1]) }))
    expect(e.stage).toBe('input')
    expect(e.layerPath).toBeUndefined()
    expect(e.detail).toBe('the input batch has x[1, 1] = NaN')
  })
  test('a loss that returns NaN on finite predictions: the loss stage', () => {
    const model = L.pipe(L.dense(3))
    const opt = Optim.sgd({ lr: 0.1 })
    const ts = Train.initState(model, opt, Key.fromSeed(0), [2])
    const nanLoss: Loss.Loss = (pred) => ({ value: NaN, grad: T.zeros(pred.shape) })
    const e = nonFinite(() => Train.trainStep(model, nanLoss, opt)(ts, { x: T.tensor([[1, 2]]), y: T.tensor([0]) }))
    expect(e.what).toBe('loss')
    expect(e.stage).toBe('loss')
    expect(e.layerPath).toBeUndefined()
  })
  test('a layer whose state goes non-finite (its output finite): the layer and the state path', () => {
    // a running maximum kept in state, which a planted bug turns into NaN on the first train step
    const runningMax: L.Layer<L.None, Tensor, null> = {
      name: 'runningMax',
      spec: { kind: 'runningMax' },
      init: (_key, inShape) => ({ outShape: inShape, params: L.none, state: T.scalar(0) }),
      forward: (_p, _s, x) => ({ y: x, state: T.scalar(NaN), tape: null }),
      vjp: (_p, _t, dy) => ({ dx: dy, dp: L.none }),
    }
    const model = L.pipe(L.dense(3), runningMax)
    const e = nonFinite(() =>
      Train.fit({
        model,
        loss: Loss.softmaxCrossEntropy,
        optimizer: Optim.sgd({ lr: 0.1 }),
        data: spiral,
        epochs: 1,
        batchSize: 16,
        key: Key.fromSeed(5),
      }),
    )
    expect(e.what).toBe('layer state at [1]')
    expect(e.stage).toBe('forward')
    expect(e.layerPath).toBe('pipe[1].runningMax')
    expect(e.detail).toMatch(/^state\[\] = NaN/)
  })
  test('instrumenting a network changes nothing it computes', () => {
    const model = L.pipe(L.dense(5), L.branches('concat', L.relu, L.residual(L.dense(5))), L.dropout({ dropProb: 0.5 }), L.dense(2))
    const p = L.initialize(model, Key.fromSeed(0), [3])
    const seen: string[] = []
    const traced = Train.instrument(model, { forward: (site, _p, _x, run) => (seen.push(site.path), run()) })
    const x = Key.normal(Key.fromSeed(1), [4, 3])
    const ctx = { mode: 'train' as const, key: Key.fromSeed(2) }
    const a = model.forward(p.params, p.state, x, ctx)
    const b = traced.forward(p.params, p.state, x, ctx)
    expect(Compare.tensorsIdentical('y', a.y, b.y).holds).toBe(true)
    const dy = Key.normal(Key.fromSeed(3), a.y.shape)
    expect(Compare.treesIdentical('dp', model.vjp(p.params, a.tape, dy).dp, traced.vjp(p.params, b.tape, dy).dp).holds).toBe(true)
    // pre-order: each node as it is entered
    expect(seen).toEqual([
      'pipe',
      'pipe[0].dense',
      'pipe[1].branches',
      'pipe[1].branches[0].relu',
      'pipe[1].branches[1].residual',
      'pipe[1].branches[1].residual.dense',
      'pipe[2].dropout',
      'pipe[3].dense',
    ])
  })
})
