/**
 * Hyper-parameter checks shared by the transforms, aliases and schedules. Every check fails at
 * construction with an OptimError naming the optimizer, the parameter and the bad value.
 */
import { checkOptions as check } from '../options.ts'

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

/** The options object of an optimizer or schedule, checked by the shared options check; an OptimError on a bad or unknown key. */
export const checkOptions = <O extends object>(where: string, options: O, known: readonly (keyof O & string)[]): O =>
  check(where, options, known, { unknown: OptimError, notObject: OptimError })
