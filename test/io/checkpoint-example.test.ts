import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { Key, L, Loss, Optim, Train } from '../../src/index.ts'
import { loadMnist, saveModel } from '../../src/node/index.ts'

const dir = mkdtempSync(join(tmpdir(), 'chainrule-example-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('examples/08-load-and-predict', () => {
  test('loads a saved MNIST model, shows digits with predicted and true labels, and matches the saved accuracy', () => {
    // A quick stand-in for the main job: a small MLP on 2000 digits, saved as examples/05 saves it.
    const { train, test: testSet } = loadMnist({ train: 2000 })
    const model = L.pipe(L.flatten, L.dense(32), L.relu, L.dense(10))
    const { state } = Train.fit({
      model,
      loss: Loss.softmaxCrossEntropy,
      optimizer: Optim.sgd({ lr: 0.1, momentum: 0.9 }),
      data: train,
      epochs: 1,
      batchSize: 64,
      key: Key.fromSeed(0),
    })
    const { accuracy } = Train.evaluate(model, state.params, state.state, testSet, { loss: Loss.softmaxCrossEntropy })
    const path = join(dir, 'mnist-mlp.json')
    saveModel(path, {
      model,
      inShape: [1, 28, 28],
      params: state.params,
      state: state.state,
      metadata: { example: 'test', testAccuracy: accuracy ?? null },
    })

    const out = execFileSync(process.execPath, ['--import', 'tsx', 'examples/08-load-and-predict.ts', path, '--count', '3'], {
      encoding: 'utf8',
      timeout: 120_000,
    })
    expect(out).toContain(`loaded ${path}`)
    expect(out).toContain('pipe[1].dense')
    expect(out).toMatch(/#0: predicted \d \(\d+\.\d%\)/)
    expect(out).toMatch(/^ +true 7: (right|WRONG)/m) // the first test digit is a 7
    expect(out).toContain('test accuracy recorded when it was saved')
    expect(out).toContain('(identical)')
  })
  test('a missing file given as the path: the message says to check it, or how to make one', () => {
    let message = ''
    try {
      execFileSync(process.execPath, ['--import', 'tsx', 'examples/08-load-and-predict.ts', join(dir, 'none.json')], {
        encoding: 'utf8',
        stdio: 'pipe',
        timeout: 60_000,
      })
    } catch (e) {
      message = String((e as { stderr?: string }).stderr)
    }
    expect(message).toContain(`No file at ${join(dir, 'none.json')}: check the path`)
    expect(message).toContain('or train and save a model first with `npm start`')
  })
})
