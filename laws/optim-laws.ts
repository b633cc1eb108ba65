/**
 * The optimizer and schedule laws (DESIGN.md law 11) as pure predicates returning a Verdict,
 * plus runners that feed them fast-check samples. Run them on your own transforms:
 *
 *   test('my optimizer obeys the laws', () =>
 *     checkTransform(() => myOptimizer({ lr: 0.1 }), { name: 'myOptimizer', descent: { steps: 100 } }))
 *   test('my schedule obeys the laws', () => checkSchedule(mySchedule, { start: 0.1, decays: true, floor: 0 }))
 *
 * Transform laws: the state keeps init's structure; updates keep the params' structure; zero
 * gradients from the initial state change nothing (optional: false for weight decay); purity
 * (inputs unchanged bit for bit, same inputs give bit-identical outputs); descent on a random
 * convex quadratic; for a transform with a fused `updateAndApply`, that it equals update then
 * applyUpdates, bit for bit. SGD laws: momentum 0 is plain scaleByLearningRate bit for bit; one step is
 * p - lr·g exactly. Schedule laws: the start value, the boundaries, never increasing where it
 * decays, never below the floor, finite everywhere.
 */
import fc from 'fast-check'
import { Optim, T, Tree, type Tensor } from '../src/index.ts'
import type { Schedule } from '../src/optim/schedule.ts'
import { pushFromZero } from './arbitraries.ts'
import { snapshot, treesIdentical } from './compare.ts'
import { runProperty, type Law, type RunOptions } from './run.ts'
import { all, fails, holds, type Verdict } from './verdict.ts'

type GT<S extends Tree.Tree = Tree.Tree> = Optim.GradientTransformation<S>

// ---------------------------------------------------------------------------------------------
// Samples and arbitraries

/** One concrete point for the structural laws: params and one gradient tree per update step. */
export interface TransformSample {
  readonly params: Tree.Tree
  readonly grads: readonly Tree.Tree[]
}

/**
 * A convex quadratic over a params tree, f(p) = ½ Σᵢ aᵢ (pᵢ - cᵢ)², with aᵢ in [0.5, 2] (so the
 * smoothness constant L = max aᵢ <= 2 and the condition number <= 4), minimum 0 at c, and a
 * start p0 with every |p0ᵢ - cᵢ| in [0.5, 2], so an optimizer has to travel to get anywhere.
 */
export interface Quadratic {
  readonly a: Tree.Tree
  readonly c: Tree.Tree
  readonly p0: Tree.Tree
}

const KEYS = ['W', 'b', 'gamma', 'beta']

const record = (child: fc.Arbitrary<Tree.Tree>): fc.Arbitrary<Tree.Tree> =>
  fc.subarray(KEYS, { minLength: 1, maxLength: 3 }).chain((keys) =>
    fc.array(child, { minLength: keys.length, maxLength: keys.length }).map((vs) => Object.fromEntries(keys.map((k, i) => [k, vs[i] as Tree.Tree]))),
  )

const list = (child: fc.Arbitrary<Tree.Tree>): fc.Arbitrary<Tree.Tree> => fc.array(child, { minLength: 1, maxLength: 3 })

/**
 * Params-like tree structures, leaves all zero: a tensor of rank 0..2 (axes 1..3), or arrays and
 * records of them, two levels deep. Fill them with `filledLike`.
 */
export const treeSkeleton = (): fc.Arbitrary<Tree.Tree> => {
  const leaf = fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }).map((shape): Tree.Tree => T.zeros(shape))
  const inner = fc.oneof(leaf, list(leaf), record(leaf))
  return fc.oneof(leaf, list(inner), record(inner))
}

/** Trees with the skeleton's structure and finite values in [min, max], pushed `awayFromZero` from 0 (default 0). */
export const filledLike = (skeleton: Tree.Tree, min: number, max: number, awayFromZero = 0): fc.Arbitrary<Tree.Tree> => {
  const n = Tree.size(skeleton)
  return fc.float64Array({ min, max, noNaN: true, noDefaultInfinity: true, minLength: n, maxLength: n }).map((values) => {
    const push = pushFromZero(awayFromZero)
    let offset = 0
    return Tree.map(skeleton, (leaf) => {
      const at = offset
      offset += leaf.data.length
      return T.generate(leaf.shape, (i) => push(values[at + i] as number))
    })
  })
}

