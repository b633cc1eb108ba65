/**
 * The schedule laws (law 11, with the optimizer laws) as pure predicates returning a Verdict,
 * plus runners. A schedule promises a start value, its boundaries, finite values, never to go
 * below its floor, and never to increase where it decays; checkSchedule holds it to that:
 *
 *   test('my schedule obeys the laws', () => checkSchedule(mySchedule, { start: 0.1, decays: true, floor: 0 }))
 */
import fc from 'fast-check'
import type { Schedule } from '../src/optim/schedule.ts'
import { checkScheduleSpec } from './options.ts'
import { runLaws, runProperty, type Law, type RunOptions } from './run.ts'
import { all, fails, holds, type Verdict } from './verdict.ts'

/** What a schedule promises; checkSchedule holds it to that. */
export interface ScheduleSpec {
  /** schedule(0). */
  readonly start: number
  /** Never increases (true), or never increases from step `from` on (after a warm-up, say). */
  readonly decays?: boolean | { readonly from: number }
  /** Never below this value. */
  readonly floor?: number
  /** Values it must take at given steps (the ends of warm-ups, the drops of a step decay). */
  readonly boundaries?: readonly { readonly step: number; readonly value: number }[]
  /** Integer steps 0..steps are all checked (default max(1000, twice the last boundary)). */
  readonly steps?: number
  /** Relative tolerance for values and for "never increases" (default 1e-12: rounding only). */
  readonly tolerance?: number
}

const horizon = (spec: ScheduleSpec): number => spec.steps ?? Math.max(1000, 2 * Math.max(0, ...(spec.boundaries ?? []).map((b) => b.step)))

const near = (a: number, b: number, rtol: number): boolean => Math.abs(a - b) <= rtol * Math.max(Math.abs(a), Math.abs(b))

/** Law: schedule(0) = start. */
export const startsAt = (schedule: Schedule, spec: ScheduleSpec): Verdict => {
  const v = schedule(0)
  return near(v, spec.start, spec.tolerance ?? 1e-12) ? holds : fails(`schedule(0) is ${v}, expected ${spec.start}`)
}

/** Law: schedule(step) = value at every listed boundary. */
export const hitsBoundaries = (schedule: Schedule, spec: ScheduleSpec): Verdict => {
  for (const { step, value } of spec.boundaries ?? []) {
    const v = schedule(step)
    if (!near(v, value, spec.tolerance ?? 1e-12)) return fails(`schedule(${step}) is ${v}, expected ${value}`)
  }
  return holds
}

/** Law: finite at every step of 0..N. */
export const finiteThroughout = (schedule: Schedule, spec: ScheduleSpec): Verdict => {
  const n = horizon(spec)
  for (let k = 0; k <= n; k++) {
    const v = schedule(k)
    if (!Number.isFinite(v)) return fails(`schedule(${k}) is ${v}, expected a finite number`)
  }
  return holds
}

/** Law: never below the floor (up to rounding) at every step of 0..N. */
export const neverBelowFloor = (schedule: Schedule, spec: ScheduleSpec): Verdict => {
  const floor = spec.floor
  if (floor === undefined) return holds
  const n = horizon(spec)
  const tol = (spec.tolerance ?? 1e-12) * Math.abs(floor)
  for (let k = 0; k <= n; k++) {
    const v = schedule(k)
    if (!(v >= floor - tol)) return fails(`schedule(${k}) is ${v}, below the floor ${floor}`)
  }
  return holds
}

const decaysFrom = (spec: ScheduleSpec): number | undefined =>
  spec.decays === true ? 0 : spec.decays === false || spec.decays === undefined ? undefined : spec.decays.from

/** Law: where it decays, schedule(k + 1) <= schedule(k) (up to rounding) for every step of 0..N. */
export const neverIncreases = (schedule: Schedule, spec: ScheduleSpec): Verdict => {
  const from = decaysFrom(spec)
  if (from === undefined) return holds
  const n = horizon(spec)
  const rtol = spec.tolerance ?? 1e-12
  let prev = schedule(from)
  for (let k = from + 1; k <= n; k++) {
    const v = schedule(k)
    if (v > prev + rtol * Math.abs(prev)) {
      return fails(`schedule rises from ${prev} at step ${k - 1} to ${v} at step ${k}; it should never increase from step ${from} on`)
    }
    prev = v
  }
  return holds
}

/** Every schedule law over the integer steps 0..N: start, boundaries, finite, floor, never increasing. */
export const scheduleHolds = (schedule: Schedule, spec: ScheduleSpec): Verdict =>
  all(
    () => startsAt(schedule, spec),
    () => hitsBoundaries(schedule, spec),
    () => finiteThroughout(schedule, spec),
    () => neverBelowFloor(schedule, spec),
    () => neverIncreases(schedule, spec),
  )

/** Law at two arbitrary real steps x <= y (up to 4N): both finite and above the floor, and s(y) <= s(x) where it decays. */
export const betweenSteps = (schedule: Schedule, spec: ScheduleSpec, x: number, y: number): Verdict => {
  const [vx, vy] = [schedule(x), schedule(y)]
  const rtol = spec.tolerance ?? 1e-12
  if (!Number.isFinite(vx) || !Number.isFinite(vy)) return fails(`schedule(${x}) = ${vx}, schedule(${y}) = ${vy}; expected finite values`)
  if (spec.floor !== undefined && !(Math.min(vx, vy) >= spec.floor - rtol * Math.abs(spec.floor))) {
    return fails(`schedule(${vx < vy ? x : y}) = ${Math.min(vx, vy)} is below the floor ${spec.floor}`)
  }
  const from = decaysFrom(spec)
  if (from !== undefined && from <= x && vy > vx + rtol * Math.abs(vx)) {
    return fails(`schedule rises from ${vx} at step ${x} to ${vy} at step ${y}; it should never increase from step ${from} on`)
  }
  return holds
}

/** The schedule laws as runnable checks: the exhaustive one over 0..N, and a property over random real steps. */
export const scheduleLaws = (schedule: Schedule, spec: ScheduleSpec & RunOptions & { readonly name?: string }): Law[] => {
  checkScheduleSpec('checkSchedule', schedule, spec)
  const name = spec.name ?? 'schedule'
  const n = horizon(spec)
  const step = fc.double({ min: 0, max: 4 * n, noNaN: true })
  const pair = fc.tuple(step, step).map(([a, b]): readonly [number, number] => (a <= b ? [a, b] : [b, a]))
  const between = '11. finite, above the floor, never increasing where it decays (random real steps)'
  return [
    {
      name: `${name}: 11. start, boundaries, finite, floor, never increasing (steps 0..${n})`,
      check: () => {
        const v = scheduleHolds(schedule, spec)
        if (!v.holds) throw new Error(`Law "11. schedule laws over steps 0..${n}" failed for schedule "${name}".\n  Why: ${v.reason}`)
      },
    },
    {
      name: `${name}: ${between}`,
      check: () => runProperty(between, `schedule "${name}"`, [pair], ([x, y]) => betweenSteps(schedule, spec, x, y), spec),
    },
  ]
}

/**
 * Runs the schedule laws; throws one Error listing each law that failed.
 * @example
 * const spec = { start: 0.1, decays: true, floor: 0, boundaries: [{ step: 100, value: 0 }] }
 * checkSchedule(Schedule.cosineDecay({ init: 0.1, steps: 100 }), spec)
 */
export const checkSchedule = (schedule: Schedule, spec: ScheduleSpec & RunOptions & { readonly name?: string }): void =>
  runLaws(scheduleLaws(schedule, spec))
