/**
 * Example 04: a 3-class spiral, the classic "a linear model cannot do this" data set, learned
 * by a small MLP with SGD + momentum through `fit`.
 *
 * Run: npx tsx examples/04-spiral.ts
 */
import { Data, Key, L, Loss, Optim, Schedule, Train } from '../src/index.ts'
import { progress } from '../src/node/index.ts'

const data = Data.spirals(Key.fromSeed(0), { classes: 3, perClass: 100, noise: 0.2 })
const model = L.pipe(L.dense(64), L.relu, L.dense(64), L.relu, L.dense(3))
const epochs = 300

const { state } = Train.fit({
  model,
  loss: Loss.softmaxCrossEntropy,
  optimizer: Optim.sgd({ lr: Schedule.cosineDecay({ init: 0.1, steps: epochs * 10, floor: 0.005 }), momentum: 0.9 }),
  data,
  epochs,
  batchSize: 32,
  key: Key.fromSeed(1),
  callbacks: progress({ plain: true, every: 25 }),
})
const { accuracy } = Train.evaluate(model, state.params, state.state, data, { loss: Loss.softmaxCrossEntropy })
console.log(`\ntraining accuracy: ${(100 * (accuracy ?? 0)).toFixed(1)}%`)