/** Params in [-2, 2] and `steps` gradient trees in [-2, 2] of the same random structure. */
export const transformSample = (steps = 3): fc.Arbitrary<TransformSample> =>
  treeSkeleton().chain((s) =>
    fc.record({ params: filledLike(s, -2, 2), grads: fc.array(filledLike(s, -2, 2), { minLength: steps, maxLength: steps }) }),
  )

/** Random convex quadratics over random params trees (see Quadratic). */
export const quadratic = (): fc.Arbitrary<Quadratic> =>
  treeSkeleton().chain((s) =>
    fc.tuple(filledLike(s, 0.5, 2), filledLike(s, -1, 1), filledLike(s, -1.5, 1.5, 0.5)).map(([a, c, d]) => ({ a, c, p0: Tree.map2(c, d, T.add) })),
  )

/** Combines three same-structure trees leaf by leaf (records pair up by key). */
const map3 = (x: Tree.Tree, y: Tree.Tree, z: Tree.Tree, f: (u: Tensor, v: Tensor, w: Tensor) => Tensor): Tree.Tree => {
  const ly = Tree.leavesLike(x, y)
  const lz = Tree.leavesLike(x, z)
  let i = 0
  return Tree.map(x, (u) => {
    const k = i++
    return f(u, ly[k] as Tensor, lz[k] as Tensor)
  })
}

/** f(p) = ½ Σ aᵢ (pᵢ - cᵢ)². */
export const quadraticValue = (q: Quadratic, p: Tree.Tree): number =>
  Tree.leaves(map3(q.a, q.c, p, (a, c, x) => T.generate(a.shape, (i) => 0.5 * (a.data[i] as number) * ((x.data[i] as number) - (c.data[i] as number)) ** 2))).reduce(
    (s, t) => s + T.sum(t),
    0,
  )

/** ∇f(p) = a ⊙ (p - c), with the params' structure. */
export const quadraticGradient = (q: Quadratic, p: Tree.Tree): Tree.Tree => map3(p, q.a, q.c, (x, a, c) => T.mul(a, T.sub(x, c)))

// ---------------------------------------------------------------------------------------------
// Transform laws as predicates

/** Runs `update` over the sample's gradients from the initial state, params held fixed; returns every [updates, state]. */
const steps = <S extends Tree.Tree>(t: GT<S>, s: TransformSample): { readonly init: S; readonly out: (readonly [Tree.Tree, S])[] } => {
  const init = t.init(s.params)
  const out: (readonly [Tree.Tree, S])[] = []
  let state = init
  for (const g of s.grads) {
    const r = t.update(g, state, s.params)
    out.push(r)
    state = r[1]
  }
  return { init, out }
}

/** Law: the state `update` returns has the structure and leaf shapes of the state `init` built, at every step. */
export const stateStructureStable = <S extends Tree.Tree>(t: GT<S>, s: TransformSample): Verdict => {
  const { init, out } = steps(t, s)
  for (let k = 0; k < out.length; k++) {
    const d = Tree.structureDiff(init, (out[k] as readonly [Tree.Tree, S])[1])
    if (d !== undefined) return fails(`the state after update ${k + 1} differs from init's ${d} (init vs after)`)
  }
  return holds
}

/** Law: the updates have the params' structure and leaf shapes, at every step. */
export const updatesHaveParamsStructure = <S extends Tree.Tree>(t: GT<S>, s: TransformSample): Verdict => {
  const { out } = steps(t, s)
  for (let k = 0; k < out.length; k++) {
    const d = Tree.structureDiff(s.params, (out[k] as readonly [Tree.Tree, S])[0])
    if (d !== undefined) return fails(`the updates of step ${k + 1} differ from the params' structure ${d} (params vs updates)`)
  }
  return holds
}

