/**
 * Arbitrary valid playground configurations for property tests: a data set with its settings,
 * a network that fits it (dense blocks for the points; for MNIST, conv blocks that fit the image,
 * a flatten and dense blocks), a loss that suits its last layer, any optimizer and schedule.
 * Numbers are arbitrary doubles in each setting's range, so round-trips are tested on every bit.
 */
import fc from 'fast-check'
import {
  LIMITS,
  MAX_SEED,
  optimizerNames,
  validate,
  type Config,
  type DataConfig,
  type LayerConfig,
  type LrConfig,
  type OptimizerConfig,
} from '../../playground/core/config.ts'

const unit = (max = 1, min = 0): fc.Arbitrary<number> => fc.double({ min, max, noNaN: true, noDefaultInfinity: true })
/** fc.record without null-prototype objects (a configuration is plain JSON-like data). */
const record = <T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> => fc.record(model, { noNullPrototype: true })
const seed = fc.integer({ min: 0, max: MAX_SEED })

const data: fc.Arbitrary<DataConfig> = fc.oneof(
  record({
    set: fc.constant('spiral' as const),
    classes: fc.integer({ min: 2, max: 5 }),
    k: fc.integer({ min: 1, max: 60 }),
    noise: unit(2),
    seed,
  }).map(({ k, ...d }) => ({ ...d, size: k * d.classes })),
  record({
    set: fc.constant('blobs' as const),
    classes: fc.integer({ min: 2, max: 5 }),
    k: fc.integer({ min: 1, max: 60 }),
    noise: unit(3),
    seed,
  }).map(({ k, ...d }) => ({ ...d, size: k * d.classes })),
  record({ set: fc.constant('circles' as const), size: fc.integer({ min: 2, max: 300 }), noise: unit(1), factor: unit(0.99, 0.01), seed }),
  record({ set: fc.constant('xor' as const), size: fc.integer({ min: 2, max: 300 }), noise: unit(1), seed }),
  record({ set: fc.constant('mnist' as const), size: fc.integer({ min: 1, max: 3000 }), testSize: fc.integer({ min: 1, max: 1000 }) }),
)

const activation: fc.Arbitrary<LayerConfig> = fc.oneof(
  fc.constantFrom<LayerConfig>({ kind: 'relu' }, { kind: 'sigmoid' }, { kind: 'tanh' }),
  unit(1).map((alpha): LayerConfig => ({ kind: 'leakyRelu', alpha })),
  unit(10, 0.001).map((alpha): LayerConfig => ({ kind: 'elu', alpha })),
)

/** A dense block: dense, then maybe batchNorm, an activation, dropout. */
const denseBlock: fc.Arbitrary<LayerConfig[]> = fc
  .tuple(fc.integer({ min: 1, max: 64 }), fc.boolean(), fc.option(activation), fc.option(unit(0.9)))
  .map(([units, bn, act, drop]) => [
    { kind: 'dense', units },
    ...(bn ? [{ kind: 'batchNorm' } as const] : []),
    ...(act === null ? [] : [act]),
    ...(drop === null ? [] : [{ kind: 'dropout', rate: drop } as const]),
  ])

/** A conv block that keeps a 28×28 image at least 7×7 after two of them: a small conv, an activation, maybe a pool. */
const convBlock: fc.Arbitrary<LayerConfig[]> = fc
  .tuple(
    fc.integer({ min: 1, max: 4 }),
    fc.integer({ min: 1, max: 3 }),
    fc.constantFrom<'valid' | 'same' | number>('valid', 'same', 0, 1),
    fc.option(activation),
    fc.option(fc.constantFrom<'maxPool2d' | 'avgPool2d'>('maxPool2d', 'avgPool2d')),
    fc.boolean(),
  )
  .map(([filters, kernel, padding, act, pool, bn]) => [
    { kind: 'conv2d', filters, kernel, stride: 1, padding },
    ...(bn ? [{ kind: 'batchNorm' } as const] : []),
    ...(act === null ? [] : [act]),
    ...(pool === null ? [] : [{ kind: pool, size: 2, stride: 2 } as const]),
  ])

