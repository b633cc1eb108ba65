/**
 * fit: the training loop, a fold of trainStep over shuffled mini-batches, epoch after epoch.
 * Everything random comes from one key: the initial params, the validation split, each epoch's
 * order and each step's dropout. Same key, same data, same result, bit for bit.
 */
import * as Key from '../key.ts'
import { batches, checkRows, numBatches, shuffleSplit, size, splitSizes, type AnyBatch, type AnyDataset } from '../data/dataset.ts'
import { DataError } from '../data/error.ts'
import { ShapeError, type InitOptions, type Layer } from '../layer.ts'
import { LossError, type Loss } from '../loss.ts'
import { sameSettings, showSettings } from '../optim/settings.ts'
import type { GradientTransformation } from '../optim/transform.ts'
import { checkOptions, dtypeOption } from '../options.ts'
import { checkFitArguments } from './check.ts'
import { describeNode, leaves, leavesWithPaths, structureDiff, TreeError, type InDType, type Tree } from '../tree.ts'
import { evaluate } from './evaluate.ts'
import type { Metrics } from './metrics.ts'
import { initState, type Best, type FitState, type TrainState } from './state.ts'
import { buffersOf, Recycler } from './recycler.ts'
import { dtypeOf, DTypeError, sameShape, showShape, TensorError, type DType } from '../tensor/tensor.ts'
import { NonFiniteError, trainStep } from './step.ts'

/** One entry per step. */
export interface StepRecord {
  /** Steps taken by the end of this step (from 1). */
  readonly step: number
  /** The epoch the step belongs to, counted from 1 (as in errors, the progress bar and plots). */
  readonly epoch: number
  readonly loss: number
  readonly accuracy: number | undefined
}

/** One entry per epoch: training metrics (means over the epoch's examples) and validation metrics. */
export interface EpochRecord {
  /** Counted from 1. */
  readonly epoch: number
  /** Steps taken by the end of this epoch. */
  readonly step: number
  readonly loss: number
  readonly accuracy: number | undefined
  readonly valLoss: number | undefined
  readonly valAccuracy: number | undefined
  /** Wall-clock seconds the epoch took (for display; never part of the result's identity). */
  readonly seconds: number
}

/** The record of a training run. */
export interface History {
  readonly steps: readonly StepRecord[]
  readonly epochs: readonly EpochRecord[]
}

/** Names of epoch metrics early stopping can watch. */
export type Monitor = 'loss' | 'accuracy' | 'valLoss' | 'valAccuracy'

/** Stop when a metric has not improved by minDelta for `patience` epochs. */
export interface EarlyStopping {
  readonly monitor: Monitor
  readonly patience: number
  /** Smallest change that counts as an improvement (default 0). */
  readonly minDelta?: number
  /** Hand back the state of the best epoch rather than the last (default true). */
  readonly restoreBest?: boolean
}

/**
 * Where progress bars, plots and loggers hook in. A callback's state stays intact as long as it is
 * kept, except with fit's `reuseBuffers`: then until two steps later (copy it with Train.copyState
 * to keep it longer; save a checkpoint from it within the callback). Returning 'stop' from onEpochEnd ends training;
 * the state the later callbacks get (and onEnd, and fit's result) then records the stop
 * (`fit.stopped`), so a checkpoint saved from it resumes to the same end. A callback that saves
 * checkpoints at each epoch's end goes after the ones that may stop.
 */
export interface Callbacks<St = TrainState> {
  readonly onStart?: (info: {
    readonly epochs: number
    readonly stepsPerEpoch: number
    readonly startStep: number
    readonly trainSize: number
    readonly validationSize: number
  }) => void
  readonly onStep?: (info: {
    readonly step: number
    readonly epoch: number
    readonly batch: number
    readonly metrics: Metrics
    readonly state: St
  }) => void
  readonly onEpochEnd?: (info: { readonly record: EpochRecord; readonly state: St }) => void | 'stop'
  readonly onEnd?: (info: { readonly history: History; readonly state: St }) => void
}

/**
 * The options of fit: one object, like a trainer's settings. PD and SD are the params and state trees of the run (of
 * `initial` and of what callbacks see): the model's own (float64's) unless `dtype` (one of D) says otherwise.
 */
export interface FitOptions<
  P extends Tree,
  S extends Tree,
  Tape,
  O extends Tree,
  PD extends Tree = P,
  SD extends Tree = S,
  D extends DType = DType,