/** Law: from the initial state, zero gradients give zero updates (the params stay put), at every step. */
export const zeroGradientsChangeNothing = <S extends Tree.Tree>(t: GT<S>, s: TransformSample): Verdict => {
  const zero = Tree.zerosLike(s.params)
  const { out } = steps(t, { params: s.params, grads: s.grads.map(() => zero) })
  for (let k = 0; k < out.length; k++) {
    for (const { path, leaf } of Tree.leavesWithPaths((out[k] as readonly [Tree.Tree, S])[0])) {
      const i = leaf.data.findIndex((v) => v !== 0)
      if (i >= 0) return fails(`zero gradients gave a non-zero update ${leaf.data[i]} at ${path || 'root'}[${i}] on step ${k + 1}`)
    }
  }
  return holds
}

/**
 * Law (purity): init and update leave params, gradients and state unchanged bit for bit, and
 * the same inputs give bit-identical states and updates. The state is first advanced through
 * all but the last gradient, so momenta are not all zero when mutation is looked for.
 */
export const purity = <S extends Tree.Tree>(t: GT<S>, s: TransformSample): Verdict => {
  const params = snapshot(s.params)
  const grads = s.grads.map(snapshot)
  const s0 = t.init(s.params)
  const again = treesIdentical('init run twice', s0, t.init(s.params))
  if (!again.holds) return again
  let state = s0
  for (const g of s.grads.slice(0, -1)) state = t.update(g, state, s.params)[1]
  const before = snapshot(state)
  const g = s.grads[s.grads.length - 1] ?? Tree.zerosLike(s.params)
  const [u1, s1] = t.update(g, state, s.params)
  const [u2, s2] = t.update(g, state, s.params)
  return all(
    () => treesIdentical('params after init and update (should be untouched)', s.params, params),
    () => s.grads.reduce<Verdict>((v, gk, k) => (v.holds ? treesIdentical(`gradients of step ${k + 1} after update (should be untouched)`, gk, grads[k] as Tree.Tree) : v), holds),
    () => treesIdentical('state after update (should be untouched)', state, before),
    () => treesIdentical('updates of the same update run twice', u1, u2),
    () => treesIdentical('state of the same update run twice', s1, s2),
  )
}

/** The same tree with every record's keys in reverse order (a tree matches by key, in any order). */
const reversedKeys = (t: Tree.Tree): Tree.Tree => {
  if (Tree.isTensor(t)) return t
  if (Array.isArray(t)) return (t as readonly Tree.Tree[]).map(reversedKeys)
  const r = t as Readonly<Record<string, Tree.Tree>>
  return Object.fromEntries(Object.keys(r).reverse().map((k) => [k, reversedKeys(r[k] as Tree.Tree)]))
}

/** The leaves' paths in order: two trees with one layout list the same paths in the same order. */
const sameLayout = (what: string, a: Tree.Tree, b: Tree.Tree): Verdict => {
  const pa = Tree.leavesWithPaths(a).map((l) => l.path).join(', ')
  const pb = Tree.leavesWithPaths(b).map((l) => l.path).join(', ')
  return pa === pb ? holds : fails(`${what}: the leaves come in a different order, [${pa}] vs [${pb}]`)
}

/**
 * Law (fusion), for a transform with `updateAndApply`: it gives exactly the params and state
 * that `update` followed by `applyUpdates` give, bit for bit, at every step, with the params
 * moving from step to step, and it leaves its inputs unchanged. The gradients' records list
 * their keys in reverse order, so the new params must still come out in the params' layout.
 */
export const updateAndApplyIsUpdateThenApply = <S extends Tree.Tree>(t: GT<S>, s: TransformSample): Verdict => {
  if (t.updateAndApply === undefined) return fails('the transform has no updateAndApply')
  let pFused = s.params
  let sFused = t.init(s.params)
  let pTwo = s.params
  let sTwo = t.init(s.params)
  for (let k = 0; k < s.grads.length; k++) {
    const g = reversedKeys(s.grads[k] as Tree.Tree)
    const before = snapshot([g, pFused, sFused])
    const [p1, s1] = t.updateAndApply(g, sFused, pFused)
    const [u, s2] = t.update(g, sTwo, pTwo)
    const p2 = Optim.applyUpdates(pTwo, u)
    const v = all(
      () => treesIdentical(`gradients, params and state after updateAndApply of step ${k + 1} (should be untouched)`, [g, pFused, sFused], before),
      () => treesIdentical(`params after step ${k + 1}: updateAndApply vs update + applyUpdates`, p1, p2),
      () => sameLayout(`params after step ${k + 1}: updateAndApply vs update + applyUpdates`, p1, p2),
      () => treesIdentical(`state after step ${k + 1}: updateAndApply vs update`, s1, s2),
    )
    if (!v.holds) return v
    pFused = p1
    sFused = s1
    pTwo = p2
    sTwo = s2
  }
  return holds
}

