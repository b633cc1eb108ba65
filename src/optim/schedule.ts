/**
 * Schedules: a learning rate (or any hyper-parameter) as a function of the step, `step => value`,
 * step 0 being the first update. They are plain pure functions, so they compose (join) and
 * plot. The optimizer keeps the step count in its state and asks the schedule each update.
 *
 * Conventions: a boundary b means "from step b on", so step b already takes the new value;
 * floors are absolute values (not fractions of init); steps are numbers >= 0 (fractional steps
 * are allowed and interpolate). Every constructor checks its arguments and throws an OptimError
 * naming the schedule, the argument and the bad value.
 */
import { checkOptions, decayFactor, finite, nonNegative, nonNegativeInteger, OptimError, positiveInteger } from './validate.ts'

/** A value per step: `lr(step)`, step = number of updates already taken. */
export type Schedule = (step: number) => number

const checkedSteps =
  (where: string, f: Schedule): Schedule =>
  (step) => {
    if (typeof step !== 'number' || !Number.isFinite(step) || step < 0) {
      throw new OptimError(`${where}: step must be finite and >= 0, got ${String(step)}`)
    }
    return f(step)
  }

const atMost = (where: string, name: string, v: number, bound: string, limit: number): void => {
  if (v > limit) throw new OptimError(`${where}: ${name} must be <= ${bound} (${limit}), got ${v}`)
}

/** (1 - t)·a + t·b: exactly a at t = 0 and exactly b at t = 1. */
const lerp = (a: number, b: number, t: number): number => (1 - t) * a + t * b

/**
 * The same value at every step.
 * @example constant(0.1)(1000) // 0.1
 */
export const constant = (value: number): Schedule => {
  finite('constant', 'value', value)
  return checkedSteps('constant', () => value)
}

const increasingSteps = (where: string, boundaries: readonly number[]): void => {
  if (!Array.isArray(boundaries)) throw new OptimError(`${where}: boundaries must be an array of steps, got ${typeof boundaries}`)
  boundaries.forEach((b, i) => {
    positiveInteger(where, `boundaries[${i}]`, b)
    const prev = boundaries[i - 1]
    if (prev !== undefined && b <= prev) {
      throw new OptimError(`${where}: boundaries must increase, got boundaries[${i - 1}] = ${prev} then boundaries[${i}] = ${b}`)
    }
  })
}

/** Index of the piece a step falls in: how many boundaries are <= step. */
const piece = (boundaries: readonly number[], step: number): number => {
  let i = 0
  while (i < boundaries.length && step >= boundaries[i]!) i++
  return i
}

/**
 * values[0] before boundaries[0], values[i] from boundaries[i-1] on (one more value than boundaries).
 * @example piecewiseConstant([100, 200], [0.1, 0.01, 0.001])(150) // 0.01
 */
export const piecewiseConstant = (boundaries: readonly number[], values: readonly number[]): Schedule => {
  const where = 'piecewiseConstant'
  increasingSteps(where, boundaries)
  if (!Array.isArray(values) || values.length !== boundaries.length + 1) {
    const got = Array.isArray(values) ? values.length : typeof values
    throw new OptimError(`${where}: needs one more value than boundaries (${boundaries.length + 1}), got ${got}`)
  }
  values.forEach((v, i) => finite(where, `values[${i}]`, v))
  return checkedSteps(where, (step) => values[piece(boundaries, step)]!)
}

/** Options of stepDecay. */
export interface StepDecayOptions {
  /** Value at step 0, >= 0. */
  readonly init: number
  /** Multiplier in (0, 1] applied every `every` steps. */
  readonly factor: number
  /** Steps between drops, an integer >= 1. */
  readonly every: number
}

/**
 * init · factor^⌊step / every⌋: drops by `factor` every `every` steps.
 * @example stepDecay({ init: 0.1, factor: 0.5, every: 10 })(25) // 0.025
 */
export const stepDecay = (options: StepDecayOptions): Schedule => {
  const { init, factor, every } = checkOptions('stepDecay', options, ['init', 'factor', 'every'])
  const where = 'stepDecay'
  nonNegative(where, 'init', init)
  decayFactor(where, 'factor', factor)
  positiveInteger(where, 'every', every)
  return checkedSteps(where, (step) => init * factor ** Math.floor(step / every))
}

/** Options of exponentialDecay. */
export interface ExponentialDecayOptions {
  /** Value at step 0, >= 0. */
  readonly init: number
  /** Multiplier in (0, 1] per `steps` steps. */
  readonly rate: number
  /** Steps over which the value is multiplied by `rate`, an integer >= 1. */
  readonly steps: number
  /** Decay in whole jumps at multiples of `steps` (default false: smoothly). */
  readonly staircase?: boolean
  /** Absolute lower bound, in [0, init] (default 0). */
  readonly floor?: number
}

