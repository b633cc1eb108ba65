/**
 * What the dtype types of test/types/dtype.ts claim, held to what runs: a tree typed `Tree.Float32<P>`
 * holds Float32Arrays in P's structure; `L.asDType(layer, 'float32')` gives Tensor32 results and
 * float32 cotangents; an optimizer state keeps its own types (float32 moments are `Tree`, counts
 * float64 `Tensor`); trainStep, fit and predict give their results in the params' dtype; batches
 * asked for in float32 hold float32, and a float32 loop written by hand (Loss.asDType) is trainStep.
 */
import { describe, expect, test } from 'vitest'
import { Data, Key, L, Loss, Optim, T, Train, Tree, type DType, type Shape } from 'chainrule'

const key = Key.fromSeed(5)
const ctx = { mode: 'train' as const, key }
/** The classes of a tree's leaves' data, e.g. ['Float32Array']. */
const classes = (t: Tree.Tree): string[] => [...new Set(Tree.leaves(t).map((l) => l.data.constructor.name))]
const arrayOf: Record<DType, string> = { float64: 'Float64Array', float32: 'Float32Array' }

const mlp = L.pipe(L.flatten, L.dense(5), L.relu, L.dense(3))
const cnn = L.pipe(
  L.conv2d(2, 3, { padding: 'same' }),
  L.relu,
  L.maxPool2d(2),
  L.residual(L.pipe(L.conv2d(2, 3, { padding: 'same' }), L.relu)),
  L.flatten,
  L.branches('concat', L.dense(3), L.pipe(L.dense(2), L.tanh)),
)
const cases: readonly (readonly [string, L.AnyLayer, Shape])[] = [
  ['an MLP', mlp, [1, 2, 2]],
  ['a CNN with a residual block and branches', cnn, [1, 4, 4]],
]

describe('a model typed in a dtype holds that dtype', () => {
  test.each(cases)(
    '%s: initialize, then asDType forward and vjp, give leaves and results in the dtype asked for',
    (_name, model, inShape) => {
      for (const dtype of ['float64', 'float32'] as const) {
        const { params, state, outShape } = L.initialize(model, key, inShape, { dtype })
        expect(classes(params)).toEqual([arrayOf[dtype]])
        const net = L.asDType(model, dtype)
        expect(net).toBe(model) // a view: the same record
        const x = T.cast(
          T.generate([2, ...inShape], (i) => Math.sin(i)),
          dtype,
        )
        const r = net.forward(params, state, x, ctx)
        expect(r.y.data).toBeInstanceOf(dtype === 'float32' ? Float32Array : Float64Array)
        expect(r.y.shape).toEqual([2, ...outShape])
        const { dx, dp } = net.vjp(params, r.tape, T.cast(T.ones(r.y.shape), dtype))
        expect(dx.data).toBeInstanceOf(dtype === 'float32' ? Float32Array : Float64Array)
        expect(Tree.structureDiff(dp, params)).toBeUndefined()
        expect(classes(dp)).toEqual([arrayOf[dtype]])
      }
    },
  )

  test('asDType rejects a dtype that is not one, as initialize does', () => {
    expect(() => L.asDType(mlp, 'float16' as DType)).toThrow("asDType: dtype must be 'float64' or 'float32', got float16")
  })

  test('Tree.castTree gives the dtype its type says, in the same structure', () => {
    const p64 = L.initialize(cnn, key, [1, 4, 4]).params
    const p32 = Tree.castTree(p64, 'float32')
    expect(classes(p32)).toEqual(['Float32Array'])
    expect(Tree.structureDiff(p32, p64)).toBeUndefined()
    expect(classes(Tree.castTree(p32, 'float64'))).toEqual(['Float64Array'])
  })
})