> {
  readonly model: Layer<P, S, Tape>
  readonly loss: Loss
  readonly optimizer: GradientTransformation<O>
  readonly data: AnyDataset
  readonly epochs: number
  readonly batchSize: number
  /** The source of all randomness in the run. */
  readonly key: Key.Key
  /** A validation set, or a fraction of `data` split off after a shuffle (never before: a Keras trap). */
  readonly validation?: AnyDataset | number
  /** Resume from this state instead of initialising (e.g. a loaded checkpoint); `key` must be the run's original key. */
  readonly initial?: TrainState<PD, SD, O>
  readonly earlyStopping?: EarlyStopping
  readonly callbacks?: Callbacks<TrainState<PD, SD, O>> | readonly Callbacks<TrainState<PD, SD, O>>[]
  /** Batch size for validation passes (default 256). */
  readonly evalBatchSize?: number
  /** Drop the last short batch of each epoch (default false). */
  readonly dropLast?: boolean
  /**
   * The model's dtype, 'float64' (default) or 'float32': fresh params in it, and every batch cast to it (a resumed run
   * keeps its params'). The result's type follows it: `{ dtype: 'float32' }` gives params typed `Tree.Float32<P>`.
   */
  readonly dtype?: D
  /**
   * Train with `trainStep(..., { reuseBuffers: true })` (default false): the same numbers, faster, with less memory
   * allocated. The state a callback gets is then intact until two steps later: copy it (`Train.copyState`) to keep
   * it longer. fit's own result, early stopping's best state and a NonFiniteError's lastFinite are always intact.
   */
  readonly reuseBuffers?: boolean
}

/** fit's options with the run's trees (`initial`, what callbacks see) in dtype D, read from `dtype` (either without it). */
export type FitOptionsIn<P extends Tree, S extends Tree, Tape, O extends Tree, D extends DType> = FitOptions<
  P,
  S,
  Tape,
  O,
  InDType<P, D>,
  InDType<S, D>,
  D
>

const FIT_OPTIONS = [
  'model',
  'loss',
  'optimizer',
  'data',
  'epochs',
  'batchSize',
  'key',
  'validation',
  'initial',
  'earlyStopping',
  'callbacks',
  'evalBatchSize',
  'dropLast',
  'dtype',
  'reuseBuffers',
] as const satisfies readonly (keyof FitOptions<Tree, Tree, unknown, Tree>)[]

/** What fit returns. */
export interface FitResult<P extends Tree, S extends Tree, O extends Tree> {
  readonly state: TrainState<P, S, O>
  readonly history: History
  /** The epoch (from 1) early stopping (or a callback) ended training at, if it did. */
  readonly stoppedAt: number | undefined
}

/** The settings of fit that decide how many steps an epoch has. */
export interface EpochSettings {
  readonly data: AnyDataset
  readonly batchSize: number
  /** As fit's: a fraction in (0, 1) split off after a shuffle, or a separate data set (which takes nothing from data). */
  readonly validation?: AnyDataset | number
  readonly dropLast?: boolean
}

/**
 * The number of steps `fit` takes per epoch with these settings, known before training starts:
 * what a schedule's length needs (after the validation split, and with dropLast).
 * @example
 * const epochs = 10
 * const steps = epochs * Train.stepsPerEpoch({ data: train, batchSize: 64, validation: 0.1 })
 * const lr = Schedule.cosineDecay({ init: 0.05, steps })
 */
export const stepsPerEpoch = (settings: EpochSettings): number => {
  checkOptions('stepsPerEpoch', settings, ['data', 'batchSize', 'validation', 'dropLast'])
  posInt(settings.batchSize, 'batchSize')
  checkRows(settings.data, 'fit', 'data.')
  checkValidation(settings.validation)
  const f = settings.validation
  if (typeof f === 'number' && !(f > 0 && f < 1)) throw new RangeError(`fit: a validation fraction must be in (0, 1), got ${f}`)
  const n = typeof f === 'number' ? splitSizes(settings.data, f).train : size(settings.data)
  if (settings.batchSize > n) throw new DataError(`fit: batchSize ${settings.batchSize} is larger than the ${n} training examples`)
  return settings.dropLast === true ? Math.floor(n / settings.batchSize) : Math.ceil(n / settings.batchSize)
}

const posInt = (v: number, name: string): void => {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`fit: ${name} must be a positive integer, got ${v}`)
}

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now())

