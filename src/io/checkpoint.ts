/**
 * Checkpoints: a network, its params and state (and, for a training checkpoint, the optimizer
 * state, key and step) as one versioned JSON document. Format version 1:
 *
 *   {
 *     "format": "chainrule-checkpoint",
 *     "version": 1,
 *     "metadata": { ...any JSON... },
 *     "inShape": [1, 28, 28],                       per-example input shape
 *     "spec": { "kind": "pipe", "children": [...] }, the network (see fromSpec)
 *     "params": <tree>,                             tensors as { dtype, shape, data (base64 LE float64 or float32) }
 *     "state": <tree>,                              non-trainable state, same encoding
 *     "training": {                                 only in a training checkpoint
 *       "optState": <tree>, "key": { "k0", "k1" }, "step": 1234,
 *       "runKey": { "k0", "k1" },                   optional: the key given to fit (its data order)
 *       "fit": { "epoch", "stepsPerEpoch", ... },   optional: where fit is in its run (epoch sums, early stopping's best, a stop)
 *       "optimizer": { ...any JSON... }             optional: a description, for people
 *     }
 *   }
 *
 * Decoding checks everything and returns Left(IoError) at the first problem, with its path
 * (`params[2].W: expected 100352 values (802816 bytes) for shape [784, 128], got 100351 ...`):
 * the format and version, every field's type, the spec (rebuilt through a registry), that the
 * params and state have exactly the structure and shapes a fresh init of the spec makes, the
 * base64 and lengths, that params and state hold one dtype (float64 or float32, recorded per
 * tensor), and that every number is finite. Values are stored exactly in their dtype, so
 * save → load → predict is bit-identical, and a training checkpoint resumes bit for bit.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import * as Key from '../key.ts'
import { ShapeError, showSpec, type AnyLayer, type Json, type Layer, type Shapes, type Spec } from '../layer.ts'
import { sameSettings, showSettings, type OptimizerSettings } from '../optim/settings.ts'
import type { GradientTransformation } from '../optim/transform.ts'
import type { FitState, TrainState } from '../train/state.ts'
import { checkOptions } from '../options.ts'
import { AllocationLimitError, showShape, withAllocationLimit, type DType, type Shape } from '../tensor/tensor.ts'
import { describeNode, size, type InDType, type Tree } from '../tree.ts'
import { staleLeaf } from '../train/recycler.ts'
import {
  Bool,
  closed,
  closedPartial,
  decodeWith,
  FiniteNumber,
  JsonCodec,
  JsonObjectCodec,
  KeyCodec,
  NonNegativeInt,
  PositiveInt,
  refine,
  ShapeCodec,
  type JsonObject,
} from './codecs.ts'
import { at, describe, IoError, isRecord } from './error.ts'
import { checkOptState } from './opt-state.ts'
import { storedMismatch } from './stored-shapes.ts'
import { jsonSyntaxError, lineAndColumn } from './json-syntax.ts'
import { builtins, fromSpec, isLayer, type Registry } from './registry.ts'
import { layerAt } from './layer-path.ts'
import { compareShapes, compareTrees, decodeTree, encodeTree, mixedDTypes, nonFiniteError, treeDType, type EncodedTree } from './tree.ts'

/** The value of the `format` field. */
export const FORMAT = 'chainrule-checkpoint'
/** The format version this code writes and reads. */
export const VERSION = 1

/** What a training checkpoint adds: everything besides params and state that a resumed run needs. */
export interface Training {
  readonly optState: Tree
  /** The TrainState's key: the next step's randomness. */
  readonly key: Key.Key
  /** Steps taken. */
  readonly step: number
  /** The key the run was started with (fit's `key`), which fixes its data order; needed to resume with fit. */
  readonly runKey?: Key.Key | undefined
  /** A description of the optimizer, for people (e.g. { name: 'sgd', lr: 0.05, momentum: 0.9 }). */
  readonly optimizer?: Json | undefined
  /** Where fit is in its run (the TrainState's `fit`); absent in checkpoints saved outside fit or before it was kept. */
  readonly fit?: FitState | undefined
}

/** What encodeCheckpoint takes: a network, its per-example input shape, params and state, and optional metadata and training part. */
export interface CheckpointInput {
  readonly model: AnyLayer
  readonly inShape: Shape
  readonly params: Tree
  readonly state: Tree
  readonly metadata?: JsonObject | undefined
  readonly training?: Training | undefined
}

/** A decoded, fully validated checkpoint: the rebuilt network and everything saved with it. */
export interface Checkpoint {
  readonly model: AnyLayer
  readonly spec: Spec
  readonly inShape: Shape
  readonly params: Tree
  readonly state: Tree
  readonly metadata: JsonObject
  readonly training: Training | undefined
}

/** The checkpoint document as stored (before base64 decoding). */
export interface CheckpointDocument {
  readonly format: typeof FORMAT
  readonly version: typeof VERSION
  readonly metadata: JsonObject
  readonly inShape: readonly number[]
  readonly spec: Spec
  readonly params: EncodedTree
  readonly state: EncodedTree
  readonly training?: {
    readonly optState: EncodedTree
    readonly key: Key.Key
    readonly step: number
    readonly runKey?: Key.Key
    readonly optimizer?: Json
    readonly fit?: EncodedFit
  }
}

