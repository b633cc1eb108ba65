import { describe, expect, test } from 'vitest'
import { Key, Train, Tree, type T } from 'chainrule'
import { dataSets, defaults, validate, type Config, type DataSetName } from '../../playground/core/config.ts'
import { build, firstBatch, fitOptions, initialState } from '../../playground/core/build.ts'
import { mnistBytes } from './support.ts'

const bits = (t: T.Tensor): string => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).toString('hex')
const treeBits = (tree: Tree.Tree): string[] => Tree.leaves(tree).map(bits)

/** The state Train.fit holds after its first step, for the built run. */
const afterFitsFirstStep = (run: ReturnType<typeof build>): Train.TrainState => {
  let first: Train.TrainState | undefined
  Train.fit({ ...fitOptions(run), epochs: 1, callbacks: { onStep: ({ state }) => void (first ??= state) } })
  return first!
}

describe('build: a configuration becomes the library network and run a user would write', () => {
  test.each(dataSets.filter((s) => s !== 'mnist'))('the default configuration of %s is valid', (set) => {
    expect(validate(defaults(set))).toEqual([])
  })

  test.each<[string, Config]>([
    ['spiral', defaults('spiral')],
    [
      'xor with sgd, momentum and dropout',
      {
        ...defaults('xor'),
        layers: [{ kind: 'dense', units: 8 }, { kind: 'relu' }, { kind: 'dropout', rate: 0.3 }, { kind: 'dense', units: 2 }],
        optimizer: { name: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 1e-3 },
      },
    ],
    [
      'blobs with mse and batchNorm',
      {
        ...defaults('blobs'),
        loss: 'mse',
        layers: [{ kind: 'dense', units: 8 }, { kind: 'batchNorm' }, { kind: 'elu', alpha: 1 }, { kind: 'dense', units: 3 }],
      },
    ],
  ])(
    "%s: the initial state and first batch are those of Train.fit: one trainStep from them gives fit's first step, bit for bit",
    (_, config) => {
      const run = build(config)
      const [after] = Train.trainStep(run.model, run.loss, run.optimizer)(initialState(run), firstBatch(run))
      const fit = afterFitsFirstStep(run)
      expect(treeBits(after.params)).toEqual(treeBits(fit.params))
      expect(treeBits(after.optState)).toEqual(treeBits(fit.optState))
      expect(treeBits(after.state)).toEqual(treeBits(fit.state))
      expect(Key.show(after.key)).toBe(Key.show(fit.key))
    },
  )

  test('the initial params are L.pipe + Train.initState with the first half of Key.fromSeed(seed), as fit draws them', () => {
    const run = build({ ...defaults('spiral'), seed: 7 })
    const [initKey] = Key.split2(Key.fromSeed(7))
    const byHand = Train.initState(run.model, run.optimizer, initKey, [2])
    expect(treeBits(initialState(run).params)).toEqual(treeBits(byHand.params))
  })

  test('mnist: the subset is the first digits of the files, as loadMnist reads them', async () => {
    const { loadMnist } = await import('chainrule/node')
    const run = build({ ...defaults('mnist'), data: { set: 'mnist', size: 50, testSize: 20 } }, mnistBytes())
    const node = loadMnist({ train: 50, test: 20 })
    expect(bits(run.data.x)).toBe(bits(node.train.x))
    expect(bits(run.data.y)).toBe(bits(node.train.y))
    expect(bits(run.test!.x)).toBe(bits(node.test.x))
  })

  test.each<[DataSetName, number]>([
    ['spiral', 95],
    ['circles', 95],
    ['xor', 95],
    ['blobs', 95],
    ['mnist', 85],
  ])(
    'the default network for %s learns it: accuracy at least %d% after its epochs (training set; test digits for mnist)',
    (set, percent) => {
      const run = build(defaults(set), set === 'mnist' ? mnistBytes() : undefined)
      const { state } = Train.fit(fitOptions(run))
      const { accuracy } = Train.evaluate(run.model, state.params, state.state, run.test ?? run.data, { loss: run.loss })
      expect(100 * accuracy!).toBeGreaterThanOrEqual(percent)
    },
  )

  test('an invalid configuration is refused with its problems, not fixed', () => {
    expect(() => build({ ...defaults('spiral'), layers: [{ kind: 'dense', units: 4 }] })).toThrow(
      'layers: the network ends with output 4 per example, but spiral has 3 classes: end with a dense of 3',
    )
  })
})
