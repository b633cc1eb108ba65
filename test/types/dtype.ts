/**
 * The dtype in the types, checked by tsc (this file is type-checked with the project and never run):
 * a model initialized or trained with `{ dtype: 'float32' }` has params and state typed with
 * Tensor32 leaves (`Tree.Float32<P>`), every training function takes them and gives results in
 * float32, a dtype typed `DType` gives either, and float64 code sees the types it always saw.
 * Each mistake marked @ts-expect-error must not compile. test/types/dtype.test.ts holds the
 * claims these types make to what runs.
 */
import { expectTypeOf } from 'vitest'
import { Data, IO, Key, L, Loss, Optim, Plot, T, Train, Tree, type DType, type Tensor, type Tensor32 } from 'chainrule'
import { loadMnist, saveModel } from 'chainrule/node'

const key = Key.fromSeed(0)
const ctx = { mode: 'train' as const, key }
const net = L.pipe(L.flatten, L.dense(4), L.relu, L.dense(3))
type P = L.ParamsOf<typeof net>
type S = L.StateOf<typeof net>
const dtype: DType = process.argv.includes('--float32') ? 'float32' : 'float64'
const x = T.zeros([2, 1, 2, 2])
const data = { x, y: T.zeros([2, 3]) }

// ---- Tree.Cast and Tree.Float32: every tensor leaf in the dtype, the structure kept

type DenseParams32 = { readonly W: Tensor32; readonly b: Tensor32 } | { readonly W: Tensor32 }
expectTypeOf<Tree.Float32<L.DenseParams>>().toEqualTypeOf<DenseParams32>()
expectTypeOf<Tree.Cast<DenseParams32, 'float64'>>().toEqualTypeOf<L.DenseParams>()
// a combinator's params are its children's, as a plain tuple, and so is their float32 twin
expectTypeOf<Tree.Float32<P>>().toEqualTypeOf<readonly [readonly [], DenseParams32, readonly [], DenseParams32]>()
const block = L.residual(L.pipe(L.dense(4), L.relu))
expectTypeOf<Tree.Float32<L.ParamsOf<typeof block>>>().toEqualTypeOf<readonly [DenseParams32, readonly []]>()
const fan = L.branches('concat', L.dense(2), L.pipe(L.dense(2), L.tanh))
expectTypeOf<Tree.Float32<L.ParamsOf<typeof fan>>>().toEqualTypeOf<readonly [DenseParams32, readonly [DenseParams32, readonly []]]>()
type BatchNorm32 = { readonly mean: Tensor32; readonly variance: Tensor32 }
expectTypeOf<Tree.Float32<L.BatchNormState>>().toEqualTypeOf<BatchNorm32>()
expectTypeOf<Tree.Float32<Tree.Tree>>().toMatchTypeOf<Tree.Tree>() // a tree of either dtype is a Tree
expectTypeOf<Tree.InDType<P, 'float64'>>().toEqualTypeOf<P>()
expectTypeOf<Tree.InDType<P, DType>>().toEqualTypeOf<P | Tree.Float32<P>>()

// ---- initialize: the params are typed in the dtype asked for

const p64 = L.initialize(net, key, [1, 2, 2]).params
expectTypeOf(p64).toEqualTypeOf<P>() // float64 code: unchanged
expectTypeOf(p64[1].W.data).toEqualTypeOf<Float64Array>()
expectTypeOf(L.initialize(net, key, [1, 2, 2], { dtype: 'float64' }).params).toEqualTypeOf<P>()
const init32 = L.initialize(net, key, [1, 2, 2], { dtype: 'float32' })
expectTypeOf(init32.params).toEqualTypeOf<Tree.Float32<P>>()
expectTypeOf(init32.params[1].W.data).toEqualTypeOf<Float32Array>()
expectTypeOf(init32.outShape).toEqualTypeOf<[3]>() // the shape rules as before
const p32 = init32.params
const s32 = init32.state
// @ts-expect-error a float32 model's weights are not a Float64Array
const wrong: Float64Array = p32[1].W.data
const either = L.initialize(net, key, [1, 2, 2], { dtype })
expectTypeOf(either.params).toEqualTypeOf<P | Tree.Float32<P>>()
expectTypeOf(either.params[1].W.data).toEqualTypeOf<Float64Array | Float32Array>()
// @ts-expect-error no dtype float16
L.initialize(net, key, [1, 2, 2], { dtype: 'float16' })
// @ts-expect-error the shape rule still runs: dense wants [features]
L.initialize(L.dense(3), key, [1, 28, 28], { dtype: 'float32' })

// ---- a layer's own type is float64's; L.asDType is the view in another dtype

