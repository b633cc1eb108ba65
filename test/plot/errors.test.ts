import { describe, expect, test } from 'vitest'
import { T } from '../../src/index.ts'
import * as Plot from '../../src/plot/index.ts'
import type { History } from '../../src/train/fit.ts'
import { thrown } from '../support/thrown.ts'

// Bad input to the chart builders: a PlotError that names the public function called (never a
// helper it calls inside) and says what was wrong, before any chart is built.

const history: History = {
  steps: [1, 2, 3, 4].map((step) => ({ step, epoch: 1 + (step > 2 ? 1 : 0), loss: 1 / step, accuracy: step / 5 })),
  epochs: [
    { epoch: 1, step: 2, loss: 0.7, accuracy: 0.3, valLoss: undefined, valAccuracy: undefined, seconds: 0 },
    { epoch: 2, step: 4, loss: 0.3, accuracy: 0.7, valLoss: undefined, valAccuracy: undefined, seconds: 0 },
  ],
}
const withStep = (i: number, change: Record<string, unknown>): History => ({
  ...history,
  steps: history.steps.map((s, k) => (k === i ? { ...s, ...change } : s)),
})
const loose = <A extends unknown[], R>(f: (...args: A) => R): ((...args: unknown[]) => R) => f as (...args: unknown[]) => R

describe('errors name the public function called, not a helper inside it', () => {
  test.each([
    ['confusionMatrix', () => Plot.confusionMatrix([0, 1], [0]), 'confusionMatrix: 2 labels but 1 predictions; they must match'],
    ['confusionMatrix', () => Plot.confusionMatrix([], []), 'confusionMatrix: no examples'],
    [
      'misclassified',
      () => Plot.misclassified(T.zeros([2, 2, 2]), [0, 1], [0]),
      'misclassified: 2 labels but 1 predictions; they must match',
    ],
    [
      'misclassified',
      () => Plot.misclassified(T.zeros([2, 4]), [0, 1], [1, 0]),
      'misclassified: expected images [N, H, W] or [N, 1, H, W], got shape [2, 4]',
    ],
    ['confusionCounts', () => Plot.confusionCounts([0, 1], [0]), 'confusionCounts: 2 labels but 1 predictions; they must match'],
    [
      'denseWeights',
      () =>
        Plot.denseWeights(
          T.tensor([
            [NaN, 1],
            [1, 1],
            [1, 1],
            [1, 1],
          ]),
          [2, 2],
        ),
      'denseWeights: image 0 has a non-finite pixel (NaN) at flat index 0',
    ],
    [
      'convFilters',
      () => Plot.convFilters(T.full([1, 1, 2, 2], Infinity)),
      'convFilters: image 0 has a non-finite pixel (Infinity) at flat index 0',
    ],
    ['convFilters', () => Plot.convFilters(T.zeros([2, 1, 3, 3]), { columns: 0 }), 'convFilters: columns must be an integer >= 1, got 0'],
    ['imageGrid', () => Plot.imageGrid(T.zeros([2, 3])), 'imageGrid: expected images [N, H, W] or [N, 1, H, W], got shape [2, 3]'],
    [
      'history',
      () => Plot.history(history, { smoothing: 1.5 }),
      'history: smoothing must be in [0, 1) (0.9 averages over about 10 steps), got 1.5',
    ],
    ['compareRuns', () => Plot.compareRuns([{ name: 'a', history }], { smoothing: -1 }), 'compareRuns: smoothing must be in [0, 1)'],
  ])('%s', (name, f, message) => {
    const e = thrown(Plot.PlotError, f)
    expect(e.message.startsWith(`${name}: `)).toBe(true)
    expect(e.message).toContain(message)
  })
  test('a label that is not an integer is named as such, not as a fractional class count', () => {
    expect(thrown(Plot.PlotError, () => Plot.confusionMatrix([0, 1.5], [0, 1])).message).toBe(
      'confusionMatrix: label 1.5 of example 1 is not a class index (an integer >= 0)',
    )
  })
})