/** A FitState as stored: the best epoch's training state, if kept, with its trees encoded. */
export interface EncodedFit {
  readonly epoch: number
  readonly stepsPerEpoch: number
  readonly batchSize: number
  readonly trainSize: number
  readonly lossSum: number
  readonly correctSum: number
  readonly seen: number
  readonly classify: boolean
  readonly stopped?: true
  readonly optimizer?: OptimizerSettings
  readonly best?: {
    readonly value: number
    readonly epoch: number
    readonly state?: {
      readonly params: EncodedTree
      readonly state: EncodedTree
      readonly optState: EncodedTree
      readonly key: Key.Key
      readonly step: number
    }
  }
}

/** Options of the decoders. */
export interface DecodeOptions {
  /** Where the spec's kinds are looked up (default: the built-ins). Pass extend(builtins, {...}) for custom layers. */
  readonly registry?: Registry
  /** The dtype the caller's model uses: a checkpoint whose params are in another is a 'dtype-mismatch' (default: either). */
  readonly dtype?: DType
}

/** The options the decoders take. */
const DECODE_OPTIONS = ['registry', 'dtype'] as const

const Envelope = closedPartial(
  'a checkpoint',
  {
    format: t.literal(FORMAT),
    version: t.literal(VERSION),
    metadata: JsonObjectCodec,
    inShape: ShapeCodec,
    spec: t.unknown,
    params: t.unknown,
    state: t.unknown,
  },
  { training: t.unknown },
)

const BestStateCodec = closed('a training state { params, state, optState, key, step }', {
  params: t.unknown,
  state: t.unknown,
  optState: t.unknown,
  key: KeyCodec,
  step: NonNegativeInt,
})

const BestCodec = closedPartial(
  'an early-stopping best { value, epoch }',
  { value: FiniteNumber, epoch: NonNegativeInt },
  { state: BestStateCodec },
)

/** An optimizer's settings (Optim.OptimizerSettings): a name, and numbers, booleans or strings. */
const SettingsCodec = refine(
  "an optimizer's settings { name, ...numbers, booleans or strings }",
  (u): u is OptimizerSettings =>
    isRecord(u) &&
    typeof u['name'] === 'string' &&
    Object.entries(u).every(
      ([k, v]) => k !== '__proto__' && (typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))),
    ),
)

const FitCodec = closedPartial(
  "fit's state { epoch, stepsPerEpoch, batchSize, trainSize, lossSum, correctSum, seen, classify }",
  {
    epoch: NonNegativeInt,
    stepsPerEpoch: PositiveInt,
    batchSize: PositiveInt,
    trainSize: PositiveInt,
    lossSum: FiniteNumber,
    correctSum: FiniteNumber,
    seen: NonNegativeInt,
    classify: Bool,
  },
  { best: BestCodec, stopped: t.literal(true), optimizer: SettingsCodec },
)

const TrainingCodec = closedPartial(
  'a training part { optState, key, step }',
  { optState: t.unknown, key: KeyCodec, step: NonNegativeInt },
  { runKey: KeyCodec, optimizer: JsonCodec, fit: FitCodec },
)

/** fit's state checked and encoded (its best state's trees as base64 tensors); throws an IoError. */
const encodeFit = (fs: FitState, path: string): EncodedFit => {
  const { best, stopped, ...sums } = fs
  const bs = best?.state
  const checked = decodeWith(FitCodec, { ...sums, ...(best === undefined ? {} : { best: { value: best.value, epoch: best.epoch } }) }, path)
  if (E.isLeft(checked)) throw new IoError('invalid', checked.left.path, checked.left.detail)
  if (bs !== undefined) {
    const base = `${path}.best.state`
    const key = decodeWith(KeyCodec, bs.key, `${base}.key`)
    if (E.isLeft(key)) throw new IoError('invalid', key.left.path, key.left.detail)
    const step = decodeWith(NonNegativeInt, bs.step, `${base}.step`)
    if (E.isLeft(step)) throw new IoError('invalid', step.left.path, step.left.detail)
    for (const k of ['params', 'state', 'optState'] as const) {
      const nf = nonFiniteError(bs[k], `${base}.${k}`)
      if (nf !== undefined) throw nf
    }
  }
  return {
    epoch: fs.epoch,
    stepsPerEpoch: fs.stepsPerEpoch,
    batchSize: fs.batchSize,
    trainSize: fs.trainSize,
    lossSum: fs.lossSum,
    correctSum: fs.correctSum,
    seen: fs.seen,
    classify: fs.classify,
    ...(stopped === true ? { stopped } : {}),
    ...(fs.optimizer === undefined ? {} : { optimizer: fs.optimizer }),
    ...(best === undefined
      ? {}
      : {
          best: {
            value: best.value,
            epoch: best.epoch,
            ...(bs === undefined
              ? {}
              : {
                  state: {
                    params: encodeTree(bs.params, `${path}.best.state.params`),
                    state: encodeTree(bs.state, `${path}.best.state.state`),
                    optState: encodeTree(bs.optState, `${path}.best.state.optState`),
                    key: { k0: bs.key.k0, k1: bs.key.k1 },
                    step: bs.step,
                  },
                }),
          },
        }),
  }
}

