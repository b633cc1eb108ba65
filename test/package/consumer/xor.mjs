// A user's first script: plain JavaScript, no TypeScript and no bundler. Trains XOR and prints
// the accuracy. The consumer test runs it with `node xor.mjs`, and bundles it for the browser.
import { Data, Key, L, Loss, Optim, T, Train } from 'chainrule'

const data = Data.make(
  T.tensor([
    [0, 0],
    [0, 1],
    [1, 0],
    [1, 1],
  ]),
  T.tensor([0, 1, 1, 0]),
)
const model = L.pipe(L.dense(8), L.relu, L.dense(2))
const { state } = Train.fit({
  model,
  loss: Loss.softmaxCrossEntropy,
  optimizer: Optim.adam({ lr: 0.05 }),
  data,
  epochs: 300,
  batchSize: 4,
  key: Key.fromSeed(0),
})

const predicted = T.argmaxRows(Train.predict(model, state.params, state.state, data.x))
const correct = Array.from(predicted).filter((p, i) => p === data.y.data[i]).length
console.log(`accuracy: ${(100 * correct) / 4}%`)