/** What the descent law expects on the quadratics. */
export interface DescentSettings {
  /** Number of updates to run (choose it from the optimizer's known rate; see the tests). */
  readonly steps: number
  /** f after `steps` must be at most this fraction of f(p0) (default 0.1). */
  readonly fraction?: number
  /** Also require f never to increase, up to rounding (1e-12 of f(p0)); holds for SGD with lr <= 1/L. */
  readonly monotone?: boolean
}

/** Law (descent): run the transform on the quadratic from p0; f ends below fraction·f(p0) (and, if asked, never rises). */
export const descends = <S extends Tree.Tree>(t: GT<S>, q: Quadratic, settings: DescentSettings): Verdict => {
  const fraction = settings.fraction ?? 0.1
  const f0 = quadraticValue(q, q.p0)
  let p = q.p0
  let state = t.init(p)
  let f = f0
  for (let k = 1; k <= settings.steps; k++) {
    const [u, next] = t.update(quadraticGradient(q, p), state, p)
    p = Optim.applyUpdates(p, u)
    state = next
    const fk = quadraticValue(q, p)
    if (!Number.isFinite(fk)) return fails(`f became ${fk} at step ${k} (f(p0) = ${f0})`)
    if (settings.monotone === true && fk > f + 1e-12 * f0) return fails(`f rose from ${f} to ${fk} at step ${k} (monotone descent expected)`)
    f = fk
  }
  return f <= fraction * f0 ? holds : fails(`after ${settings.steps} steps f = ${f}, which is ${(f / f0).toPrecision(3)} of f(p0) = ${f0}; expected at most ${fraction}`)
}

/** Law: two transforms give bit-identical updates at every step (and so bit-identical params). */
export const sameUpdates = <S1 extends Tree.Tree, S2 extends Tree.Tree>(a: GT<S1>, b: GT<S2>, s: TransformSample): Verdict => {
  const ra = steps(a, s).out
  const rb = steps(b, s).out
  for (let k = 0; k < ra.length; k++) {
    const v = treesIdentical(`updates of step ${k + 1}`, (ra[k] as readonly [Tree.Tree, S1])[0], (rb[k] as readonly [Tree.Tree, S2])[0])
    if (!v.holds) return v
  }
  return holds
}

/** Law: two transforms give bit-identical updates at every step and bit-identical states after the last (a fused transform against the chain it stands for). */
export const sameUpdatesAndStates = <S1 extends Tree.Tree, S2 extends Tree.Tree>(a: GT<S1>, b: GT<S2>, s: TransformSample): Verdict => {
  const u = sameUpdates(a, b, s)
  if (!u.holds) return u
  const ra = steps(a, s).out
  const rb = steps(b, s).out
  const last = (r: readonly (readonly [Tree.Tree, Tree.Tree])[]): Tree.Tree => (r[r.length - 1] as readonly [Tree.Tree, Tree.Tree] | undefined)?.[1] ?? []
  return treesIdentical('states after all steps', last(ra), last(rb))
}

/** Law: one step of `t` (an SGD with learning rate lr) moves p to p - lr·g, bit for bit. */
export const sgdStepExact = <S extends Tree.Tree>(t: GT<S>, lr: number, s: TransformSample): Verdict => {
  const g = s.grads[0] ?? Tree.zerosLike(s.params)
  const [u] = t.update(g, t.init(s.params), s.params)
  const expected = Tree.map2(s.params, g, (p, gi) => T.zipWith((pi, gj) => pi - lr * gj, p, gi))
  return treesIdentical(`applyUpdates(p, u) vs p - ${lr}·g`, Optim.applyUpdates(s.params, u), expected)
}