/**
 * Checks a state to resume from against a fresh one for this model, data and optimizer: the
 * params, the layer state and the optimizer state must have their structure and shapes. A
 * state from another model (or optimizer) is a TreeError naming the first differing path,
 * before any step runs.
 */
const checkInitial = (
  initial: TrainState<Tree, Tree, Tree>,
  fresh: TrainState<Tree, Tree, Tree>,
  run: Pick<FitState, 'stepsPerEpoch' | 'batchSize' | 'trainSize' | 'optimizer'> & { readonly dtypeFrom: string },
  es: EarlyStopping | undefined,
): void => {
  const dtype = paramsDType(fresh) ?? 'float64'
  /** Throws naming the first leaf of `theirs` (at `root`) whose dtype is not the fresh tree's `mine`'s (same structure). */
  const sameDTypes = (mine: Tree, theirs: Tree, root: string): void => {
    const theirLeaves = leavesWithPaths(theirs, root)
    for (const [i, { leaf }] of leavesWithPaths(mine).entries()) {
      const { path, leaf: other } = theirLeaves[i]!
      if (dtypeOf(leaf) !== dtypeOf(other))
        throw new TreeError(
          `fit: ${path} is ${dtypeOf(other)}, but this run's model is ${dtype} (${run.dtypeFrom}); ` +
            'resume in the dtype the state was trained in (a training state holds one)',
        )
    }
  }
  if (typeof initial !== 'object' || initial === null) {
    throw new TreeError(`fit: initial must be a training state { params, state, optState, key, step }, got ${describeNode(initial)}`)
  }
  for (const [what, mine, theirs] of [
    ['params', fresh.params, initial.params],
    ['state', fresh.state, initial.state],
    ['optState', fresh.optState, initial.optState],
  ] as const) {
    const d = structureDiff(mine, theirs)
    if (d !== undefined)
      throw new TreeError(
        `fit: initial.${what} does not match this model and optimizer ${d} (a fresh ${what} vs initial.${what}); resume with the model, data and optimizer the state was trained with`,
      )
    sameDTypes(mine, theirs, `initial.${what}`)
  }
  if (!Number.isInteger(initial.step) || initial.step < 0)
    throw new TreeError(`fit: initial.step must be an integer >= 0, got ${String(initial.step)}`)
  const fs = initial.fit
  if (fs === undefined) return
  const { stepsPerEpoch } = run
  for (const [what, k] of [
    ['steps per epoch', 'stepsPerEpoch'],
    ['batchSize', 'batchSize'],
    ['training examples', 'trainSize'],
  ] as const)
    if (fs[k] !== run[k])
      throw new RangeError(
        `fit: initial was trained with ${what} ${fs[k]}, this run has ${run[k]}; resume with the data, batchSize, validation and dropLast the state was trained with`,
      )
  if (fs.optimizer !== undefined && run.optimizer !== undefined && !sameSettings(fs.optimizer, run.optimizer))
    throw new RangeError(
      `fit: initial was trained with ${showSettings(fs.optimizer)}, this run has ${showSettings(run.optimizer)}; resume with the optimizer the state was trained with`,
    )
  if (!(Number.isInteger(fs.epoch) && fs.epoch * stepsPerEpoch <= initial.step && initial.step <= (fs.epoch + 1) * stepsPerEpoch))
    throw new RangeError(
      `fit: initial.fit.epoch ${fs.epoch} does not hold step ${initial.step} at ${stepsPerEpoch} steps per epoch; the state was edited or comes from another run`,
    )
  if (fs.stopped === true && !(fs.seen === 0 && initial.step === fs.epoch * stepsPerEpoch))
    throw new RangeError(
      `fit: initial.fit.stopped says the run stopped at the end of epoch ${fs.epoch}, but step ${initial.step} is not that epoch's end; the state was edited or comes from another run`,
    )
  const best = fs.best
  if (es === undefined || best === undefined) return
  if (best.state === undefined) {
    if (es.restoreBest ?? true)
      throw new RangeError(
        'fit: initial.fit.best has no state (it was saved by a run with restoreBest: false), so this run cannot restore the best epoch; pass earlyStopping.restoreBest: false',
      )
    return
  }
  for (const [what, mine, theirs] of [
    ['params', fresh.params, best.state.params],
    ['state', fresh.state, best.state.state],
    ['optState', fresh.optState, best.state.optState],
  ] as const) {
    const d = structureDiff(mine, theirs)
    if (d !== undefined) throw new TreeError(`fit: initial.fit.best.state.${what} does not match this model and optimizer ${d}`)
    sameDTypes(mine, theirs, `initial.fit.best.state.${what}`)
  }
}