describe('training in float32 keeps the types it is given', () => {
  const data = {
    x: T.generate([6, 1, 2, 2], (i) => Math.cos(i)),
    y: T.tensor([0, 1, 2, 0, 1, 2].map((c) => [0, 1, 2].map((k) => (k === c ? 1 : 0)))),
  }
  const optimizer = Optim.adam({ lr: 0.01 })

  test('initState and trainStep: float32 params and moments, float64 step counts (an optimizer state keeps its own types)', () => {
    const ts = Train.initState(mlp, optimizer, key, [1, 2, 2], { dtype: 'float32' })
    const [next] = Train.trainStep(mlp, Loss.softmaxCrossEntropy, optimizer)(ts, data)
    expect(classes(next.params)).toEqual(['Float32Array'])
    const [adam, count] = next.optState
    expect(classes([adam.mu, adam.nu])).toEqual(['Float32Array'])
    expect(classes([adam.count, count.count])).toEqual(['Float64Array'])
  })

  test('fit and predict: the result is in the dtype the types say', () => {
    const run = { model: mlp, loss: Loss.softmaxCrossEntropy, optimizer, data, epochs: 1, batchSize: 3, key }
    const fit32 = Train.fit({ ...run, dtype: 'float32' })
    expect(classes(fit32.state.params)).toEqual(['Float32Array'])
    expect(Train.predict(mlp, fit32.state.params, fit32.state.state, data.x).data).toBeInstanceOf(Float32Array)
    const fit64 = Train.fit(run)
    expect(Train.predict(mlp, fit64.state.params, fit64.state.state, data.x).data).toBeInstanceOf(Float64Array)
    // float32 inputs to a float64 model: cast up exactly, as the model's dtype says
    const x32 = T.cast(data.x, 'float32')
    expect(Train.predict(mlp, fit64.state.params, fit64.state.state, x32).data).toEqual(
      Train.predict(mlp, fit64.state.params, fit64.state.state, T.cast(x32, 'float64')).data,
    )
  })
})

describe('a float32 loop written by hand', () => {
  const ds = Data.make(
    T.generate([6, 1, 2, 2], (i) => Math.sin(3 * i)),
    T.tensor([0, 1, 2, 2, 1, 0]),
  )

  test('batches in float32 hold float32 (x and y), the same values rounded, and keep their rows', () => {
    const b64 = [...Data.batches(key, ds, 4)]
    const b32 = [...Data.batches(key, ds, 4, { dtype: 'float32' })]
    expect(b32.map((b) => [b.x.data.constructor.name, b.y.data.constructor.name])).toEqual([
      ['Float32Array', 'Float32Array'],
      ['Float32Array', 'Float32Array'],
    ])
    b32.forEach((b, i) => {
      expect(b.x.data).toEqual(Float32Array.from(b64[i]!.x.data))
      expect(b.rows).toEqual(b64[i]!.rows)
    })
    const cast = Train.inDType(b64[0]!, 'float32')
    expect(cast.x.data).toEqual(b32[0]!.x.data)
    expect(cast.rows).toBe(b64[0]!.rows)
  })

  test('Loss.asDType is the same function, its gradient in the dtype; it rejects a dtype that is not one', () => {
    const loss32 = Loss.asDType(Loss.softmaxCrossEntropy, 'float32')
    expect(loss32).toBe(Loss.softmaxCrossEntropy)
    const logits = T.cast(
      T.generate([3, 3], (i) => Math.cos(i)),
      'float32',
    )
    expect(loss32(logits, T.cast(T.tensor([0, 2, 1]), 'float32')).grad.data).toBeInstanceOf(Float32Array)
    expect(() => Loss.asDType(Loss.mse, 'float16' as DType)).toThrow("asDType: dtype must be 'float64' or 'float32', got float16")
  })

  test('forward, Loss.asDType, vjp and the optimizer by hand give trainStep’s params bit for bit', () => {
    const optimizer = Optim.sgd({ lr: 0.1, momentum: 0.9 })
    const ts = Train.initState(mlp, optimizer, key, [1, 2, 2], { dtype: 'float32' })
    const [batch] = Data.batches(key, ds, 6, { dtype: 'float32' })
    const net = L.asDType(mlp, 'float32')
    const ctx32 = { mode: 'train' as const, key: Key.split2(ts.key)[0] }
    const out = net.forward(ts.params, ts.state, batch!.x, ctx32)
    const { grad } = Loss.asDType(Loss.softmaxCrossEntropy, 'float32')(out.y, batch!.y)
    const { dp } = net.vjp(ts.params, out.tape, grad)
    const [updates] = optimizer.update(dp, ts.optState, ts.params)
    const byHand = Optim.applyUpdates(ts.params, updates)
    const [stepped] = Train.trainStep(mlp, Loss.softmaxCrossEntropy, optimizer)(ts, batch!)
    expect(classes(byHand)).toEqual(['Float32Array'])
    Tree.leaves(stepped.params).forEach((leaf, i) => expect(leaf.data).toEqual(Tree.leaves(byHand)[i]!.data))
  })
})
