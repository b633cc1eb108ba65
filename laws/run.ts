/**
 * Runners: feed the law predicates samples from fast-check and report a failure with the law's
 * name, the counterexample, and the seed and path that replay it.
 *
 * In a vitest file:
 *   test('swish obeys the layer laws', () => checkLayer(swish, { inShape: [3] }))
 * or one test per law:
 *   for (const law of layerLaws(swish, { inShape: [3] })) test(law.name, law.check)
 */
import fc from 'fast-check'
import { L, T, Tree, type IO, type Layer, type Shape, type Tensor } from '../src/index.ts'
import { checkOptions } from '../src/options.ts'
import * as A from './arbitraries.ts'
import * as LL from './layer-laws.ts'
import { fails, orThrow, pastTolerance, type Miss, type Verdict } from './verdict.ts'

/** A named, runnable law: `check` throws an Error explaining the failure. */
export interface Law {
  readonly name: string
  readonly check: () => void
}

/** The seed used when none is given: $CHAINRULE_SEED, else 42. Fixed, so CI is reproducible. */
export const defaultSeed = (): number => {
  const env = typeof process !== 'undefined' ? process.env['CHAINRULE_SEED'] : undefined
  const n = env === undefined || env === '' ? 42 : Number(env)
  if (!Number.isSafeInteger(n)) throw new Error(`CHAINRULE_SEED must be an integer, got '${env}'`)
  return n
}

/** How many runs each property gets unless told: $CHAINRULE_RUNS, else 100. */
export const defaultRuns = (): number => {
  const env = typeof process !== 'undefined' ? process.env['CHAINRULE_RUNS'] : undefined
  if (env === undefined || env === '') return 100
  const n = Number(env)
  if (!Number.isInteger(n) || n < 1) throw new Error(`CHAINRULE_RUNS must be a positive integer, got '${env}'`)
  return n
}

/** Options for running properties. */
export interface RunOptions {
  /** Number of samples per law (default $CHAINRULE_RUNS or 100). */
  readonly numRuns?: number
  /** fast-check seed (default $CHAINRULE_SEED or 42). */
  readonly seed?: number
  /** fast-check replay path printed by an earlier failure. */
  readonly path?: string
}

/** Whether a counterexample is the layer laws' sample (LayerSample), which gets its own short description. */
const isLayerSample = (v: unknown): v is LL.LayerSample =>
  typeof v === 'object' && v !== null && ['initKey', 'params', 'state', 'x', 'c', 'c2', 'tx', 'tp'].every((k) => k in v)

/** A number in 7 significant digits (enough to read; the replay gives the exact sample). */
const short = (v: number): string => (Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(7))))

/** A tensor as "Tensor [shape] [v, v, ...]" (or its size, when it holds more than 24 values). */
const showTensor = (t: Tensor): string =>
  t.data.length <= 24
    ? `Tensor ${T.showShape(t.shape)} [${Array.from(t.data, short).join(', ')}]`
    : `Tensor ${T.showShape(t.shape)} (${t.data.length} values)`

/** A tree of tensors as { W: Tensor [...], b: Tensor [...] } (none: []). */
const showTree = (tree: Tree.Tree): string => {
  const leaves = Tree.leavesWithPaths(tree)
  if (leaves.length === 0) return '(none)'
  return leaves.map(({ path, leaf }) => `${path === '' ? '' : `${path}: `}${showTensor(leaf)}`).join('; ')
}

/**
 * The layer laws' sample, with what every law uses first: the input batch, the params and the
 * state, and the cotangent. The other random inputs (a second cotangent and two scalars for
 * law 4, a direction for law 2) are named but not printed; the replay reproduces them all.
 */
const describeSample = (s: LL.LayerSample): string =>
  [
    `x = ${showTensor(s.x)}`,
    `params = ${showTree(s.params)}`,
    `state = ${showTree(s.state)}`,
    `cotangent c = ${showTensor(s.c)}`,
    '(not shown: the second cotangent c2 and the scalars alpha, beta of law 4; the direction tx, tp of law 2)',
  ].join('\n    ')