/** The dtype of a training state's params (undefined without a leaf, or for a value that is not one: checkInitial reports it). */
const paramsDType = (initial: TrainState<Tree, Tree, Tree> | undefined): DType | undefined => {
  try {
    const leaf = leaves(initial?.params ?? [])[0]
    return leaf === undefined ? undefined : dtypeOf(leaf)
  } catch {
    return undefined
  }
}

/**
 * Trains a model. Returns the final training state and the history. Runs synchronously from
 * start to end; `fitAsync` runs the same training but lets the event loop run between epochs.
 * @example
 * const { state, history } = fit({ model, loss: Loss.softmaxCrossEntropy, optimizer: Optim.adam({ lr: 1e-3 }),
 *                                  data: train, epochs: 5, batchSize: 64, key: Key.fromSeed(0), validation: 0.1 })
 */
export function fit<P extends Tree, S extends Tree, Tape, O extends Tree>(
  options: FitOptions<P, S, Tape, O, P, S, 'float64'>,
): FitResult<P, S, O>
export function fit<P extends Tree, S extends Tree, Tape, O extends Tree, D extends DType>(
  options: FitOptionsIn<P, S, Tape, O, D>,
): FitResult<InDType<P, D>, InDType<S, D>, O>
export function fit<P extends Tree, S extends Tree, Tape, O extends Tree>(options: FitOptions<P, S, Tape, O>): FitResult<P, S, O> {
  const run = epochsOf(options)
  for (let r = run.next(); ; r = run.next()) if (r.done === true) return r.value
}

/** How fitAsync shares the thread. */
export interface AsyncOptions {
  /**
   * Within an epoch, give the event loop a turn once this many milliseconds of training have
   * passed since the last one (default 50: a page redraws and stays responsive, and a chart
   * updated in `onStep` is seen while the epoch runs). 0 yields after every step; Infinity only
   * between epochs. Between epochs the turn is a setTimeout(0), so due timers run; browsers
   * stretch that to at least 4 ms once timeouts nest.
   */
  readonly yieldEveryMs?: number
}

/**
 * `fit`, giving the event loop a turn after every epoch and, within an epoch, every
 * `yieldEveryMs` (the same steps, the same result, bit for bit). Use it where something else must
 * run during training: a browser page that should stay responsive, timers, signal handlers, or
 * memory that is only released between tasks (a chart rendered by `plotCallbacks` holds on to
 * several MB until the task that drew it ends, so a long synchronous `fit` with a plot redrawn
 * every epoch keeps all of them until it returns). An epoch's `seconds` leave out the turns the
 * event loop had within it, and so whatever ran in them (asynchronous work a callback started
 * included).
 * @example
 * const { state } = await fitAsync({ model, loss, optimizer, data: train, epochs: 8, batchSize: 64, key: Key.fromSeed(0) })
 */
export async function fitAsync<P extends Tree, S extends Tree, Tape, O extends Tree>(
  options: FitOptions<P, S, Tape, O, P, S, 'float64'>,
  asyncOptions?: AsyncOptions,
): Promise<FitResult<P, S, O>>
export async function fitAsync<P extends Tree, S extends Tree, Tape, O extends Tree, D extends DType>(
  options: FitOptionsIn<P, S, Tape, O, D>,
  asyncOptions?: AsyncOptions,
): Promise<FitResult<InDType<P, D>, InDType<S, D>, O>>
export async function fitAsync<P extends Tree, S extends Tree, Tape, O extends Tree>(
  options: FitOptions<P, S, Tape, O>,
  asyncOptions: AsyncOptions = {},
): Promise<FitResult<P, S, O>> {
  if (typeof asyncOptions !== 'object' || asyncOptions === null || Array.isArray(asyncOptions)) {
    throw new TypeError(
      `fitAsync: the second argument must be an options object such as { yieldEveryMs: 50 }, got ${describeNode(asyncOptions)}`,
    )
  }
  checkOptions('fitAsync', asyncOptions, ['yieldEveryMs'])
  const every = asyncOptions.yieldEveryMs ?? 50
  if (typeof every !== 'number') {
    throw new TypeError(`fitAsync: yieldEveryMs must be a number >= 0 (Infinity: only between epochs), got ${describeNode(every)}`)
  }
  if (!(every >= 0)) throw new RangeError(`fitAsync: yieldEveryMs must be a number >= 0 (Infinity: only between epochs), got ${every}`)
  const run = epochsOf(options)
  let last = now()
  for (let r = run.next(); ;) {
    if (r.done === true) return r.value
    let paused: number | undefined
    if (r.value === 'epoch') {
      await new Promise<void>((resolve) => setTimeout(resolve, 0)) // a new task: timers, I/O, and what the last one held
      last = now()
    } else if (now() - last >= every) {
      const t0 = now()
      await nextTask()
      last = now()
      paused = last - t0
    }
    r = run.next(paused)
  }
}

