/**
 * The optimizer laws (law 11) as pure predicates returning a Verdict, plus runners that feed
 * them fast-check samples. Run them on your own transforms:
 *
 *   test('my optimizer obeys the laws', () =>
 *     checkTransform(() => myOptimizer({ lr: 0.1 }), { name: 'myOptimizer', descent: { steps: 100 } }))
 *
 * Transform laws: the state keeps init's structure; updates keep the params' structure; zero
 * gradients from the initial state change nothing (optional: false for weight decay); purity
 * (inputs unchanged bit for bit, same inputs give bit-identical outputs); descent on a random
 * convex quadratic. For a transform with a fused `updateAndApply`, law 13 (fast equals
 * readable): it equals update then applyUpdates, bit for bit, and every kernel family gives the
 * numbers of the 'reference' family, in which the aliases run their readable chains. SGD laws:
 * momentum 0 is plain scaleByLearningRate bit for bit; one step is p - lr·g exactly.
 */
import fc from 'fast-check'
import { Kernels, Optim, T, Tree, type Tensor } from '../src/index.ts'
import { pushFromZero } from './arbitraries.ts'
import { snapshot, treesIdentical } from './compare.ts'
import { checkMaker, checkSgdOptions, checkTransformOptions } from './options.ts'
import { runLaws, runProperty, type Law, type RunOptions } from './run.ts'
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
  fc
    .subarray(KEYS, { minLength: 1, maxLength: 3 })
    .chain((keys) =>
      fc.array(child, { minLength: keys.length, maxLength: keys.length }).map((vs) => Object.fromEntries(keys.map((k, i) => [k, vs[i]!]))),
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
      return T.generate(leaf.shape, (i) => push(values[at + i]!))
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
    fc
      .tuple(filledLike(s, 0.5, 2), filledLike(s, -1, 1), filledLike(s, -1.5, 1.5, 0.5))
      .map(([a, c, d]) => ({ a, c, p0: Tree.map2(c, d, T.add) })),
  )

/** Combines three same-structure trees leaf by leaf (records pair up by key). */
const map3 = (x: Tree.Tree, y: Tree.Tree, z: Tree.Tree, f: (u: Tensor, v: Tensor, w: Tensor) => Tensor): Tree.Tree => {
  const ly = Tree.leavesLike(x, y)
  const lz = Tree.leavesLike(x, z)
  let i = 0
  return Tree.map(x, (u) => {
    const k = i++
    return f(u, ly[k]!, lz[k]!)
  })
}

/** f(p) = ½ Σ aᵢ (pᵢ - cᵢ)². */
export const quadraticValue = (q: Quadratic, p: Tree.Tree): number =>
  Tree.leaves(map3(q.a, q.c, p, (a, c, x) => T.generate(a.shape, (i) => 0.5 * a.data[i]! * (x.data[i]! - c.data[i]!) ** 2))).reduce(
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
    const d = Tree.structureDiff(init, out[k]![1])
    if (d !== undefined) return fails(`the state after update ${k + 1} differs from init's ${d} (init vs after)`)
  }
  return holds
}

/** Law: the updates have the params' structure and leaf shapes, at every step. */
export const updatesHaveParamsStructure = <S extends Tree.Tree>(t: GT<S>, s: TransformSample): Verdict => {
  const { out } = steps(t, s)
  for (let k = 0; k < out.length; k++) {
    const d = Tree.structureDiff(s.params, out[k]![0])
    if (d !== undefined) return fails(`the updates of step ${k + 1} differ from the params' structure ${d} (params vs updates)`)
  }
  return holds
}

