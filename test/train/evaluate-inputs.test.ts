/**
 * evaluate and predict refuse what would make their results meaningless, naming where: data with a NaN or ±Infinity
 * (a DataError, as Data.make's), params or state that are not finite, a state whose buffers a reusing step took, and a
 * model output that went non-finite from finite inputs (the first layer whose output did is named).
 */
import { describe, expect, test } from 'vitest'
import { Data, Key, L, Loss, Optim, T, Train, Tree } from '../../src/index.ts'

const model = L.pipe(L.dense(4), L.relu, L.dense(3), L.softmax)
const { params, state } = L.initialize(model, Key.fromSeed(1), [2])
const x = T.tensor([
  [0, 1],
  [1, 0],
  [1, 1],
])
const y = T.tensor([0, 1, 2])
const loss = Loss.crossEntropy()

/** params with one value replaced: leaf `leaf` of the tree, flat index `i`. */
const withValue = (leaf: number, i: number, v: number): typeof params => {
  let k = 0
  return Tree.map(params, (t) => {
    if (k++ !== leaf) return t
    const data = Float64Array.from(t.data)
    data[i] = v
    return T.fromData(t.shape, data)
  })
}

describe('evaluate and predict check their inputs', () => {
  test('the healthy case runs', () => {
    expect(Train.evaluate(model, params, state, { x, y }, { loss }).count).toBe(3)
    expect(Train.predict(model, params, state, x).shape).toEqual([3, 3])
  })
  test('a NaN in x is a DataError naming the index and the example', () => {
    const bad = T.tensor([
      [0, 1],
      [1, NaN],
      [1, 1],
    ])
    expect(() => Train.evaluate(model, params, state, { x: bad, y }, { loss })).toThrow(
      new Data.DataError('evaluate: x[1, 1] is NaN (example 1); data must be finite'),
    )
    expect(() => Train.predict(model, params, state, bad)).toThrow(
      new Data.DataError('predict: x[1, 1] is NaN (example 1); data must be finite'),
    )
  })
  test('x and y with different numbers of rows', () =>
    expect(() => Train.evaluate(model, params, state, { x, y: T.tensor([0, 1]) }, { loss })).toThrow(
      'evaluate: x has 3 rows (shape [3, 2]) but y has 2 (shape [2]); they must match',
    ))
  test('a NaN or Infinity in the params is named by its path', () => {
    expect(() => Train.evaluate(model, withValue(0, 5, NaN), state, { x, y }, { loss })).toThrow(
      "evaluate: params[0].W[1, 1] = NaN: a model's params and state must be finite",
    )
    expect(() => Train.predict(model, withValue(1, 2, Infinity), state, x)).toThrow('predict: params[0].b[2] = Infinity')
  })
  test('an output that overflows from finite inputs names the layer whose output did and the example', () => {
    const big = T.tensor([
      [0, 1],
      [1e308, 1e308],
      [1, 1],
    ])
    const wide = L.pipe(L.dense(4), L.dense(3))
    const init = L.initialize(wide, Key.fromSeed(2), [2])
    const p = Tree.map(init.params, (t) =>
      T.fromData(
        t.shape,
        t.data.map(() => 10),
      ),
    )
    expect(() => Train.predict(wide, p, init.state, big)).toThrow(
      "predict: the model's output for example 1 is not finite, from finite inputs and params: the forward pass of pipe[0].dense gave y[1, 0] = Infinity",
    )
    expect(() =>
      Train.evaluate(
        wide,
        p,
        init.state,
        {
          x: big,
          y: T.tensor([
            [0, 0, 0],
            [0, 0, 0],
            [0, 0, 0],
          ]),
        },
        { loss: Loss.mse },
      ),
    ).toThrow("evaluate: the model's output for example 1 is not finite")
  })
  test('params that are not a tree of tensors: a TreeError naming predict or evaluate and the params', () => {
    const holed = [params[0], null, params[2], params[3]] as unknown as typeof params
    expect(() => Train.predict(model, holed, state, x)).toThrow(
      new Tree.TreeError('predict: params is not a tree of tensors: Tree.map: object null at [1] is not a tree'),
    )
    expect(() => Train.evaluate(model, holed, state, { x, y }, { loss })).toThrow(/^evaluate: params is not a tree of tensors/)
  })
  test('a state whose buffers a reusing step took is a StaleStateError, not a low-level RangeError', () => {
    // Big enough leaves (64×64 W) that the reusing step takes their buffers.
    const wide = L.pipe(L.dense(64), L.relu, L.dense(3), L.softmax)
    const xs = T.generate([3, 64], (i) => Math.sin(i))
    const sgd = Optim.sgd({ lr: 0.1 })
    const step = Train.trainStep(wide, loss, sgd, { reuseBuffers: true })
    const s0 = Train.initState(wide, sgd, Key.fromSeed(3), [64])
    const s1 = step(s0, { x: xs, y })[0]
    const s2 = step(s1, { x: xs, y })[0]
    step(s2, { x: xs, y })
    expect(() => Train.predict(wide, s1.params, s1.state, xs)).toThrow(Train.StaleStateError)
    expect(() => Train.predict(wide, s1.params, s1.state, xs)).toThrow(/^predict: params\[0\]\.W holds 0 values .* Train\.copyState/)
    expect(() => Train.evaluate(wide, s1.params, s1.state, { x: xs, y }, { loss })).toThrow(/^evaluate: params\[0\]\.W holds 0 values/)
  })
})

