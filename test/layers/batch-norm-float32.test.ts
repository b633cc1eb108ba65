/**
 * batchNorm in float32: a float32 model with batch-norm trains (params, running statistics and
 * optimizer moments all float32), evaluates, and its training checkpoint round-trips and resumes
 * bit for bit; a mix of dtypes is an error naming both. (Its agreement with float64: law 14,
 * test/laws/float32-vs-float64.test.ts.)
 */
import * as E from 'fp-ts/Either'
import { describe, expect, test } from 'vitest'
import { Compare } from '../../laws/index.ts'
import { Data, Key, L, Loss, Optim, T, Train, Tree } from '../../src/index.ts'
import * as IO from '../../src/io/index.ts'

const right = <A>(r: E.Either<IO.IoError, A>): A => {
  if (E.isLeft(r)) throw r.left
  return r.right
}
const identical = (a: Tree.Tree, b: Tree.Tree): boolean => Compare.treesIdentical('tree', a, b).holds
const dtypes = (t: Tree.Tree): Set<string> => new Set(Tree.leaves(t).map(T.dtypeOf))

const spiral = Data.spirals(Key.fromSeed(3), { perClass: 40 })
const net = L.pipe(L.dense(12), L.batchNorm({ momentum: 0.9 }), L.relu, L.dense(3))
const conv = L.pipe(L.conv2d(3, 3, { padding: 1 }), L.batchNorm(), L.relu, L.globalAvgPool, L.dense(2))

describe('batchNorm in float32', () => {
  test('a float32 fit: params, running statistics and moments float32; the statistics move; it learns', () => {
    const init = L.initialize(net, Key.fromSeed(0), [2], { dtype: 'float32' })
    const run = Train.fit({
      model: net,
      loss: Loss.softmaxCrossEntropy,
      optimizer: Optim.adam({ lr: 0.02 }),
      data: spiral,
      epochs: 6,
      batchSize: 16,
      key: Key.fromSeed(1),
      dtype: 'float32',
    })
    expect(dtypes(run.state.params)).toEqual(new Set(['float32']))
    expect(dtypes(run.state.state)).toEqual(new Set(['float32']))
    expect(dtypes(Tree.leaves(run.state.optState).filter((t) => t.shape.length > 0))).toEqual(new Set(['float32']))
    expect(identical(run.state.state, init.state)).toBe(false)
    const first = run.history.epochs[0]!.loss
    const last = run.history.epochs.at(-1)!.loss
    expect(last).toBeLessThan(first)
    const y = Train.predict(net, run.state.params, run.state.state, spiral.x)
    expect(y.data).toBeInstanceOf(Float32Array)
    expect(T.allFinite(T.asTensor(y))).toBe(true)
  })

  test('a conv model with batch-norm over channels: forward and vjp in float32, train and eval', () => {
    const { params, state } = L.initialize(conv, Key.fromSeed(2), [2, 5, 5], { dtype: 'float32' })
    const x = T.asTensor(
      T.cast(
        T.generate([3, 2, 5, 5], (i) => Math.sin(i)),
        'float32',
      ),
    )
    for (const mode of ['train', 'eval'] as const) {
      const r = L.asDType(conv, 'float32').forward(params, state, T.cast(x, 'float32'), { mode, key: Key.fromSeed(0) })
      expect(r.y.data).toBeInstanceOf(Float32Array)
      expect(dtypes(r.state)).toEqual(new Set(['float32']))
      const g = L.asDType(conv, 'float32').vjp(params, r.tape, T.cast(T.ones(r.y.shape), 'float32'))
      expect(g.dx.data).toBeInstanceOf(Float32Array)
      expect(dtypes(g.dp)).toEqual(new Set(['float32']))
    }
  })

  test('a float32 training checkpoint with batch-norm state: float32 in the file, and the run resumes bit for bit', () => {
    const optimizer = Optim.sgd({ lr: 0.05, momentum: 0.9 })
    const base = { model: net, loss: Loss.softmaxCrossEntropy, optimizer, data: spiral, batchSize: 16, dtype: 'float32' as const }
    const runKey = Key.fromSeed(7)
    const straight = Train.fit({ ...base, epochs: 3, key: runKey })
    let mid: Train.TrainState | undefined
    Train.fit({ ...base, epochs: 2, key: runKey, callbacks: { onStep: ({ step, state }) => (step === 9 ? (mid = state) : undefined) } })
    if (mid === undefined) throw new Error('no state at step 9')
    const text = IO.encodeCheckpoint(IO.trainingCheckpoint({ model: net, inShape: [2], state: mid, runKey }))
    expect(JSON.parse(text).state[1].mean.dtype).toBe('float32')
    const ck = right(IO.parseCheckpoint(text))
    expect(identical(ck.state, mid.state)).toBe(true)
    const initial = right(IO.trainState(ck, optimizer))
    const resumed = Train.fit({ ...base, model: ck.model, epochs: 3, key: runKey, initial })
    expect(identical(resumed.state.params, straight.state.params)).toBe(true)
    expect(identical(resumed.state.state, straight.state.state)).toBe(true)
    expect(identical(resumed.state.optState, straight.state.optState)).toBe(true)
  })

  test('float64 params or state with a float32 input, or a float64 dy, is an error naming both dtypes', () => {
    const bn = L.batchNorm()
    const p64 = L.initialize(bn, Key.fromSeed(0), [4])
    const p32 = L.initialize(bn, Key.fromSeed(0), [4], { dtype: 'float32' })
    const x32 = T.asTensor(
      T.cast(
        T.generate([3, 4], (i) => i / 7),
        'float32',
      ),
    )
    const ctx = { mode: 'train' as const, key: Key.fromSeed(0) }
    expect(() => bn.forward(p64.params, p64.state, x32, ctx)).toThrow(
      /batchNorm: x and gamma: dtypes differ, float32 \[3, 4\] vs float64 \[4\]/,
    )
    // @ts-expect-error float32 params with float64 state: the types say so too
    expect(() => bn.forward(p32.params, p64.state, x32, ctx)).toThrow(
      /batchNorm: x and running mean: dtypes differ, float32 \[3, 4\] vs float64 \[4\]/,
    )
    const bn32 = L.asDType(bn, 'float32')
    const { tape } = bn32.forward(p32.params, p32.state, T.cast(x32, 'float32'), ctx)
    // @ts-expect-error a float64 dy for a float32 layer: the types say so too
    expect(() => bn32.vjp(p32.params, tape, T.ones([3, 4]))).toThrow(
      /batchNorm: x and dy: dtypes differ, float32 \[3, 4\] vs float64 \[3, 4\]/,
    )
  })
})