/** A stored fit state (already through FitCodec) with its best state's trees decoded and finite. */
const decodeFit = (u: t.TypeOf<typeof FitCodec>, path: string): E.Either<IoError, FitState> => {
  const { best, ...sums } = u
  if (best === undefined) return E.right(sums)
  const bs = best.state
  if (bs === undefined) return E.right({ ...sums, best: { value: best.value, epoch: best.epoch } })
  const trees: Tree[] = []
  for (const k of ['params', 'state', 'optState'] as const) {
    const where = `${path}.best.state.${k}`
    const tree = decodeTree(bs[k], where)
    if (E.isLeft(tree)) return tree
    const nf = nonFiniteError(tree.right, where)
    if (nf !== undefined) return E.left(nf)
    trees.push(tree.right)
  }
  const [params, state, optState] = trees as [Tree, Tree, Tree]
  return E.right({
    ...sums,
    best: { value: best.value, epoch: best.epoch, state: { params, state, optState, key: bs.key, step: bs.step } },
  })
}

/**
 * A model checkpoint input from a trained network: model, input shape, params, state and metadata. The params and state
 * may be float64 (the model's own), float32 (`Tree.Float32<P>`) or either; each tensor is stored in its dtype.
 */
export function modelCheckpoint<P extends Tree, S extends Tree, Tape>(
  model: Layer<P, S, Tape>,
  inShape: Shape,
  params: P,
  state: S,
  metadata?: JsonObject,
): CheckpointInput
/** The same for params and state in float32 (`Tree.Float32<P>`) or either dtype. */
export function modelCheckpoint<P extends Tree, S extends Tree, Tape>(
  model: Layer<P, S, Tape>,
  inShape: Shape,
  params: InDType<P, DType>,
  state: InDType<S, DType>,
  metadata?: JsonObject,
): CheckpointInput
export function modelCheckpoint<P extends Tree, S extends Tree, Tape>(
  model: Layer<P, S, Tape>,
  inShape: Shape,
  params: P,
  state: S,
  metadata: JsonObject = {},
): CheckpointInput {
  const shape: unknown = inShape
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number')) {
    const tree = typeof shape === 'object' && shape !== null // params or state where the shape goes: inShape left out
    throw new TypeError(
      `modelCheckpoint(model, inShape, params, state, metadata?): inShape, the second argument, must be one example's shape ` +
        `such as [784], got ${describeNode(shape)}${tree ? ' (params? was inShape left out?)' : ''}`,
    )
  }
  return { model, inShape, params, state, metadata }
}

/** What trainingCheckpoint takes: the model, its input shape, a training state (its trees PD and SD), and the run's key. */
export interface TrainingCheckpointOptions<P extends Tree, S extends Tree, Tape, O extends Tree, PD extends Tree = P, SD extends Tree = S> {
  readonly model: Layer<P, S, Tape>
  readonly inShape: Shape
  readonly state: TrainState<PD, SD, O>
  readonly runKey?: Key.Key
  readonly optimizer?: Json
  readonly metadata?: JsonObject
}

/**
 * A training checkpoint input from a TrainState (float64, float32 as `Tree.Float32<P>`, or either), plus the run's key
 * (fit's `key`) and an optional optimizer description.
 */
export function trainingCheckpoint<P extends Tree, S extends Tree, Tape, O extends Tree>(
  options: TrainingCheckpointOptions<P, S, Tape, O>,
): CheckpointInput
/** The same for a training state in float32 (`Tree.Float32<P>`) or either dtype. */
export function trainingCheckpoint<P extends Tree, S extends Tree, Tape, O extends Tree>(
  options: TrainingCheckpointOptions<P, S, Tape, O, InDType<P, DType>, InDType<S, DType>>,
): CheckpointInput
export function trainingCheckpoint<P extends Tree, S extends Tree, Tape, O extends Tree>(
  options: TrainingCheckpointOptions<P, S, Tape, O>,
): CheckpointInput {
  checkOptions('trainingCheckpoint', options, ['model', 'inShape', 'state', 'runKey', 'optimizer', 'metadata'])
  const ts = options.state
  return {
    model: options.model,
    inShape: options.inShape,
    params: ts.params,
    state: ts.state,
    metadata: options.metadata ?? {},
    training: { optState: ts.optState, key: ts.key, step: ts.step, runKey: options.runKey, optimizer: options.optimizer, fit: ts.fit },
  }
}

/**
 * The most values per example `inShape` may claim for a network with a layer that has no shape
 * rule (whose init must then run to learn its shapes): this, or the number of values the params
 * and state hold, whichever is larger.
 */
