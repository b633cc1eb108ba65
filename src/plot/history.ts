/**
 * Training curves from a fit History: loss and accuracy per step (raw and smoothed) and per
 * epoch (train against validation). One function per view, and `history` for all of them.
 */
import type { History } from '../train/fit.ts'
import { defaultSmoothing, ema } from './smooth.ts'
import { checkInt, checkOneOf, PlotError, round6, SCHEMA, thinIndices, type Panel, type VegaLiteSpec } from './spec.ts'
import { checkOptions } from '../options.ts'

/** Options of the history charts. */
export interface HistoryOptions {
  /** The chart's title (default 'training history'). */
  readonly title?: string
  /** EMA factor α in [0, 1) for the per-step curves (default: a window of about 1/50 of the steps). */
  readonly smoothing?: number
  /** Longest per-step series drawn; longer ones are thinned evenly after smoothing (default 1500). */
  readonly maxPoints?: number
  /** The loss axis: 'linear' (default) or 'log' (shows late progress when the loss spans decades). */
  readonly lossScale?: 'linear' | 'log'
  /** Size of each panel in pixels (default 320 × 180). */
  readonly width?: number
  readonly height?: number
}

type Metric = 'loss' | 'accuracy'

/** One point of a long-format series: the x value, the y value, and which line it belongs to. */
interface Row {
  readonly x: number
  readonly value: number
  readonly series: string
}

/** Series names, in legend order, and their colours: light for raw steps, dark for the trend. */
const STEP_SERIES = ['per step', 'smoothed'] as const
const STEP_COLORS = ['#a6cee3', '#1f5fa8']
const EPOCH_SERIES = ['train', 'validation'] as const
const EPOCH_COLORS = ['#1f5fa8', '#e6550d']

const hasAccuracy = (h: History): boolean => h.steps.length > 0 && h.steps.every((s) => s.accuracy !== undefined)

const HISTORY_OPTIONS = ['title', 'smoothing', 'maxPoints', 'lossScale', 'width', 'height'] as const

/** Checks the options of a history chart: known keys, and values it can draw with. */
const checkHistoryOptions = (where: string, options: HistoryOptions): void => {
  checkOptions(where, options, HISTORY_OPTIONS, { unknown: PlotError })
  const { smoothing, maxPoints, width, height } = options
  if (smoothing !== undefined && !(typeof smoothing === 'number' && smoothing >= 0 && smoothing < 1))
    throw new PlotError(`${where}: smoothing must be in [0, 1) (0.9 averages over about 10 steps), got ${smoothing}`)
  if (maxPoints !== undefined) checkInt(where, 'maxPoints', maxPoints, 2)
  if (width !== undefined) checkInt(where, 'width', width)
  if (height !== undefined) checkInt(where, 'height', height)
  checkOneOf(where, 'lossScale', options.lossScale, ['linear', 'log'])
}

/**
 * Checks that a history can be drawn: a History { steps, epochs } with something recorded, every
 * value finite, and every loss positive on a log axis. A chart would silently drop a NaN (and the
 * smoothed curve after it); fit never records one (it stops with a NonFiniteError), so one here
 * is from a history built or edited by hand.
 */
const checkHistory = (where: string, h: History, options: HistoryOptions): void => {
  if (typeof h !== 'object' || h === null || !Array.isArray(h.steps) || !Array.isArray(h.epochs))
    throw new PlotError(`${where}: expected a History { steps, epochs } (the history Train.fit returns), got ${show(h)}`)
  if (h.steps.length === 0 && h.epochs.length === 0)
    throw new PlotError(`${where}: the history is empty (no steps and no epochs were recorded)`)
  const log = options.lossScale === 'log'
  const check = (what: string, at: string, v: unknown, loss: boolean): void => {
    if (v === undefined) return
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new PlotError(`${where}: ${what} is ${show(v)} (${at}); a chart draws finite numbers only`)
    if (loss && log && v <= 0) throw new PlotError(`${where}: lossScale 'log' needs positive losses, but ${what} is ${v} (${at})`)
  }
  h.steps.forEach((s, i) => {
    check(`steps[${i}].loss`, `step ${s.step}`, s.loss, true)
    check(`steps[${i}].accuracy`, `step ${s.step}`, s.accuracy, false)
  })
  h.epochs.forEach((e, i) => {
    check(`epochs[${i}].loss`, `epoch ${e.epoch}`, e.loss, true)
    check(`epochs[${i}].accuracy`, `epoch ${e.epoch}`, e.accuracy, false)
    check(`epochs[${i}].valLoss`, `epoch ${e.epoch}`, e.valLoss, true)
    check(`epochs[${i}].valAccuracy`, `epoch ${e.epoch}`, e.valAccuracy, false)
  })
}