const lossAndEnd = (classes: number): fc.Arbitrary<{ loss: Config['loss']; end: LayerConfig[] }> =>
  fc.constantFrom(
    { loss: 'softmaxCrossEntropy' as const, end: [{ kind: 'dense', units: classes } as const] },
    { loss: 'crossEntropy' as const, end: [{ kind: 'dense', units: classes } as const, { kind: 'softmax' } as const] },
    { loss: 'mse' as const, end: [{ kind: 'dense', units: classes } as const] },
  )

const optimizer: fc.Arbitrary<OptimizerConfig> = fc.constantFrom(...optimizerNames).chain((name): fc.Arbitrary<OptimizerConfig> => {
  const betas = { b1: unit(0.999), b2: unit(0.9999), eps: unit(1e-3, 1e-12) }
  switch (name) {
    case 'sgd':
      return fc
        .record({ momentum: unit(0.99), nesterov: fc.boolean(), weightDecay: unit(0.1) })
        .map((o) => ({ name, ...o, nesterov: o.nesterov && o.momentum > 0 }))
    case 'adamw':
      return record({ ...betas, weightDecay: unit(0.1) }).map((o) => ({ name, ...o }))
    case 'rmsprop':
      return record({ decay: unit(0.999), eps: unit(1e-3, 1e-12), momentum: unit(0.99) }).map((o) => ({ name, ...o }))
    case 'adagrad':
      return record({ eps: unit(1e-3, 1e-12), initialAccumulator: unit(1) }).map((o) => ({ name, ...o }))
    default:
      return record(betas).map((o) => ({ name, ...o }))
  }
})

const rate = unit(1, 1e-6)
const steps = fc.integer({ min: 1, max: 5000 })
const lr: fc.Arbitrary<LrConfig> = fc.oneof(
  rate.map((value) => ({ kind: 'constant' as const, value })),
  record({ init: rate, factor: unit(1, 0.01), every: steps }).map((o) => ({ kind: 'stepDecay' as const, ...o })),
  record({ init: rate, rate: unit(1, 0.01), steps, staircase: fc.boolean() }).map((o) => ({ kind: 'exponentialDecay' as const, ...o })),
  record({ init: rate, f: unit(1) }).map(({ init, f }) => ({ kind: 'cosineDecay' as const, init, floor: init * f })),
  record({ peak: rate, warmupSteps: fc.integer({ min: 0, max: 3 }), f: unit(1) }).map(({ peak, warmupSteps, f }) => ({
    kind: 'warmupCosine' as const,
    peak,
    warmupSteps,
    floor: peak * f,
  })),
  record({ init: rate, power: unit(4, 0.1), f: unit(1) }).map(({ init, power, f }) => ({
    kind: 'polynomialDecay' as const,
    init,
    power,
    floor: init * f,
  })),
  rate.map((peak) => ({ kind: 'oneCycle' as const, peak })),
  record({ init: rate, period: steps, periodFactor: fc.integer({ min: 1, max: 3 }), f: unit(1) }).map(
    ({ init, period, periodFactor, f }) => ({
      kind: 'cosineRestarts' as const,
      init,
      period,
      periodFactor,
      floor: init * f,
    }),
  ),
)

/** Any valid configuration (those validate still refuses, e.g. a last batch of one before a batchNorm, are filtered out). */
export const config: fc.Arbitrary<Config> = data
  .chain((d) => {
    const classes = d.set === 'mnist' ? 10 : d.set === 'spiral' || d.set === 'blobs' ? d.classes : 2
    const body =
      d.set === 'mnist'
        ? fc
            .tuple(fc.array(convBlock, { maxLength: 2 }), fc.array(denseBlock, { maxLength: 1 }))
            .map(([convs, denses]) => [...convs.flat(), { kind: 'flatten' } as const, ...denses.flat()])
        : fc.array(denseBlock, { maxLength: 3 }).map((bs) => bs.flat())
    return record({
      data: fc.constant(d),
      body,
      end: lossAndEnd(classes),
      optimizer,
      lr,
      batchSize: fc.integer({ min: 1, max: Math.min(d.size, 256) }),
      epochs: fc.integer({ min: 1, max: 50 }),
      seed,
    })
  })
  .map(({ body, end, ...c }): Config => ({ ...c, layers: [...body, ...end.end].slice(-LIMITS.layers), loss: end.loss }))
  .filter((c) => validate(c).length === 0)