export const MAX_UNCHECKED_INPUT = 2 ** 16

/** The spec path and spec of the layer a ShapeError's path names (its combinator labels, then the layer's own name: `pipe[0].conv2d` → `spec.children[0]`), as text, or ''. */
const specOf = (model: AnyLayer, e: ShapeError): string => {
  let node = model
  let path = 'spec'
  for (const segment of e.path.slice(0, -1)) {
    const children = node.structure?.children ?? []
    const i = children.findIndex((c) => c.label === segment)
    if (i < 0) continue
    path += 'body' in node.spec ? '.body' : `.children[${i}]`
    node = children[i]!.layer
  }
  if (node === model) return ''
  return node.structure === undefined ? ` (at ${path}: ${showSpec(node.spec)})` : ` (at ${path})`
}

const initFailed = (model: AnyLayer, inShape: Shape, e: unknown): IoError =>
  e instanceof ShapeError
    ? new IoError('bad-input-shape', 'inShape', `the network cannot take this input shape: ${e.message}${specOf(model, e)}`, { cause: e })
    : new IoError(
        'bad-input-shape',
        'inShape',
        `initialising the network for input ${describe(inShape)} failed: ${e instanceof Error ? e.message : String(e)}`,
        { cause: e },
      )

/** A layer without a shape rule whose init passed the allocation limit: its spec path and spec. */
interface Culprit {
  readonly at: string
  readonly spec: string
}

/** The allocation limit the rules read off inits run under, and the first layer that passed it. */
interface Blame {
  limit: number
  culprit?: Culprit
}

/**
 * The network with a shape rule everywhere: a layer's own; a combinator's composed from its
 * children's (rebuilt over them); else, for a layer without one, a rule read off a real init of
 * that layer alone (run by the caller under an allocation limit; `blame` records the first such
 * layer that passed it). `at` is the layer's spec path.
 */
const withRules = (layer: AnyLayer, at: string, blame: Blame): AnyLayer => {
  if (layer.shapes !== undefined) return layer
  const s = layer.structure
  if (s !== undefined) {
    const under = (i: number): string => ('body' in layer.spec ? `${at}.body` : `${at}.children[${i}]`)
    const rebuilt = s.rebuild(s.children.map((c, i) => withRules(c.layer, under(i), blame)))
    if (rebuilt.shapes !== undefined) return rebuilt
  }
  const shapes = (inShape: Shape): Shapes => {
    try {
      const r = layer.init(Key.fromSeed(0), inShape)
      return { outShape: r.outShape, params: r.params, state: r.state }
    } catch (e) {
      if (!(e instanceof AllocationLimitError)) throw e
      blame.culprit ??= { at, spec: showSpec(layer.spec) }
      // A ShapeError, so the combinators around it add their paths and the layers that set its input's size.
      throw new ShapeError([layer.name], `its init on input ${showShape(inShape)} would allocate more`)
    }
  }
  return { ...layer, shapes }
}

/** How many float64s the inits of layers without a shape rule may allocate, per value stored (and per value of the input bound). */
export const UNCHECKED_ALLOCATION_FACTOR = 4

/**
 * Params and state checked against the network and finite. With a shape rule (every built-in
 * layer has one) nothing is allocated: the shapes the spec claims are compared with the tensors
 * present. A layer without one (a custom layer) has its init run alone, on the input shape the
 * rules before it give, after bounding the network's input (MAX_UNCHECKED_INPUT), and with every
 * such init together allowed to allocate at most UNCHECKED_ALLOCATION_FACTOR times the values
 * stored (plus the input bound): an init that would build more than the file holds is refused.
 */