/**
 * A new task, soon: setImmediate in Node; in browsers a MessageChannel message (setTimeout(0) is
 * clamped to 4 ms there once calls nest); else setTimeout(0).
 */
const nextTask = (): Promise<void> =>
  new Promise<void>((resolve) => {
    if (typeof setImmediate === 'function') setImmediate(resolve)
    else if (typeof MessageChannel === 'function') {
      const channel = new MessageChannel()
      channel.port1.onmessage = () => {
        channel.port1.close()
        resolve()
      }
      channel.port2.postMessage(null)
    } else setTimeout(resolve, 0)
  })

/**
 * Where the training loop pauses for its driver: after every step ('step') and every epoch
 * ('epoch'). `fit` never waits; `fitAsync` lets the event loop run, and sends back how many
 * milliseconds it paused within an epoch, which the epoch's `seconds` leave out.
 */
type Pause = 'step' | 'epoch'

/**
 * Where a step is, for messages: `fit: epoch 3, step 1 of 2 (step 5 overall)`, each count from 1, as the
 * history records them (`batch` is the step's place in its epoch, `taken` the steps taken before it).
 */
const stepWhere = (epoch: number, batch: number, stepsPerEpoch: number, taken: number): string =>
  `fit: epoch ${epoch}, step ${batch} of ${stepsPerEpoch} (step ${taken + 1} overall)`

/**
 * One training step; a LossError (a bad label, say) or NonFiniteError gets `where` (the epoch and
 * step, stepWhere) in front, and the row of the data given to fit in place of the row of the
 * shuffled batch, which the user cannot look up. `trainRows` maps training rows to data rows after
 * a validation split. A ShapeError or TensorError (a DTypeError, say) keeps its class and path and
 * gets `where` in front, and in its `.where`; a TreeError (a vjp's dp of another structure) gets `where` in front.
 */
function stepWithContext<P extends Tree, S extends Tree, O extends Tree>(
  step: (ts: TrainState<P, S, O>, batch: AnyBatch) => readonly [TrainState<P, S, O>, Metrics],
  ts: TrainState<P, S, O>,
  batch: AnyBatch,
  where: string,
  trainRows: Int32Array | undefined,
): readonly [TrainState<P, S, O>, Metrics] {
  try {
    return step(ts, batch)
  } catch (e) {
    if (e instanceof ShapeError || e instanceof TensorError) throw e.during(where)
    if (e instanceof TreeError) throw new TreeError(`${where}: ${e.message}`, { cause: e })
    if (!(e instanceof LossError || e instanceof NonFiniteError)) throw e
    const trainRow = e.row === undefined ? undefined : batch.rows?.[e.row]
    const row = trainRow === undefined ? undefined : trainRows === undefined ? trainRow : trainRows[trainRow]
    if (e instanceof NonFiniteError) {
      const site = e.stage === undefined ? undefined : { stage: e.stage, layerPath: e.layerPath, detail: e.detail ?? '', row }
      throw new NonFiniteError(e.step, e.what, e.lastFinite, site, { where, batchRow: e.row })
    }
    throw new LossError(
      row === undefined
        ? `${where}: ${e.message}`
        : `${where}: ${e.message} (row ${e.row} of this shuffled batch is row ${row} of the data given to fit)`,
      row,
      { cause: e },
    )
  }
}

/** Throws unless `validation` is absent, a number (its range is checked where it is used) or a data set object. */
const checkValidation = (validation: unknown): void => {
  if (validation === undefined || typeof validation === 'number' || (typeof validation === 'object' && validation !== null)) return
  const got = typeof validation === 'string' ? `the string '${validation}'` : String(validation)
  throw new TypeError(`fit: validation must be a fraction in (0, 1) or a data set { x, y }, got ${got}`)
}