// @ts-expect-error float32 params given to the layer's own (float64-typed) forward
net.forward(p32, s32, x, ctx)
const net32 = L.asDType(net, 'float32')
const x32 = T.cast(x, 'float32')
const { y, tape, state } = net32.forward(p32, s32, x32, ctx)
expectTypeOf(y).toEqualTypeOf<Tensor32>()
expectTypeOf(state).toEqualTypeOf<Tree.Float32<S>>()
const { dx, dp } = net32.vjp(p32, tape, T.cast(T.ones([2, 3]), 'float32'))
expectTypeOf(dx).toEqualTypeOf<Tensor32>()
expectTypeOf(dp).toEqualTypeOf<Tree.Float32<P>>()
// @ts-expect-error a float64 input to a float32 model
net32.forward(p32, s32, x, ctx)
// @ts-expect-error float64 params to the float32 view
net32.forward(p64, s32, x32, ctx)
expectTypeOf(L.asDType(net, 'float64').forward(p64, [[], [], [], []], x, ctx).y).toEqualTypeOf<Tensor>()
expectTypeOf(L.asDType(net, dtype).forward(either.params, either.state, T.cast(x, dtype), ctx).y).toEqualTypeOf<Tensor<DType>>()

// ---- training: initState, trainStep, fit, fitAsync, predict, evaluate

const sgd = Optim.sgd({ lr: 0.1 })
type O = Optim.StateOf<typeof sgd>
const ts64 = Train.initState(net, sgd, key, [1, 2, 2])
expectTypeOf(ts64.params).toEqualTypeOf<P>()
const ts32 = Train.initState(net, sgd, key, [1, 2, 2], { dtype: 'float32' })
expectTypeOf(ts32.params).toEqualTypeOf<Tree.Float32<P>>()
expectTypeOf(ts32.optState).toEqualTypeOf<O>() // the optimizer state's type is its own
const step = Train.trainStep(net, Loss.softmaxCrossEntropy, sgd)
expectTypeOf(step(ts64, data)[0].params).toEqualTypeOf<P>()
expectTypeOf(step(ts32, data)[0].params[3].W.data).toEqualTypeOf<Float32Array>()
// @ts-expect-error a float32 step gives a float32 state
const next64: Train.TrainState<P, S, O> = step(ts32, data)[0]

const run = { model: net, loss: Loss.softmaxCrossEntropy, optimizer: sgd, data, epochs: 1, batchSize: 2, key }
expectTypeOf(Train.fit(run).state.params).toEqualTypeOf<P>()
const fit32 = Train.fit({
  ...run,
  dtype: 'float32',
  callbacks: { onStep: ({ state }) => expectTypeOf(state.params[3].W.data).toEqualTypeOf<Float32Array>() },
})
expectTypeOf(fit32.state.params[3].W.data).toEqualTypeOf<Float32Array>()
expectTypeOf(Train.fit({ ...run, dtype: 'float32', initial: ts32 }).state.params[3].W.data).toEqualTypeOf<Float32Array>()
// @ts-expect-error a float32 run does not resume from a float64 state
Train.fit({ ...run, dtype: 'float32', initial: ts64 })
// @ts-expect-error nor a float64 run from a float32 one
Train.fit({ ...run, dtype: 'float64', initial: ts32 })
// without a dtype, a run resumes in its state's (at run time): the types say either
expectTypeOf(Train.fit({ ...run, initial: ts32 }).state.params).toEqualTypeOf<P | Tree.Float32<P>>()
const fitEither = Train.fit({ ...run, dtype })
expectTypeOf(fitEither.state.params).toEqualTypeOf<P | Tree.Float32<P>>()
void Train.fitAsync({ ...run, dtype: 'float32' }).then(({ state }) => expectTypeOf(state.params[3].W.data).toEqualTypeOf<Float32Array>())
void Train.fitAsync(run).then(({ state }) => expectTypeOf(state.params[3].W.data).toEqualTypeOf<Float64Array>())

expectTypeOf(Train.predict(net, p64, ts64.state, x)).toEqualTypeOf<Tensor>()
expectTypeOf(Train.predict(net, p32, s32, x)).toEqualTypeOf<Tensor32>()
expectTypeOf(Train.predict(net, either.params, either.state, x)).toEqualTypeOf<Tensor | Tensor32>()
const generic: Train.TrainState = ts64 // trees typed Tree (as from a checkpoint) read as the model's own, as always
expectTypeOf(Train.predict(net, generic.params, generic.state, x)).toEqualTypeOf<Tensor>()
expectTypeOf<ReturnType<typeof Train.predict>>().toEqualTypeOf<Tensor>()
expectTypeOf(Train.evaluate(net, p32, s32, data, { loss: Loss.softmaxCrossEntropy })).toEqualTypeOf<Train.Evaluation>()
expectTypeOf(Train.evaluate(net, fitEither.state.params, fitEither.state.state, data, { loss: Loss.mse })).toEqualTypeOf<Train.Evaluation>()
// @ts-expect-error params of another model, in either dtype
Train.evaluate(L.dense(3), p32, s32, data, { loss: Loss.mse })

// ---- a float32 loop written by hand: batches, the loss and the optimizer, all typed in float32

