/** The learning-rate schedule over the steps of a run, drawn from the schedule function itself. */
import type { Schedule } from '../optim/schedule.ts'
import { checkInt, checkOneOf, PlotError, round6, SCHEMA, thinIndices, type LayerPart, type VegaLiteSpec } from './spec.ts'
import { checkOptions } from '../options.ts'

/** Options of the learning-rate chart. */
export interface LearningRateOptions {
  /** Steps to draw, 0..steps (the run's total: epochs × steps per epoch). */
  readonly steps: number
  /** Draw a dashed rule at each epoch boundary, every this many steps. */
  readonly stepsPerEpoch?: number
  /** Most points sampled from the schedule (default 600; the first and last step always). */
  readonly maxPoints?: number
  /** The y axis: 'linear' (default) or 'log'. */
  readonly scale?: 'linear' | 'log'
  readonly title?: string
  readonly width?: number
  readonly height?: number
}

/**
 * The value of a schedule at every step 0..steps (sampled evenly when there are more than
 * maxPoints), as a line. Steps after a jump hold their value ('step-after'), so a step decay
 * draws as stairs.
 * @example
 * const lr = Schedule.cosineDecay({ init: 0.1, steps: 3000, floor: 0.005 })
 * writePlot(Plot.learningRate(lr, { steps: 3000 }), 'out/lr.svg')
 */
export const learningRate = (schedule: Schedule, options: LearningRateOptions): VegaLiteSpec => {
  checkOptions('learningRate', options, ['steps', 'stepsPerEpoch', 'maxPoints', 'scale', 'title', 'width', 'height'], {
    unknown: PlotError,
  })
  if (typeof schedule !== 'function')
    throw new PlotError(
      'learningRate: schedule must be a function from a step to a value, such as Schedule.cosineDecay({ init, steps }), ' +
        `got ${JSON.stringify(schedule) ?? typeof schedule}`,
    )
  const steps = checkInt('learningRate', 'steps', options.steps)
  checkOneOf('learningRate', 'scale', options.scale, ['linear', 'log'])
  const values: { step: number; lr: number }[] = []
  for (const i of thinIndices(steps + 1, checkInt('learningRate', 'maxPoints', options.maxPoints ?? 600, 2))) {
    const lr = schedule(i)
    if (!Number.isFinite(lr)) throw new PlotError(`learningRate: the schedule gives ${lr} at step ${i}; it must be finite`)
    if (options.scale === 'log' && lr <= 0)
      throw new PlotError(`learningRate: a log axis needs positive values, but the schedule gives ${lr} at step ${i}`)
    values.push({ step: i, lr: round6(lr) })
  }
  const spe = options.stepsPerEpoch
  const epochs =
    spe === undefined
      ? []
      : Array.from({ length: Math.floor(steps / checkInt('learningRate', 'stepsPerEpoch', spe)) }, (_, e) => ({ step: (e + 1) * spe }))
  const line: LayerPart = {
    data: { values },
    mark: { type: 'line', interpolate: 'step-after', strokeWidth: 2, color: '#1f5fa8' },
    encoding: {
      x: { field: 'step', type: 'quantitative', title: 'step', scale: { domain: [0, steps], nice: false } },
      y: { field: 'lr', type: 'quantitative', title: 'learning rate', scale: options.scale === 'log' ? { type: 'log' } : { zero: true } },
      tooltip: [
        { field: 'step', type: 'quantitative' },
        { field: 'lr', type: 'quantitative', title: 'learning rate', format: '.3~g' },
      ],
    },
  }
  const rules: LayerPart[] =
    epochs.length > 0 && epochs.length <= 100
      ? [
          {
            data: { values: epochs },
            mark: { type: 'rule', strokeDash: [2, 3], color: '#bbbbbb' },
            encoding: { x: { field: 'step', type: 'quantitative' } },
          },
        ]
      : []
  return {
    $schema: SCHEMA,
    title: options.title ?? 'learning rate',
    width: options.width ?? 400,
    height: options.height ?? 200,
    layer: [...rules, line],
  }
}