/**
 * Throws a DataError, before any step runs, unless a validation set's examples have the training data's shapes: x's
 * always; y's when both have the same rank (class indices [N] beside probability rows [N, C] are both targets).
 */
const checkExampleShape = (data: AnyDataset, validation: AnyDataset): void => {
  for (const k of ['x', 'y'] as const) {
    const [a, b] = [data[k].shape.slice(1), validation[k].shape.slice(1)]
    if (sameShape(a, b) || (k === 'y' && a.length !== b.length)) continue
    throw new DataError(
      `fit: validation.${k} holds examples of shape ${showShape(b)} (validation.${k} is ${showShape(validation[k].shape)}), ` +
        `the training data's are ${showShape(a)} (data.${k} is ${showShape(data[k].shape)}); they must match`,
    )
  }
}

/**
 * Evaluation on the validation set; a LossError naming a validation row also names its row in the data given to fit (after a
 * split). A ShapeError or TensorError gets the epoch in front, as in a step.
 */
function validate<R>(run: () => R, epoch: number, validationRows: Int32Array | undefined): R {
  try {
    return run()
  } catch (e) {
    if (e instanceof ShapeError || e instanceof TensorError) throw e.during(`fit: epoch ${epoch}, validation`)
    if (!(e instanceof LossError)) throw e
    const row = e.row === undefined || validationRows === undefined ? e.row : validationRows[e.row]
    const mapped =
      validationRows !== undefined && row !== undefined
        ? ` (row ${e.row} of the validation part is row ${row} of the data given to fit)`
        : ''
    throw new LossError(`fit: epoch ${epoch}, validation: ${e.message}${mapped}`, row, { cause: e })
  }
}

/**
 * The batches of `source`, each gathered into memory of the batches before, let go of once the
 * loop has asked for the next (its step done), unless the state (`keep`) reaches it.
 */
function* recycled<B>(source: Iterable<B>, memory: Recycler, keep: () => ReadonlySet<ArrayBufferLike>): Generator<B, void, undefined> {
  const it = source[Symbol.iterator]()
  for (;;) {
    const next = memory.run(() => it.next())
    if (next.done === true) return
    yield next.value
    memory.releaseMade(keep())
  }
}