const describeValue = (v: unknown): string => {
  if (Array.isArray(v) && v.length === 1 && isLayerSample(v[0])) return `\n    ${describeSample(v[0])}`
  const seen = (x: unknown): unknown => {
    if (x instanceof Float64Array) return Array.from(x)
    if (typeof x === 'object' && x !== null && (x as Tensor).data instanceof Float64Array) {
      const t = x as Tensor
      return t.data.length <= 24
        ? `Tensor ${T.showShape(t.shape)} ${JSON.stringify(Array.from(t.data))}`
        : `Tensor ${T.showShape(t.shape)} (${t.data.length} values)`
    }
    return x
  }
  return JSON.stringify(v, (_k, x: unknown) => seen(x), 1)?.replace(/\n\s*/g, ' ') ?? String(v)
}

/** Runs one property and throws a readable error (law, subject, reason, counterexample, replay) on failure. */
export const runProperty = <Ts extends [unknown, ...unknown[]]>(
  law: string,
  subject: string,
  arbitraries: { [K in keyof Ts]: fc.Arbitrary<Ts[K]> },
  predicate: (...args: Ts) => Verdict,
  options: RunOptions = {},
): void => {
  const seed = options.seed ?? defaultSeed()
  const params: fc.Parameters<Ts> = {
    seed,
    numRuns: options.numRuns ?? defaultRuns(),
    ...(options.path === undefined ? {} : { path: options.path }),
  }
  // Shrinking looks for the simplest failing input, not the worst: a real bug can shrink to a case
  // just past the tolerance. So the largest miss of any sample tried is kept, to report beside it.
  let worst: { readonly miss: Miss; readonly reason: string; readonly args: Ts } | undefined
  const details = fc.check(
    fc.property(...arbitraries, (...args: Ts) => {
      const v = predicate(...args)
      if (!v.holds && v.miss !== undefined && (worst === undefined || ratio(v.miss) > ratio(worst.miss))) {
        worst = { miss: v.miss, reason: v.reason, args }
      }
      return orThrow(v)
    }),
    params,
  )
  if (!details.failed) return
  const reason = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance)
  const shrunk = details.counterexample === null ? undefined : predicate(...details.counterexample)
  const shrunkRatio = shrunk !== undefined && !shrunk.holds && shrunk.miss !== undefined ? ratio(shrunk.miss) : 0
  const largest =
    worst !== undefined && ratio(worst.miss) > shrunkRatio
      ? [
          `  Largest error of any sample tried: ${worst.miss.error.toExponential(2)}, ${pastTolerance(worst.miss)} (shrinking keeps the simplest failing case, not the worst)`,
          `    Why there: ${worst.reason}`,
          `    At:${describeValue(worst.args)
            .replace(/^(?!\n)/, ' ')
            .replace(/\n {4}/g, '\n      ')}`,
        ]
      : []
  throw new Error(
    [
      `Law "${law}" failed for ${subject}.`,
      `  Why: ${reason}`,
      `  Counterexample (after ${details.numShrinks} shrinks):${describeValue(details.counterexample).replace(/^(?!\n)/, ' ')}`,
      ...largest,
      `  Replay: { seed: ${details.seed}, path: "${details.counterexamplePath ?? ''}" }`,
    ].join('\n'),
  )
}

/** How many times its tolerance a miss is. */
const ratio = (m: Miss): number => m.error / m.tolerance

/** The keys of CheckLayerOptions, for the options check. */
const CHECK_LAYER_OPTIONS = [
  'numRuns',
  'seed',
  'path',
  'inShape',
  'batch',
  'input',
  'affineInInput',
  'linearInParams',
  'batchIndependent',
  'maxCoordinates',
  'paramJitter',
  'mode',
  'registry',
  'float32',
  'settings',
] as const satisfies readonly (keyof CheckLayerOptions)[]