const checkAgainstInit = (model: AnyLayer, inShape: Shape, params: Tree, state: Tree): IoError | undefined => {
  const present = size(params) + size(state)
  const blame: Blame = { limit: Infinity }
  let ruled = model
  if (model.shapes === undefined) {
    const claimed = inShape.reduce((a, d) => a * d, 1)
    if (claimed > Math.max(MAX_UNCHECKED_INPUT, present))
      return new IoError(
        'too-large',
        'inShape',
        `${showShape(inShape)} is ${claimed} values per example; a network with a layer without a shape rule takes at most ` +
          `${Math.max(MAX_UNCHECKED_INPUT, present)} (the larger of ${MAX_UNCHECKED_INPUT} and the ${present} values stored)`,
      )
    ruled = withRules(model, 'spec', blame)
    blame.limit = UNCHECKED_ALLOCATION_FACTOR * (present + MAX_UNCHECKED_INPUT)
  }
  let expected: Shapes
  try {
    const shapesOf = ruled.shapes
    expected = shapesOf === undefined ? model.init(Key.fromSeed(0), inShape) : withAllocationLimit(blame.limit, () => shapesOf(inShape))
  } catch (e) {
    const culprit = blame.culprit
    if (culprit !== undefined)
      return new IoError(
        'too-large',
        culprit.at,
        `${culprit.spec} has no shape rule, so its init may allocate at most ${UNCHECKED_ALLOCATION_FACTOR} × (the ${present} values ` +
          `stored + ${MAX_UNCHECKED_INPUT}) = ${blame.limit} values: ${e instanceof Error ? e.message : String(e)}; the spec claims ` +
          'more than the checkpoint holds (give the layer a shape rule, `shapes`, to have its settings checked exactly)',
        { cause: e },
      )
    // A spec edited after saving often fails only further on: name the stored tensor it disagrees with first.
    const stored =
      e instanceof ShapeError ? withAllocationLimit(blame.limit, () => storedMismatch(ruled, inShape, params, state)) : undefined
    if (stored === undefined) return initFailed(model, inShape, e)
    const further = `with the spec's shapes, the network fails further on: ${e instanceof Error ? e.message : String(e)}`
    const input = stored.kind === 'shape-mismatch' ? `; inShape is ${showShape(inShape)}` : ''
    return new IoError(stored.kind, stored.path, `${stored.detail}${input}; ${further}`, { cause: e })
  }
  const withInput = (e: IoError | undefined): IoError | undefined =>
    e?.kind === 'shape-mismatch' ? new IoError(e.kind, e.path, `${e.detail}; inShape is ${showShape(inShape)}`) : e
  return (
    withInput(compareShapes(expected.params, params, 'params', layerAt(model))) ??
    nonFiniteError(params, 'params') ??
    withInput(compareShapes(expected.state, state, 'state', layerAt(model))) ??
    nonFiniteError(state, 'state') ??
    mixedDTypes([
      [params, 'params'],
      [state, 'state'],
    ])
  )
}

/** The first leaf, among these trees (each at its path), whose buffer a reusing training step took (see staleLeaf). */
const firstStale = (trees: readonly (readonly [Tree | undefined, string])[]): ReturnType<typeof staleLeaf> => {
  for (const [tree, root] of trees) {
    const stale = tree === undefined ? undefined : staleLeaf(tree, root)
    if (stale !== undefined) return stale
  }
  return undefined
}

/** The checkpoint as a document (JSON-ready), after checking it; Left(IoError) on anything that would not load back. */
export const toDocument = (input: CheckpointInput): E.Either<IoError, CheckpointDocument> => {
  try {
    const model: unknown = input.model
    if (!isLayer(model)) {
      const forgot = typeof model === 'function' && model.name !== '' ? `: did you forget to call ${model.name}(…)?` : ''
      const got = typeof model === 'function' ? `a function${forgot}` : describe(model)
      return E.left(new IoError('invalid', 'model', `expected the network, a layer such as L.pipe(...), got ${got}`))
    }
    const best = input.training?.fit?.best?.state
    const stale = firstStale([
      [input.params, 'params'],
      [input.state, 'state'],
      [input.training?.optState, 'training.optState'],
      [best?.params, 'training.fit.best.state.params'],
      [best?.state, 'training.fit.best.state.state'],
      [best?.optState, 'training.fit.best.state.optState'],
    ])
    if (stale !== undefined) return E.left(new IoError('invalid', stale.path, stale.detail))
    const spec = decodeWith(JsonCodec, input.model.spec, 'spec')
    if (E.isLeft(spec)) return E.left(new IoError('invalid', spec.left.path, spec.left.detail))
    const shape = decodeWith(ShapeCodec, input.inShape, 'inShape')
    if (E.isLeft(shape)) return E.left(new IoError('invalid', shape.left.path, shape.left.detail))
    const metadata = decodeWith(JsonObjectCodec, input.metadata ?? {}, 'metadata')
    if (E.isLeft(metadata)) return E.left(new IoError('invalid', metadata.left.path, metadata.left.detail))
    const bad = checkAgainstInit(input.model, input.inShape, input.params, input.state)
    if (bad !== undefined) return E.left(bad)
    const tr = input.training
    let training: CheckpointDocument['training']
    if (tr !== undefined) {
      const checked = decodeWith(
        TrainingCodec,
        { optState: null, key: tr.key, step: tr.step, runKey: tr.runKey, optimizer: tr.optimizer },
        'training',
      )
      if (E.isLeft(checked)) return E.left(new IoError('invalid', checked.left.path, checked.left.detail))
      const nf = nonFiniteError(tr.optState, 'training.optState')
      if (nf !== undefined) return E.left(nf)
      training = {
        optState: encodeTree(tr.optState, 'training.optState'),
        key: { k0: tr.key.k0, k1: tr.key.k1 },
        step: tr.step,
        ...(tr.runKey === undefined ? {} : { runKey: { k0: tr.runKey.k0, k1: tr.runKey.k1 } }),
        ...(tr.optimizer === undefined ? {} : { optimizer: tr.optimizer }),
        ...(tr.fit === undefined ? {} : { fit: encodeFit(tr.fit, 'training.fit') }),
      }
    }
    return E.right({
      format: FORMAT,
      version: VERSION,
      metadata: metadata.right,
      inShape: [...input.inShape],
      spec: spec.right as Spec,
      params: encodeTree(input.params, 'params'),
      state: encodeTree(input.state, 'state'),
      ...(training === undefined ? {} : { training }),
    })
  } catch (e) {
    return E.left(
      e instanceof IoError
        ? e
        : new IoError('invalid', '', `cannot encode the checkpoint: ${e instanceof Error ? e.message : String(e)}`, { cause: e }),
    )
  }
}