/**
 * max(floor, init · rate^(step / steps)), with ⌊step / steps⌋ when staircase.
 * @example exponentialDecay({ init: 1, rate: 0.5, steps: 10 })(20) // 0.25
 */
export const exponentialDecay = (options: ExponentialDecayOptions): Schedule => {
  const known = ['init', 'rate', 'steps', 'staircase', 'floor'] as const
  const { init, rate, steps, staircase = false, floor = 0 } = checkOptions('exponentialDecay', options, known)
  const where = 'exponentialDecay'
  nonNegative(where, 'init', init)
  decayFactor(where, 'rate', rate)
  positiveInteger(where, 'steps', steps)
  nonNegative(where, 'floor', floor)
  atMost(where, 'floor', floor, 'init', init)
  return checkedSteps(where, (step) => Math.max(floor, init * rate ** (staircase ? Math.floor(step / steps) : step / steps)))
}

/** Options of cosineDecay. */
export interface CosineDecayOptions {
  /** Value at step 0, >= 0. */
  readonly init: number
  /** Steps to reach the floor, an integer >= 1; the value stays at the floor after. */
  readonly steps: number
  /** Absolute value reached at `steps`, in [0, init] (default 0). optax's alpha is floor = alpha·init. */
  readonly floor?: number
}

/**
 * Half a cosine from init down to floor over `steps` (Loshchilov & Hutter's SGDR without
 * restarts): with w = ½(1 + cos(π·min(step, steps)/steps)), the value is w·init + (1 - w)·floor.
 * @example cosineDecay({ init: 1, steps: 100 })(50) // 0.5
 */
export const cosineDecay = (options: CosineDecayOptions): Schedule => {
  const { init, steps, floor = 0 } = checkOptions('cosineDecay', options, ['init', 'steps', 'floor'])
  return cosine('cosineDecay', init, steps, floor)
}

/** cosineDecay with the argument names of the caller (warmupCosine calls init "peak"). */
function cosine(where: string, init: number, steps: number, floor: number, names = { init: 'init', steps: 'steps' }): Schedule {
  nonNegative(where, names.init, init)
  positiveInteger(where, names.steps, steps)
  nonNegative(where, 'floor', floor)
  atMost(where, 'floor', floor, names.init, init)
  return checkedSteps(where, (step) => halfCosine(init, floor, Math.min(step, steps) / steps))
}

/** Half a cosine from a (at t = 0) to b (at t = 1), up or down: with w = ½(1 + cos πt), w·a + (1 - w)·b. */
const halfCosine = (a: number, b: number, t: number): number => lerp(b, a, 0.5 * (1 + Math.cos(Math.PI * t)))

/** Options of linearWarmup. */
export interface LinearWarmupOptions {
  /** Value at step 0, >= 0. */
  readonly from: number
  /** Value at `steps` and after, >= 0. */
  readonly to: number
  /** Length of the ramp, an integer >= 1. */
  readonly steps: number
}

/**
 * A straight line from `from` at step 0 to `to` at `steps`, then `to` for ever.
 * @example linearWarmup({ from: 0, to: 0.1, steps: 10 })(5) // 0.05
 */
export const linearWarmup = (options: LinearWarmupOptions): Schedule => {
  const { from, to, steps } = checkOptions('linearWarmup', options, ['from', 'to', 'steps'])
  return ramp('linearWarmup', from, to, steps)
}

/** linearWarmup with the argument names of the caller (warmupCosine calls `to` "peak"). */
function ramp(where: string, from: number, to: number, steps: number, names = { to: 'to', steps: 'steps' }): Schedule {
  nonNegative(where, 'from', from)
  nonNegative(where, names.to, to)
  positiveInteger(where, names.steps, steps)
  return checkedSteps(where, (step) => lerp(from, to, Math.min(step, steps) / steps))
}

/**
 * Runs schedules one after another: schedules[0] before boundaries[0]; from boundaries[i - 1]
 * on, schedules[i] runs with its own clock restarted, at step - boundaries[i - 1] (optax's
 * join_schedules).
 * @example
 * const s = join([linearWarmup({ from: 0, to: 1, steps: 10 }), cosineDecay({ init: 1, steps: 90 })], [10])
 * s(10) // 1, the cosine's step 0
 */
