import { describe, expect, test } from 'vitest'
import { Key, Train, Tree, type T } from 'chainrule'
import {
  dataSets,
  defaultLr,
  defaults,
  lrKinds,
  totalStepsOf,
  validate,
  type Config,
  type DataSetName,
} from '../../playground/core/config.ts'
import { batchAt, build, firstBatch, fitOptions, initialState } from '../../playground/core/build.ts'
import { codeOf } from '../../playground/core/code.ts'
import { shortName } from '../../playground/core/layers.ts'
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

  test('stepping through batchAt(0), batchAt(1), … retraces fit step for step, across epochs', () => {
    const run = build({ ...defaults('xor'), data: { set: 'xor', size: 40, noise: 0.2, seed: 3 }, batchSize: 16, epochs: 3 })
    const fitStates: Train.TrainState[] = []
    Train.fit({ ...fitOptions(run), callbacks: { onStep: ({ state }) => void fitStates.push(state) } })
    expect(fitStates.length).toBe(9) // 3 epochs of 16 + 16 + 8
    const step = Train.trainStep(run.model, run.loss, run.optimizer)
    let ts = initialState(run)
    fitStates.forEach((fitState, k) => {
      ts = step(ts, batchAt(run, k))[0]
      expect(treeBits(ts.params), `step ${k + 1}`).toEqual(treeBits(fitState.params))
    })
  })

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

  test('validate names the layer and the problem, from the library’s shape rules where they apply', () => {
    const mnist = defaults('mnist')
    const messages = (c: Config): string[] => validate(c).map((p) => p.message)
    expect(messages({ ...mnist, layers: [{ kind: 'dense', units: 10 }] })).toEqual([
      'dense 1: input shape: expected [features] (flatten images first), got [1, 28, 28]',
    ])
    const conv = { kind: 'conv2d', filters: 2, kernel: 9, stride: 1, padding: 'valid' } as const
    expect(
      messages({ ...mnist, layers: [{ kind: 'maxPool2d', size: 4, stride: 4 }, conv, { kind: 'flatten' }, { kind: 'dense', units: 10 }] }),
    ).toEqual(['conv2d 1: kernel 9 is larger than its 7×7 input'])
    const swish: Config['layers'][number] = JSON.parse('{ "kind": "swish" }') // as a hand-edited configuration could hold
    expect(messages({ ...defaults('xor'), layers: [swish, { kind: 'dense', units: 2 }] })[0]).toMatch(
      /^swish 1: unknown layer kind 'swish'/,
    )
    expect(messages({ ...defaults('spiral'), layers: [{ kind: 'dense', units: 3 }, { kind: 'softmax' }], loss: 'crossEntropy' })).toEqual(
      [],
    )
    expect(messages({ ...defaults('spiral'), layers: [{ kind: 'softmax' }, { kind: 'dense', units: 3 }] })).toEqual([
      'softmax 1: softmax belongs at the end of the network (it turns scores into class probabilities)',
    ])
  })

  test('a layer’s problem is named as its row is (“dense 2”, the second dense), every problem of the layer, and the code’s comments agree', () => {
    const spiral = defaults('spiral') // dense, relu, dense, relu, dense
    const layers = spiral.layers.map((l, i) => (i === 2 ? { kind: 'dense' as const, units: Number.NaN } : l))
    const problems = validate({ ...spiral, layers })
    expect(problems.map((p) => [p.where, p.layer])).toEqual([['dense 2', 2]])
    expect(problems[0]!.message).toBe('dense 2: units must be an integer from 1 to 1024 (the playground limit), got nothing')
    expect(shortName(layers, 2)).toBe(problems[0]!.where)
    const conv = { kind: 'conv2d', filters: Number.NaN, kernel: Number.NaN, stride: 1, padding: 'valid' } as const
    const mnist = defaults('mnist')
    const two = validate({ ...mnist, layers: [conv, ...mnist.layers.slice(1)] }).filter((p) => p.layer === 0)
    expect(two.map((p) => p.message)).toEqual([
      'conv2d 1: filters must be an integer from 1 to 64 (the playground limit), got nothing',
      'conv2d 1: kernel must be an integer from 1 to 11 (the playground limit), got nothing',
    ])
    expect(codeOf(mnist)).toContain('// conv2d 1: ') // the code names each layer the same way
  })

  test('validate names every problem: a bad data setting does not hide a bad layer, and an empty box (NaN) is named as nothing', () => {
    const spiral = defaults('spiral')
    const messages = validate({
      ...spiral,
      data: { ...spiral.data, size: Number.NaN },
      layers: [{ kind: 'dense', units: 0 }, { kind: 'relu' }, { kind: 'dense', units: 3 }],
    }).map((p) => p.message)
    expect(messages).toContainEqual('data: size must be an integer from 2 to 5000 (the playground limit), got nothing')
    expect(messages.some((m) => m.startsWith('dense 1: units'))).toBe(true)
  })

  test.each(lrKinds.filter((k) => k !== 'constant'))(
    'the default %s schedule acts within the run: valid, and the rate at the last step is not the first step’s',
    (kind) => {
      const base = { ...defaults('xor'), epochs: 30 } // 30 × 7 = 210 steps, fewer than any fixed default's period
      const c: Config = { ...base, lr: defaultLr(kind, 0.05, totalStepsOf(base)) }
      expect(validate(c)).toEqual([])
      const { lr } = build(c)
      if (typeof lr === 'number') throw new Error('expected a schedule')
      expect(lr(totalStepsOf(c) - 1)).not.toBe(lr(0))
    },
  )

  test('an invalid configuration is refused with its problems, not fixed', () => {
    expect(() => build({ ...defaults('spiral'), layers: [{ kind: 'dense', units: 4 }] })).toThrow(
      'layers: the network ends with output 4 per example, but spiral has 3 classes: end with a dense of 3',
    )
  })
})
