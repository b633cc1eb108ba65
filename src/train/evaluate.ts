/** Evaluation: loss, accuracy and predicted classes over a whole data set, in batches. */
import { checkFinite, checkRows } from '../data/dataset.ts'
import * as Key from '../key.ts'
import { ShapeError, type Ctx, type Layer, type Shapes } from '../layer.ts'
import { LossError, type Loss } from '../loss.ts'
import * as T from '../tensor/index.ts'
import type { AnyTensor, DType, Tensor, Tensor32 } from '../tensor/tensor.ts'
import { checkOptions, checkTensor } from '../options.ts'
import { dtypeOfTree, firstNonFinite, structureDiff, TreeError, type Float32, type InDType, type Tree } from '../tree.ts'
import { inDType, StaleStateError } from './step.ts'
import { correctCount, predictClasses, type Metrics } from './metrics.ts'
import { staleLeaf } from './recycler.ts'
import { instrument, showFirstNonFinite } from './trace.ts'

/** What evaluate returns: the metrics, and the predicted class of every example (for classifiers). */
export interface Evaluation extends Metrics {
  readonly predictions: Int32Array | undefined
}

/**
 * Runs the model in eval mode over inputs, batch by batch (`{ batchSize }`, as evaluate's, or the number), and stacks the
 * outputs, in the params' dtype: float32 params (`Tree.Float32<P>`) give a Tensor32, params of either dtype either.
 */
export function predict<P extends Tree, S extends Tree, Tape>(
  model: Layer<P, S, Tape>,
  params: NoInfer<P>,
  state: NoInfer<S>,
  x: AnyTensor,
  options?: PredictOptions,
): Tensor
export function predict<P extends Tree, S extends Tree, Tape>(
  model: Layer<P, S, Tape>,
  params: Float32<P>,
  state: Float32<S>,
  x: AnyTensor,
  options?: PredictOptions,
): Tensor32
export function predict<P extends Tree, S extends Tree, Tape>(
  model: Layer<P, S, Tape>,
  params: InDType<P, DType>,
  state: InDType<S, DType>,
  x: AnyTensor,
  options?: PredictOptions,
): AnyTensor
/** (Params typed wider than the model's, e.g. `Tree`: read as the model's own, float64's.) */
export function predict<P extends Tree, S extends Tree, Tape>(
  model: Layer<P, S, Tape>,
  params: P,
  state: S,
  x: AnyTensor,
  options?: PredictOptions,
): Tensor
export function predict<P extends Tree, S extends Tree, Tape>(
  model: Layer<P, S, Tape>,
  params: P,
  state: S,
  x: AnyTensor,
  options: PredictOptions = 256,
): AnyTensor {
  checkTensor('predict', 'x', x)
  if (x.shape.length === 0) throw new RangeError('predict: x needs a leading example axis [N, ...], got a scalar (shape [])')
  const batchSize = typeof options === 'number' ? options : (checkOptions('predict', options, ['batchSize']).batchSize ?? 256)
  const n = x.shape[0]!
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`predict: batchSize must be a positive integer, got ${batchSize}`)
  const shapes = checkInputs('predict', model, params, state, { x })
  const ctx = { mode: 'eval' as const, key: Key.fromSeed(0) }
  const dtype = dtypeOfTree(params) // inputs are cast to the model's dtype, as in trainStep
  const outs: Tensor[] = []
  for (let start = 0; start < n; start += batchSize) {
    const xs = T.asTensor(T.cast(T.sliceRows(T.asTensor(x), start, Math.min(n, start + batchSize)), dtype))
    const y = forwardChecked(model, params, state, xs, ctx, shapes)
    if (!T.allFinite(y)) throw nonFiniteOutput('predict', model, params, state, xs, ctx, y, start)
    outs.push(y)
  }
  if (outs.length === 0) throw new RangeError('predict: no examples (x has 0 rows)')
  return T.concat(0)(outs)
}

/**
 * What predict and evaluate check before running the model: params and state hold their values (a reusing trainStep may
 * have taken them: a StaleStateError), are finite, and the state holds what its layers' states must (`stateProblem`:
 * batchNorm's running variance is never negative) (a RangeError), the data is finite (a DataError, as Data.make's), and
 * params and state have the structure the model's shape rule gives (a TreeError). Returns the message for params or state
 * of other shapes than the rule's, which the caller throws once forward has taken them.
 */