/**
 * The checkpoint as JSON text. Throws an IoError, before producing anything, if it would not
 * load back: params or state that do not match a fresh init of the model, non-finite values,
 * metadata that is not JSON.
 * @example
 * const text = encodeCheckpoint(modelCheckpoint(net, [2], state.params, state.state, { note: 'xor' }))
 */
export const encodeCheckpoint = (input: CheckpointInput): string => {
  const doc = toDocument(input)
  if (E.isLeft(doc)) throw doc.left
  return `${pretty(doc.right, '')}\n`
}

/**
 * JSON laid out for people: objects indented two spaces per level, and on one line each tensor
 * ({ dtype, shape, data }), each array of numbers, and each small flat object (a leaf spec, a key).
 */
const pretty = (v: unknown, indent: string): string => {
  if (typeof v !== 'object' || v === null) return JSON.stringify(v)
  const empty = (x: unknown): boolean => typeof x === 'object' && x !== null && Object.keys(x).length === 0
  const flat = (Array.isArray(v) ? v : Object.values(v)).every((x) => typeof x !== 'object' || x === null || empty(x))
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]'
    if (flat) return `[${v.map((x) => JSON.stringify(x)).join(', ')}]`
    const inner = `${indent}  `
    return `[\n${v.map((x) => inner + pretty(x, inner)).join(',\n')}\n${indent}]`
  }
  const keys = Object.keys(v)
  if (keys.length === 0) return '{}'
  const rec = v as Record<string, unknown>
  const line = (k: string): string => `${JSON.stringify(k)}: ${JSON.stringify(rec[k])}`
  if ('dtype' in rec || (flat && keys.reduce((n, k) => n + line(k).length + 2, 4) <= 100)) {
    const shape = rec['shape']
    const tensorLine = (k: string): string => (k === 'shape' && Array.isArray(shape) ? `"shape": [${shape.join(', ')}]` : line(k))
    return `{ ${keys.map(tensorLine).join(', ')} }`
  }
  const inner = `${indent}  `
  return `{\n${keys.map((k) => `${inner}${JSON.stringify(k)}: ${pretty(rec[k], inner)}`).join(',\n')}\n${indent}}`
}

/**
 * A parsed checkpoint document, fully validated, with its network rebuilt. Never throws on any input; a misspelt option is a RangeError.
 * @example
 * const ck = decodeCheckpoint(JSON.parse(text))
 * if (E.isRight(ck)) Train.predict(ck.right.model, ck.right.params, ck.right.state, x)
 */
export const decodeCheckpoint = (u: unknown, options: DecodeOptions = {}): E.Either<IoError, Checkpoint> => {
  checkOptions('decodeCheckpoint', options, DECODE_OPTIONS)
  try {
    return decodeUnsafe(u, options)
  } catch (e) {
    // Every check above returns a Left; this is a last line of defence (e.g. a throwing custom layer init).
    return E.left(
      e instanceof IoError
        ? e
        : new IoError('invalid', '', `cannot decode the checkpoint: ${e instanceof Error ? e.message : String(e)}`, { cause: e }),
    )
  }
}