describe('histories a chart cannot draw', () => {
  test('not a History, or nothing recorded', () => {
    for (const bad of [undefined, [], { steps: [] }, { steps: 'x', epochs: [] }])
      expect(thrown(Plot.PlotError, () => loose(Plot.history)(bad)).message).toMatch(
        /^history: expected a History \{ steps, epochs \} \(the history Train.fit returns\), got /,
      )
    expect(thrown(Plot.PlotError, () => Plot.history({ steps: [], epochs: [] })).message).toBe(
      'history: the history is empty (no steps and no epochs were recorded)',
    )
  })
  test('NaN or ±Infinity anywhere is named by its record and step or epoch (a chart would drop it silently)', () => {
    expect(thrown(Plot.PlotError, () => Plot.history(withStep(2, { loss: NaN }))).message).toBe(
      'history: steps[2].loss is NaN (step 3); a chart draws finite numbers only',
    )
    expect(thrown(Plot.PlotError, () => Plot.stepHistory(withStep(0, { accuracy: Infinity }))).message).toBe(
      'stepHistory: steps[0].accuracy is Infinity (step 1); a chart draws finite numbers only',
    )
    const epochs = [history.epochs[0]!, { ...history.epochs[1]!, valLoss: -Infinity }]
    expect(thrown(Plot.PlotError, () => Plot.epochHistory({ ...history, epochs })).message).toBe(
      'epochHistory: epochs[1].valLoss is -Infinity (epoch 2); a chart draws finite numbers only',
    )
    expect(thrown(Plot.PlotError, () => Plot.compareRuns([{ name: 'adam', history: withStep(1, { loss: NaN }) }])).message).toBe(
      "compareRuns: run 'adam': steps[1].loss is NaN (step 2); a chart draws finite numbers only",
    )
  })
  test('a log loss axis needs positive losses', () => {
    expect(thrown(Plot.PlotError, () => Plot.history(withStep(3, { loss: 0 }), { lossScale: 'log' })).message).toBe(
      "history: lossScale 'log' needs positive losses, but steps[3].loss is 0 (step 4)",
    )
    expect(() => Plot.history(withStep(3, { loss: 0 }))).not.toThrow() // a linear axis draws 0
  })
  test('option values it would ignore or choke on: a misspelt scale, maxPoints below 2, a zero width', () => {
    expect(thrown(Plot.PlotError, () => loose(Plot.history)(history, { lossScale: 'logarithmic' })).message).toBe(
      `history: lossScale must be 'linear' or 'log', got "logarithmic"`,
    )
    expect(thrown(Plot.PlotError, () => Plot.history(history, { maxPoints: 1 })).message).toBe(
      'history: maxPoints must be an integer >= 2, got 1',
    )
    expect(thrown(Plot.PlotError, () => Plot.stepHistory(history, { width: 0 })).message).toBe(
      'stepHistory: width must be an integer >= 1, got 0',
    )
    expect(thrown(Plot.PlotError, () => Plot.learningRate((s) => 1 / (1 + s), { steps: 10, maxPoints: 1 })).message).toBe(
      'learningRate: maxPoints must be an integer >= 2, got 1',
    )
    expect(thrown(Plot.PlotError, () => loose(Plot.learningRate)((s: number) => 1 / (1 + s), { steps: 10, scale: 'ln' })).message).toBe(
      `learningRate: scale must be 'linear' or 'log', got "ln"`,
    )
    expect(thrown(Plot.PlotError, () => loose(Plot.imageGrid)(T.zeros([1, 2, 2]), { color: 'viridis' })).message).toBe(
      `imageGrid: color must be 'greys' or 'diverging', got "viridis"`,
    )
  })
})

describe('other data a chart cannot draw', () => {
  test('gradientNormChart: a non-finite norm names the record, layer and step', () => {
    const records = [
      { step: 1, layer: 'pipe[0].dense', norm: 0.5, paramNorm: 1, size: 6 },
      { step: 10, layer: 'pipe[0].dense', norm: NaN, paramNorm: 1, size: 6 },
    ]
    expect(thrown(Plot.PlotError, () => Plot.gradientNormChart(records)).message).toBe(
      'gradientNormChart: records[1].norm is NaN (pipe[0].dense at step 10); a chart draws finite numbers only',
    )
    expect(thrown(Plot.PlotError, () => loose(Plot.gradientNormChart)(records.slice(0, 1), { measure: 'ratio' })).message).toMatch(
      /^gradientNormChart: measure must be 'norm' or 'relative'/,
    )
  })
  test('decisionBoundary: NaN in the data is named as the data, not as a score predict gave', () => {
    const data = {
      x: T.tensor([
        [0, 1],
        [NaN, 1],
      ]),
      y: T.tensor([0, 1]),
    }
    expect(thrown(Plot.PlotError, () => Plot.decisionBoundary({ predict: (x) => x, data })).message).toBe(
      'decisionBoundary: data.x has a non-finite value (NaN) at point 1',
    )
  })
})

describe('a value where a function or a record goes is named, before anything is drawn', () => {
  test('learningRate given a number for the schedule', () => {
    expect(thrown(Plot.PlotError, () => loose(Plot.learningRate)(0.1, { steps: 10 })).message).toBe(
      'learningRate: schedule must be a function from a step to a value, such as Schedule.cosineDecay({ init, steps }), got 0.1',
    )
  })
  test('decisionBoundary without predict, or with data that is not tensors', () => {
    const data = { x: T.zeros([4, 2]), y: T.tensor([0, 1, 0, 1]) }
    expect(thrown(Plot.PlotError, () => loose(Plot.decisionBoundary)({ data })).message).toBe(
      'decisionBoundary: predict must be the model as a function from points [N, 2] to scores, got undefined',
    )
    const predict = (x: T.Tensor) => x
    expect(thrown(Plot.PlotError, () => loose(Plot.decisionBoundary)({ predict, data: { x: [[0, 1]], y: data.y } })).message).toBe(
      'decisionBoundary: data.x must be a Tensor, got an array (make one from nested arrays with T.tensor(data.x))',
    )
    expect(thrown(Plot.PlotError, () => loose(Plot.decisionBoundary)({ predict, data: undefined })).message).toBe(
      'decisionBoundary: data must be a data set { x, y } of points and labels, got undefined',
    )
  })
  test('gradientNormChart given records that are not its own', () => {
    expect(thrown(Plot.PlotError, () => loose(Plot.gradientNormChart)([{ step: 1, norm: 2 }])).message).toBe(
      'gradientNormChart: records[0] must be a record { step, layer, norm, paramNorm } as recordGradientNorms makes, got {"step":1,"norm":2}',
    )
  })
})