const ds = Data.make(x, T.zeros([2]))
for (const batch of Data.batches(key, ds, 2, { dtype: 'float32' })) {
  expectTypeOf(batch.x).toEqualTypeOf<Tensor32>()
  const out = net32.forward(p32, s32, batch.x, ctx)
  const loss32 = Loss.asDType(Loss.softmaxCrossEntropy, 'float32')
  const { value, grad } = loss32(out.y, batch.y)
  expectTypeOf(value).toEqualTypeOf<number>()
  expectTypeOf(grad).toEqualTypeOf<Tensor32>()
  const back = net32.vjp(p32, out.tape, grad)
  const [updates] = sgd.update(back.dp, sgd.init(p32), p32)
  expectTypeOf(Optim.applyUpdates(p32, updates)[1].W.data).toEqualTypeOf<Float32Array>()
  // @ts-expect-error the loss's own type is float64's, as a layer's is
  Loss.softmaxCrossEntropy(out.y, batch.y)
  // @ts-expect-error a float32 loss given a float64 target
  loss32(out.y, T.zeros([2]))
  expectTypeOf(step(ts32, batch)[0].params[3].W.data).toEqualTypeOf<Float32Array>() // a step takes a batch of either dtype
}
expectTypeOf([...Data.batches(key, ds, 2)][0]!.x).toEqualTypeOf<Tensor>()
expectTypeOf([...Data.batches(key, ds, 2, { dtype: 'float64' })][0]!.x).toEqualTypeOf<Tensor>()
expectTypeOf([...Data.batches(key, ds, 2, { dtype })][0]!).toEqualTypeOf<Data.AnyBatch>()
expectTypeOf(Train.inDType(data, 'float32').x).toEqualTypeOf<Tensor32>()
expectTypeOf(Loss.asDType(Loss.mse, dtype)).toEqualTypeOf<Loss.LossIn<DType>>()

// ---- data sets in float32: made, picked from, batched, loaded and trained on in float32

const ds32 = Data.make(T.cast(x, 'float32'), T.cast(T.zeros([2]), 'float32'))
expectTypeOf(ds32).toEqualTypeOf<Data.Dataset<'float32'>>()
expectTypeOf(Data.take(ds32, [1, 0])).toEqualTypeOf<Data.Dataset<'float32'>>()
expectTypeOf(Data.shuffleSplit(key, ds32, 1).train).toEqualTypeOf<Data.Dataset<'float32'>>()
expectTypeOf(Data.split(ds, 1)[0]).toEqualTypeOf<Data.Dataset>()
expectTypeOf([...Data.batches(key, ds32, 2)][0]!.x).toEqualTypeOf<Tensor32>()
expectTypeOf([...Data.batches(key, ds32, 2, { dtype: 'float64' })][0]!.x).toEqualTypeOf<Tensor>()
// @ts-expect-error a data set holds one dtype
Data.make(T.cast(x, 'float32'), T.zeros([2]))
const mnist32 = loadMnist({ train: 10, test: 10, dtype: 'float32' })
expectTypeOf(mnist32.train).toEqualTypeOf<Data.Dataset<'float32'>>()
expectTypeOf(loadMnist({ train: 10 }).test).toEqualTypeOf<Data.Dataset>()
expectTypeOf(Train.fit({ ...run, data: ds32, dtype: 'float32' }).state.params[3].W.data).toEqualTypeOf<Float32Array>()
expectTypeOf(Train.predict(net, p32, s32, ds32.x)).toEqualTypeOf<Tensor32>() // float32 inputs too
expectTypeOf(Train.predict(net, p64, ts64.state, ds32.x)).toEqualTypeOf<Tensor>()
Plot.decisionBoundary({
  data: Data.make(T.cast(T.zeros([2, 2]), 'float32'), T.cast(T.zeros([2]), 'float32')),
  predict: (g) => Train.predict(net, p32, s32, g),
})

// ---- T's functions of tensors read either dtype, and those that make one keep it
expectTypeOf(T.map(Math.abs)(x32)).toEqualTypeOf<Tensor32>()
expectTypeOf(T.map(Math.abs)(x)).toEqualTypeOf<Tensor>()
expectTypeOf(T.zipWith(Math.max, x32, x32)).toEqualTypeOf<Tensor32>()
expectTypeOf(T.sum(x32) + T.dot(x32, x32) + T.mean(x32) + T.max(x32)).toEqualTypeOf<number>()
expectTypeOf(T.argmaxRows(x32)).toEqualTypeOf<Int32Array>()
expectTypeOf(T.toString(x32)).toEqualTypeOf<string>()

// ---- checkpoints and casts

IO.modelCheckpoint(net, [1, 2, 2], p32, s32)
IO.modelCheckpoint(net, [1, 2, 2], either.params, either.state)
IO.trainingCheckpoint({ model: net, inShape: [1, 2, 2], state: fit32.state })
saveModel('model.json', { model: net, inShape: [1, 2, 2], params: fitEither.state.params, state: fitEither.state.state })
// @ts-expect-error params of another model
IO.modelCheckpoint(L.dense(3), [2], p32, s32)
expectTypeOf(Tree.castTree(p64, 'float32')).toEqualTypeOf<Tree.Float32<P>>()
expectTypeOf(Tree.castTree(p32, 'float64')[1]).toEqualTypeOf<L.DenseParams>()
expectTypeOf(Tree.castTree(p64, dtype)[1].W).toEqualTypeOf<Tensor<DType>>()

export { wrong, next64 }
