/**
 * Hyper-parameter checks shared by the transforms, aliases and schedules. Every check fails at
 * construction with an OptimError naming the optimizer, the parameter and the bad value.
 */

/** Thrown for a hyper-parameter an optimizer or schedule cannot use; the message names both. */
export class OptimError extends Error {
  override readonly name = 'OptimError'
}

const bad = (where: string, name: string, rule: string, v: unknown): never => {
  const got =
    typeof v === 'number'
      ? String(v)
      : v === undefined
        ? 'nothing (is the option missing?)'
        : v === null
          ? 'null'
          : typeof v === 'string'
            ? `the string '${v}'`
            : typeof v
  throw new OptimError(`${where}: ${name} must be ${rule}, got ${got}`)
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)

/** v is a finite number. */
export const finite = (where: string, name: string, v: unknown): number => (isNumber(v) ? v : bad(where, name, 'a finite number', v))

/** v is finite and > 0. */
export const positive = (where: string, name: string, v: unknown): number =>
  isNumber(v) && v > 0 ? v : bad(where, name, 'finite and > 0', v)

/** v is finite and >= 0. */
export const nonNegative = (where: string, name: string, v: unknown): number =>
  isNumber(v) && v >= 0 ? v : bad(where, name, 'finite and >= 0', v)

/** v is in [0, 1): a decay rate, momentum or beta. */
export const unitInterval = (where: string, name: string, v: unknown): number =>
  isNumber(v) && v >= 0 && v < 1 ? v : bad(where, name, 'in [0, 1)', v)

/** v is in (0, 1]: a multiplicative decay factor. */
export const decayFactor = (where: string, name: string, v: unknown): number =>
  isNumber(v) && v > 0 && v <= 1 ? v : bad(where, name, 'in (0, 1]', v)

/** v is an integer >= 1 (a number of steps). */
export const positiveInteger = (where: string, name: string, v: unknown): number =>
  isNumber(v) && Number.isInteger(v) && v >= 1 ? v : bad(where, name, 'an integer >= 1', v)

/** v is an integer >= 0 (a step). */
export const nonNegativeInteger = (where: string, name: string, v: unknown): number =>
  isNumber(v) && Number.isInteger(v) && v >= 0 ? v : bad(where, name, 'an integer >= 0', v)

/** v is true or false (an optional flag defaults before it gets here). */
export const flag = (where: string, name: string, v: unknown): boolean =>
  typeof v === 'boolean' ? v : bad(where, name, 'true or false', v)

/** PyTorch's and optax's names for options that are named otherwise here, or have no counterpart. */
const FOREIGN: Readonly<Record<string, string>> = {
  betas: 'here b1 and b2',
  weight_decay:
    "here weightDecay, on sgd and adamw; PyTorch's Adam(weight_decay) is an L2 penalty: " +
    'chain(addL2(λ), scaleByAdam(), scaleByLearningRate(lr))',
  learning_rate: 'here lr',
  alpha: "rmsprop's smoothing constant is decay here; cosineDecay's alpha is floor = alpha·init",
  dampening: 'not supported: dampening is always 0',
  centered: 'not supported',
  maximize: 'not supported',
  amsgrad: 'use Optim.amsgrad',
  momentum_decay: "not supported: nadam here is optax's, without PyTorch's momentum decay",
  lr_decay: 'not supported: pass a Schedule as lr',
  eps_root: 'not supported',
  init_value: 'here init',
  end_value: 'here floor',
  decay_steps: 'here steps (warmupCosine: decaySteps, after the warm-up)',
  transition_steps: 'here steps',
  warmup_steps: 'here warmupSteps',
  pct_start: 'here pctStart',
  div_factor: 'here divFactor',
  final_div_factor: 'here finalDivFactor',
  T_0: 'here period',
  T_mult: 'here periodFactor',
  eta_min: 'here floor',
}

/**
 * The options object of `where`, checked: an object (not undefined, null or an array) whose keys
 * are all among `known`. A misspelt option, or another library's name for one (PyTorch's
 * `betas`), is an OptimError rather than silently ignored.
 */
export const checkOptions = <O extends object>(where: string, options: O, known: readonly (keyof O & string)[]): O => {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    const got = options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options
    throw new OptimError(`${where}: expected an options object { ${known.join(', ')} }, got ${got}`)
  }
  for (const k of Object.keys(options)) {
    if (!(known as readonly string[]).includes(k)) {
      const hint = FOREIGN[k]
      throw new OptimError(`${where}: unknown option '${k}'${hint === undefined ? '' : ` (${hint})`}; the options are ${known.join(', ')}`)
    }
  }
  return options
}