/** A value as a message shows it. */
const show = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'number' || typeof v === 'string' ? String(v) : typeof v

/**
 * The per-step rows of one metric: the raw values and their EMA, thinned to maxPoints. With
 * smoothing 0 (the default below 75 steps) the EMA is the raw series itself, so it is left out
 * rather than drawn twice under two names.
 */
export const stepRows = (h: History, metric: Metric, options: HistoryOptions = {}): Row[] => {
  checkHistoryOptions('stepRows', options)
  const values = h.steps.map((s) => (metric === 'loss' ? s.loss : (s.accuracy ?? NaN)))
  const smoothing = options.smoothing ?? defaultSmoothing(values.length)
  const smooth = smoothing > 0 ? ema(values, smoothing) : undefined
  const rows: Row[] = []
  for (const i of thinIndices(values.length, options.maxPoints ?? 1500)) {
    const x = (h.steps[i] as { step: number }).step
    rows.push({ x, value: round6(values[i]!), series: STEP_SERIES[0] })
    if (smooth !== undefined) rows.push({ x, value: round6(smooth[i]!), series: STEP_SERIES[1] })
  }
  return rows
}

/** The per-epoch rows of one metric: train and, where recorded, validation; x is the epoch, counted from 1. */
export const epochRows = (h: History, metric: Metric): Row[] => {
  const rows: Row[] = []
  for (const e of h.epochs) {
    const train = metric === 'loss' ? e.loss : e.accuracy
    const val = metric === 'loss' ? e.valLoss : e.valAccuracy
    if (train !== undefined) rows.push({ x: e.epoch, value: round6(train), series: EPOCH_SERIES[0] })
    if (val !== undefined) rows.push({ x: e.epoch, value: round6(val), series: EPOCH_SERIES[1] })
  }
  return rows
}

const panel = (rows: readonly Row[], metric: Metric, by: 'step' | 'epoch', options: HistoryOptions): Panel => {
  // only the series present get a legend entry (no 'validation' without a validation set)
  const all: readonly string[] = by === 'step' ? STEP_SERIES : EPOCH_SERIES
  const present = all.filter((name) => rows.some((r) => r.series === name))
  const names = present
  const colors = present.map((name) => (by === 'step' ? STEP_COLORS : EPOCH_COLORS)[all.indexOf(name)]!)
  const log = metric === 'loss' && options.lossScale === 'log'
  return {
    title: `${metric} per ${by}`,
    width: options.width ?? 320,
    height: options.height ?? 180,
    data: { values: rows.map((r) => ({ ...r })) },
    mark: by === 'step' ? { type: 'line', strokeWidth: 1.5 } : { type: 'line', point: rows.length <= 80 },
    encoding: {
      x:
        by === 'epoch'
          ? {
              field: 'x',
              type: 'quantitative',
              title: by,
              axis: { tickMinStep: 1, format: 'd' },
              scale: { zero: false, nice: false, padding: 8 },
            } // padding: room for the first and last points
          : { field: 'x', type: 'quantitative', title: by },
      y: {
        field: 'value',
        type: 'quantitative',
        title: metric,
        // nice: false, so a log axis spans the losses seen, not whole decades (0.05..2, not 0.01..10)
        scale: log ? { type: 'log', nice: false } : { zero: false },
        axis: metric === 'accuracy' ? { format: '.0%' } : {},
      },
      color: { field: 'series', type: 'nominal', title: null, scale: { domain: [...names], range: colors }, legend: { orient: 'bottom' } },
      // draw the raw steps first, the trend on top
      order: { field: 'series', sort: 'descending' },
      tooltip: [
        { field: 'series', type: 'nominal' },
        { field: 'x', type: 'quantitative', title: by },
        { field: 'value', type: 'quantitative', title: metric, format: metric === 'accuracy' ? '.2%' : '.4f' },
      ],
    },
  }
}