/** What checkLayer needs to know about the layer under test. */
export interface CheckLayerOptions extends RunOptions {
  /** Per-example input shape given to init. */
  readonly inShape: Shape
  /** Batch sizes to try (default 1..3). */
  readonly batch?: { readonly min: number; readonly max: number }
  /** Input arbitrary for a batch shape (default: values in [-2, 2], at least 1e-3 from 0). */
  readonly input?: (shape: Shape) => fc.Arbitrary<Tensor>
  /** The layer is affine in x (dense, conv, avg-pool, flatten): also check the exact adjoint law in x. */
  readonly affineInInput?: boolean
  /** The layer is linear in its params jointly (dense, conv): also check the exact adjoint law in p. */
  readonly linearInParams?: boolean
  /** Examples do not interact (default true; false for batch-norm in train mode). */
  readonly batchIndependent?: boolean
  /** Per-coordinate checks run when x and params hold at most this many numbers (default 300); the directional check always runs. */
  readonly maxCoordinates?: number
  /** Standard deviation of the noise added to init's params in each sample (default 0.5; 0 keeps init's values). */
  readonly paramJitter?: number
  /** Forward mode for the gradient laws (default 'train'; the key is fixed per sample). */
  readonly mode?: 'train' | 'eval'
  /** Also check law 12: the spec round-trips through JSON and `IO.fromSpec` with this registry (`IO.builtins`, or it extended). */
  readonly registry?: IO.Registry
  /** Also check law 14: run in float32, the layer keeps the dtype and agrees with float64 (`settings.float32Tolerance`). */
  readonly float32?: boolean
  /** Tolerances and the central-difference step (LayerLaws.Settings; each defaults to LayerLaws.defaultSettings'). */
  readonly settings?: Partial<LL.Settings>
}

/**
 * Runs a law; a TreeError from inside it (two trees paired leaf by leaf that do not match)
 * becomes a failure that says what usually causes it, instead of the name of an internal function.
 */
const structureFirst = <A>(p: (s: A) => Verdict, s: A): Verdict => {
  try {
    return p(s)
  } catch (e) {
    if (!(e instanceof Tree.TreeError)) throw e
    return fails(
      `two trees this law pairs up leaf by leaf have different structures (${e.message}). Most often the vjp's dp does not have the params' keys and shapes; law 5 checks dp against the params`,
    )
  }
}

/** The layer laws that apply to a layer, each a runnable check (so a test file can give each its own test). */
export const layerLaws = <P extends Tree.Tree, S extends Tree.Tree, Tape>(layer: Layer<P, S, Tape>, options: CheckLayerOptions): Law[] => {
  checkOptions('checkLayer', options, [...CHECK_LAYER_OPTIONS])
  const { inShape } = options
  if (!Array.isArray(inShape) || !inShape.every((d) => Number.isInteger(d) && d > 0))
    throw new TypeError(
      `checkLayer: inShape must be the per-example input shape, an array of positive integers such as { inShape: [4] }, got ${JSON.stringify(inShape) ?? 'undefined'}`,
    )
  const settings: LL.Settings = { ...LL.defaultSettings, ...options.settings }
  const batch = options.batch ?? { min: 1, max: 3 }
  const input = options.input ?? ((shape: Shape) => A.tensor(shape))
  const mode = options.mode ?? 'train'
  let probe: L.Init<P, S>
  try {
    probe = layer.init(LL.makeSampleKey, inShape)
  } catch (e) {
    throw new Error(`checkLayer: init rejected input shape ${T.showShape(inShape)}: ${e instanceof Error ? e.message : String(e)}`, {
      cause: e,
    })
  }
  const sample = (m: 'train' | 'eval'): fc.Arbitrary<LL.LayerSample<P, S>> =>
    fc
      .integer({ min: batch.min, max: batch.max })
      .chain((n) => fc.tuple(input([n, ...inShape]), fc.integer()))
      .map(([x, seed]) => LL.makeSample(layer, inShape, x, seed, m, options.paramJitter ?? 0.5))
  const coordinates = T.sizeOf(inShape) * batch.max + Tree.size(probe.params)
  const subject = `layer "${layer.name}" (input ${T.showShape(inShape)})`
  const law = (name: string, m: 'train' | 'eval', p: (s: LL.LayerSample<P, S>) => Verdict): Law => ({
    name: `${layer.name}: ${name}`,
    check: () => runProperty(name, subject, [sample(m)], (s) => structureFirst(p, s), options),
  })
  const laws: Law[] = []
  if (coordinates <= (options.maxCoordinates ?? 300)) {
    laws.push(law('1. vjp = central differences, per coordinate', mode, (s) => LL.gradientPerCoordinate(layer, s, settings)))
  }
  laws.push(law('2. vjp = directional derivative', mode, (s) => LL.gradientDirectional(layer, s, settings)))
  if (options.affineInInput === true) laws.push(law('3. exact adjoint in x', mode, (s) => LL.adjointInInput(layer, s, settings)))
  if (options.linearInParams === true) laws.push(law('3. exact adjoint in params', mode, (s) => LL.adjointInParams(layer, s, settings)))
  laws.push(law('4. vjp linear in the cotangent, vjp(0) = 0', mode, (s) => LL.vjpLinearInCotangent(layer, s, settings)))
  laws.push(law('5. shapes of y, dx, dp', mode, (s) => LL.shapes(layer, s, inShape)))
  laws.push(law('6. purity and determinism', mode, (s) => LL.purity(layer, s, inShape)))
  if (options.batchIndependent ?? true)
    laws.push(law('7. batch consistency (eval mode)', 'eval', (s) => LL.batchConsistency(layer, s, settings)))
  if (options.float32 === true)
    laws.push(law('14. float32 keeps its dtype and agrees with float64', mode, (s) => LL.float32Agrees(layer, s, settings)))
  const { registry } = options
  if (registry !== undefined)
    laws.push(law('12. spec round trip through fromSpec, bit for bit', mode, (s) => LL.specRoundTrip(layer, registry, s, inShape)))
  return laws
}