/** Law: from the initial state, zero gradients give zero updates (the params stay put), at every step. */
export const zeroGradientsChangeNothing = <S extends Tree.Tree>(t: GT<S>, s: TransformSample): Verdict => {
  const zero = Tree.zerosLike(s.params)
  const { out } = steps(t, { params: s.params, grads: s.grads.map(() => zero) })
  for (let k = 0; k < out.length; k++) {
    for (const { path, leaf } of Tree.leavesWithPaths(out[k]![0])) {
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
    () =>
      s.grads.reduce<Verdict>(
        (v, gk, k) => (v.holds ? treesIdentical(`gradients of step ${k + 1} after update (should be untouched)`, gk, grads[k]!) : v),
        holds,
      ),
    () => treesIdentical('state after update (should be untouched)', state, before),
    () => treesIdentical('updates of the same update run twice', u1, u2),
    () => treesIdentical('state of the same update run twice', s1, s2),
  )
}

/** The same tree with every record's keys in reverse order (a tree matches by key, in any order). */
const reversedKeys = (t: Tree.Tree): Tree.Tree => {
  if (Tree.isTensor(t)) return t
  if (Array.isArray(t)) return t.map(reversedKeys)
  const r = t as Readonly<Record<string, Tree.Tree>> // Array.isArray does not narrow a readonly array out of the union
  return Object.fromEntries(
    Object.keys(r)
      .reverse()
      .map((k) => [k, reversedKeys(r[k]!)]),
  )
}

/** The leaves' paths in order: two trees with one layout list the same paths in the same order. */
const sameLayout = (what: string, a: Tree.Tree, b: Tree.Tree): Verdict => {
  const pa = Tree.leavesWithPaths(a)
    .map((l) => l.path)
    .join(', ')
  const pb = Tree.leavesWithPaths(b)
    .map((l) => l.path)
    .join(', ')
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
    const g = reversedKeys(s.grads[k]!)
    const before = snapshot([g, pFused, sFused])
    const [p1, s1] = t.updateAndApply(g, sFused, pFused)
    const [u, s2] = t.update(g, sTwo, pTwo)
    const p2 = Optim.applyUpdates(pTwo, u)
    const v = all(
      () => {
        const what = `gradients, params and state after updateAndApply of step ${k + 1} (should be untouched)`
        return treesIdentical(what, [g, pFused, sFused], before)
      },
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

/** One step of a run: the updates, state and params of update + applyUpdates, and the params and state of updateAndApply. */
interface RunStep {
  readonly updates: Tree.Tree
  readonly state: Tree.Tree
  readonly params: Tree.Tree
  readonly fusedParams: Tree.Tree
  readonly fusedState: Tree.Tree
}

/** Runs the transform over the sample's gradients, params moving, step k under the kernel family `familyAt(k)`. */
const runUnder = <S extends Tree.Tree>(t: GT<S>, s: TransformSample, familyAt: (k: number) => Kernels.Choice): RunStep[] => {
  const out: RunStep[] = []
  let params = s.params
  let state = t.init(s.params)
  let fusedParams = s.params
  let fusedState = state
  s.grads.forEach((g, k) =>
    Kernels.using(familyAt(k), () => {
      const [u, next] = t.update(g, state, params)
      params = Optim.applyUpdates(params, u)
      state = next
      if (t.updateAndApply !== undefined) [fusedParams, fusedState] = t.updateAndApply(g, fusedState, fusedParams)
      out.push({ updates: u, state, params, fusedParams, fusedState })
    }),
  )
  return out
}

/**
 * Law 13 (fast equals readable): under the kernel family `family`, the transform gives, at
 * every step, the updates, the state, and (through updateAndApply, if it has one) the params
 * and state it gives under 'reference', bit for bit. A run that takes its steps under `family`
 * and 'reference' in turn gives them too: the two paths share one state.
 */
export const fastEqualsReadable = <S extends Tree.Tree>(t: GT<S>, family: Kernels.Choice, s: TransformSample): Verdict => {
  const readable = runUnder(t, s, () => 'reference')
  const runs: [string, RunStep[]][] = [
    [`'${family}'`, runUnder(t, s, () => family)],
    [`'${family}' and 'reference' in turn`, runUnder(t, s, (k) => (k % 2 === 0 ? family : 'reference'))],
  ]
  for (const [name, run] of runs) {
    for (let k = 0; k < run.length; k++) {
      const [a, b] = [run[k]!, readable[k]!]
      const v = all(
        () => treesIdentical(`${name} vs 'reference', updates of step ${k + 1}`, a.updates, b.updates),
        () => treesIdentical(`${name} vs 'reference', state after step ${k + 1}`, a.state, b.state),
        () => treesIdentical(`${name} vs 'reference', params after step ${k + 1} (update + applyUpdates)`, a.params, b.params),
        () => treesIdentical(`${name} vs 'reference', params after step ${k + 1} (updateAndApply)`, a.fusedParams, b.fusedParams),
        () => treesIdentical(`${name} vs 'reference', state after step ${k + 1} (updateAndApply)`, a.fusedState, b.fusedState),
      )
      if (!v.holds) return v
    }
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
    if (settings.monotone === true && fk > f + 1e-12 * f0) {
      return fails(`f rose from ${f} to ${fk} at step ${k} (monotone descent expected)`)
    }
    f = fk
  }
  if (f <= fraction * f0) return holds
  return fails(
    `after ${settings.steps} steps f = ${f}, which is ${ratioAbove(f / f0, fraction)} of f(p0) = ${f0}; expected at most ${fraction}`,
  )
}

/** A ratio above `limit`, to three significant digits or as many as it takes to read above it (0.1000003, not 0.100). */
export const ratioAbove = (ratio: number, limit: number): string => {
  let shown = ratio.toPrecision(3)
  for (let digits = 4; Number(shown) <= limit && digits <= 17; digits++) shown = ratio.toPrecision(digits)
  return shown
}

/** Law: two transforms give bit-identical updates at every step (and so bit-identical params). */
export const sameUpdates = <S1 extends Tree.Tree, S2 extends Tree.Tree>(a: GT<S1>, b: GT<S2>, s: TransformSample): Verdict => {
  const ra = steps(a, s).out
  const rb = steps(b, s).out
  for (let k = 0; k < ra.length; k++) {
    const v = treesIdentical(`updates of step ${k + 1}`, ra[k]![0], rb[k]![0])
    if (!v.holds) return v
  }
  return holds
}

/** Law: two transforms give bit-identical updates at every step and bit-identical states after the last. */
export const sameUpdatesAndStates = <S1 extends Tree.Tree, S2 extends Tree.Tree>(a: GT<S1>, b: GT<S2>, s: TransformSample): Verdict => {
  const u = sameUpdates(a, b, s)
  if (!u.holds) return u
  const ra = steps(a, s).out
  const rb = steps(b, s).out
  const last = (r: readonly (readonly [Tree.Tree, Tree.Tree])[]): Tree.Tree => r[r.length - 1]?.[1] ?? []
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
  checkMaker('checkTransform', makeTransform, '() => Optim.adam({ lr: 0.05 })')
  checkTransformOptions('checkTransform', options)
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
  if (makeTransform().updateAndApply !== undefined) {
    laws.push(law('13. updateAndApply = update, then applyUpdates, bit for bit', updateAndApplyIsUpdateThenApply))
    const families = (t: GT<S>, s: TransformSample): Verdict =>
      all(
        () => fastEqualsReadable(t, 'js', s),
        () => fastEqualsReadable(t, 'wasm', s),
      )
    laws.push(law("13. fast equals readable: the 'js' and 'wasm' kernels give the 'reference' numbers, bit for bit", families))
  }
  const descent = options.descent
  if (descent !== undefined) {
    const monotone = descent.monotone === true ? 'monotone, ' : ''
    const title = `11. descent on a convex quadratic (${monotone}${descent.steps} steps to ${descent.fraction ?? 0.1} of f(p0))`
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

/**
 * Runs every applicable transform law; throws one Error listing each law that failed.
 * @example
 * import { test } from 'vitest'
 * test('sgd obeys the laws', () => checkTransform(() => Optim.sgd({ lr: 0.5 }), { name: 'sgd', descent: { steps: 5, monotone: true } }))
 */
export const checkTransform = <S extends Tree.Tree>(makeTransform: () => GT<S>, options: CheckTransformOptions = {}): void =>
  runLaws(transformLaws(makeTransform, options))

/** The SGD factory the SGD laws take: Optim.sgd, or your own. */
export type MakeSgd<S extends Tree.Tree = Tree.Tree> = (options: { readonly lr: number; readonly momentum?: number }) => GT<S>

/**
 * The SGD laws: sgd({ lr, momentum: 0 }) gives the same updates as scaleByLearningRate(lr) bit
 * for bit, and one step is p - lr·g exactly; lr is drawn from [1e-3, 1].
 */
export const sgdLaws = <S extends Tree.Tree>(makeSgd: MakeSgd<S>, options: RunOptions & { readonly name?: string } = {}): Law[] => {
  checkMaker('checkSgd', makeSgd, 'Optim.sgd')
  checkSgdOptions('checkSgd', options)
  const name = options.name ?? 'sgd'
  const subject = `optimizer "${name}"`
  const lr = fc.double({ min: 1e-3, max: 1, noNaN: true })
  const zeroMomentum = '11. momentum 0 = scaleByLearningRate, bit for bit'
  const oneStep = '11. one step is p - lr·g exactly'
  return [
    {
      name: `${name}: ${zeroMomentum}`,
      check: () =>
        runProperty(
          zeroMomentum,
          subject,
          [lr, transformSample(3)],
          (r, s) => sameUpdates(makeSgd({ lr: r, momentum: 0 }), Optim.scaleByLearningRate(r), s),
          options,
        ),
    },
    {
      name: `${name}: ${oneStep}`,
      check: () => runProperty(oneStep, subject, [lr, transformSample(1)], (r, s) => sgdStepExact(makeSgd({ lr: r }), r, s), options),
    },
  ]
}

/** Runs the SGD laws; throws one Error listing each law that failed. @example test('sgd laws', () => checkSgd(Optim.sgd)) */
export const checkSgd = <S extends Tree.Tree>(makeSgd: MakeSgd<S>, options: RunOptions & { readonly name?: string } = {}): void =>
  runLaws(sgdLaws(makeSgd, options))
