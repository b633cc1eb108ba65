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
import { checkInit, checkIsLayer, LayerFault, underContract } from './contract.ts'
import { LawFailure, report } from './failure.ts'
import * as LL from './layer-laws.ts'
import { locateFault } from './locate.ts'
import { checkLayerOptionValues, checkRunOptions } from './options.ts'
import { fails, orThrow, pastTolerance, type Miss, type Verdict } from './verdict.ts'

/** A named, runnable law: `check` throws a LawFailure explaining the failure. */
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
    if (x instanceof Float64Array || x instanceof Float32Array) return Array.from(x, short)
    if (Tree.isTensor(x)) return showTensor(x) // in 7 significant digits, as the layer laws' samples: the replay gives the exact values
    return x
  }
  return JSON.stringify(v, (_k, x: unknown) => seen(x), 1)?.replace(/\n\s*/g, ' ') ?? String(v)
}

/** The reason a law gives when its check threw: a LayerFault names the part of the layer, anything else its class. */
const threw = (e: unknown): string =>
  e instanceof LayerFault ? e.message : e instanceof Error ? `threw ${e.name}: ${e.message}` : `threw ${String(e)}`

/**
 * Runs one property and throws a LawFailure (law, subject, reason, counterexample, replay) on failure. A check that
 * throws fails with what it threw as its reason (and that error as the failure's cause).
 */