const checkInputs = (
  where: string,
  model: Layer<Tree, Tree, unknown>,
  params: Tree,
  state: Tree,
  data: { readonly x: AnyTensor; readonly y?: AnyTensor },
): string | undefined => {
  const stale = treeOf(where, 'params', () => staleLeaf(params, 'params')) ?? treeOf(where, 'state', () => staleLeaf(state, 'state'))
  if (stale !== undefined) throw new StaleStateError(`${where}: ${stale.path} ${stale.detail}`)
  const bad = showFirstNonFinite('params', params) ?? showFirstNonFinite('state', state)
  if (bad !== undefined) {
    throw new RangeError(
      `${where}: ${bad}: a model's params and state must be finite (from a run that diverged? fit's NonFiniteError keeps the ` +
        'last finite state as .lastFinite)',
    )
  }
  const broken = model.stateProblem?.(state)
  if (broken !== undefined) {
    const leaf = broken.path === '' || broken.path.startsWith('[') ? `state${broken.path}` : `state.${broken.path}`
    throw new RangeError(
      `${where}: ${leaf} = ${broken.value}, in the state of ${broken.layer.join('.')}: ${broken.why} ` +
        '(no run makes such a state: was it edited by hand, or corrupted?)',
    )
  }
  checkFinite(data.x, 'x', where)
  if (data.y !== undefined) checkFinite(data.y, 'y', where)
  // Params and state against the model's shape rule for x's examples: another structure is refused now; other shapes only
  // once forward has run on the first batch (the caller's part), since when forward fails, x of the wrong size is the
  // likelier cause and forward names it, while params that forward takes but the model does not give outputs of another size.
  const expected = shapesFor(model, data.x)
  if (expected === undefined) return undefined
  const mismatch = (what: string, d: string): string =>
    `${where}: ${what} ${what === 'params' ? 'do' : 'does'} not match the model ${d} (the model's vs the ${what} given): pass the ${what} that ` +
    'L.initialize, fit or a checkpoint made for this model'
  let shapes: string | undefined
  for (const [what, rule, given] of [
    ['params', expected.params, params],
    ['state', expected.state, state],
  ] as const) {
    const d = structureDiff(rule, given)
    if (d === undefined) continue // the usual case: one walk
    const structure = structureDiff(rule, given, false)
    if (structure !== undefined) throw new TreeError(mismatch(what, structure))
    shapes ??= mismatch(what, d)
  }
  return shapes
}

/**
 * model.forward's y, but with `shapes` (checkInputs' message for params or state of other shapes than the model's) an
 * error: a TreeError with that message when forward takes them, or fails other than on a shape (a state of another size
 * read past its end); forward's own ShapeError when it fails on one (x of another size, which forward names).
 */
const forwardChecked = (
  model: Layer<Tree, Tree, unknown>,
  params: Tree,
  state: Tree,
  x: Tensor,
  ctx: Ctx,
  shapes: string | undefined,
): Tensor => {
  if (shapes === undefined) return model.forward(params, state, x, ctx).y
  try {
    model.forward(params, state, x, ctx)
  } catch (e) {
    if (e instanceof ShapeError) throw e
    throw new TreeError(shapes, { cause: e })
  }
  throw new TreeError(shapes)
}

/**
 * What the model's params and state must be for examples like x's, from its shape rule (no init run, nothing allocated);
 * undefined for a model without a rule, or whose rule refuses x's shape (forward then names that problem).
 */
const shapesFor = (model: Layer<Tree, Tree, unknown>, x: AnyTensor): Shapes | undefined => {
  try {
    return model.shapes?.(x.shape.slice(1))
  } catch {
    return undefined
  }
}

/** Runs f, a walk over the trees of `what`; a TreeError (a leaf that is not a tensor, say) gets `where` and `what` in front. */
const treeOf = <A>(where: string, what: string, f: () => A): A => {
  try {
    return f()
  } catch (e) {
    if (e instanceof TreeError) throw new TreeError(`${where}: ${what} is not a tree of tensors: ${e.message}`, { cause: e })
    throw e
  }
}

/**
 * The error for a model output that went non-finite from finite inputs: the batch is run again through an instrumented
 * copy of the model (the same numbers) to name the first layer whose output did, and the example is that of the data.
 */
