/**
 * Example 07: a LeNet-like convolutional network on real MNIST.
 *
 *   [1, 28, 28] → conv 5x5x8 (pad 2) → ReLU → maxpool 2 → conv 5x5x16 (pad 2) → ReLU → maxpool 2
 *               → flatten → dense 10, softmax cross-entropy
 *
 * SGD with Nesterov momentum and a cosine learning-rate schedule, batch 64. Prints progress,
 * then the test accuracy, wall time and training throughput, and how much slower one batch
 * (forward + backward) runs on the naive, readable kernels than on the fast ones
 * (im2col + blocked GEMM): the seven nested loops of a textbook convolution against cuDNN's trick.
 *
 * Run: npx tsx examples/07-mnist-cnn.ts [--epochs N] [--train N] [--test N] [--lr X]
 */
import { Key, L, Loss, Optim, Schedule, T, Train, withKernels } from '../src/index.ts'
import { loadMnist, progress } from '../src/node/index.ts'

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : fallback
}
const epochs = arg('epochs', 8)
const trainCount = arg('train', 60000)
const testCount = arg('test', 10000)
const lr0 = arg('lr', 0.05)
const batchSize = 64

const loadStart = performance.now()
const { train, test } = loadMnist({ train: trainCount, test: testCount })
console.log(`loaded MNIST: ${train.x.shape[0]} training and ${test.x.shape[0]} test images in ${((performance.now() - loadStart) / 1000).toFixed(1)}s`)

const model = L.pipe(
  L.conv2d(8, 5, { padding: 2 }), //  [8, 28, 28]
  L.relu,
  L.maxPool2d(2), //                  [8, 14, 14]
  L.conv2d(16, 5, { padding: 2 }), // [16, 14, 14]
  L.relu,
  L.maxPool2d(2), //                  [16, 7, 7]
  L.flatten, //                       [784]
  L.dense(10), //                     [10] logits
)
const stepsPerEpoch = Math.ceil(trainCount / batchSize)
const lr = Schedule.cosineDecay({ init: lr0, steps: epochs * stepsPerEpoch, floor: lr0 / 100 })
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
console.log(`test accuracy: ${(100 * (result.accuracy ?? 0)).toFixed(2)}%  (test loss ${result.loss.toFixed(4)}, ${test.x.shape[0]} test images)`)
console.log(`wall time: ${wall.toFixed(1)}s for ${epochs} epochs (training ${trainSeconds.toFixed(1)}s)`)
console.log(`training throughput: ${Math.round((epochs * trainCount) / trainSeconds).toLocaleString('en-US')} samples/s`)

// One batch, forward and backward, on each kernel family (interleaved, best of three each).
const batch = T.sliceRows(train.x, 0, batchSize)
const dy = T.full([batchSize, 10], 1 / batchSize)
const ctx = { mode: 'train' as const, key: Key.fromSeed(1) }
const once = (): number => {
  const t0 = performance.now()
  const { tape } = model.forward(state.params, state.state, batch, ctx)
  model.vjp(state.params, tape, dy)
  return performance.now() - t0
}
const naive: number[] = []
const fast: number[] = []
for (let round = 0; round < 3; round++) {
  fast.push(withKernels('fast', once))
  naive.push(withKernels('reference', once))
}
const best = (xs: readonly number[]): number => Math.min(...xs)
console.log(
  `one batch of ${batchSize}, forward + backward: naive kernels ${best(naive).toFixed(0)} ms, fast kernels ${best(fast).toFixed(1)} ms: ` +
    `the fast ones are ${(best(naive) / best(fast)).toFixed(1)}x faster`,
)
