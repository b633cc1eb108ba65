/** The plain progress log (what CI and non-terminal runs print): one line per epoch. */
import { expect, test } from 'vitest'
import { Data, Key, L, Loss, Optim, Train } from '../../src/index.ts'
import { formatEpoch, progress } from '../../src/node/progress.ts'

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

test('a diverging loss reads in four significant digits, not as every digit of a huge number', () => {
  const r = { ...record, loss: 1.2928087606005193e26, valLoss: Infinity, accuracy: 0.1188, valAccuracy: 0.1 }
  expect(formatEpoch(r, 3, 211)).toBe('epoch 3/3  loss 1.293e+26  acc 11.88%  val_loss Infinity  val_acc 10.00%  211 samples/s  took 2.8s')
  expect(formatEpoch({ ...r, loss: 999999.5 }, 3, 211)).toContain('loss 999999.5000')
})

test("a fit's plain log: '1 epoch', and each epoch's samples/s over the seconds the epoch line shows it took", () => {
  let log = ''
  const stream = { write: (s: string) => ((log += s), true), isTTY: false }
  const { history } = Train.fit({
    model: L.pipe(L.dense(4), L.relu, L.dense(2)),
    loss: Loss.softmaxCrossEntropy,
    optimizer: Optim.sgd({ lr: 0.1 }),
    data: Data.xor(Key.fromSeed(0), 64),
    epochs: 1,
    batchSize: 8,
    key: Key.fromSeed(1),
    callbacks: [progress({ plain: true, stream: stream as unknown as NodeJS.WriteStream })],
  })
  expect(log).toContain('training on 64 examples: 1 epoch of 8 steps\n')
  const rate = Math.round(64 / history.epochs[0]!.seconds).toLocaleString('en-US')
  expect(log).toContain(`  ${rate} samples/s  took ${history.epochs[0]!.seconds.toFixed(1)}s`)
})

test("the live bar shows the epoch's mean loss and accuracy so far: its last values are the ones the epoch line prints", () => {
  let log = ''
  // a terminal as cli-progress sees one: it draws the bar, moving the cursor with escape codes
  const stream = { write: (s: string) => ((log += s), true), isTTY: true, columns: 200 }
  const { history } = Train.fit({
    model: L.pipe(L.dense(8), L.relu, L.dense(2)),
    loss: Loss.softmaxCrossEntropy,
    optimizer: Optim.sgd({ lr: 0.3, momentum: 0.9 }),
    data: Data.xor(Key.fromSeed(0), 96),
    epochs: 3,
    batchSize: 8,
    key: Key.fromSeed(1),
    callbacks: [progress({ plain: false, stream: stream as unknown as NodeJS.WriteStream })],
  })
  const text = log.replace(/\x1B(\[[0-9;?]*[A-Za-z]|[78])/g, '\n')
  const epochLines = [...text.matchAll(/^epoch (\d)\/3  loss (\S+)  acc (\S+)  /gm)]
  expect(epochLines.map((m) => m[1])).toEqual(['1', '2', '3'])
  for (const line of epochLines) {
    const bars = [...text.slice(0, line.index).matchAll(/^epoch (\d)\/3 \|.*\| 12\/12 \| loss (\S+) \| acc (\S+) \|/gm)]
    const last = bars.at(-1)!
    expect(last[1]).toBe(line[1]) // the bar of the same epoch, drawn at its last step
    expect([last[2], last[3]]).toEqual([line[2], line[3]])
  }
  // and those are the epoch records' own values
  expect(epochLines.map((m) => m[2])).toEqual(history.epochs.map((e) => e.loss.toFixed(4)))
})
