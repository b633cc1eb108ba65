/**
 * The checks of the runners' options: every option's value, before any law runs. A bad value is
 * an error naming the runner, the option and what was expected (a TypeError for the wrong kind of
 * value, a RangeError for one out of range), never a law that runs with it silently ignored.
 * Unknown option names are refused by the library's shared options check. Each check is by the option's name, so checkLayer,
 * checkFusion and checkCombinators say the same of the same value.
 */
import { IO, type Shape } from '../src/index.ts'
import { checkOptions } from '../src/options.ts'
import type { Settings } from './layer-laws.ts'
import type { CheckLossOptions } from './loss-laws.ts'
import type { CheckTransformOptions } from './optimizer-laws.ts'
import type { ScheduleSpec } from './schedule-laws.ts'
import type { CheckLayerOptions, RunOptions } from './run.ts'

/** A value as an error message shows it: numbers and strings as written, else its kind. */
const show = (v: unknown): string =>
  typeof v === 'number' || typeof v === 'boolean'
    ? String(v)
    : typeof v === 'string'
      ? `the string '${v}'`
      : v === null
        ? 'null'
        : typeof v === 'object'
          ? (json(v) ?? typeof v)
          : typeof v

const json = (v: unknown): string | undefined => {
  try {
    return JSON.stringify(v)
  } catch {
    return undefined
  }
}

/** `where: name must be rule, got v`, a TypeError when v is not even of the right kind, else a RangeError. */
const bad = (where: string, name: string, rule: string, v: unknown, rightKind: boolean): never => {
  const message = `${where}: ${name} must be ${rule}, got ${show(v)}`
  throw rightKind ? new RangeError(message) : new TypeError(message)
}

const integerAtLeast = (where: string, name: string, v: unknown, min: number): void => {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min)
    bad(where, name, min === Number.MIN_SAFE_INTEGER ? 'an integer' : `an integer >= ${min}`, v, typeof v === 'number')
}

const flag = (where: string, name: string, v: unknown): void => {
  if (v !== undefined && typeof v !== 'boolean') bad(where, name, 'true or false', v, false)
}

/** The options every runner takes: numRuns an integer >= 1, seed an integer, path a replay path such as "0:1:0". */
export const checkRunOptions = (where: string, options: RunOptions): void => {
  const { numRuns, seed, path } = options
  if (numRuns !== undefined) integerAtLeast(where, 'numRuns', numRuns, 1)
  if (seed !== undefined) integerAtLeast(where, 'seed', seed, Number.MIN_SAFE_INTEGER)
  if (path !== undefined && (typeof path !== 'string' || !/^(\d+(:\d+)*)?$/.test(path)))
    bad(where, 'path', 'a replay path as a failure prints it, such as "0:1:0"', path, typeof path === 'string')
}

/** The names of the tolerances in Settings, for the check of `settings`. */
const SETTINGS = ['h', 'gradientTolerance', 'exactTolerance', 'float32Tolerance'] as const satisfies readonly (keyof Settings)[]

/** checkLayer's `settings`: an object of Settings' keys, each a finite number > 0. */
export const checkSettings = (where: string, settings: Partial<Settings> | undefined): void => {
  if (settings === undefined) return
  checkOptions(`${where}: settings`, settings, SETTINGS)
  for (const name of SETTINGS) {
    const v = settings[name]
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v <= 0))
      bad(where, `settings.${name}`, 'a finite number > 0', v, typeof v === 'number')
  }
}

/**
 * The shape in a checked shape option (`inShape`, checkLoss's `predShape`): a TypeError naming `where` unless it is an
 * array of numbers, a RangeError unless each is an integer >= 1.
 */
export const checkShape = (where: string, name: 'inShape' | 'predShape', shape: unknown): Shape => {
  const what = name === 'inShape' ? 'input' : 'prediction'
  const rule = `the per-example ${what} shape, an array of positive integers such as { ${name}: [4] }`
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number')) return bad(where, name, rule, shape, false)
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 1)) bad(where, name, rule, shape, true)
  return shape
}