const decodeUnsafe = (u: unknown, options: DecodeOptions): E.Either<IoError, Checkpoint> => {
  if (!isRecord(u))
    return E.left(
      new IoError(
        'wrong-format',
        '',
        `expected a chainrule checkpoint (a JSON object with format ${JSON.stringify(FORMAT)}), got ${describe(u)}`,
      ),
    )
  if (u['format'] !== FORMAT) {
    const hint = typeof u['kind'] === 'string' ? ' (this looks like a layer spec: rebuild it with IO.fromSpec)' : ''
    return E.left(
      new IoError(
        'wrong-format',
        'format',
        `expected ${JSON.stringify(FORMAT)}, got ${describe(u['format'])}: this is not a chainrule checkpoint${hint}`,
      ),
    )
  }
  const version = u['version']
  if (version !== VERSION) {
    const newer = typeof version === 'number' && Number.isInteger(version) && version > VERSION
    const detail = newer
      ? `version ${version} is newer than this chainrule reads (${VERSION}); upgrade chainrule`
      : `expected version ${VERSION}, got ${describe(version)}`
    return E.left(new IoError('unsupported-version', 'version', detail))
  }
  const env = decodeWith(Envelope, u, '')
  if (E.isLeft(env)) return E.left(new IoError('invalid', env.left.path, env.left.detail))
  const doc = env.right
  const model = fromSpec(doc.spec, options.registry ?? builtins, 'spec')
  if (E.isLeft(model)) return model
  const params = decodeTree(doc.params, 'params')
  if (E.isLeft(params)) return params
  const state = decodeTree(doc.state, 'state')
  if (E.isLeft(state)) return state
  const bad = checkAgainstInit(model.right, doc.inShape, params.right, state.right)
  if (bad !== undefined) return E.left(bad)
  const stored = treeDType([params.right, state.right])
  if (options.dtype !== undefined && stored !== undefined && stored !== options.dtype)
    return E.left(
      new IoError(
        'dtype-mismatch',
        'params',
        `the checkpoint holds ${stored} params, but ${options.dtype} was asked for; load it without dtype and cast with ` +
          `Tree.castTree(params, '${options.dtype}')${options.dtype === 'float64' ? ' (exact)' : ' (rounds each value to nearest)'}`,
      ),
    )
  let training: Training | undefined
  if (doc.training !== undefined) {
    const tr = decodeWith(TrainingCodec, doc.training, 'training')
    if (E.isLeft(tr)) return E.left(new IoError('invalid', tr.left.path, tr.left.detail))
    const optState = decodeTree(tr.right.optState, at('training', 'optState'))
    if (E.isLeft(optState)) return optState
    const nf = nonFiniteError(optState.right, 'training.optState')
    if (nf !== undefined) return E.left(nf)
    const fit = tr.right.fit === undefined ? undefined : decodeFit(tr.right.fit, 'training.fit')
    if (fit !== undefined && E.isLeft(fit)) return fit
    training = {
      optState: optState.right,
      key: tr.right.key,
      step: tr.right.step,
      runKey: tr.right.runKey,
      optimizer: tr.right.optimizer,
      fit: fit?.right,
    }
  }
  return E.right({
    model: model.right,
    spec: doc.spec as Spec,
    inShape: doc.inShape,
    params: params.right,
    state: state.right,
    metadata: doc.metadata,
    training,
  })
}

/**
 * Checkpoint JSON text (a string, possibly with a byte-order mark, or its UTF-8 bytes as a Uint8Array or an ArrayBuffer), parsed
 * and fully validated. Never throws on any input; a misspelt option is a RangeError.
 * @example
 * const ck = parseCheckpoint(text, { registry: IO.extend(IO.builtins, { swish: () => swish }) })
 */
export const parseCheckpoint = (text: string | Uint8Array | ArrayBuffer, options: DecodeOptions = {}): E.Either<IoError, Checkpoint> => {
  checkOptions('parseCheckpoint', options, DECODE_OPTIONS)
  const given: unknown = text
  if (given instanceof ArrayBuffer) return parseFrom(new Uint8Array(given), options, undefined) // what fetch's arrayBuffer() gives
  if (typeof given !== 'string' && !(given instanceof Uint8Array))
    return E.left(
      new IoError(
        'not-json',
        '',
        `parseCheckpoint takes a checkpoint's text or bytes, got ${describe(given)}; for a value already parsed, use decodeCheckpoint`,
      ),
    )
  return parseFrom(given, options, undefined)
}

/** parseCheckpoint of a file's bytes: a text that is not JSON is named as the file (`the file looks cut off`). */
export const parseFrom = (text: string | Uint8Array, options: DecodeOptions, file: string | undefined): E.Either<IoError, Checkpoint> => {
  let s: string
  if (typeof text === 'string')
    s = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text // a byte-order mark, as some editors write
  else {
    // Formats named by their first bytes are refused before decoding: a huge binary file costs nothing to refuse.
    const known = signature(text)
    if (known !== undefined)
      return E.left(new IoError('not-json', '', `${file === undefined ? 'the bytes are' : `the file ${file} is`} ${known}`))
    try {
      s = new TextDecoder('utf-8', { fatal: true }).decode(text)
    } catch (e) {
      return E.left(new IoError('not-json', '', notUtf8(file), { cause: e }))
    }
  }
  let u: unknown
  try {
    u = JSON.parse(s)
  } catch (e) {
    return E.left(new IoError('not-json', '', notJson(s, e, file), { cause: e }))
  }
  return decodeCheckpoint(u, options)
}

/** Leading bytes of formats a checkpoint is mistaken for, and what to do. */
const SIGNATURES: readonly (readonly [readonly number[], string])[] = [
  [[0x1f, 0x8b], 'gzip-compressed: decompress it first (zlib.gunzipSync in Node)'],
  [[0x50, 0x4b, 0x03, 0x04], 'a zip archive: extract the checkpoint first'],
  [[0x89, 0x50, 0x4e, 0x47], 'a PNG image, not a checkpoint'],
  [[0xff, 0xfe], 'UTF-16 text (a byte-order mark FF FE): save it as UTF-8'],
  [[0xfe, 0xff], 'UTF-16 text (a byte-order mark FE FF): save it as UTF-8'],
]

/** What the first bytes say a file is, when they are a known format's (or a NUL byte, which no JSON text holds). */
const signature = (bytes: Uint8Array): string | undefined =>
  SIGNATURES.find(([sig]) => sig.every((b, i) => bytes[i] === b))?.[1] ??
  (bytes.length > 0 && bytes[0] === 0
    ? 'binary, not text: it starts with a NUL byte (0x00); a file of zeros is what a crash during a write that is not atomic can leave'
    : undefined)

