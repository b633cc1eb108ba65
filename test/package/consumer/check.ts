// A consumer's TypeScript, type-checked against the installed package's declarations under
// `tsc --init`'s strict defaults (exactOptionalPropertyTypes, noUncheckedIndexedAccess, ...)
// with moduleResolution nodenext, node16 and bundler. The @ts-expect-error lines fail the check
// if a type ever widens to any (an unresolved import in a declaration file would do that).
import { Data, Key, L, Loss, Optim, T, Train, type Layer, type Tensor } from 'chainrule'
import { checkLayer, type CheckLayerOptions } from 'chainrule/laws'
import type { ProgressOptions } from 'chainrule/node'

const square = L.define({
  name: 'square',
  forward: (_p, x: Tensor) => ({ y: T.mul(x, x), tape: x }),
  vjp: (_p, x, dy) => ({ dx: T.scale(2, T.mul(x, dy)), dp: L.none }),
})

const model = L.pipe(L.dense(8), L.relu, square, L.dense(2))
const { params, state } = L.initialize(model, Key.fromSeed(0), [2])
const data = Data.make(
  T.tensor([
    [0, 0],
    [0, 1],
    [1, 0],
    [1, 1],
  ]),
  T.tensor([0, 1, 1, 0]),
)
const fitted = Train.fit({
  model,
  loss: Loss.softmaxCrossEntropy,
  optimizer: Optim.sgd({ lr: 0.1, momentum: 0.9 }),
  data,
  epochs: 2,
  batchSize: 2,
  key: Key.fromSeed(1),
  callbacks: { onEpochEnd: ({ record }) => void record.loss },
})
const logits: Tensor = Train.predict(model, fitted.state.params, fitted.state.state, data.x)
const firstLoss: number | undefined = fitted.history.epochs[0]?.loss
const asLayer: Layer = model
const lawOptions: CheckLayerOptions = { inShape: [3], numRuns: 10 }
const progressOptions: ProgressOptions = { plain: true, every: 1 }
const adam = Optim.adam({ lr: 1e-3 })

console.log(params, state, logits, firstLoss, asLayer, lawOptions, progressOptions, adam, () => checkLayer(square, lawOptions))

// @ts-expect-error dense takes a number of units
L.dense('8')
// @ts-expect-error a training run needs a key
Train.fit({ model, loss: Loss.softmaxCrossEntropy, optimizer: adam, data, epochs: 1, batchSize: 4 })
// @ts-expect-error exactOptionalPropertyTypes: an optional option is left out, not set to undefined
const noUndefined: CheckLayerOptions = { inShape: [3], numRuns: undefined }
// @ts-expect-error ProgressOptions has no such option
const unknownOption: ProgressOptions = { colour: 'red' }
console.log(noUndefined, unknownOption)
