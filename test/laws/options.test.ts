/**
 * checkLayer's (and checkFusion's) options are checked, names and values, before any law runs:
 * a bad value is an error naming the runner, the option and what was expected, never ignored.
 */
import { describe, expect, test } from 'vitest'
import { IO, L, Loss, Optim, Schedule, T } from '../../src/index.ts'
import {
  checkCombinators,
  checkFusion,
  checkLayer,
  checkLoss,
  checkRandomConvNetworks,
  checkRandomNetworks,
  checkSchedule,
  checkSgd,
  checkTransform,
  distinctValues,
} from '../../laws/index.ts'
import { thrown } from '../support/thrown.ts'

/** An identity layer that counts its forward calls, so a test can tell that no law ran. */
const counted = () => {
  const calls = { forward: 0 }
  const layer = L.define({
    name: 'counted',
    forward: (_p, x) => {
      calls.forward++
      return { y: x, tape: L.none }
    },
    vjp: (_p, _t, dy) => ({ dx: dy, dp: L.none }),
  })
  return { calls, layer }
}

const untyped = (f: unknown) => f as (...args: unknown[]) => unknown

describe('checkLayer refuses a bad option value before any law runs, naming checkLayer, the option and what was expected', () => {
  test.each<[string, object, ErrorConstructor, string]>([
    ['float32 not a boolean', { float32: 'yes' }, TypeError, "checkLayer: float32 must be true or false, got the string 'yes'"],
    ['affineInInput not a boolean', { affineInInput: 1 }, TypeError, 'checkLayer: affineInInput must be true or false, got 1'],
    [
      'linearInParams not a boolean',
      { linearInParams: 'true' },
      TypeError,
      "checkLayer: linearInParams must be true or false, got the string 'true'",
    ],
    [
      'batchIndependent not a boolean',
      { batchIndependent: null },
      TypeError,
      'checkLayer: batchIndependent must be true or false, got null',
    ],
    ['numRuns of 0', { numRuns: 0 }, RangeError, 'checkLayer: numRuns must be an integer >= 1, got 0'],
    ['numRuns negative', { numRuns: -1 }, RangeError, 'checkLayer: numRuns must be an integer >= 1, got -1'],
    ['numRuns fractional', { numRuns: 2.5 }, RangeError, 'checkLayer: numRuns must be an integer >= 1, got 2.5'],
    ['numRuns a string', { numRuns: '5' }, TypeError, "checkLayer: numRuns must be an integer >= 1, got the string '5'"],
    ['seed fractional', { seed: 1.5 }, RangeError, 'checkLayer: seed must be an integer, got 1.5'],
    ['seed NaN', { seed: NaN }, RangeError, 'checkLayer: seed must be an integer, got NaN'],
    [
      'path not a replay path',
      { path: 'abc' },
      RangeError,
      `checkLayer: path must be a replay path as a failure prints it, such as "0:1:0", got the string 'abc'`,
    ],
    ['path a number', { path: 3 }, TypeError, 'checkLayer: path must be a replay path as a failure prints it, such as "0:1:0", got 3'],
    ['batch a number', { batch: 3 }, TypeError, 'checkLayer: batch: expected an options object { min, max }, got number'],
    [
      'batch with min > max',
      { batch: { min: 3, max: 1 } },
      RangeError,
      'checkLayer: batch must be the batch sizes to try, { min, max } with integers 1 <= min <= max, such as { min: 2, max: 3 }, got {"min":3,"max":1}',
    ],
    [
      'batch of 0',
      { batch: { min: 0, max: 2 } },
      RangeError,
      'checkLayer: batch must be the batch sizes to try, { min, max } with integers 1 <= min <= max, such as { min: 2, max: 3 }, got {"min":0,"max":2}',
    ],
    [
      'batch without max',
      { batch: { min: 2 } },
      RangeError,
      'checkLayer: batch must be the batch sizes to try, { min, max } with integers 1 <= min <= max, such as { min: 2, max: 3 }, got {"min":2}',
    ],
    [
      'batch with a misspelt key',
      { batch: { min: 2, maximum: 3 } },
      RangeError,
      "checkLayer: batch: unknown option 'maximum'; the options are min, max",
    ],
    [
      'input not a function',
      { input: distinctValues([1, 3]) },
      TypeError,
      'checkLayer: input must be a function from a batch shape to a fast-check arbitrary of tensors, such as distinctValues, got',
    ],
    ['maxCoordinates negative', { maxCoordinates: -1 }, RangeError, 'checkLayer: maxCoordinates must be an integer >= 0, got -1'],
    [
      'paramJitter negative',
      { paramJitter: -0.5 },
      RangeError,
      'checkLayer: paramJitter must be a finite number >= 0 (a standard deviation), got -0.5',
    ],
    [
      'paramJitter a string',
      { paramJitter: 'small' },
      TypeError,
      "checkLayer: paramJitter must be a finite number >= 0 (a standard deviation), got the string 'small'",
    ],
    ['mode misspelt', { mode: 'training' }, RangeError, "checkLayer: mode must be 'train' or 'eval', got the string 'training'"],
    [
      'registry by name',
      { registry: 'builtins' },
      TypeError,
      "checkLayer: registry must be a registry, IO.builtins or IO.extend(IO.builtins, IO.registryOf(kind)), got the string 'builtins'",
    ],
    [
      'registry the IO namespace',
      { registry: IO },
      TypeError,
      'checkLayer: registry must be a registry, IO.builtins or IO.extend(IO.builtins, IO.registryOf(kind)), got the IO namespace: pass IO.builtins',
    ],
    [
      'settings a number',
      { settings: 1e-3 },
      TypeError,
      'checkLayer: settings: expected an options object { h, gradientTolerance, exactTolerance, float32Tolerance }, got number',
    ],
    [
      'settings with an unknown tolerance',
      { settings: { tolerance: 1e-3 } },
      RangeError,
      "checkLayer: settings: unknown option 'tolerance'; the options are h, gradientTolerance, exactTolerance, float32Tolerance",
    ],
    [
      'settings.float32Tolerance a string',
      { settings: { float32Tolerance: 'big' } },
      TypeError,
      "checkLayer: settings.float32Tolerance must be a finite number > 0, got the string 'big'",
    ],
    ['settings.h of 0', { settings: { h: 0 } }, RangeError, 'checkLayer: settings.h must be a finite number > 0, got 0'],
    [
      'settings.gradientTolerance negative',
      { settings: { gradientTolerance: -1e-6 } },
      RangeError,
      'checkLayer: settings.gradientTolerance must be a finite number > 0, got -0.000001',
    ],
    [
      'settings.exactTolerance infinite',
      { settings: { exactTolerance: Infinity } },
      RangeError,
      'checkLayer: settings.exactTolerance must be a finite number > 0, got Infinity',
    ],
    [
      'inShape of a string',
      { inShape: '3' },
      TypeError,
      "checkLayer: inShape must be the per-example input shape, an array of positive integers such as { inShape: [4] }, got the string '3'",
    ],
    [
      'inShape of strings',
      { inShape: ['3'] },
      TypeError,
      'checkLayer: inShape must be the per-example input shape, an array of positive integers such as { inShape: [4] }, got ["3"]',
    ],
    [
      'inShape negative',
      { inShape: [-1] },
      RangeError,
      'checkLayer: inShape must be the per-example input shape, an array of positive integers such as { inShape: [4] }, got [-1]',
    ],
    [
      'inShape of 0',
      { inShape: [2, 0] },
      RangeError,
      'checkLayer: inShape must be the per-example input shape, an array of positive integers such as { inShape: [4] }, got [2,0]',
    ],
    [
      'inShape fractional',
      { inShape: [1.5] },
      RangeError,
      'checkLayer: inShape must be the per-example input shape, an array of positive integers such as { inShape: [4] }, got [1.5]',
    ],
  ])('%s', (_, bad, cls, message) => {
    const { calls, layer } = counted()
    const e = thrown(Error, () => untyped(checkLayer)(layer, { inShape: [3], numRuns: 3, ...bad }))
    expect(e).toBeInstanceOf(cls)
    expect(e.message.startsWith(message), e.message).toBe(true)
    expect(calls.forward).toBe(0)
  })

  test('an unknown option is refused before any law runs, with the list of options', () => {
    const { calls, layer } = counted()
    const e = thrown(Error, () => untyped(checkLayer)(layer, { inShape: [3], runs: 10 }))
    expect(e).toBeInstanceOf(RangeError)
    expect(e.message).toMatch(/^checkLayer: unknown option 'runs'; the options are numRuns, seed, path, inShape, batch, input,/)
    expect(calls.forward).toBe(0)
  })

  test('the values a user may pass are accepted, and the laws then run', () => {
    const { calls, layer } = counted()
    checkLayer(layer, {
      inShape: [3],
      numRuns: 2,
      seed: -7,
      path: '',
      batch: { min: 2, max: 2 },
      input: distinctValues,
      affineInInput: true,
      linearInParams: false,
      batchIndependent: true,
      maxCoordinates: Infinity,
      paramJitter: 0,
      mode: 'eval',
      registry: IO.extend(IO.builtins, { counted: () => layer }),
      float32: true,
      settings: { h: 1e-5, float32Tolerance: 1e-4 },
    })
    expect(calls.forward).toBeGreaterThan(0)
  })

  test('checkFusion checks the same options, naming checkFusion, and both layers', () => {
    expect(thrown(Error, () => untyped(checkFusion)(L.dense(3), L.relu, { inShape: [4], mode: 'test' })).message).toBe(
      "checkFusion: mode must be 'train' or 'eval', got the string 'test'",
    )
    expect(thrown(Error, () => untyped(checkFusion)(L.dense(3), L.relu, { inShape: [4], numRun: 5 })).message).toMatch(
      /^checkFusion: unknown option 'numRun'/,
    )
    expect(thrown(Error, () => untyped(checkFusion)(L.dense(3), L.leakyRelu, { inShape: [4] })).message).toBe(
      'checkFusion: its second argument (next) is not a layer: did you forget to call leakyRelu(…)?',
    )
  })

  test('the other runners check their run options too, naming the runner', () => {
    const e = thrown(Error, () => checkTransform(() => Optim.sgd({ lr: 0.1 }), { name: 'sgd', numRuns: 0 }))
    expect(e).toBeInstanceOf(RangeError)
    expect(e.message).toBe('checkTransform: numRuns must be an integer >= 1, got 0')
  })

  test('a tensor where the input arbitrary belongs is named as such', () => {
    expect(thrown(Error, () => untyped(checkLayer)(L.relu, { inShape: [3], input: T.zeros([1, 3]) })).message).toMatch(
      /^checkLayer: input must be a function/,
    )
  })
})