const notUtf8 = (file: string | undefined): string =>
  `${file === undefined ? 'the bytes are' : `the file ${file} is`} not valid UTF-8 text, so not a JSON checkpoint`

/** Why JSON.parse rejected a text: empty, not JSON at all, cut off (a prefix of JSON), or where it goes wrong, by line and column. */
const notJson = (s: string, e: unknown, file: string | undefined): string => {
  const text = file === undefined ? 'the text' : `the file ${file}`
  const start = s.length - s.trimStart().length
  if (start === s.length) return `${text} is empty${s === '' ? '' : ' (only whitespace)'}, so not a JSON checkpoint`
  const bad = jsonSyntaxError(s)
  if (bad === undefined) return `${text} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`
  if (bad.truncated)
    return (
      `${text} ends after ${s.length.toLocaleString('en-US')} characters, in the middle of the JSON ` +
      `(expecting ${bad.expected}): ${file === undefined ? 'it' : 'the file'} looks cut off (an interrupted write or copy?)`
    )
  if (bad.at === start)
    return `${text} is not JSON: it starts with ${JSON.stringify(s.slice(start, start + 16))} (a checkpoint is a JSON object, starting with '{')`
  const { line, column } = lineAndColumn(s, bad.at)
  const where = `line ${line}, column ${column} (character ${bad.at})`
  return `${text} is not valid JSON at ${where}: expected ${bad.expected}, got ${JSON.stringify(s[bad.at])}`
}

const RESUME_DTYPE = "an optimizer state is in its params' dtype: resume in the dtype the run was trained in"

/**
 * The training state saved in a checkpoint, checked against the optimizer you will resume with:
 * its state must have the structure, shapes and dtypes `optimizer.init(params)` makes (an optimizer with
 * other settings, say momentum switched on, makes another), and values that mean what their slots
 * say (a count is a non-negative integer no larger than the step; second moments and accumulators
 * are never negative; AMSGrad's nuMax is never below nu), and, when `fit` recorded the optimizer's
 * settings (`training.fit.optimizer`), the same settings as the optimizer given: adam and nadam,
 * or sgd with another weight decay, make states of one structure, and only the settings tell
 * them apart. Left('not-training') for a model checkpoint, Left('optimizer-mismatch') naming the
 * first bad path (and both settings), Left('dtype-mismatch') naming both dtypes.
 * @example
 * const ck = parseCheckpoint(text)
 * if (E.isLeft(ck)) throw ck.left
 * const ts = trainState(ck.right, optimizer)   // then Train.fit({ ...run, initial: ts.right }) with the run's key
 */
export const trainState = <O extends Tree>(
  ck: Checkpoint,
  optimizer: GradientTransformation<O>,
): E.Either<IoError, TrainState<Tree, Tree, O>> => {
  const tr = ck.training
  if (tr === undefined)
    return E.left(
      new IoError(
        'not-training',
        'training',
        'this is a model checkpoint (no optimizer state, key or step); save a training checkpoint to resume training',
      ),
    )
  const saved = tr.fit?.optimizer
  const given = optimizer.settings
  if (saved !== undefined && given !== undefined && !sameSettings(saved, given))
    return E.left(
      new IoError(
        'optimizer-mismatch',
        'training.fit.optimizer',
        `the checkpoint was trained with ${showSettings(saved)}, but the optimizer given is ${showSettings(given)}; resume with the optimizer it was trained with`,
      ),
    )
  let expected: O
  try {
    expected = optimizer.init(ck.params)
  } catch (e) {
    return E.left(
      new IoError(
        'optimizer-mismatch',
        'training.optState',
        `the optimizer given cannot init on these params: ${e instanceof Error ? e.message : String(e)}`,
        { cause: e },
      ),
    )
  }
  const d = checkOptState(expected, tr.optState, tr.step, 'training.optState')
  if (d?.kind === 'dtype-mismatch')
    return E.left(new IoError(d.kind, d.path, `${d.detail} (the params are ${treeDType(ck.params) ?? 'float64'}); ${RESUME_DTYPE}`))
  if (d !== undefined) {
    return E.left(
      new IoError(
        'optimizer-mismatch',
        d.path,
        `${d.detail} (was the checkpoint saved with another optimizer, or other settings such as momentum or weight decay?)`,
      ),
    )
  }
  const bs = tr.fit?.best?.state
  if (bs !== undefined) {
    const base = 'training.fit.best.state'
    const mismatch =
      compareTrees(ck.params, bs.params, `${base}.params`, 'the params') ??
      compareTrees(ck.state, bs.state, `${base}.state`, 'the state') ??
      checkOptState(expected, bs.optState, bs.step, `${base}.optState`)
    if (mismatch !== undefined) return E.left(mismatch)
  }
  return E.right({
    params: ck.params,
    state: ck.state,
    optState: tr.optState as O,
    key: tr.key,
    step: tr.step,
    ...(tr.fit === undefined ? {} : { fit: tr.fit as FitState<Tree, Tree, O> }),
  })
}
