/**
 * The confusion matrix of a classifier: how often each true class (row) was predicted as each
 * class (column). The diagonal is what it gets right; bright cells off it are its mistakes.
 */
import { asTensor, type AnyTensor } from '../tensor/tensor.ts'
import { predictClasses, targetClasses } from '../train/metrics.ts'
import { checkInt, PlotError, SCHEMA, type VegaLiteSpec } from './spec.ts'
import { checkOptions } from '../options.ts'

/** Class labels: a tensor of class indices [N] (or one-hot / probability rows [N, C]), or a plain list of indices. */
export type Labels = AnyTensor | ArrayLike<number>

const isTensor = (v: Labels): v is AnyTensor => typeof v === 'object' && v !== null && 'shape' in v && 'data' in v

/** Class indices from labels: tensors of targets via argmax of rows; scores [N, C] as predictions use argmax too. */
const classesOf = (where: string, what: string, v: Labels, asPrediction: boolean): ArrayLike<number> => {
  if (!isTensor(v)) return v
  const c = asPrediction && v.shape.length === 2 ? predictClasses(asTensor(v)) : targetClasses(asTensor(v))
  if (c === undefined) throw new PlotError(`${where}: ${what} must be class indices [N] or rows [N, C], got shape [${v.shape.join(', ')}]`)
  return c
}

/**
 * counts[t][p]: the number of examples of true class t predicted as p. `predictions` may be
 * class indices (what Train.evaluate returns) or the model's scores [N, C].
 * @example confusionCounts([0, 1, 1], [0, 1, 0], 2) // [[1, 0], [1, 1]]
 */
export const confusionCounts = (labels: Labels, predictions: Labels, classes?: number): number[][] =>
  countsFor('confusionCounts', labels, predictions, classes)

/** confusionCounts, its errors naming `where`: the public function called (confusionMatrix, misclassified). */
export const countsFor = (where: string, labels: Labels, predictions: Labels, classes?: number): number[][] => {
  const t = classesOf(where, 'labels', labels, false)
  const p = classesOf(where, 'predictions', predictions, true)
  if (t.length !== p.length) throw new PlotError(`${where}: ${t.length} labels but ${p.length} predictions; they must match`)
  if (t.length === 0) throw new PlotError(`${where}: no examples`)
  for (let i = 0; i < t.length; i++)
    for (const [v, what] of [
      [t[i]!, 'label'],
      [p[i]!, 'prediction'],
    ] as const)
      if (!Number.isInteger(v) || v < 0)
        throw new PlotError(`${where}: ${what} ${v} of example ${i} is not a class index (an integer >= 0)`)
  let k = classes ?? 0
  if (classes === undefined) for (let i = 0; i < t.length; i++) k = Math.max(k, t[i]! + 1, p[i]! + 1)
  checkInt(where, 'classes', k)
  const counts = Array.from({ length: k }, () => new Array<number>(k).fill(0))
  for (let i = 0; i < t.length; i++) {
    const a = t[i]!
    const b = p[i]!
    for (const [v, what] of [
      [a, 'label'],
      [b, 'prediction'],
    ] as const) {
      if (!Number.isInteger(v) || v < 0 || v >= k)
        throw new PlotError(`${where}: ${what} ${v} of example ${i} is not a class index in 0..${k - 1}`)
    }
    counts[a]![b]! += 1
  }
  return counts
}

/** Options of the confusion-matrix chart. */
export interface ConfusionOptions {
  /** Number of classes (default: 1 + the largest index seen). */
  readonly classes?: number
  /** A name per class, in index order (default '0', '1', ...). */
  readonly classNames?: readonly string[]
  /** Title (default 'confusion matrix') and subtitle (default: the accuracy and the number of examples). */
  readonly title?: string
  readonly subtitle?: string
  /** Pixels per cell (default 34, larger for few classes). */
  readonly cellSize?: number
}

/**
 * A heatmap of the confusion counts, each cell labelled with its count. The colour is the share
 * of the row (of the true class, on a square-root scale), so a class with few examples is as visible as a big one and
 * the colour of an off-diagonal cell reads as "how often this class is mistaken for that one".
 * @example
 * const { predictions } = Train.evaluate(model, state.params, state.state, test, { loss })
 * writePlot(Plot.confusionMatrix(test.y, predictions!), 'out/confusion.png')
 */
export const confusionMatrix = (labels: Labels, predictions: Labels, options: ConfusionOptions = {}): VegaLiteSpec => {
  checkOptions('confusionMatrix', options, ['classes', 'classNames', 'title', 'subtitle', 'cellSize'], { unknown: PlotError })
  const counts = countsFor('confusionMatrix', labels, predictions, options.classes ?? options.classNames?.length)
  const k = counts.length
  const names = options.classNames ?? counts.map((_, i) => String(i))
  if (names.length !== k) throw new PlotError(`confusionMatrix: ${names.length} class names for ${k} classes`)
  if (new Set(names).size !== k) throw new PlotError('confusionMatrix: class names must be distinct')
  const values: { true: string; predicted: string; count: number; share: number }[] = []
  let total = 0
  let correct = 0
  counts.forEach((row, t) => {
    const n = row.reduce((s, v) => s + v, 0)
    total += n
    correct += row[t]!
    row.forEach((c, p) => values.push({ true: names[t]!, predicted: names[p]!, count: c, share: n === 0 ? 0 : Number((c / n).toFixed(4)) }))
  })
  const size = (options.cellSize ?? Math.max(34, Math.floor(240 / k))) * k
  return {
    $schema: SCHEMA,
    title: {
      text: options.title ?? 'confusion matrix',
      subtitle: options.subtitle ?? `accuracy ${((100 * correct) / total).toFixed(2)}% on ${total.toLocaleString('en-US')} examples`,
    },
    width: size,
    height: size,
    data: { values },
    encoding: {
      x: {
        field: 'predicted',
        type: 'nominal',
        title: 'predicted class',
        scale: { domain: [...names] },
        axis: { labelAngle: 0, orient: 'top' },
      },
      y: { field: 'true', type: 'nominal', title: 'true class', scale: { domain: [...names] } },
    },
    layer: [
      {
        mark: { type: 'rect', stroke: 'white', strokeWidth: 1 },
        encoding: {
          // a square-root scale: a 2% confusion is a visible tint, not lost next to the 98% diagonal
          color: {
            field: 'share',
            type: 'quantitative',
            title: 'share of true class',
            scale: { type: 'sqrt', domain: [0, 1], range: ['#f7fbff', '#08306b'] },
            legend: { format: '.0%', values: [0, 0.05, 0.25, 0.5, 1], gradientLength: Math.min(size, 200) },
          },
          tooltip: [
            { field: 'true', type: 'nominal', title: 'true class' },
            { field: 'predicted', type: 'nominal', title: 'predicted' },
            { field: 'count', type: 'quantitative' },
            { field: 'share', type: 'quantitative', title: 'share of true class', format: '.1%' },
          ],
        },
      },
      {
        mark: { type: 'text', fontSize: k > 12 ? 8 : 11 },
        encoding: {
          text: { field: 'count', type: 'quantitative' },
          color: { condition: { test: 'datum.share > 0.35', value: 'white' }, value: 'black' },
          opacity: { condition: { test: 'datum.count === 0', value: 0.25 }, value: 1 },
        },
      },
    ],
  }
}
