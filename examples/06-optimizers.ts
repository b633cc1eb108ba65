/**
 * Example 06: one problem, several optimizers. Each optimizer is a pure state transition, so
 * comparing them is a loop over values: same model, same initial params, same batches. The
 * loss curves, one line per optimizer, go to out/06-optimizers/compare.png (or --out DIR).
 *
 * Each optimizer is the chain of small transforms it is defined by (Optim.adam is
 * chain(scaleByAdam(), scaleByLearningRate(lr))), run as one fused pass; under the 'reference'
 * kernels the chain itself runs, transform by transform. The end of the run checks they agree.
 *
 * Run: npx tsx examples/06-optimizers.ts [--out DIR]
 */
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Compare } from 'chainrule/laws'
import { Data, Kernels, Key, L, Loss, Optim, Plot, T, Train, Tree } from 'chainrule'
import { writePlot } from 'chainrule/node'
import { flags } from './cli.ts'

const { values: args } = flags('[--out DIR]', { out: fileURLToPath(new URL('../out/06-optimizers/', import.meta.url)) })
const out = args.out

const data = Data.spirals(Key.fromSeed(0), { classes: 3, perClass: 100, noise: 0.2 })
const model = L.pipe(L.dense(32), L.tanh, L.dense(32), L.tanh, L.dense(3))
const steps = 600
const checkpoints = [50, 150, 300, 600]

const optimizers: [string, Optim.GradientTransformation][] = [
  ['SGD', Optim.sgd({ lr: 0.05 })],
  ['SGD + momentum', Optim.sgd({ lr: 0.05, momentum: 0.9 })],
  ['SGD + Nesterov', Optim.sgd({ lr: 0.05, momentum: 0.9, nesterov: true })],
  ['Adam', Optim.adam({ lr: 0.01 })],
  ['AdamW', Optim.adamw({ lr: 0.01, weightDecay: 1e-4 })],
  ['AMSGrad', Optim.amsgrad({ lr: 0.01 })],
  ['NAdam', Optim.nadam({ lr: 0.01 })],
  ['Adamax', Optim.adamax({ lr: 0.02 })],
  ['RMSprop', Optim.rmsprop({ lr: 0.003 })],
  ['Adagrad', Optim.adagrad({ lr: 0.1 })],
]

console.log(`loss on the whole 300-point spiral after N steps of batch 32 (same init, same batches)\n`)
console.log(`${'optimizer'.padEnd(16)}${checkpoints.map((c) => `${c} steps`.padStart(12)).join('')}`)
const runs: Plot.Run[] = []
for (const [name, optimizer] of optimizers) {
  let ts = Train.initState(model, optimizer, Key.fromSeed(7), [2])
  const step = Train.trainStep(model, Loss.softmaxCrossEntropy, optimizer)
  const losses: number[] = []
  const records: Train.StepRecord[] = [] // each step's batch loss, for the chart
  let epoch = 0
  while (ts.step < steps) {
    for (const batch of Data.batches(Key.foldIn(Key.fromSeed(3), epoch++), data, 32)) {
      const [next, m] = step(ts, batch)
      ts = next
      records.push({ step: ts.step, epoch: epoch - 1, loss: m.loss, accuracy: m.accuracy })
      if (checkpoints.includes(ts.step)) {
        losses.push(Train.evaluate(model, ts.params, ts.state, data, { loss: Loss.softmaxCrossEntropy }).loss)
      }
      if (ts.step >= steps) break
    }
  }
  console.log(`${name.padEnd(16)}${losses.map((l) => l.toFixed(4).padStart(12)).join('')}`)
  runs.push({ name, history: { steps: records, epochs: [] } })
}
const title = 'batch loss per step (smoothed), one line per optimizer'
const chart = writePlot(Plot.compareRuns(runs, { lossScale: 'log', title, width: 480, height: 300 }), join(out, 'compare.png'))

// One AdamW step, fused (the default kernels) and as its chain (the 'reference' kernels).
const adamw = Optim.adamw({ lr: 0.01, weightDecay: 1e-4 })
const params = Train.initState(model, adamw, Key.fromSeed(7), [2]).params
const grads = Tree.map(params, T.map(Math.sin))
const fused = adamw.update(grads, adamw.init(params), params)
const chained = Kernels.using('reference', () => adamw.update(grads, adamw.init(params), params))
const same = Compare.treesIdentical('AdamW step', fused, chained).holds

console.log(`
AdamW is Adam plus a decoupled weight decay of 1e-4 per unit of learning rate: over 600 steps
that shrinks the weights by well under 1%, so its losses match Adam's to about 4 decimals.

AdamW's fused step and its chain give the same update and state, bit for bit: ${same}

the loss curves: ${chart}`)
