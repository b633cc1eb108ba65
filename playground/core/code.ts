/**
 * The TypeScript a user writes for a configuration, importing from 'chainrule': the data, the
 * network as `L.pipe` of its layers (one per line, with its shapes), the loss, the optimizer and
 * its learning rate, and `Train.fit` with the run's key. Run in Node, it trains the same network
 * as `build` gives the page, bit for bit.
 */
import { check, classesOf, shapesOf, type Config, type DataConfig, type LrConfig, type OptimizerConfig } from './config.ts'
import { codeOfLayer } from './layers.ts'

/** A number as source text: the shortest text that reads back as the same double, -0 included. */
export const showNumber = (v: number): string => (Object.is(v, -0) ? '-0' : String(v))

/** `{ a: 1, b: 2 }` from the entries whose values differ from the defaults, or '' when none do. */
const optionsText = (entries: readonly (readonly [string, number | boolean, number | boolean])[]): string => {
  const kept = entries.filter(([, v, d]) => !Object.is(v, d)).map(([k, v]) => `${k}: ${typeof v === 'number' ? showNumber(v) : String(v)}`)
  return kept.length === 0 ? '' : `, ${kept.join(', ')}`
}

const optimizerCode = (o: OptimizerConfig): string => {
  switch (o.name) {
    case 'sgd':
      return `Optim.sgd({ lr${optionsText([
        ['momentum', o.momentum, 0],
        ['nesterov', o.nesterov, false],
        ['weightDecay', o.weightDecay, 0],
      ])} })`
    case 'adamw':
      return `Optim.adamw({ lr${optionsText([
        ['b1', o.b1, 0.9],
        ['b2', o.b2, 0.999],
        ['eps', o.eps, 1e-8],
        ['weightDecay', o.weightDecay, 1e-4],
      ])} })`
    case 'rmsprop':
      return `Optim.rmsprop({ lr${optionsText([
        ['decay', o.decay, 0.9],
        ['eps', o.eps, 1e-8],
        ['momentum', o.momentum, 0],
      ])} })`
    case 'adagrad':
      return `Optim.adagrad({ lr${optionsText([
        ['eps', o.eps, 1e-10],
        ['initialAccumulator', o.initialAccumulator, 0],
      ])} })`
    default:
      return `Optim.${o.name}({ lr${optionsText([
        ['b1', o.b1, 0.9],
        ['b2', o.b2, 0.999],
        ['eps', o.eps, 1e-8],
      ])} })`
  }
}

/** The learning rate's code, and whether it needs the run's step count `steps`. */
const lrCode = (lr: LrConfig): { readonly code: string; readonly needsSteps: boolean } => {
  const n = showNumber
  switch (lr.kind) {
    case 'constant':
      return { code: n(lr.value), needsSteps: false }
    case 'stepDecay':
      return { code: `Schedule.stepDecay({ init: ${n(lr.init)}, factor: ${n(lr.factor)}, every: ${lr.every} })`, needsSteps: false }
    case 'exponentialDecay':
      return {
        code: `Schedule.exponentialDecay({ init: ${n(lr.init)}, rate: ${n(lr.rate)}, steps: ${lr.steps}${lr.staircase ? ', staircase: true' : ''} })`,
        needsSteps: false,
      }
    case 'cosineDecay':
      return { code: `Schedule.cosineDecay({ init: ${n(lr.init)}, steps, floor: ${n(lr.floor)} })`, needsSteps: true }
    case 'warmupCosine':
      return {
        code: `Schedule.warmupCosine({ peak: ${n(lr.peak)}, warmupSteps: ${lr.warmupSteps}, decaySteps: steps - ${lr.warmupSteps}, floor: ${n(lr.floor)} })`,
        needsSteps: true,
      }
    case 'polynomialDecay':
      return {
        code: `Schedule.polynomialDecay({ init: ${n(lr.init)}, steps, power: ${n(lr.power)}, floor: ${n(lr.floor)} })`,
        needsSteps: true,
      }
    case 'oneCycle':
      return { code: `Schedule.oneCycle({ peak: ${n(lr.peak)}, steps })`, needsSteps: true }
    case 'cosineRestarts':
      return {
        code: `Schedule.cosineRestarts({ init: ${n(lr.init)}, period: ${lr.period}, periodFactor: ${lr.periodFactor}, floor: ${n(lr.floor)} })`,
        needsSteps: false,
      }
  }
}