export const join = (schedules: readonly Schedule[], boundaries: readonly number[]): Schedule => {
  const where = 'join'
  if (!Array.isArray(schedules) || schedules.length === 0) {
    throw new OptimError(`${where}: needs at least one schedule, got ${Array.isArray(schedules) ? 0 : typeof schedules}`)
  }
  schedules.forEach((s, i) => {
    if (typeof s !== 'function') throw new OptimError(`${where}: schedules[${i}] must be a function step => value, got ${typeof s}`)
  })
  increasingSteps(where, boundaries)
  if (boundaries.length !== schedules.length - 1) {
    throw new OptimError(`${where}: needs one boundary fewer than schedules (${schedules.length - 1}), got ${boundaries.length}`)
  }
  return checkedSteps(where, (step) => {
    const i = piece(boundaries, step)
    return schedules[i]!(i === 0 ? step : step - boundaries[i - 1]!)
  })
}

/** Options of warmupCosine. */
export interface WarmupCosineOptions {
  /** Value at the end of the warm-up, >= 0. */
  readonly peak: number
  /** Length of the linear warm-up, an integer >= 0 (0: no warm-up). */
  readonly warmupSteps: number
  /**
   * Length of the cosine decay *after* the warm-up, an integer >= 1. optax's decay_steps counts
   * the warm-up too: pass decay_steps - warmup_steps.
   */
  readonly decaySteps: number
  /** Absolute value the cosine ends at, in [0, peak] (default 0). */
  readonly floor?: number
  /** Value at step 0, in [0, peak] (default 0). */
  readonly from?: number
}

/**
 * Linear warm-up from `from` to `peak` over warmupSteps, then cosine decay to `floor` over the next
 * decaySteps, then the floor: join([linearWarmup, cosineDecay], [warmupSteps]).
 * @example
 * const lr = warmupCosine({ peak: 1e-3, warmupSteps: 100, decaySteps: 900 })
 * lr(0) // 0;  lr(100) // 1e-3;  lr(550) // 5e-4;  lr(1000) // 0
 */
export const warmupCosine = (options: WarmupCosineOptions): Schedule => {
  const known = ['peak', 'warmupSteps', 'decaySteps', 'floor', 'from'] as const
  const { peak, warmupSteps, decaySteps, floor = 0, from = 0 } = checkOptions('warmupCosine', options, known)
  const where = 'warmupCosine'
  nonNegative(where, 'peak', peak)
  nonNegativeInteger(where, 'warmupSteps', warmupSteps)
  nonNegative(where, 'from', from)
  atMost(where, 'from', from, 'peak', peak)
  const decay = cosine(where, peak, decaySteps, floor, { init: 'peak', steps: 'decaySteps' })
  if (warmupSteps === 0) return decay
  return join([ramp(where, from, peak, warmupSteps, { to: 'peak', steps: 'warmupSteps' }), decay], [warmupSteps])
}

/** Options of polynomialDecay. */
export interface PolynomialDecayOptions {
  /** Value at step 0, >= 0. */
  readonly init: number
  /** Steps to reach the floor, an integer >= 1; the value stays at the floor after. */
  readonly steps: number
  /** The exponent, > 0 (default 1: a straight line). */
  readonly power?: number
  /** Absolute value reached at `steps`, in [0, init] (default 0; optax's end_value). */
  readonly floor?: number
}

/**
 * From init down to floor along (1 - step/steps)^power, then the floor (optax's
 * polynomial_schedule; PyTorch's PolynomialLR with floor 0): power 1 is a straight line, power 2
 * drops fast and then flattens.
 * @example polynomialDecay({ init: 1, steps: 100 })(25) // 0.75
 */
export const polynomialDecay = (options: PolynomialDecayOptions): Schedule => {
  const { init, steps, power = 1, floor = 0 } = checkOptions('polynomialDecay', options, ['init', 'steps', 'power', 'floor'])
  const where = 'polynomialDecay'
  nonNegative(where, 'init', init)
  positiveInteger(where, 'steps', steps)
  if (!(typeof power === 'number' && Number.isFinite(power) && power > 0)) {
    throw new OptimError(`${where}: power must be finite and > 0, got ${String(power)}`)
  }
  nonNegative(where, 'floor', floor)
  atMost(where, 'floor', floor, 'init', init)
  return checkedSteps(where, (step) => (init - floor) * (1 - Math.min(step, steps) / steps) ** power + floor)
}

