/**
 * Example 05 (the main job, `npm start`): an MLP on real MNIST.
 *
 * 784-128-64-10 with ReLU, softmax cross-entropy, SGD with Nesterov momentum and a cosine
 * learning-rate schedule, batch 64. Prints progress, then the test accuracy, wall time and
 * training throughput, and a loss curve in the terminal. Writes plots to out/05-mnist-mlp/ (or
 * --out DIR): the training history (redrawn after every epoch while training runs), the
 * confusion matrix on the test set, the first layer's weights as 28×28 images, and the test
 * digits the model gets wrong. Saves the model to out/mnist-mlp.json (with --out, to
 * DIR/mnist-mlp.json), where example 08 looks for it.
 *
 * --dtype float32 trains in float32 (params, activations, gradients and momentum in Float32Arrays,
 * on the float32 kernels); the default is float64. A float32 run keeps its own files, so it never
 * replaces the float64 model: its plots go to out/05-mnist-mlp-float32/ and its model, saved as its
 * float32 values exactly (half the bytes), to out/mnist-mlp-float32.json (with --out, to
 * DIR/mnist-mlp-float32.json); `npx tsx examples/08-load-and-predict.ts out/mnist-mlp-float32.json` loads it.
 *
 * --train N trains on the first N training images (at least one batch of 64).
 *
 * Run: npx tsx examples/05-mnist-mlp.ts [--epochs N] [--train N] [--threads 1|2] [--dtype float64|float32] [--out DIR]
 */
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Kernels, Key, L, Loss, Optim, Plot, Schedule, T, Train } from 'chainrule'
import { loadMnist, lossCurve, plotCallbacks, progress, saveModel, writePlot } from 'chainrule/node'
import { flags, peakMemory, shownPath, timing } from './cli.ts'

const batchSize = 64
const { values: args } = flags('[--epochs N] [--train N] [--threads 1|2] [--dtype float64|float32] [--out DIR]', {
  epochs: { default: 12, integer: true, min: 1 },
  train: { default: 60000, integer: true, min: batchSize, max: 60000 }, // at least one batch; MNIST has 60,000
  threads: { default: 2, oneOf: [1, 2] },
  dtype: ['float64', 'float32'],
  out: undefined,
})
const { epochs, train: trainCount, dtype } = args
// float64 keeps the plain names; a float32 run writes beside them, never over them
const suffix = dtype === 'float64' ? '' : `-${dtype}`
const out = args.out ?? fileURLToPath(new URL(`../out/05-mnist-mlp${suffix}/`, import.meta.url))

const loadStart = performance.now()
const { train, test } = loadMnist({ train: trainCount, dtype })
console.log(
  `loaded MNIST: ${train.x.shape[0]} training and ${test.x.shape[0]} test images in ${((performance.now() - loadStart) / 1000).toFixed(1)}s`,
)

const model = L.pipe(L.flatten, L.dense(128), L.relu, L.dense(64), L.relu, L.dense(10))
const stepsPerEpoch = Train.stepsPerEpoch({ data: train, batchSize }) // what fit will take: 938 for 60,000 images
const lr = Schedule.cosineDecay({ init: 0.05, steps: epochs * stepsPerEpoch, floor: 0.0005 })
const optimizer = Optim.sgd({ lr, momentum: 0.9, nesterov: true, weightDecay: 5e-4 })

const started = performance.now()
// The matrix products run on two cores by default (bit-identical to one); --threads 1 keeps them on one.
// Awaiting Kernels.useThreads(2) is optional: it only makes the very first steps two-threaded too.
const threadCount = args.threads === 1 ? 1 : 2
console.log(`threads: ${(await Kernels.useThreads(threadCount)) ? threadCount : '1 (two are unavailable here)'}, dtype: ${dtype}`)
const { state, history } = await Train.fitAsync({
  model,
  loss: Loss.softmaxCrossEntropy,
  optimizer,
  data: train,
  epochs,
  batchSize,
  key: Key.fromSeed(0),
  dtype,
  reuseBuffers: true, // each step reuses the memory of the state two steps back: the same numbers, faster (docs/training.md)
  callbacks: [progress(), plotCallbacks({ dir: out, history: { lossScale: 'log' } })],
})
const trainSeconds = history.epochs.reduce((s, e) => s + e.seconds, 0)
const wall = (performance.now() - started) / 1000

const result = Train.evaluate(model, state.params, state.state, test, { loss: Loss.softmaxCrossEntropy })
console.log('')
console.log(`test accuracy: ${(100 * (result.accuracy ?? 0)).toFixed(2)}%  (test loss ${result.loss.toFixed(4)})`)
console.log(timing(epochs, train.x.shape[0]!, wall, trainSeconds))
console.log(peakMemory())

console.log('')
console.log(lossCurve(history, { log: true }))
const predictions = result.predictions as Int32Array // a classifier: evaluate returns the predicted classes
const written = [
  resolve(out, 'history.png'), // written by plotCallbacks; absolute, like the paths writePlot returns
  writePlot(Plot.confusionMatrix(test.y, predictions, { title: 'confusion matrix, MNIST test set' }), join(out, 'confusion-matrix.png')),
  // params[1] is the first dense layer (params[0] belongs to flatten): W is [784, 128]
  writePlot(Plot.denseWeights(state.params[1].W, [28, 28], { units: 64 }), join(out, 'first-layer-weights.png')),
  writePlot(Plot.misclassified(test.x, test.y, predictions, { max: 32 }), join(out, 'misclassified.png')),
]
console.log(`\nplots written:\n${written.map((f) => `  ${f}`).join('\n')}`)

// out/mnist-mlp.json (float32: out/mnist-mlp-float32.json), where example 08 looks by default; with --out, into that directory.
const modelFile = `mnist-mlp${suffix}.json`
const modelPath = args.out !== undefined ? join(out, modelFile) : fileURLToPath(new URL(`../out/${modelFile}`, import.meta.url))
saveModel(modelPath, {
  model,
  inShape: [1, 28, 28],
  params: state.params,
  state: state.state,
  metadata: {
    example: '05-mnist-mlp',
    dtype,
    epochs,
    trainExamples: trainCount,
    testAccuracy: result.accuracy ?? null,
    testLoss: result.loss,
  },
})
const shown = shownPath(modelPath)
const example08 = 'npx tsx examples/08-load-and-predict.ts'
const next = suffix === '' && args.out === undefined ? example08 : `${example08} ${shown}` // 08 loads out/mnist-mlp.json by default
console.log(`\nsaved the model (${dtype}) to ${shown} (try: ${next})`)