describe("a state no run makes: batchNorm's running variance below 0 (edited by hand, or corrupted)", () => {
  const ctx = { mode: 'train' as const, key: Key.fromSeed(0) }
  const xs = T.generate([6, 2], (i) => Math.sin(i + 1))
  /** The state of `net` (one training-mode forward pass in, so its running statistics are its own) with `edit` applied. */
  const stateOf = (net: L.AnyLayer, edit: (v: Float64Array) => void) => {
    const init = L.initialize(net, Key.fromSeed(4), [2])
    const trained = net.forward(init.params, init.state, xs, ctx).state
    return {
      params: init.params,
      state: Tree.map(trained, (t, path) => {
        if (!path.endsWith('variance')) return t
        const data = Float64Array.from(t.data)
        edit(data)
        return T.fromData(t.shape, data)
      }),
    }
  }
  const bnNet = L.pipe(L.dense(3), L.batchNorm(), L.relu, L.dense(2))
  const labels = T.tensor([0, 1, 0, 1, 0, 1])

  test('predict and evaluate refuse it before running the model, naming the leaf, its value and the layer', () => {
    const { params, state } = stateOf(bnNet, (v) => (v[1] = -2))
    const why = 'pipe[1].batchNorm: a running variance is a mean of squares, never negative'
    expect(() => Train.predict(bnNet, params, state, xs)).toThrow(RangeError)
    expect(() => Train.predict(bnNet, params, state, xs)).toThrow(`predict: state[1].variance[1] = -2, in the state of ${why}`)
    expect(() => Train.evaluate(bnNet, params, state, { x: xs, y: labels }, { loss: Loss.softmaxCrossEntropy })).toThrow(
      `evaluate: state[1].variance[1] = -2, in the state of ${why}`,
    )
    // it is not blamed on an overflow
    expect(() => Train.predict(bnNet, params, state, xs)).not.toThrow(/past the range/)
  })
  test('a variance just below 0, which √(v + ε) would take without a NaN (a quietly wrong output), is refused too', () => {
    const { params, state } = stateOf(bnNet, (v) => (v[0] = -1e-7))
    expect(() => Train.predict(bnNet, params, state, xs)).toThrow(
      'predict: state[1].variance[0] = -1e-7, in the state of pipe[1].batchNorm',
    )
  })
  test('inside a residual, a branches and a bare batchNorm, the path runs the whole way down', () => {
    const inResidual = L.pipe(L.dense(2), L.residual(L.batchNorm()))
    const a = stateOf(inResidual, (v) => (v[0] = -1))
    expect(() => Train.predict(inResidual, a.params, a.state, xs)).toThrow(
      'predict: state[1].variance[0] = -1, in the state of pipe[1].residual.batchNorm:',
    )
    const inBranches = L.branches('concat', L.identity, L.batchNorm())
    const b = stateOf(inBranches, (v) => (v[1] = -1))
    expect(() => Train.predict(inBranches, b.params, b.state, xs)).toThrow(
      'predict: state[1].variance[1] = -1, in the state of branches[1].batchNorm:',
    )
    const bare = L.batchNorm()
    const c = stateOf(bare, (v) => (v[0] = -1))
    expect(() => Train.predict(bare, c.params, c.state, xs)).toThrow('predict: state.variance[0] = -1, in the state of batchNorm:')
  })
  test('the state fit trains is accepted; a variance of exactly 0 too', () => {
    const data = Data.make(xs, labels)
    const { state: trained } = Train.fit({
      model: bnNet,
      loss: Loss.softmaxCrossEntropy,
      optimizer: Optim.sgd({ lr: 0.1 }),
      data,
      epochs: 2,
      batchSize: 3,
      key: Key.fromSeed(5),
    })
    expect(Train.predict(bnNet, trained.params, trained.state, xs).shape).toEqual([6, 2])
    const { params, state } = stateOf(bnNet, (v) => (v[2] = 0))
    expect(Train.predict(bnNet, params, state, xs).shape).toEqual([6, 2])
  })
})

