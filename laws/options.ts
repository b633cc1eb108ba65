/**
 * The checks of the runners' options: every option's value, before any law runs. A bad value is
 * an error naming the runner, the option and what was expected (a TypeError for the wrong kind of
 * value, a RangeError for one out of range), never a law that runs with it silently ignored.
 * Unknown option names are refused by the library's shared options check. Each check is by the option's name, so checkLayer,
 * checkFusion and checkCombinators say the same of the same value.
 */
import type { Shape } from '../src/index.ts'
import { checkOptions } from '../src/options.ts'
import type { Settings } from './layer-laws.ts'
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
 * The shape in a checked `inShape`: a TypeError naming `where` unless it is an array of numbers, a RangeError unless
 * each is an integer >= 1.
 */
export const checkInShape = (where: string, inShape: unknown): Shape => {
  const rule = 'the per-example input shape, an array of positive integers such as { inShape: [4] }'
  if (!Array.isArray(inShape) || !inShape.every((d) => typeof d === 'number')) return bad(where, 'inShape', rule, inShape, false)
  if (!inShape.every((d) => Number.isSafeInteger(d) && d >= 1)) bad(where, 'inShape', rule, inShape, true)
  return inShape
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
  if (
    registry !== undefined &&
    (typeof registry !== 'object' ||
      registry === null ||
      Array.isArray(registry) ||
      !Object.values(registry).every((b) => typeof b === 'function'))
  )
    bad(where, 'registry', 'a registry of layer kinds, IO.builtins or IO.extend(IO.builtins, { ... })', registry, false)
  checkSettings(where, options.settings)
}