const nonFiniteOutput = (
  where: string,
  model: Layer<Tree, Tree, unknown>,
  params: Tree,
  state: Tree,
  x: Tensor,
  ctx: Ctx,
  y: Tensor,
  start: number,
): RangeError => {
  let site: { readonly text: string; readonly value: number } | undefined
  const traced = instrument(model, {
    forward: (node, _p, _x, run) => {
      const r = run()
      if (site === undefined && node.leaf && !T.allFinite(r.y))
        site = { text: `the forward pass of ${node.path} gave ${showFirstNonFinite('y', r.y)}`, value: firstNonFinite(r.y)!.value }
      return r
    },
  })
  traced.forward(params, state, x, ctx)
  const bad = firstNonFinite(y)!
  const example = start + Math.floor(bad.index / (y.data.length / y.shape[0]!))
  const value = site?.value ?? bad.value
  const cause = Number.isNaN(value)
    ? 'NaN comes of an undefined operation: 0/0, ∞ − ∞, 0·∞, or the square root of a negative number'
    : 'a value past the range of its dtype: an overflow'
  return new RangeError(
    `${where}: the model's output for example ${example} is not finite, from finite inputs and params: ` +
      `${site?.text ?? `y = ${showFirstNonFinite('y', y)}`} (${cause})`,
  )
}

/** predict's batch size: `{ batchSize }`, as evaluate's, or the number (default 256). */
export type PredictOptions = number | { readonly batchSize?: number }

/** The loss of one batch (rows from `start` of the data); a LossError blaming a batch row names the data row instead. */
const lossOf = (loss: Loss, y: Tensor, target: Tensor, start: number): number => {
  try {
    return loss(y, target).value
  } catch (e) {
    if (!(e instanceof LossError) || e.row === undefined) throw e
    throw new LossError(`evaluate: ${e.message} (row ${e.row} of the batch is row ${start + e.row} of the data)`, start + e.row, {
      cause: e,
    })
  }
}

/**
 * Loss and accuracy of a model on a data set, never holding more than one batch of inputs'
 * activations at a time. The loss is the mean over examples (batches weighted by size). The params and state may be
 * float64 (the model's own), float32 (`Tree.Float32<P>`) or either.
 */
export function evaluate<P extends Tree, S extends Tree, Tape>(
  model: Layer<P, S, Tape>,
  params: P,
  state: S,
  data: { readonly x: AnyTensor; readonly y: AnyTensor },
  options: { readonly loss: Loss; readonly batchSize?: number },
): Evaluation
/** The same for params and state in float32 (`Tree.Float32<P>`) or either dtype. */
export function evaluate<P extends Tree, S extends Tree, Tape>(
  model: Layer<P, S, Tape>,
  params: InDType<P, DType>,
  state: InDType<S, DType>,
  data: { readonly x: AnyTensor; readonly y: AnyTensor },
  options: { readonly loss: Loss; readonly batchSize?: number },
): Evaluation
export function evaluate<P extends Tree, S extends Tree, Tape>(
  model: Layer<P, S, Tape>,
  params: P,
  state: S,
  data: { readonly x: AnyTensor; readonly y: AnyTensor },
  options: { readonly loss: Loss; readonly batchSize?: number },
): Evaluation {
  checkOptions('evaluate', options, ['loss', 'batchSize'])
  const n = data.x.shape[0]!
  if (n === 0) throw new RangeError('evaluate: the data set is empty')
  const batchSize = options.batchSize ?? 256
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RangeError(`evaluate: batchSize must be a positive integer, got ${batchSize}`)
  checkRows(data, 'evaluate')
  const shapes = checkInputs('evaluate', model, params, state, data)
  const ctx = { mode: 'eval' as const, key: Key.fromSeed(0) }
  const dtype = dtypeOfTree(params) // inputs and targets are cast to the model's dtype, as in trainStep
  let lossSum = 0
  let correct: number | undefined = 0
  const predictions = new Int32Array(n)
  let classify = true
  for (let start = 0; start < n; start += batchSize) {
    const end = Math.min(n, start + batchSize)
    const batch = inDType({ x: T.sliceRows(T.asTensor(data.x), start, end), y: T.sliceRows(T.asTensor(data.y), start, end) }, dtype)
    const y = forwardChecked(model, params, state, T.asTensor(batch.x), ctx, shapes)
    if (!T.allFinite(y)) throw nonFiniteOutput('evaluate', model, params, state, T.asTensor(batch.x), ctx, y, start)
    const target = T.asTensor(batch.y)
    lossSum += lossOf(options.loss, y, target, start) * (end - start)
    const c = correctCount(y, target)
    const p = predictClasses(y)
    if (c === undefined || p === undefined) classify = false
    else {
      correct = (correct ?? 0) + c
      predictions.set(p, start)
    }
  }
  return {
    loss: lossSum / n,
    accuracy: classify ? (correct ?? 0) / n : undefined,
    count: n,
    predictions: classify ? predictions : undefined,
  }
}
