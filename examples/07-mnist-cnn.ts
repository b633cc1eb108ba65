/**
 * Example 07: a LeNet-like convolutional network on real MNIST.
 *
 *   [1, 28, 28] → conv 5x5x8 (pad 2) → ReLU → maxpool 2 → conv 5x5x16 (pad 2) → ReLU → maxpool 2
 *               → flatten → dense 10, softmax cross-entropy
 *
 * The pipe runs each conv2d → relu pair as one layer, conv2d with its `activation: 'relu'`
 * (operator fusion: ReLU applied inside the convolution kernels), which gives the same numbers,
 * bit for bit, about 15% faster per step here.
 *
 * SGD with Nesterov momentum and a cosine learning-rate schedule, batch 64, 8 epochs. Prints
 * progress, then the test accuracy, wall time and training throughput, and how much slower one
 * batch (forward + backward) runs on the naive, readable kernels than on the fast ones (im2col
 * + a blocked GEMM, in plain TypeScript or WebAssembly): the seven nested loops of a textbook
 * convolution against cuDNN's trick. Training uses the default kernels ('fast').
 *
 * --dtype float32 trains in float32 (params, activations, gradients and momentum in Float32Arrays,
 * on the float32 kernels); the default is float64. The plots go to out/07-mnist-cnn/ (float32:
 * out/07-mnist-cnn-float32/, so one run's plots do not replace the other's), or to --out DIR.
 * --train N and --test N take the first N images of each set (at least one batch of 64 to train on).
 *
 * Run: npx tsx examples/07-mnist-cnn.ts [--epochs N] [--train N] [--test N] [--lr X] [--threads 1|2] [--dtype float64|float32] [--out DIR]
 */
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Kernels, Key, L, Loss, Optim, Plot, Schedule, T, Train } from 'chainrule'
import { loadMnist, lossCurve, plotCallbacks, progress, writePlot } from 'chainrule/node'
import { flags, peakMemory, timing } from './cli.ts'

const batchSize = 64
const { values: args } = flags('[--epochs N] [--train N] [--test N] [--lr X] [--threads 1|2] [--dtype float64|float32] [--out DIR]', {
  epochs: { default: 8, integer: true, min: 1 },
  train: { default: 60000, integer: true, min: batchSize, max: 60000 }, // at least one batch; MNIST has 60,000
  test: { default: 10000, integer: true, min: 1, max: 10000 },
  lr: { default: 0.05, above: 0 }, // the initial learning rate of the cosine schedule
  threads: { default: 2, oneOf: [1, 2] },
  dtype: ['float64', 'float32'],
  out: undefined,
})
const { epochs, train: trainCount, test: testCount, lr: lr0, dtype } = args
// float64 keeps the plain name; a float32 run writes beside it, never over it
const out = args.out ?? fileURLToPath(new URL(`../out/07-mnist-cnn${dtype === 'float64' ? '' : `-${dtype}`}/`, import.meta.url))

// Two cores by default (bit-identical to one); --threads 1 keeps everything on this thread.
const threadCount = args.threads === 1 ? 1 : 2
console.log(`threads: ${(await Kernels.useThreads(threadCount)) ? threadCount : '1 (two are unavailable here)'}, dtype: ${dtype}`)

const loadStart = performance.now()
const { train, test } = loadMnist({ train: trainCount, test: testCount, dtype })
console.log(
  `loaded MNIST: ${train.x.shape[0]} training and ${test.x.shape[0]} test images in ${((performance.now() - loadStart) / 1000).toFixed(1)}s`,
)

const model = L.pipe(
  L.conv2d(8, 5, { padding: 2 }), //  [8, 28, 28]
  L.relu, //                          (the pipe runs each conv2d → relu → maxPool2d as one fused layer)
  L.maxPool2d(2), //                  [8, 14, 14]
  L.conv2d(16, 5, { padding: 2 }), // [16, 14, 14]
  L.relu,
  L.maxPool2d(2), //                  [16, 7, 7]
  L.flatten, //                       [784]
  L.dense(10), //                     [10] logits
)
const stepsPerEpoch = Train.stepsPerEpoch({ data: train, batchSize }) // what fit will take: 938 for 60,000 images
const lr = Schedule.cosineDecay({ init: lr0, steps: epochs * stepsPerEpoch, floor: lr0 / 100 })
const optimizer = Optim.sgd({ lr, momentum: 0.9, nesterov: true, weightDecay: 5e-4 })

const started = performance.now()
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
console.log(
  `test accuracy: ${(100 * (result.accuracy ?? 0)).toFixed(2)}%  (test loss ${result.loss.toFixed(4)}, ${test.x.shape[0]} test images)`,
)
console.log(timing(epochs, train.x.shape[0]!, wall, trainSeconds))
console.log(peakMemory())

console.log('')
console.log(lossCurve(history, { log: true }))
const predictions = result.predictions as Int32Array
const written = [
  resolve(out, 'history.png'), // written by plotCallbacks; absolute, like the paths writePlot returns
  writePlot(Plot.confusionMatrix(test.y, predictions, { title: 'confusion matrix, MNIST test set' }), join(out, 'confusion-matrix.png')),
  // params[0] is the first conv layer: W is [8, 1, 5, 5], eight 5x5 filters
  writePlot(Plot.convFilters(state.params[0].W), join(out, 'conv-filters.png')),
  writePlot(Plot.misclassified(test.x, test.y, predictions, { max: 32 }), join(out, 'misclassified.png')),
]
console.log(`\nplots written:\n${written.map((f) => `  ${f}`).join('\n')}`)

// One batch, forward and backward, on each kernel family (interleaved, best of three each):
// the naive loops, im2col + the plain-TypeScript GEMM ('js'), and the default ('fast').
const batch = T.sliceRows(T.asTensor(train.x), 0, batchSize, dtype)
const dy = T.cast(T.full([batchSize, 10], 1 / batchSize), dtype)
const ctx = { mode: 'train' as const, key: Key.fromSeed(1) }
const net = L.asDType(model, dtype) // the model typed in the run's dtype, as its trained params are
const once = (): number => {
  const t0 = performance.now()
  const { tape } = net.forward(state.params, state.state, batch, ctx)
  net.vjp(state.params, tape, dy)
  return performance.now() - t0
}
const times = { reference: [] as number[], js: [] as number[], fast: [] as number[] }
for (let round = 0; round < 3; round++) {
  for (const choice of ['fast', 'js', 'reference'] as const) times[choice].push(Kernels.using(choice, once))
}
const naive = Math.min(...times.reference)
const js = Math.min(...times.js)
const fast = Math.min(...times.fast)
console.log(
  `one batch of ${batchSize}, forward + backward: naive kernels ${naive.toFixed(0)} ms, ` +
    `js ${js.toFixed(1)} ms (${(naive / js).toFixed(1)}x faster), fast (${Kernels.resolve('fast')}) ${fast.toFixed(1)} ms (${(naive / fast).toFixed(1)}x faster)`,
)