describe('checkCombinators refuses bad options before any law runs, naming checkCombinators, the option and what was expected', () => {
  const shapeRule = 'checkCombinators: inShape must be the per-example input shape, an array of positive integers such as { inShape: [4] }'
  const batchRule =
    'checkCombinators: batch must be the batch sizes to try, { min, max } with integers 1 <= min <= max, such as { min: 2, max: 3 }'
  test.each<[string, object, ErrorConstructor, string]>([
    ['numRuns of 0', { numRuns: 0 }, RangeError, 'checkCombinators: numRuns must be an integer >= 1, got 0'],
    ['numRuns a string', { numRuns: '5' }, TypeError, "checkCombinators: numRuns must be an integer >= 1, got the string '5'"],
    ['seed fractional', { seed: 0.5 }, RangeError, 'checkCombinators: seed must be an integer, got 0.5'],
    [
      'path a number',
      { path: 1 },
      TypeError,
      'checkCombinators: path must be a replay path as a failure prints it, such as "0:1:0", got 1',
    ],
    ['inShape negative', { inShape: [-1] }, RangeError, `${shapeRule}, got [-1]`],
    ['inShape fractional', { inShape: [2.5] }, RangeError, `${shapeRule}, got [2.5]`],
    ['inShape a string', { inShape: '4' }, TypeError, `${shapeRule}, got the string '4'`],
    ['inShape missing', { inShape: undefined }, TypeError, `${shapeRule}, got undefined`],
    ['batch with min > max', { batch: { min: 3, max: 1 } }, RangeError, `${batchRule}, got {"min":3,"max":1}`],
    ['batch a number', { batch: 2 }, TypeError, 'checkCombinators: batch: expected an options object { min, max }, got number'],
    ['an unknown option', { runs: 3 }, RangeError, "checkCombinators: unknown option 'runs'; the options are f, g, h, inShape, batch,"],
    ['f an unapplied factory', { f: L.dense }, TypeError, 'checkCombinators: f is not a layer: did you forget to call dense(…)?'],
    ['h missing', { h: undefined }, TypeError, 'checkCombinators: h is not a layer, got undefined'],
    [
      'layers that do not chain',
      { g: L.conv2d(2, 3) },
      Error,
      "checkCombinators: f, g and h must chain from inShape [4] (f then g then h), but g's init (conv2d) rejected input shape [3]: conv2d:",
    ],
  ])('%s', (_, bad, cls, message) => {
    const { calls, layer } = counted()
    const e = thrown(Error, () => untyped(checkCombinators)({ f: L.dense(3), g: layer, h: L.dense(2), inShape: [4], numRuns: 2, ...bad }))
    expect(e).toBeInstanceOf(cls)
    expect(e.message.startsWith(message), e.message).toBe(true)
    expect(calls.forward).toBe(0)
  })

  test('a layer passed where the options object belongs is named as such', () => {
    const e = thrown(Error, () => untyped(checkCombinators)(L.dense(3)))
    expect(e).toBeInstanceOf(TypeError)
    expect(e.message).toBe('checkCombinators: takes one options object, checkCombinators({ f, g, h, inShape }), got a layer')
  })

  test('good options are accepted, and the laws then run', () => {
    const { calls, layer } = counted()
    checkCombinators({ f: L.dense(3), g: layer, h: L.dense(2), inShape: [4], numRuns: 2, seed: 3, path: '', batch: { min: 1, max: 2 } })
    expect(calls.forward).toBeGreaterThan(0)
  })
})