/** The data set's lines: a comment and the declaration(s) of `data` (and `test` for MNIST). */
const dataCode = (d: DataConfig, mse: boolean, classes: number): string[] => {
  const n = showNumber
  const target = (x: string, y: string): string => (mse ? `Data.make(${x}.x, oneHot(${y}.y, ${classes}))` : x)
  const raw = mse ? 'points' : 'data'
  const lines = ((): string[] => {
    switch (d.set) {
      case 'spiral':
        return [
          `// ${d.size} points on ${d.classes} spiral arms, one class per arm`,
          `const ${raw} = Data.spirals(Key.fromSeed(${d.seed}), { classes: ${d.classes}, perClass: ${d.size / d.classes}, noise: ${n(d.noise)} })`,
        ]
      case 'circles':
        return [
          `// ${d.size} points on two circles, the inner one of radius ${n(d.factor)}`,
          `const ${raw} = Data.circles(Key.fromSeed(${d.seed}), ${d.size}, { noise: ${n(d.noise)}, factor: ${n(d.factor)} })`,
        ]
      case 'xor':
        return [
          `// ${d.size} points in four clusters at (±1, ±1): class 1 where the signs differ`,
          `const ${raw} = Data.xor(Key.fromSeed(${d.seed}), ${d.size}, { noise: ${n(d.noise)} })`,
        ]
      case 'blobs':
        return [
          `// ${d.size} points in ${d.classes} Gaussian blobs, one class per blob`,
          `const ${raw} = Data.blobs(Key.fromSeed(${d.seed}), { centers: ${d.classes}, perCenter: ${d.size / d.classes}, std: ${n(d.noise)} })`,
        ]
      case 'mnist':
        return [
          `// the first ${d.size} training and ${d.testSize} test digits of MNIST, x [N, 1, 28, 28]`,
          `const mnist = loadMnist({ train: ${d.size}, test: ${d.testSize} })`,
          ...(mse ? [] : ['const data = mnist.train', 'const test = mnist.test']),
        ]
    }
  })()
  if (!mse) return lines
  const oneHotLines = [
    '// mse compares the network output with one-hot rows: class 2 of 3 is [0, 0, 1]',
    'const oneHot = (y: T.Tensor, classes: number): T.Tensor =>',
    '  T.generate([y.shape[0]!, classes], (i) => (y.data[Math.floor(i / classes)] === i % classes ? 1 : 0))',
  ]
  return d.set === 'mnist'
    ? [
        ...lines,
        ...oneHotLines,
        `const data = ${target('mnist.train', 'mnist.train')}`,
        `const test = ${target('mnist.test', 'mnist.test')}`,
      ]
    : [...lines, ...oneHotLines, `const data = ${target('points', 'points')}`]
}

/**
 * The TypeScript a user writes for this configuration: the data, the network as `L.pipe`, the
 * loss, the optimizer and its learning rate, and `Train.fit` with the run's key; it prints the
 * accuracy at the end. Run in Node it trains the same network as the page, bit for bit.
 * @example codeOf(defaults('xor')) // "import { Data, Key, L, Loss, Optim, Train } from 'chainrule'\n..."
 */
export const codeOf = (config: Config): string => {
  const c = check(config)
  const mse = c.loss === 'mse'
  const mnist = c.data.set === 'mnist'
  const lr = lrCode(c.lr)
  const names = [
    'Data',
    'Key',
    'L',
    'Loss',
    'Optim',
    ...(lr.code.startsWith('Schedule') ? ['Schedule'] : []),
    ...(mse ? ['T'] : []),
    'Train',
  ]
  const loss =
    c.loss === 'softmaxCrossEntropy' ? 'Loss.softmaxCrossEntropy' : c.loss === 'crossEntropy' ? 'Loss.crossEntropy()' : 'Loss.mse'
  const { shapes } = shapesOf(c)
  const width = Math.max(...c.layers.map((l) => codeOfLayer(l).length)) + 1
  return [
    `import { ${names.join(', ')} } from 'chainrule'`,
    ...(mnist ? ["import { loadMnist } from 'chainrule/node'"] : []),
    '',
    ...dataCode(c.data, mse, classesOf(c.data)),
    '',
    '// the network: each layer maps a batch to a batch; pipe runs them left to right',
    'const model = L.pipe(',
    ...c.layers.map(
      (l, i) =>
        `  ${`${codeOfLayer(l)},`.padEnd(width + 1)}// ${shapes[i]!.name.replace(/ \(.*\)$/, '')}: ${shapes[i]!.inShape.join('×')} → ${shapes[i]!.outShape.join('×')}`,
    ),
    ')',
    `const loss = ${loss}`,
    `const epochs = ${c.epochs}`,
    `const batchSize = ${c.batchSize}`,
    ...(lr.needsSteps ? ['const steps = epochs * Train.stepsPerEpoch({ data, batchSize }) // the whole run'] : []),
    `const lr = ${lr.code}`,
    `const optimizer = ${optimizerCode(c.optimizer)}`,
    '',
    '// fit folds a training step (forward, loss, vjp, optimizer update) over shuffled mini-batches',
    `const { state, history } = Train.fit({ model, loss, optimizer, data, epochs, batchSize, key: Key.fromSeed(${c.seed}) })`,
    '// the line the page shows at the end of a run: 4 significant digits, a percentage with one decimal',
    'const { loss: trainingLoss, accuracy } = Train.evaluate(model, state.params, state.state, data, { loss })',
    ...(mnist ? ['const { accuracy: testAccuracy } = Train.evaluate(model, state.params, state.state, test, { loss })'] : []),
    `console.log(\`done after \${history.epochs.length} ${c.epochs === 1 ? 'epoch' : 'epochs'}: training loss \${Number(trainingLoss.toPrecision(4))}, \` +`,
    `  \`training accuracy \${(100 * accuracy!).toFixed(1)}%${mnist ? ', test accuracy ${(100 * testAccuracy!).toFixed(1)}%' : ''}\`)`,
    '',
  ].join('\n')
}
