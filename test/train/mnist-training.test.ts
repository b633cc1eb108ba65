import { describe, expect, test } from 'vitest'
import { Key, L, Loss, Optim, Train } from '../../src/index.ts'
import { loadMnist } from '../../src/node/index.ts'

// A short end-to-end run on real MNIST, so a training regression fails CI. The long run that
// reaches >= 98% is examples/05-mnist-mlp.ts (npm start).
describe('end-to-end: an MLP on a slice of MNIST', () => {
  test('10,000 training images, 2 epochs: at least 90% on the 10,000 test images', () => {
    const { train, test: testSet } = loadMnist({ train: 10000 })
    const model = L.pipe(L.flatten, L.dense(128), L.relu, L.dense(64), L.relu, L.dense(10))
    const { state, history } = Train.fit({
      model,
      loss: Loss.softmaxCrossEntropy,
      optimizer: Optim.sgd({ lr: 0.05, momentum: 0.9, nesterov: true }),
      data: train,
      epochs: 2,
      batchSize: 64,
      key: Key.fromSeed(0),
    })
    const { accuracy } = Train.evaluate(model, state.params, state.state, testSet, { loss: Loss.softmaxCrossEntropy })
    expect(history.epochs[1]!.loss).toBeLessThan(history.epochs[0]!.loss)
    console.log(`end-to-end MNIST slice: test accuracy ${((accuracy ?? 0) * 100).toFixed(2)}%`)
    expect(accuracy).toBeGreaterThanOrEqual(0.9)
  })
})
