/** The plain progress log (what CI and non-terminal runs print): one line per epoch. */
import { expect, test } from 'vitest'
import { formatEpoch } from '../../src/node/progress.ts'

const record = { epoch: 3, step: 300, loss: 0.123456, accuracy: 0.98765, valLoss: 0.2, valAccuracy: 0.95, seconds: 2.84 }

test('an epoch line: the epoch counted from 1, losses, accuracies as percentages, throughput and the time it took', () => {
  expect(formatEpoch(record, 12, 21243.4)).toBe(
    'epoch  3/12  loss 0.1235  acc 98.77%  val_loss 0.2000  val_acc 95.00%  21,243 samples/s  took 2.8s',
  )
})

test('a regression run without validation: no accuracy and no validation columns', () => {
  const r = { ...record, accuracy: undefined, valLoss: undefined, valAccuracy: undefined }
  expect(formatEpoch(r, 5, 1000)).toBe('epoch 3/5  loss 0.1235  1,000 samples/s  took 2.8s')
})