const metricsOf = (h: History): Metric[] => (hasAccuracy(h) ? ['loss', 'accuracy'] : ['loss'])

/**
 * Loss (and accuracy, for classifiers) at every step: the raw values, light, and their EMA on top.
 * @example
 * const { history } = Train.fit(run)
 * writePlot(Plot.stepHistory(history, { smoothing: 0.95 }), 'out/steps.svg')
 */
export const stepHistory = (h: History, options: HistoryOptions = {}): VegaLiteSpec => {
  checkHistoryOptions('stepHistory', options)
  checkHistory('stepHistory', h, options)
  if (h.steps.length === 0) throw new PlotError('stepHistory: the history has no steps')
  return {
    $schema: SCHEMA,
    title: options.title ?? 'training per step',
    hconcat: metricsOf(h).map((m) => panel(stepRows(h, m, options), m, 'step', options)),
  }
}

/**
 * Loss (and accuracy) of each epoch: the training mean against the validation set. The training
 * figure averages the steps of the epoch, taken while the weights were still changing, and the
 * validation figure is measured at its end, so early on validation can look better than train.
 * @example
 * const { history } = Train.fit(run)
 * writePlot(Plot.epochHistory(history), 'out/epochs.png')
 */
export const epochHistory = (h: History, options: HistoryOptions = {}): VegaLiteSpec => {
  checkHistoryOptions('epochHistory', options)
  checkHistory('epochHistory', h, options)
  if (h.epochs.length === 0) throw new PlotError('epochHistory: the history has no epochs')
  return {
    $schema: SCHEMA,
    title: options.title ?? 'training per epoch',
    hconcat: (h.epochs.every((e) => e.accuracy !== undefined) ? (['loss', 'accuracy'] as const) : (['loss'] as const)).map((m) =>
      panel(epochRows(h, m), m, 'epoch', options),
    ),
  }
}

/**
 * The whole training history: a row of per-step curves (raw and smoothed) above a row of
 * per-epoch curves (train against validation, from the second epoch on), loss on the left,
 * accuracy on the right.
 * @example
 * const { history } = Train.fit(run)
 * writePlot(Plot.history(history), 'out/history.png')
 */
export const history = (h: History, options: HistoryOptions = {}): VegaLiteSpec => {
  checkHistoryOptions('history', options)
  checkHistory('history', h, options)
  const rows: Panel[] = []
  if (h.steps.length > 0) rows.push({ hconcat: metricsOf(h).map((m) => panel(stepRows(h, m, options), m, 'step', options)) })
  // one epoch would be one dot per panel (its value repeated in the step panels): drawn from two epochs on, or when there are no steps
  if (h.epochs.length > 1 || (h.epochs.length > 0 && h.steps.length === 0)) {
    const ms: Metric[] = h.epochs.every((e) => e.accuracy !== undefined) ? ['loss', 'accuracy'] : ['loss']
    rows.push({ hconcat: ms.map((m) => panel(epochRows(h, m), m, 'epoch', options)) })
  }
  return {
    $schema: SCHEMA,
    title: options.title ?? 'training history',
    vconcat: rows,
    // each row has its own series (per step / smoothed, train / validation), so its own legend
    resolve: { scale: { color: 'independent' } },
  }
}

/** One named run for compareRuns: a label and the history fit returned (or one built by hand). */
export interface Run {
  readonly name: string
  readonly history: History
}

/** A palette for up to ten runs (Vega's category10), in the order the runs are given. */
const RUN_COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf']
/** A dash pattern per run (solid first), so two runs whose lines coincide both stay visible, in two colours. */
const RUN_DASHES = [
  [1, 0],
  [6, 3],
  [2, 2],
  [8, 3, 2, 3],
  [4, 4],
  [1, 3],
  [10, 2],
  [3, 3, 1, 3],
  [6, 6],
  [2, 5],
]