describe('a non-finite output from finite inputs says NaN or ±Infinity honestly', () => {
  const line = L.dense(1, { bias: false })
  const x = T.tensor([[1e308, 1e308]])
  const run = (w: readonly number[]) => () => Train.predict(line, { W: T.tensor(w.map((v) => [v])) }, L.none, x)
  test('∞ − ∞ is a NaN of an undefined operation, not an overflow', () => {
    expect(run([10, -10])).toThrow(
      "predict: the model's output for example 0 is not finite, from finite inputs and params: the forward pass of dense gave " +
        'y[0, 0] = NaN (NaN comes of an undefined operation: 0/0, ∞ − ∞, 0·∞, or the square root of a negative number)',
    )
  })
  test('a sum past the largest float64 is an overflow', () => {
    expect(run([10, 10])).toThrow('the forward pass of dense gave y[0, 0] = Infinity (a value past the range of its dtype: an overflow)')
  })
})

describe('evaluate and predict check params and state against the model', () => {
  const small = L.pipe(L.dense(4), L.relu, L.dense(3))
  const message = (f: () => unknown): { name: string; message: string } => {
    try {
      f()
    } catch (e) {
      return { name: (e as Error).name, message: (e as Error).message }
    }
    return { name: 'none', message: 'no error' }
  }
  test('params of another structure: a TreeError naming the place, before anything runs (was a TypeError inside a layer)', () => {
    const other = L.initialize(L.pipe(L.dense(4), L.dense(3)), Key.fromSeed(1), [2])
    for (const f of [
      () => Train.predict(small, other.params as never, other.state as never, x),
      () => Train.evaluate(small, other.params as never, other.state as never, { x, y }, { loss: Loss.softmaxCrossEntropy }),
    ]) {
      const e = message(f)
      expect(e.name).toBe('TreeError')
      expect(e.message).toMatch(/^(predict|evaluate): params do not match the model at root: an array of 3 vs an array of 2 /)
    }
  })
  test("a state of other shapes (batchNorm's statistics of another width): a TreeError naming the leaf", () => {
    const bn = L.pipe(L.dense(4), L.batchNorm())
    const ok = L.initialize(bn, Key.fromSeed(1), [2])
    const wide = [[], { mean: T.zeros([5]), variance: T.ones([5]) }] as const
    const e = message(() => Train.predict(bn, ok.params, wide, x))
    expect(e).toEqual({
      name: 'TreeError',
      message:
        "predict: state does not match the model at [1].mean: shape [4] vs [5] (the model's vs the state given): " +
        'pass the state that L.initialize, fit or a checkpoint made for this model',
    })
    expect(message(() => Train.predict(bn, ok.params, ok.state, x)).name).toBe('none')
  })
  test('params of a wider model in a narrower one are named by the layer they do not fit (its outputs used to come out wider)', () => {
    const wide = L.initialize(L.pipe(L.dense(4), L.relu, L.dense(5)), Key.fromSeed(1), [2])
    const e = message(() => Train.evaluate(small, wide.params, wide.state, { x, y }, { loss: Loss.softmaxCrossEntropy }))
    expect(e.name).toBe('ShapeError')
    expect(e.message).toBe('pipe[2].dense: param W has shape [4, 5], but this dense has 3 units: W is [features, 3]')
  })
  test('x of another width with the right params is still named as the input it is, not as the params', () => {
    const ok = L.initialize(small, Key.fromSeed(1), [2])
    const e = message(() => Train.predict(small, ok.params, ok.state, T.ones([3, 5])))
    expect(e).toEqual({ name: 'ShapeError', message: 'pipe[0].dense: input shape: expected [N, 2], got [3, 5]' })
  })
})