/** The training loop of fit and fitAsync: validates the options, pauses (yields) after every step and every epoch, and returns the result. */
function* epochsOf<P extends Tree, S extends Tree, Tape, O extends Tree>(
  options: FitOptions<P, S, Tape, O>,
): Generator<Pause, FitResult<P, S, O>, number | undefined> {
  const { model, loss, optimizer, epochs, batchSize } = checkOptions('fit', options, [...FIT_OPTIONS])
  checkFitArguments(options)
  posInt(epochs, 'epochs')
  posInt(batchSize, 'batchSize')
  checkRows(options.data, 'fit', 'data.')
  checkValidation(options.validation)
  if (typeof options.validation === 'object') {
    checkRows(options.validation, 'fit', 'validation.')
    checkExampleShape(options.data, options.validation)
  }
  const [initKey, dataKey] = Key.split2(options.key)
  const splitKey = Key.foldIn(dataKey, 0)
  let train = options.data
  let validation: AnyDataset | undefined
  let trainRows: Int32Array | undefined // the row of options.data each training row came from (after a split)
  let validationRows: Int32Array | undefined // likewise for the validation rows
  if (typeof options.validation === 'number') {
    const f = options.validation
    if (!(f > 0 && f < 1)) throw new RangeError(`fit: a validation fraction must be in (0, 1), got ${f}`)
    const split = shuffleSplit(splitKey, options.data, f)
    train = split.train
    validation = split.validation
    trainRows = split.trainRows
    validationRows = split.validationRows
  } else validation = options.validation
  const n = size(train)
  if (n === 0) throw new DataError(`fit: the training data is empty (x has shape [${train.x.shape.join(', ')}])`)
  if (batchSize > n) {
    throw new DataError(
      `fit: batchSize ${batchSize} is larger than the ${n} training examples${validation !== undefined && typeof options.validation === 'number' ? ' left after the validation split' : ''}`,
    )
  }
  const es = options.earlyStopping
  if (es !== undefined) {
    checkOptions('fit: earlyStopping', es, ['monitor', 'patience', 'minDelta', 'restoreBest'])
    const monitors: readonly Monitor[] = ['loss', 'accuracy', 'valLoss', 'valAccuracy']
    if (!monitors.includes(es.monitor))
      throw new RangeError(`fit: earlyStopping.monitor must be one of ${monitors.join(', ')}, got '${String(es.monitor)}'`)
    if (es.monitor.startsWith('val') && validation === undefined)
      throw new RangeError(`fit: early stopping monitors '${es.monitor}', but no validation set was given`)
    if (!Number.isInteger(es.patience) || es.patience < 0)
      throw new RangeError(`fit: earlyStopping.patience must be a non-negative integer, got ${es.patience}`)
    if (es.minDelta !== undefined && !(Number.isFinite(es.minDelta) && es.minDelta >= 0))
      throw new RangeError(`fit: earlyStopping.minDelta must be finite and >= 0, got ${es.minDelta}`)
  }
  const stepsPerEpoch = numBatches(train, batchSize, { dropLast: options.dropLast ?? false })
  const callbacks = options.callbacks === undefined ? [] : Array.isArray(options.callbacks) ? options.callbacks : [options.callbacks]
  for (const c of callbacks) checkOptions('fit: callbacks', c, ['onStart', 'onStep', 'onEpochEnd', 'onEnd'])
  // A reusing step keeps what the state it is given reaches: early stopping's best state, kept in ts.fit, is never taken.
  const step = trainStep(model, loss, optimizer, { reuseBuffers: options.reuseBuffers ?? false })
  // With it, each batch is gathered into the memory of the batch before (which nothing holds once its step is done).
  const batchMemory = options.reuseBuffers === true ? new Recycler() : undefined

  // A resumed run keeps its params' dtype unless dtype is given (then they must be in it).
  const dtype = dtypeOption('fit', options.dtype, undefined, DTypeError) ?? paramsDType(options.initial) ?? 'float64'
  // The loop is typed on the model's trees, float64's as layers are; at run time they are in `dtype` (fit's signature says which).
  const fresh = initState(model, optimizer, initKey, train.x.shape.slice(1), { dtype } as InitOptions<'float64'>)
  if (options.initial !== undefined) {
    const dtypeFrom = options.dtype === undefined ? 'the dtype of initial.params' : `dtype: '${dtype}'`
    checkInitial(options.initial, fresh, { stepsPerEpoch, batchSize, trainSize: n, optimizer: optimizer.settings, dtypeFrom }, es)
  }
  let ts: TrainState<P, S, O> = options.initial ?? fresh
  const startStep = ts.step
  const stepRecords: StepRecord[] = []
  const epochRecords: EpochRecord[] = []
  for (const c of callbacks)
    c.onStart?.({
      epochs,
      stepsPerEpoch,
      startStep,
      trainSize: size(train),
      validationSize: validation === undefined ? 0 : size(validation),
    })

  const higherIsBetter = es !== undefined && (es.monitor === 'accuracy' || es.monitor === 'valAccuracy')
  const restoreBest = es !== undefined && (es.restoreBest ?? true)
  const newEpoch = (epoch: number, best: Best<P, S, O> | undefined): FitState<P, S, O> => ({
    epoch,
    stepsPerEpoch,
    batchSize,
    trainSize: n,
    lossSum: 0,
    correctSum: 0,
    seen: 0,
    classify: true,
    best,
    ...(optimizer.settings === undefined ? {} : { optimizer: optimizer.settings }),
  })
  // A state from before fit kept its own (or from trainStep) starts at the epoch its step lies in, with nothing seen.
  let fs: FitState<P, S, O> = ts.fit ?? newEpoch(Math.floor(startStep / stepsPerEpoch), undefined)
  if (es === undefined) fs = { ...fs, best: undefined }
  // This run's optimizer settings (checked against initial's above), as every later epoch records them.
  const { optimizer: _, ...rest } = fs
  fs = optimizer.settings === undefined ? rest : { ...rest, optimizer: optimizer.settings }
  let stoppedAt: number | undefined
  // A state saved at the end of the epoch the run stopped at (early stopping or a callback): the run is over.
  if (fs.stopped === true) stoppedAt = fs.epoch
  // The same, inferred, for a state saved before fit recorded stops.
  if (es !== undefined && fs.best !== undefined && fs.seen === 0 && startStep === fs.epoch * stepsPerEpoch) {
    if (fs.epoch > fs.best.epoch && fs.epoch - fs.best.epoch >= es.patience) stoppedAt = fs.epoch
  }

  // `epoch` counts from 0 here; people (records, errors, callbacks) see epoch + 1.
  for (let epoch = fs.epoch; stoppedAt === undefined && epoch < epochs; epoch++) {
    const started = now()
    let paused = 0 // ms the driver gave to other tasks during this epoch
    let b = 0
    const skip = epoch * stepsPerEpoch < startStep ? startStep - epoch * stepsPerEpoch : 0
    // Each epoch's order comes from the data key and the epoch number alone, so a resumed run sees the same batches.
    // Each batch is gathered straight into the model's dtype (the cast trainStep would make, done while copying the rows).
    const batchOptions = { dropLast: options.dropLast ?? false, dtype: paramsDType(ts) ?? dtype }
    const epochBatches = batches(Key.foldIn(dataKey, epoch + 1), train, batchSize, batchOptions)
    for (const batch of batchMemory === undefined ? epochBatches : recycled(epochBatches, batchMemory, () => buffersOf(ts))) {
      if (b++ < skip) continue
      const [next, metrics] = stepWithContext(step, ts, batch, stepWhere(epoch + 1, b, stepsPerEpoch, ts.step), trainRows)
      fs = {
        ...fs,
        lossSum: fs.lossSum + metrics.loss * metrics.count,
        seen: fs.seen + metrics.count,
        classify: fs.classify && metrics.accuracy !== undefined,
        correctSum: metrics.accuracy === undefined ? fs.correctSum : fs.correctSum + metrics.accuracy * metrics.count,
      }
      ts = { ...next, fit: fs }
      stepRecords.push({ step: ts.step, epoch: epoch + 1, loss: metrics.loss, accuracy: metrics.accuracy })
      for (const c of callbacks) c.onStep?.({ step: ts.step, epoch: epoch + 1, batch: b - 1, metrics, state: ts })
      paused += (yield 'step') ?? 0
    }
    const val =
      validation === undefined
        ? undefined
        : validate(
            () => evaluate(model, ts.params, ts.state, validation, { loss, batchSize: options.evalBatchSize ?? 256 }),
            epoch + 1,
            validationRows,
          )
    const record: EpochRecord = {
      epoch: epoch + 1,
      step: ts.step,
      loss: fs.lossSum / Math.max(fs.seen, 1),
      accuracy: fs.classify && fs.seen > 0 ? fs.correctSum / fs.seen : undefined,
      valLoss: val?.loss,
      valAccuracy: val?.accuracy,
      seconds: (now() - started - paused) / 1000,
    }
    epochRecords.push(record)
    let stop = false
    let best = fs.best
    if (es !== undefined) {
      const v = record[es.monitor]
      if (v === undefined)
        throw new RangeError(
          `fit: early stopping monitors '${es.monitor}', which this run does not produce${es.monitor.startsWith('val') ? ' (no validation set given)' : ''}`,
        )
      const delta = es.minDelta ?? 0
      if (best === undefined || (higherIsBetter ? v > best.value + delta : v < best.value - delta)) {
        const { fit: _, ...core } = ts
        best = { value: v, epoch: epoch + 1, state: restoreBest ? core : undefined }
      } else if (epoch + 1 - best.epoch >= es.patience) stop = true
    }
    // The state callbacks see (and save) already holds this epoch's early-stopping decision, and
    // a callback's 'stop' is in the state the callbacks after it see (and the one fit returns).
    fs = { ...newEpoch(epoch + 1, best), ...(stop ? { stopped: true } : {}) }
    ts = { ...ts, fit: fs }
    for (const c of callbacks) {
      if (c.onEpochEnd?.({ record, state: ts }) !== 'stop' || stop) continue
      stop = true
      fs = { ...fs, stopped: true }
      ts = { ...ts, fit: fs }
    }
    if (stop) {
      stoppedAt = epoch + 1
      break
    }
    yield 'epoch'
  }
  if (stoppedAt !== undefined && restoreBest && fs.best?.state !== undefined) ts = fs.best.state
  const history: History = { steps: stepRecords, epochs: epochRecords }
  for (const c of callbacks) c.onEnd?.({ history, state: ts })
  return { state: ts, history, stoppedAt }
}