/**
 * Several runs side by side: each run's per-step loss (and accuracy, when every run has it) as
 * one smoothed line, one colour and dash pattern per run (lines that coincide stay visible), on shared axes. For comparing optimizers, learning
 * rates or models trained on the same data.
 * @example
 * const a = Train.fit({ ...run, optimizer: Optim.sgd({ lr: 0.1 }) })
 * const b = Train.fit({ ...run, optimizer: Optim.adam({ lr: 1e-3 }) })
 * writePlot(Plot.compareRuns([{ name: 'sgd', history: a.history }, { name: 'adam', history: b.history }], { lossScale: 'log' }), 'out/compare.png')
 */
export const compareRuns = (runs: readonly Run[], options: HistoryOptions = {}): VegaLiteSpec => {
  checkHistoryOptions('compareRuns', options)
  if (!Array.isArray(runs) || runs.length === 0) throw new PlotError('compareRuns: needs at least one run { name, history }')
  if (runs.length > RUN_COLORS.length)
    throw new PlotError(`compareRuns: at most ${RUN_COLORS.length} runs fit one chart, got ${runs.length}`)
  const names = runs.map((r, i) => {
    if (typeof r?.name !== 'string' || r.name === '') throw new PlotError(`compareRuns: runs[${i}] needs a non-empty name`)
    if (Array.isArray(r.history?.steps) && r.history.steps.length === 0) throw new PlotError(`compareRuns: run '${r.name}' has no steps`)
    checkHistory(`compareRuns: run '${r.name}'`, r.history, options)
    return r.name
  })
  const dup = names.find((n, i) => names.indexOf(n) !== i)
  if (dup !== undefined) throw new PlotError(`compareRuns: two runs are named '${dup}'; names label the lines`)
  const metrics: Metric[] = runs.every((r) => hasAccuracy(r.history)) ? ['loss', 'accuracy'] : ['loss']
  // one legend entry per run: its colour and its dash pattern, both keyed by the run's name
  const byRun = <R>(range: R) =>
    ({ field: 'series', type: 'nominal', title: null, scale: { domain: names, range }, legend: { orient: 'bottom' } }) as const
  const panelOf = (metric: Metric): Panel => {
    // each run's smoothed series (the raw one where smoothing is 0), relabelled with the run's name
    let smoothed = false
    const rows = runs.flatMap((r) => {
      const own = stepRows(r.history, metric, options)
      const trend = own.some((row) => row.series === STEP_SERIES[1]) ? STEP_SERIES[1] : STEP_SERIES[0]
      if (trend === STEP_SERIES[1]) smoothed = true
      return own.filter((row) => row.series === trend).map((row) => ({ ...row, series: r.name }))
    })
    const log = metric === 'loss' && options.lossScale === 'log'
    return {
      title: `${metric} per step${smoothed ? ' (smoothed)' : ''}`,
      width: options.width ?? 320,
      height: options.height ?? 180,
      data: { values: rows },
      mark: { type: 'line', strokeWidth: 1.5 },
      encoding: {
        x: { field: 'x', type: 'quantitative', title: 'step' },
        y: {
          field: 'value',
          type: 'quantitative',
          title: metric,
          scale: log ? { type: 'log', nice: false } : { zero: false },
          axis: metric === 'accuracy' ? { format: '.0%' } : {},
        },
        color: byRun(RUN_COLORS.slice(0, names.length)),
        strokeDash: byRun(RUN_DASHES.slice(0, names.length)),
        tooltip: [
          { field: 'series', type: 'nominal', title: 'run' },
          { field: 'x', type: 'quantitative', title: 'step' },
          { field: 'value', type: 'quantitative', title: metric, format: metric === 'accuracy' ? '.2%' : '.4f' },
        ],
      },
    }
  }
  return { $schema: SCHEMA, title: options.title ?? 'runs compared', hconcat: metrics.map(panelOf) }
}