describe('checkLoss, checkTransform, checkSgd, checkSchedule and the random-network runners check their arguments, naming themselves', () => {
  const target = (): never => {
    throw new Error('no target is drawn before the options are checked')
  }
  const sgd = () => Optim.sgd({ lr: 0.1 })
  const schedule = Schedule.constant(0.1)
  test.each<[string, () => unknown, ErrorConstructor, string]>([
    [
      'checkLoss without a name',
      () => untyped(checkLoss)(Loss.mse, { predShape: [3], target }),
      TypeError,
      "checkLoss: name must be the loss's name (a string), its second argument",
    ],
    [
      'checkLoss given the namespace',
      () => untyped(checkLoss)(Loss, 'mse', { predShape: [3], target }),
      TypeError,
      'checkLoss: loss must be a loss, (pred, target) => { value, grad }',
    ],
    [
      'checkLoss predShape negative',
      () => untyped(checkLoss)(Loss.mse, 'mse', { predShape: [-1], target }),
      RangeError,
      'checkLoss: predShape must be the per-example prediction shape, an array of positive integers such as { predShape: [4] }, got [-1]',
    ],
    [
      'checkLoss predShape a number',
      () => untyped(checkLoss)(Loss.mse, 'mse', { predShape: 3, target }),
      TypeError,
      'checkLoss: predShape must be the per-example prediction shape',
    ],
    [
      'checkLoss without target',
      () => untyped(checkLoss)(Loss.mse, 'mse', { predShape: [3] }),
      TypeError,
      'checkLoss: target must be a function from a batch size n to a fast-check arbitrary of n targets, got undefined',
    ],
    [
      'checkLoss misspelt option',
      () => untyped(checkLoss)(Loss.mse, 'mse', { predShape: [3], target, numRun: 2 }),
      RangeError,
      "checkLoss: unknown option 'numRun' (did you mean 'numRuns'?)",
    ],
    [
      'checkLoss batch',
      () => untyped(checkLoss)(Loss.mse, 'mse', { predShape: [3], target, batch: { min: 0, max: 1 } }),
      RangeError,
      'checkLoss: batch must be the batch sizes to try',
    ],
    [
      'checkTransform given the optimizer',
      () => untyped(checkTransform)(sgd(), { name: 'sgd' }),
      TypeError,
      'checkTransform: its first argument must be a function that makes the optimizer, such as () => Optim.adam({ lr: 0.05 }) (each law makes a fresh one), got an optimizer itself',
    ],
    [
      'checkTransform misspelt option',
      () => untyped(checkTransform)(sgd, { nme: 'sgd' }),
      RangeError,
      "checkTransform: unknown option 'nme' (did you mean 'name'?); the options are name, steps, zeroGradientsChangeNothing, descent, numRuns, seed, path",
    ],
    [
      'checkTransform steps of 0',
      () => untyped(checkTransform)(sgd, { steps: 0 }),
      RangeError,
      'checkTransform: steps must be an integer >= 1, got 0',
    ],
    [
      'checkTransform flag a string',
      () => untyped(checkTransform)(sgd, { zeroGradientsChangeNothing: 'no' }),
      TypeError,
      "checkTransform: zeroGradientsChangeNothing must be true or false, got the string 'no'",
    ],
    [
      'checkTransform descent without steps',
      () => untyped(checkTransform)(sgd, { descent: { fraction: 0.1 } }),
      TypeError,
      'checkTransform: descent.steps must be an integer >= 1, got undefined',
    ],
    [
      'checkTransform descent misspelt',
      () => untyped(checkTransform)(sgd, { descent: { step: 5 } }),
      RangeError,
      "checkTransform: descent: unknown option 'step' (did you mean 'steps'?)",
    ],
    [
      'checkTransform descent fraction 0',
      () => untyped(checkTransform)(sgd, { descent: { steps: 5, fraction: 0 } }),
      RangeError,
      'checkTransform: descent.fraction must be a finite number > 0 (of f(p0)), got 0',
    ],
    [
      'checkSgd given the optimizer',
      () => untyped(checkSgd)(sgd()),
      TypeError,
      'checkSgd: its first argument must be a function that makes the optimizer, such as Optim.sgd',
    ],
    [
      'checkSgd given lr',
      () => untyped(checkSgd)(Optim.sgd, { lr: 0.1 }),
      RangeError,
      "checkSgd: unknown option 'lr' (the learning rate goes in the optimizer: Optim.sgd({ lr }))",
    ],
    [
      'checkSchedule without start',
      () => untyped(checkSchedule)(schedule, { decays: true }),
      TypeError,
      'checkSchedule: start must be a finite number, got undefined',
    ],
    [
      'checkSchedule given a number',
      () => untyped(checkSchedule)(0.1, { start: 0.1 }),
      TypeError,
      'checkSchedule: schedule must be a schedule, a function from a step to a value',
    ],
    [
      'checkSchedule decays.from',
      () => untyped(checkSchedule)(schedule, { start: 0.1, decays: { from: -1 } }),
      RangeError,
      'checkSchedule: decays.from must be an integer >= 0, got -1',
    ],
    [
      'checkSchedule boundary',
      () => untyped(checkSchedule)(schedule, { start: 0.1, boundaries: [{ step: 10, valu: 0 }] }),
      RangeError,
      "checkSchedule: boundaries[0]: unknown option 'valu' (did you mean 'value'?)",
    ],
    [
      'checkSchedule floor NaN',
      () => untyped(checkSchedule)(schedule, { start: 0.1, floor: NaN }),
      RangeError,
      'checkSchedule: floor must be a finite number, got NaN',
    ],
    [
      'checkSchedule tolerance',
      () => untyped(checkSchedule)(schedule, { start: 0.1, tolerance: -1 }),
      RangeError,
      'checkSchedule: tolerance must be a finite number >= 0 (relative), got -1',
    ],
    [
      'checkRandomNetworks numRuns',
      () => untyped(checkRandomNetworks)({ numRuns: 0 }),
      RangeError,
      'checkRandomNetworks: numRuns must be an integer >= 1, got 0',
    ],
    [
      'checkRandomNetworks misspelt',
      () => untyped(checkRandomNetworks)({ maxdepth: 2 }),
      RangeError,
      "checkRandomNetworks: unknown option 'maxdepth' (did you mean 'maxDepth'?)",
    ],
    [
      'checkRandomConvNetworks maxDepth',
      () => untyped(checkRandomConvNetworks)({ maxDepth: -1 }),
      RangeError,
      'checkRandomConvNetworks: maxDepth must be an integer >= 0, got -1',
    ],
    [
      'checkRandomConvNetworks settings',
      () => untyped(checkRandomConvNetworks)({ settings: { h: 0 } }),
      RangeError,
      'checkRandomConvNetworks: settings.h must be a finite number > 0, got 0',
    ],
  ])('%s', (_, f, cls, message) => {
    const e = thrown(Error, f)
    expect(e).toBeInstanceOf(cls)
    expect(e.message.startsWith(message), e.message).toBe(true)
  })

  test('good arguments pass the checks, and the laws run', () => {
    checkSgd(Optim.sgd, { name: 'sgd', numRuns: 2 })
    checkTransform(sgd, { name: 'sgd', steps: 2, zeroGradientsChangeNothing: true, descent: { steps: 5, fraction: 0.5 }, numRuns: 2 })
    checkSchedule(schedule, {
      start: 0.1,
      decays: { from: 0 },
      floor: 0.1,
      boundaries: [{ step: 3, value: 0.1 }],
      steps: 10,
      tolerance: 0,
      numRuns: 2,
    })
    checkRandomNetworks({ maxDepth: 0, numRuns: 2, settings: { gradientTolerance: 1e-6 } })
  })
})