export const runProperty = <Ts extends [unknown, ...unknown[]]>(
  law: string,
  subject: string,
  arbitraries: { [K in keyof Ts]: fc.Arbitrary<Ts[K]> },
  predicate: (...args: Ts) => Verdict,
  options: RunOptions = {},
): void => {
  checkRunOptions(`law "${law}"`, options)
  const seed = options.seed ?? defaultSeed()
  const params: fc.Parameters<Ts> = {
    seed,
    numRuns: options.numRuns ?? defaultRuns(),
    ...(options.path === undefined ? {} : { path: options.path }),
  }
  let thrown: unknown
  const judge = (...args: Ts): Verdict => {
    try {
      return predicate(...args)
    } catch (e) {
      thrown = e
      return fails(threw(e))
    }
  }
  // Shrinking looks for the simplest failing input, not the worst: a real bug can shrink to a case
  // just past the tolerance. So the largest miss of any sample tried is kept, to report beside it.
  let worst: { readonly miss: Miss; readonly reason: string; readonly args: Ts } | undefined
  let details: fc.RunDetails<Ts>
  try {
    details = fc.check(
      fc.property(...arbitraries, (...args: Ts) => {
        const v = judge(...args)
        if (!v.holds && v.miss !== undefined && (worst === undefined || ratio(v.miss) > ratio(worst.miss))) {
          worst = { miss: v.miss, reason: v.reason, args }
        }
        return orThrow(v)
      }),
      params,
    )
  } catch (e) {
    // Thrown while drawing a sample (an init inside an arbitrary, say), outside any check.
    throw new LawFailure({ law, subject, reason: `${threw(e)} (while drawing a sample)`, evidence: [] }, { cause: e })
  }
  if (!details.failed) return
  thrown = undefined
  const shrunk = details.counterexample === null ? undefined : judge(...details.counterexample)
  const reason =
    shrunk !== undefined && !shrunk.holds
      ? shrunk.miss === undefined
        ? shrunk.reason
        : `${shrunk.reason}, ${pastTolerance(shrunk.miss)}`
      : details.errorInstance instanceof Error
        ? details.errorInstance.message
        : String(details.errorInstance)
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
  throw new LawFailure(
    {
      law,
      subject,
      reason,
      evidence: [
        `  Counterexample (after ${details.numShrinks} shrinks):${describeValue(details.counterexample).replace(/^(?!\n)/, ' ')}`,
        ...largest,
      ],
      replay: { seed: details.seed, path: details.counterexamplePath ?? '' },
      ...(details.counterexample === null ? {} : { counterexample: details.counterexample }),
      ...(shrunk !== undefined && !shrunk.holds && shrunk.miss !== undefined ? { miss: shrunk.miss } : {}),
    },
    { cause: thrown ?? details.errorInstance },
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

/** Whether a layer is, or holds, a batchNorm (whose train mode takes statistics over the batch). */
const holdsBatchNorm = (layer: L.AnyLayer): boolean =>
  layer.spec.kind === 'batchNorm' || (layer.structure?.children.some((c) => holdsBatchNorm(c.layer)) ?? false)

/**
 * The cause of a failure the kit can tell from the layer and the options, and how to fix it: a layer that refuses a
 * batch of one (batchNorm in train mode) run without `batch`, or a batchNorm in train mode run on the default inputs.
 */
const fixFor = (layer: L.AnyLayer, options: CheckLayerOptions, failure: LawFailure): string | undefined => {
  const spread = holdsBatchNorm(layer) && (options.mode ?? 'train') === 'train' && options.input === undefined
  const distinct = 'input: distinctValues (from chainrule/laws) for inputs with some spread'
  const s = failure.counterexample?.[0]
  const fault = failure.cause
  if (
    fault instanceof LayerFault &&
    fault.part === 'forward' &&
    fault.cause instanceof L.ShapeError &&
    isLayerSample(s) &&
    s.x.shape[0] === 1
  ) {
    try {
      layer.forward(s.params, s.state, T.concat(0)([s.x, s.x]), s.ctx)
    } catch {
      return undefined // not the batch size, then
    }
    return (
      "the layer's forward refuses a batch of one example but takes a batch of two (a layer that takes statistics over the batch, as " +
      `batchNorm does in train mode). Pass batch: { min: 2, max: 3 }${spread ? `, and ${distinct}` : ''} (docs/layers.md)`
    )
  }
  if (spread && failure.miss !== undefined)
    return (
      "this may be the inputs, not the vjp: the layer holds a batchNorm in train mode, and the laws' default inputs shrink to values of " +
      "±0.001; where a feature's values nearly agree, the batch variance is far below eps and central differences are not accurate " +
      `enough for the gradient laws. Pass ${distinct} (docs/layers.md)`
    )
  return undefined
}

/**
 * Why a layer inside a failing network fails laws 1 and 2 alone (the first failure's law and reason), or undefined when it
 * passes them: run with the network's options on the input shape it gets there, with fewer runs (at most 25).
 */
const failsAlone = (layer: L.AnyLayer, inShape: Shape, options: CheckLayerOptions): string | undefined => {
  const { batch, input, mode, paramJitter, settings, seed } = options
  const alone: CheckLayerOptions = {
    inShape,
    numRuns: Math.min(options.numRuns ?? defaultRuns(), 25),
    ...(batch === undefined ? {} : { batch }),
    ...(input === undefined ? {} : { input }),
    ...(mode === undefined ? {} : { mode }),
    ...(paramJitter === undefined ? {} : { paramJitter }),
    ...(settings === undefined ? {} : { settings }),
    ...(seed === undefined ? {} : { seed }),
  }
  try {
    for (const law of layerLaws(layer, alone).filter((l) => /: [12]\. /.test(l.name))) law.check()
  } catch (e) {
    if (!(e instanceof LawFailure)) return undefined // a layer the kit cannot run alone is not blamed
    const largest = e.evidence
      .map((line) => /Largest error of any sample tried: ([^(]*?)\s*\(/.exec(line)?.[1])
      .find((m) => m !== undefined)
    return `law "${e.law}": ${e.reason}${largest === undefined ? '' : ` (the largest error of any sample: ${largest})`}`
  }
  return undefined
}

/** The layer laws that apply to a layer, each a runnable check (so a test file can give each its own test). */
export const layerLaws = <P extends Tree.Tree, S extends Tree.Tree, Tape>(layer: Layer<P, S, Tape>, options: CheckLayerOptions): Law[] => {
  checkOptions('checkLayer', options, [...CHECK_LAYER_OPTIONS])
  checkLayerOptionValues('checkLayer', options)
  checkIsLayer('checkLayer: its first argument', layer)
  const { inShape } = options
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
  try {
    checkInit(probe)
  } catch (e) {
    if (e instanceof LayerFault) throw new TypeError(`checkLayer: layer "${layer.name}" (input ${T.showShape(inShape)}): ${e.message}`)
    throw e
  }
  const held = underContract(layer, probe.outShape)
  type Sample = LL.LayerSample<P, S>
  const sample = (m: 'train' | 'eval'): fc.Arbitrary<Sample> =>
    fc
      .integer({ min: batch.min, max: batch.max })
      .chain((n) => fc.tuple(input([n, ...inShape]), fc.integer()))
      .map(([x, seed]) => LL.makeSample(held, inShape, x, seed, m, options.paramJitter ?? 0.5))
  const coordinates = T.sizeOf(inShape) * batch.max + Tree.size(probe.params)
  const subject = `layer "${layer.name}" (input ${T.showShape(inShape)})`
  let located: { readonly fix: string | undefined } | undefined // which layer inside a failing network is at fault, found once
  const locate = (): string | undefined =>
    (located ??= { fix: locateFault(layer, inShape, (inner, shape) => failsAlone(inner, shape, options)) }).fix
  const law = (name: string, m: 'train' | 'eval', p: (s: Sample) => Verdict): Law => ({
    name: `${layer.name}: ${name}`,
    check: () => {
      try {
        runProperty(name, subject, [sample(m)], p, options)
      } catch (e) {
        if (!(e instanceof LawFailure)) throw e
        const fix = fixFor(held, options, e) ?? (/^[1-4]\. /.test(name) && !(e.cause instanceof LayerFault) ? locate() : undefined)
        throw fix === undefined ? e : e.withFix(fix)
      }
    },
  })
  const laws: Law[] = []
  if (coordinates <= (options.maxCoordinates ?? 300)) {
    laws.push(law('1. vjp = central differences, per coordinate', mode, (s) => LL.gradientPerCoordinate(held, s, settings)))
  }
  laws.push(law('2. vjp = directional derivative', mode, (s) => LL.gradientDirectional(held, s, settings)))
  if (options.affineInInput === true) laws.push(law('3. exact adjoint in x', mode, (s) => LL.adjointInInput(held, s, settings)))
  if (options.linearInParams === true) laws.push(law('3. exact adjoint in params', mode, (s) => LL.adjointInParams(held, s, settings)))
  laws.push(law('4. vjp linear in the cotangent, vjp(0) = 0', mode, (s) => LL.vjpLinearInCotangent(held, s, settings)))
  laws.push(law('5. shapes of y, dx, dp', mode, (s) => LL.shapes(held, s, inShape)))
  laws.push(law('6. purity and determinism', mode, (s) => LL.purity(held, s, inShape)))
  if (options.batchIndependent ?? true)
    laws.push(law('7. batch consistency (eval mode)', 'eval', (s) => LL.batchConsistency(held, s, settings)))
  if (options.float32 === true)
    laws.push(law('14. float32 keeps its dtype and agrees with float64', mode, (s) => LL.float32Agrees(held, s, settings)))
  const { registry } = options
  if (registry !== undefined)
    laws.push(law('12. spec round trip through fromSpec, bit for bit', mode, (s) => LL.specRoundTrip(held, registry, s, inShape)))
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
  checkOptions('checkFusion', options, [...CHECK_LAYER_OPTIONS])
  checkLayerOptionValues('checkFusion', options)
  checkIsLayer('checkFusion: its first argument', layer)
  checkIsLayer('checkFusion: its second argument (next)', next)
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

/** Runs every law, then throws one Error listing each law that failed (if any did), laws that failed for one reason together. */
export const runLaws = (laws: readonly Law[]): void => {
  const failures: LawFailure[] = []
  for (const law of laws) {
    try {
      law.check()
    } catch (e) {
      if (!(e instanceof LawFailure)) throw e // not a law failing but the runner refusing (a bad option): no other law could run either
      failures.push(e)
    }
  }
  if (failures.length > 0) throw new Error(report(failures), { cause: failures[0] })
}

/**
 * Runs every applicable layer law; throws one Error listing each law that failed.
 * @example
 * import { test } from 'vitest'
 * test('swish obeys the layer laws', () => checkLayer(swish, { inShape: [3] }))
 */
export const checkLayer = <P extends Tree.Tree, S extends Tree.Tree, Tape>(layer: Layer<P, S, Tape>, options: CheckLayerOptions): void =>
  runLaws(layerLaws(layer, options))