// ---------------------------------------------------------------------------------------------
// Transform runners

/** What checkTransform needs to know about the transform under test. */
export interface CheckTransformOptions extends RunOptions {
  /** Name used in failure messages (default "transform"). */
  readonly name?: string
  /** Update steps per sample for the structural and purity laws (default 3). */
  readonly steps?: number
  /** Zero gradients from the initial state give zero updates (default true; false for weight decay). */
  readonly zeroGradientsChangeNothing?: boolean
  /** Run the descent law with these settings (omit for a transform that is not a whole optimizer). */
  readonly descent?: DescentSettings
}

/**
 * The transform laws that apply, each a runnable check. `makeTransform` is called once per law,
 * and the same instance serves every sample (so hidden state between calls is caught).
 * @example
 * import { test } from 'vitest'
 * for (const law of transformLaws(() => Optim.adam({ lr: 0.05 }), { name: 'adam', descent: { steps: 200 } })) test(law.name, law.check)
 */
export const transformLaws = <S extends Tree.Tree>(makeTransform: () => GT<S>, options: CheckTransformOptions = {}): Law[] => {
  const name = options.name ?? 'transform'
  const subject = `optimizer "${name}"`
  const sample = transformSample(options.steps ?? 3)
  const law = (title: string, p: (t: GT<S>, s: TransformSample) => Verdict): Law => ({
    name: `${name}: ${title}`,
    check: () => {
      const t = makeTransform()
      runProperty(title, subject, [sample], (s) => p(t, s), options)
    },
  })
  const laws: Law[] = [
    law('11. state keeps the structure init gave it', stateStructureStable),
    law("11. updates have the params' structure", updatesHaveParamsStructure),
  ]
  if (options.zeroGradientsChangeNothing ?? true) laws.push(law('11. zero gradients change nothing', zeroGradientsChangeNothing))
  laws.push(law('6. purity and determinism', purity))
  if (makeTransform().updateAndApply !== undefined) laws.push(law('11. updateAndApply = update, then applyUpdates, bit for bit', updateAndApplyIsUpdateThenApply))
  const descent = options.descent
  if (descent !== undefined) {
    const title = `11. descent on a convex quadratic (${descent.monotone === true ? 'monotone, ' : ''}${descent.steps} steps to ${descent.fraction ?? 0.1} of f(p0))`
    laws.push({
      name: `${name}: ${title}`,
      check: () => {
        const t = makeTransform()
        runProperty(title, subject, [quadratic()], (q) => descends(t, q, descent), options)
      },
    })
  }
  return laws
}

const runAll = (laws: readonly Law[]): void => {
  const failures: string[] = []
  for (const law of laws) {
    try {
      law.check()
    } catch (e) {
      failures.push(e instanceof Error ? e.message : String(e))
    }
  }
  if (failures.length > 0) throw new Error(`${failures.length} law(s) failed:\n\n${failures.join('\n\n')}`)
}

/**
 * Runs every applicable transform law; throws one Error listing each law that failed.
 * @example
 * import { test } from 'vitest'
 * test('sgd obeys the laws', () => checkTransform(() => Optim.sgd({ lr: 0.5 }), { name: 'sgd', descent: { steps: 5, monotone: true } }))
 */
export const checkTransform = <S extends Tree.Tree>(makeTransform: () => GT<S>, options: CheckTransformOptions = {}): void =>
  runAll(transformLaws(makeTransform, options))

/** The SGD factory the SGD laws take: Optim.sgd, or your own. */
export type MakeSgd<S extends Tree.Tree = Tree.Tree> = (options: { readonly lr: number; readonly momentum?: number }) => GT<S>

/**
 * The SGD laws: sgd({ lr, momentum: 0 }) gives the same updates as scaleByLearningRate(lr) bit
 * for bit, and one step is p - lr·g exactly; lr is drawn from [1e-3, 1].
 */