/** Options of oneCycle. */
export interface OneCycleOptions {
  /** The highest value, reached at the end of the first phase, > 0. */
  readonly peak: number
  /** Length of the whole cycle, an integer >= 2; the value stays at its last after. */
  readonly steps: number
  /** Share of the steps spent rising, in (0, 1) (default 0.3): the peak is at ⌊pctStart·steps⌋, at least 1 and below steps. */
  readonly pctStart?: number
  /** The start is peak / divFactor, divFactor >= 1 (default 25). */
  readonly divFactor?: number
  /** The end is start / finalDivFactor, finalDivFactor >= 1 (default 1e4). */
  readonly finalDivFactor?: number
}

/**
 * The one-cycle policy (Smith & Topin 2017) with cosine phases, as optax's
 * cosine_onecycle_schedule: half a cosine up from peak/divFactor to peak over the first
 * ⌊pctStart·steps⌋ steps, then half a cosine down to peak/(divFactor·finalDivFactor) at `steps`.
 * (PyTorch's OneCycleLR ends the rise at pctStart·steps − 1, unrounded, and the fall at
 * steps − 1, so its values differ slightly.)
 * @example
 * const lr = oneCycle({ peak: 0.1, steps: 1000 })
 * lr(0) // 0.004;  lr(300) // 0.1;  lr(1000) // 4e-7
 */
export const oneCycle = (options: OneCycleOptions): Schedule => {
  const known = ['peak', 'steps', 'pctStart', 'divFactor', 'finalDivFactor'] as const
  const { peak, steps, pctStart = 0.3, divFactor = 25, finalDivFactor = 1e4 } = checkOptions('oneCycle', options, known)
  const where = 'oneCycle'
  if (!(typeof peak === 'number' && Number.isFinite(peak) && peak > 0)) {
    throw new OptimError(`${where}: peak must be finite and > 0, got ${String(peak)}`)
  }
  if (!(typeof steps === 'number' && Number.isInteger(steps) && steps >= 2)) {
    throw new OptimError(`${where}: steps must be an integer >= 2, got ${String(steps)}`)
  }
  if (!(typeof pctStart === 'number' && pctStart > 0 && pctStart < 1)) {
    throw new OptimError(`${where}: pctStart must be in (0, 1), got ${String(pctStart)}`)
  }
  for (const [name, v] of [
    ['divFactor', divFactor],
    ['finalDivFactor', finalDivFactor],
  ] as const) {
    if (!(typeof v === 'number' && Number.isFinite(v) && v >= 1)) {
      throw new OptimError(`${where}: ${name} must be finite and >= 1, got ${String(v)}`)
    }
  }
  const rise = Math.min(steps - 1, Math.max(1, Math.floor(pctStart * steps)))
  const start = peak / divFactor
  const end = start / finalDivFactor
  return checkedSteps(where, (step) =>
    step < rise ? halfCosine(start, peak, step / rise) : halfCosine(peak, end, Math.min(step - rise, steps - rise) / (steps - rise)),
  )
}

/** Options of cosineRestarts. */
export interface CosineRestartsOptions {
  /** Value at step 0 and at every restart, >= 0. */
  readonly init: number
  /** Length of the first cycle, an integer >= 1. */
  readonly period: number
  /** Each cycle is this many times as long as the one before, an integer >= 1 (default 1). */
  readonly periodFactor?: number
  /** Absolute value each cycle decays towards, in [0, init] (default 0). */
  readonly floor?: number
}

/**
 * Cosine decay with warm restarts (SGDR, Loshchilov & Hutter 2017), as PyTorch's
 * CosineAnnealingWarmRestarts: half a cosine from init towards floor over a cycle, then back to
 * init; cycle i lasts period·periodFactorⁱ steps. Not monotone: it jumps back up at each restart.
 * @example
 * const lr = cosineRestarts({ init: 0.1, period: 10, periodFactor: 2 })
 * lr(5) // 0.05;  lr(10) // 0.1 (restart; the next cycle lasts 20);  lr(20) // 0.05
 */
export const cosineRestarts = (options: CosineRestartsOptions): Schedule => {
  const { init, period, periodFactor = 1, floor = 0 } = checkOptions('cosineRestarts', options, ['init', 'period', 'periodFactor', 'floor'])
  const where = 'cosineRestarts'
  nonNegative(where, 'init', init)
  positiveInteger(where, 'period', period)
  positiveInteger(where, 'periodFactor', periodFactor)
  nonNegative(where, 'floor', floor)
  atMost(where, 'floor', floor, 'init', init)
  return checkedSteps(where, (step) => {
    // walk the cycles: at most about log(step / period) of them when they grow, one modulo when they do not
    let t = step
    let length = period
    if (periodFactor === 1) t = step % period
    else
      while (t >= length) {
        t -= length
        length *= periodFactor
      }
    return halfCosine(init, floor, t / length)
  })
}