/** The shape in a checked `inShape` (see checkShape). */
export const checkInShape = (where: string, inShape: unknown): Shape => checkShape(where, 'inShape', inShape)

/** A TypeError naming `where` and the argument or option `name` unless `v` is a function (or absent, when `optional`). */
export const checkFunction = (where: string, name: string, v: unknown, rule: string, optional = false): void => {
  if (typeof v !== 'function' && !(optional && v === undefined)) bad(where, name, rule, v, false)
}

const checkName = (where: string, name: unknown): void => {
  if (name !== undefined && typeof name !== 'string') bad(where, 'name', 'a string, the name failures give', name, false)
}

/** checkLoss's arguments and options: a loss function, its name, a predShape, a target arbitrary, and the rest. */
export const checkLossArguments = (where: string, loss: unknown, name: unknown, options: CheckLossOptions): void => {
  checkFunction(where, 'loss', loss, 'a loss, (pred, target) => { value, grad }, such as Loss.mse')
  if (typeof name !== 'string')
    bad(where, 'name', "the loss's name (a string), its second argument: checkLoss(loss, name, options)", name, false)
  checkOptions(where, options, ['predShape', 'target', 'pred', 'batch', 'numRuns', 'seed', 'path'])
  checkShape(where, 'predShape', options.predShape)
  checkFunction(where, 'target', options.target, 'a function from a batch size n to a fast-check arbitrary of n targets')
  checkFunction(where, 'pred', options.pred, 'a function from a batch shape to a fast-check arbitrary of predictions', true)
  checkBatch(where, options.batch)
  checkRunOptions(where, options)
}

/** The function that makes the transform under test (`() => Optim.adam({ lr })`), or the SGD factory: a TypeError otherwise. */
export const checkMaker = (where: string, make: unknown, example: string): void => {
  if (typeof make === 'function') return
  const transform = typeof make === 'object' && make !== null && 'update' in make && 'init' in make
  throw new TypeError(
    `${where}: its first argument must be a function that makes the optimizer, such as ${example} (each law makes a fresh one), ` +
      `got ${transform ? 'an optimizer itself' : show(make)}`,
  )
}

/** checkTransform's (and transformLaws') options. */
export const checkTransformOptions = (where: string, options: CheckTransformOptions): void => {
  checkOptions(where, options, ['name', 'steps', 'zeroGradientsChangeNothing', 'descent', 'numRuns', 'seed', 'path'])
  checkName(where, options.name)
  if (options.steps !== undefined) integerAtLeast(where, 'steps', options.steps, 1)
  flag(where, 'zeroGradientsChangeNothing', options.zeroGradientsChangeNothing)
  const { descent } = options
  if (descent !== undefined) {
    checkOptions(`${where}: descent`, descent, ['steps', 'fraction', 'monotone'])
    integerAtLeast(where, 'descent.steps', descent.steps, 1)
    const { fraction } = descent
    if (fraction !== undefined && (typeof fraction !== 'number' || !Number.isFinite(fraction) || fraction <= 0))
      bad(where, 'descent.fraction', 'a finite number > 0 (of f(p0))', fraction, typeof fraction === 'number')
    flag(where, 'descent.monotone', descent.monotone)
  }
  checkRunOptions(where, options)
}

/** checkSgd's (and sgdLaws') options. */
export const checkSgdOptions = (where: string, options: RunOptions & { readonly name?: string }): void => {
  checkOptions(where, options, ['name', 'numRuns', 'seed', 'path'])
  checkName(where, options.name)
  checkRunOptions(where, options)
}

/** `batch`: the batch sizes to try, { min, max } with integers 1 <= min <= max. */
export const checkBatch = (where: string, batch: CheckLayerOptions['batch']): void => {
  if (batch === undefined) return
  const { min, max } = checkOptions(`${where}: batch`, batch, ['min', 'max'])
  const ok = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 1
  if (!ok(min) || !ok(max) || min > max)
    bad(where, 'batch', 'the batch sizes to try, { min, max } with integers 1 <= min <= max, such as { min: 2, max: 3 }', batch, true)
}