/**
 * The fusion law for a layer that fuses with `next` (its `fuseNext`): on random inputs, params
 * and cotangents, the fused layer gives exactly the numbers of the two layers one after the
 * other. A runnable law, as layerLaws gives; `checkFusion` runs it.
 * @example
 * import { test } from 'vitest'
 * test('conv2d fuses relu', () => checkFusion(L.conv2d(3, 3, { padding: 1 }), L.relu, { inShape: [2, 5, 5] }))
 */
export const fusionLaw = <P extends Tree.Tree, S extends Tree.Tree, Tape>(
  layer: Layer<P, S, Tape>,
  next: Layer<Tree.Tree, Tree.Tree, unknown>,
  options: CheckLayerOptions,
): Law => {
  const batch = options.batch ?? { min: 1, max: 3 }
  const input = options.input ?? ((shape: Shape) => A.tensor(shape))
  const sample = fc
    .integer({ min: batch.min, max: batch.max })
    .chain((n) => fc.tuple(input([n, ...options.inShape]), fc.integer()))
    .map(([x, seed]) => LL.makeSample(layer, options.inShape, x, seed, options.mode ?? 'train', options.paramJitter ?? 0.5))
  const name = `13. fused with ${next.name} = the two layers, bit for bit`
  return {
    name: `${layer.name}: ${name}`,
    check: () =>
      runProperty(
        name,
        `layer "${layer.name}" then "${next.name}" (input ${T.showShape(options.inShape)})`,
        [sample],
        (s) => LL.fusion(layer, next, s),
        options,
      ),
  }
}

/** Runs the fusion law (see fusionLaw); throws its Error if it fails. */
export const checkFusion = <P extends Tree.Tree, S extends Tree.Tree, Tape>(
  layer: Layer<P, S, Tape>,
  next: Layer<Tree.Tree, Tree.Tree, unknown>,
  options: CheckLayerOptions,
): void => fusionLaw(layer, next, options).check()

/** Runs every law, then throws one Error listing each law that failed (if any did). */
export const runLaws = (laws: readonly Law[]): void => {
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
 * Runs every applicable layer law; throws one Error listing each law that failed.
 * @example
 * import { test } from 'vitest'
 * test('swish obeys the layer laws', () => checkLayer(swish, { inShape: [3] }))
 */
export const checkLayer = <P extends Tree.Tree, S extends Tree.Tree, Tape>(layer: Layer<P, S, Tape>, options: CheckLayerOptions): void =>
  runLaws(layerLaws(layer, options))
