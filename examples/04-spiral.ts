/**
 * Example 04: a 3-class spiral, the classic "a linear model cannot do this" data set, learned
 * by a small MLP with SGD + momentum through `fit`, and looked at: the training history, the
 * decision boundary the network drew, the learning-rate schedule, and each layer's gradient norm
 * over training. The plots go to out/04-spiral/ (or --out DIR).
 *
 * Run: npx tsx examples/04-spiral.ts [--out DIR]
 */
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Data, Key, L, Loss, Optim, Plot, Schedule, Train, type Tensor } from 'chainrule'
import { lossCurve, plotCallbacks, progress, writePlot } from 'chainrule/node'
import { flags } from './cli.ts'

const { values: args } = flags('[--out DIR]', { out: fileURLToPath(new URL('../out/04-spiral/', import.meta.url)) })
const out = args.out

const data = Data.spirals(Key.fromSeed(0), { classes: 3, perClass: 100, noise: 0.2 })
const model = L.pipe(L.dense(64), L.relu, L.dense(64), L.relu, L.dense(3))
const epochs = 300
const batchSize = 32
const steps = epochs * Data.numBatches(data, batchSize)
const lr = Schedule.cosineDecay({ init: 0.1, steps, floor: 0.005 })
const loss = Loss.softmaxCrossEntropy

// fit's callbacks see the params but not the gradients: this recorder runs its own forward and
// vjp on a fixed batch (here the whole data set) every 30 steps and keeps each layer's ‖gradient‖.
const grads = Plot.recordGradientNorms({ model, loss, batch: data, every: 30 })

const { state, history } = Train.fit({
  model,
  loss,
  optimizer: Optim.sgd({ lr, momentum: 0.9 }),
  data,
  epochs,
  batchSize,
  key: Key.fromSeed(1),
  // out/04-spiral/history.png is redrawn every 100 epochs while training runs
  callbacks: [progress({ plain: true, every: 25 }), plotCallbacks({ dir: out, every: 100 }), grads.callbacks],
})
const { accuracy } = Train.evaluate(model, state.params, state.state, data, { loss })
console.log(`\ntraining accuracy: ${(100 * (accuracy ?? 0)).toFixed(1)}%\n`)

// The model as a function of points, for the decision boundary: eval mode, batch by batch.
const predict = (x: Tensor): Tensor => Train.predict(model, state.params, state.state, x)
const written = [
  resolve(out, 'history.png'), // written by plotCallbacks; absolute, like the paths writePlot returns
  writePlot(Plot.decisionBoundary({ predict, data, classNames: ['arm 0', 'arm 1', 'arm 2'] }), join(out, 'decision-boundary.png')),
  writePlot(Plot.learningRate(lr, { steps, title: 'learning rate: cosine decay from 0.1 to 0.005' }), join(out, 'learning-rate.png')),
  writePlot(Plot.gradientNormChart(grads.records()), join(out, 'gradient-norms.png')),
]
console.log(lossCurve(history, { log: true }))
console.log(`\nplots written:\n${written.map((f) => `  ${f}`).join('\n')}`)