/** Checks the value of every option checkLayer (and checkFusion) takes; throws the first that is wrong. */
export const checkLayerOptionValues = (where: string, options: CheckLayerOptions): void => {
  checkInShape(where, options.inShape)
  checkRunOptions(where, options)
  checkBatch(where, options.batch)
  if (options.input !== undefined && typeof options.input !== 'function')
    bad(where, 'input', 'a function from a batch shape to a fast-check arbitrary of tensors, such as distinctValues', options.input, false)
  flag(where, 'affineInInput', options.affineInInput)
  flag(where, 'linearInParams', options.linearInParams)
  flag(where, 'batchIndependent', options.batchIndependent)
  flag(where, 'float32', options.float32)
  const { maxCoordinates, paramJitter, mode, registry } = options
  if (maxCoordinates !== undefined && maxCoordinates !== Infinity) integerAtLeast(where, 'maxCoordinates', maxCoordinates, 0)
  if (paramJitter !== undefined && (typeof paramJitter !== 'number' || !Number.isFinite(paramJitter) || paramJitter < 0))
    bad(where, 'paramJitter', 'a finite number >= 0 (a standard deviation)', paramJitter, typeof paramJitter === 'number')
  if (mode !== undefined && mode !== 'train' && mode !== 'eval') bad(where, 'mode', "'train' or 'eval'", mode, typeof mode === 'string')
  if (registry !== undefined) IO.checkRegistry(`${where}: registry`, registry)
  checkSettings(where, options.settings)
}

/** checkRandomNetworks' and checkRandomConvNetworks' options: maxDepth an integer >= 0, the tolerances, the run options. */
export const checkRandomNetworkOptions = (
  where: string,
  options: RunOptions & { readonly maxDepth?: number; readonly settings?: Partial<Settings> },
): void => {
  checkOptions(where, options, ['maxDepth', 'settings', 'numRuns', 'seed', 'path'])
  if (options.maxDepth !== undefined) integerAtLeast(where, 'maxDepth', options.maxDepth, 0)
  checkSettings(where, options.settings)
  checkRunOptions(where, options)
}

const finite = (where: string, name: string, v: unknown, optional: boolean): void => {
  if ((v !== undefined || !optional) && (typeof v !== 'number' || !Number.isFinite(v)))
    bad(where, name, 'a finite number', v, typeof v === 'number')
}

/** checkSchedule's (and scheduleLaws') spec: what the schedule promises, and the run options. */
export const checkScheduleSpec = (where: string, schedule: unknown, spec: ScheduleSpec & RunOptions & { readonly name?: string }): void => {
  checkFunction(where, 'schedule', schedule, 'a schedule, a function from a step to a value, such as Schedule.cosineDecay({ init, steps })')
  const known = ['start', 'decays', 'floor', 'boundaries', 'steps', 'tolerance', 'name', 'numRuns', 'seed', 'path'] as const
  checkOptions(where, spec, [...known])
  finite(where, 'start', spec.start, false)
  const { decays, boundaries, tolerance } = spec
  if (decays !== undefined && typeof decays !== 'boolean') {
    const { from } = checkOptions(`${where}: decays`, decays, ['from'])
    integerAtLeast(where, 'decays.from', from, 0)
  }
  finite(where, 'floor', spec.floor, true)
  if (boundaries !== undefined) {
    if (!Array.isArray(boundaries)) bad(where, 'boundaries', 'an array of { step, value }', boundaries, false)
    boundaries.forEach((b, i) => {
      checkOptions(`${where}: boundaries[${i}]`, b, ['step', 'value'])
      integerAtLeast(where, `boundaries[${i}].step`, b.step, 0)
      finite(where, `boundaries[${i}].value`, b.value, false)
    })
  }
  if (spec.steps !== undefined) integerAtLeast(where, 'steps', spec.steps, 1)
  if (tolerance !== undefined && (typeof tolerance !== 'number' || !Number.isFinite(tolerance) || tolerance < 0))
    bad(where, 'tolerance', 'a finite number >= 0 (relative)', tolerance, typeof tolerance === 'number')
  checkName(where, spec.name)
  checkRunOptions(where, spec)
}
