/**
 * Example 05 (the main job, `npm start`): an MLP on real MNIST.
 *
 * 784-128-64-10 with ReLU, softmax cross-entropy, SGD with Nesterov momentum and a cosine
 * learning-rate schedule, batch 64. Prints progress, then the test accuracy, wall time and
 * training throughput.
 *
 * Run: npx tsx examples/05-mnist-mlp.ts [--epochs N] [--train N]
 */
import { Key, L, Loss, Optim, Schedule, Train } from '../src/index.ts'
import { loadMnist, progress } from '../src/node/index.ts'

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : fallback
}
const epochs = arg('epochs', 12)
const trainCount = arg('train', 60000)
const batchSize = 64

const loadStart = performance.now()
const { train, test } = loadMnist({ train: trainCount })
console.log(`loaded MNIST: ${train.x.shape[0]} training and ${test.x.shape[0]} test images in ${((performance.now() - loadStart) / 1000).toFixed(1)}s`)

const model = L.pipe(L.flatten, L.dense(128), L.relu, L.dense(64), L.relu, L.dense(10))
const stepsPerEpoch = Math.ceil(trainCount / batchSize)
const lr = Schedule.cosineDecay({ init: 0.05, steps: epochs * stepsPerEpoch, floor: 0.0005 })
const optimizer = Optim.sgd({ lr, momentum: 0.9, nesterov: true, weightDecay: 5e-4 })

const started = performance.now()
const { state, history } = Train.fit({
  model,
  loss: Loss.softmaxCrossEntropy,
  optimizer,
  data: train,
  epochs,
  batchSize,
  key: Key.fromSeed(0),
  callbacks: progress(),
})
const trainSeconds = history.epochs.reduce((s, e) => s + e.seconds, 0)
const wall = (performance.now() - started) / 1000

const result = Train.evaluate(model, state.params, state.state, test, { loss: Loss.softmaxCrossEntropy })
console.log('')
console.log(`test accuracy: ${(100 * (result.accuracy ?? 0)).toFixed(2)}%  (test loss ${result.loss.toFixed(4)})`)
console.log(`wall time: ${wall.toFixed(1)}s for ${epochs} epochs`)
console.log(`training throughput: ${Math.round((epochs * trainCount) / trainSeconds).toLocaleString('en-US')} samples/s`)