export const sgdLaws = <S extends Tree.Tree>(makeSgd: MakeSgd<S>, options: RunOptions & { readonly name?: string } = {}): Law[] => {
  const name = options.name ?? 'sgd'
  const subject = `optimizer "${name}"`
  const lr = fc.double({ min: 1e-3, max: 1, noNaN: true })
  const zeroMomentum = '11. momentum 0 = scaleByLearningRate, bit for bit'
  const oneStep = '11. one step is p - lr·g exactly'
  return [
    {
      name: `${name}: ${zeroMomentum}`,
      check: () => runProperty(zeroMomentum, subject, [lr, transformSample(3)], (r, s) => sameUpdates(makeSgd({ lr: r, momentum: 0 }), Optim.scaleByLearningRate(r), s), options),
    },
    { name: `${name}: ${oneStep}`, check: () => runProperty(oneStep, subject, [lr, transformSample(1)], (r, s) => sgdStepExact(makeSgd({ lr: r }), r, s), options) },
  ]
}

/** Runs the SGD laws; throws one Error listing each law that failed. @example test('sgd laws', () => checkSgd(Optim.sgd)) */
export const checkSgd = <S extends Tree.Tree>(makeSgd: MakeSgd<S>, options: RunOptions & { readonly name?: string } = {}): void => runAll(sgdLaws(makeSgd, options))

// ---------------------------------------------------------------------------------------------
// Schedule laws

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

const decaysFrom = (spec: ScheduleSpec): number | undefined => (spec.decays === true ? 0 : spec.decays === false || spec.decays === undefined ? undefined : spec.decays.from)

/** Law: where it decays, schedule(k + 1) <= schedule(k) (up to rounding) for every step of 0..N. */
export const neverIncreases = (schedule: Schedule, spec: ScheduleSpec): Verdict => {
  const from = decaysFrom(spec)
  if (from === undefined) return holds
  const n = horizon(spec)
  const rtol = spec.tolerance ?? 1e-12
  let prev = schedule(from)
  for (let k = from + 1; k <= n; k++) {
    const v = schedule(k)
    if (v > prev + rtol * Math.abs(prev)) return fails(`schedule rises from ${prev} at step ${k - 1} to ${v} at step ${k}; it should never increase from step ${from} on`)
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
  if (spec.floor !== undefined && !(Math.min(vx, vy) >= spec.floor - rtol * Math.abs(spec.floor))) return fails(`schedule(${vx < vy ? x : y}) = ${Math.min(vx, vy)} is below the floor ${spec.floor}`)
  const from = decaysFrom(spec)
  if (from !== undefined && from <= x && vy > vx + rtol * Math.abs(vx)) return fails(`schedule rises from ${vx} at step ${x} to ${vy} at step ${y}; it should never increase from step ${from} on`)
  return holds
}

/** The schedule laws as runnable checks: the exhaustive one over 0..N, and a property over random real steps. */
export const scheduleLaws = (schedule: Schedule, spec: ScheduleSpec & RunOptions & { readonly name?: string }): Law[] => {
  const name = spec.name ?? 'schedule'
  const n = horizon(spec)
  const pair = fc.tuple(fc.double({ min: 0, max: 4 * n, noNaN: true }), fc.double({ min: 0, max: 4 * n, noNaN: true })).map(([a, b]): readonly [number, number] => (a <= b ? [a, b] : [b, a]))
  const between = '11. finite, above the floor, never increasing where it decays (random real steps)'
  return [
    {
      name: `${name}: 11. start, boundaries, finite, floor, never increasing (steps 0..${n})`,
      check: () => {
        const v = scheduleHolds(schedule, spec)
        if (!v.holds) throw new Error(`Law "11. schedule laws over steps 0..${n}" failed for schedule "${name}".\n  Why: ${v.reason}`)
      },
    },
    { name: `${name}: ${between}`, check: () => runProperty(between, `schedule "${name}"`, [pair], ([x, y]) => betweenSteps(schedule, spec, x, y), spec) },
  ]
}

/**
 * Runs the schedule laws; throws one Error listing each law that failed.
 * @example checkSchedule(Schedule.cosineDecay({ init: 0.1, steps: 100 }), { start: 0.1, decays: true, floor: 0, boundaries: [{ step: 100, value: 0 }] })
 */
export const checkSchedule = (schedule: Schedule, spec: ScheduleSpec & RunOptions & { readonly name?: string }): void => runAll(scheduleLaws(schedule, spec))
