/**
 * The decision boundary of a 2-D classifier: the model is asked for its class at every cell of
 * a grid over the data, the grid is coloured by that class (fainter where the model is less
 * sure), and the data points are drawn on top in the colour of their true class.
 */
import type { AnyDataset } from '../data/dataset.ts'
import { asTensor, fromData, type AnyTensor, type Tensor } from '../tensor/tensor.ts'
import { targetClasses } from '../train/metrics.ts'
import { checkInt, PlotError, round6, SCHEMA, thinIndices, type VegaLiteSpec } from './spec.ts'
import { checkOptions, checkTensor } from '../options.ts'

/** Options of decisionBoundary. */
export interface DecisionBoundaryOptions {
  /** The model as a function of a batch of points [N, 2], giving scores [N, C] (logits or probabilities) or binary logits [N, 1]. */
  readonly predict: (x: Tensor) => AnyTensor
  /** The points to draw on top: x [N, 2], y class indices [N] (or one-hot rows). */
  readonly data: AnyDataset
  /** Grid cells per side (default 100). */
  readonly resolution?: number
  /** Screen pixels per cell (default 3; the plot is resolution × cellSize pixels square). */
  readonly cellSize?: number
  /** Margin around the data, as a fraction of its larger range (default 0.1). */
  readonly margin?: number
  /** A name per class (default '0', '1', ...). */
  readonly classNames?: readonly string[]
  /** Draw at most this many points (default 2000, evenly chosen). */
  readonly maxPoints?: number
  readonly title?: string
}

/** softmax of one row of scores, or the probabilities as given if the row already is a distribution. */
const confidenceOf = (row: Float64Array): { cls: number; p: number } => {
  if (row.length === 1) {
    const q = 1 / (1 + Math.exp(-row[0]!)) // binary logit → P(class 1)
    return q > 0.5 ? { cls: 1, p: q } : { cls: 0, p: 1 - q }
  }
  let cls = 0
  for (let c = 1; c < row.length; c++) if (row[c]! > row[cls]!) cls = c
  const isDistribution = row.every((v) => v >= 0 && v <= 1) && Math.abs(row.reduce((s, v) => s + v, 0) - 1) < 1e-6
  if (isDistribution) return { cls, p: row[cls]! }
  const top = row[cls]!
  let z = 0
  for (const v of row) z += Math.exp(v - top)
  return { cls, p: 1 / z }
}

/**
 * The model's class over a grid covering the data, with the data on top: where the regions
 * meet is the decision boundary. Colour is the predicted class; the paler a cell, the lower the
 * model's probability for that class.
 * @example
 * const predict = (x: Tensor) => Train.predict(model, state.params, state.state, x)
 * writePlot(Plot.decisionBoundary({ predict, data }), 'out/boundary.png')
 */
export const decisionBoundary = (options: DecisionBoundaryOptions): VegaLiteSpec => {
  checkOptions('decisionBoundary', options, ['predict', 'data', 'resolution', 'cellSize', 'margin', 'classNames', 'maxPoints', 'title'], {
    unknown: PlotError,
  })
  const where = 'decisionBoundary'
  const { data } = options
  if (typeof options.predict !== 'function')
    throw new PlotError(`${where}: predict must be the model as a function from points [N, 2] to scores, got ${typeof options.predict}`)
  if (typeof data !== 'object' || data === null)
    throw new PlotError(`${where}: data must be a data set { x, y } of points and labels, got ${String(data)}`)
  checkTensor(where, 'data.x', data.x, PlotError)
  checkTensor(where, 'data.y', data.y, PlotError)
  if (data.x.shape.length !== 2 || data.x.shape[1] !== 2)
    throw new PlotError(`${where}: data.x must be points [N, 2], got [${data.x.shape.join(', ')}]`)
  const n = data.x.shape[0]!
  if (n === 0) throw new PlotError(`${where}: no data points`)
  const bad = data.x.data.findIndex((v) => !Number.isFinite(v))
  if (bad >= 0) throw new PlotError(`${where}: data.x has a non-finite value (${data.x.data[bad]}) at point ${bad >> 1}`)
  const labels = targetClasses(asTensor(data.y))
  if (labels === undefined || labels.length !== n)
    throw new PlotError(`${where}: data.y must hold a class per point ([${n}] or [${n}, C]), got [${data.y.shape.join(', ')}]`)
  const res = checkInt(where, 'resolution', options.resolution ?? 100, 2)
  const cell = checkInt(where, 'cellSize', options.cellSize ?? 3)
  const margin = options.margin ?? 0.1
  if (!(margin >= 0)) throw new PlotError(`${where}: margin must be >= 0, got ${margin}`)

  // the grid: res × res cells over a square around the data (one unit is as long on both axes,
  // so a circle looks round), widened by the margin
  const extent = [0, 1].map((a) => {
    let lo = Infinity
    let hi = -Infinity
    for (let i = 0; i < n; i++) {
      const v = data.x.data[2 * i + a]!
      lo = Math.min(lo, v)
      hi = Math.max(hi, v)
    }
    return [lo, hi] as const
  }) as [readonly [number, number], readonly [number, number]]
  const span = Math.max(extent[0][1] - extent[0][0], extent[1][1] - extent[1][0]) || 1
  const half = (span * (1 + 2 * margin)) / 2
  const [[x0, x1], [y0, y1]] = extent.map(([lo, hi]) => [(lo + hi) / 2 - half, (lo + hi) / 2 + half] as const) as [
    readonly [number, number],
    readonly [number, number],
  ]
  const dx = (x1 - x0) / res
  const dy = (y1 - y0) / res
  const grid = new Float64Array(2 * res * res)
  for (let r = 0; r < res; r++) {
    for (let c = 0; c < res; c++) {
      const k = r * res + c
      grid[2 * k] = x0 + (c + 0.5) * dx
      grid[2 * k + 1] = y0 + (r + 0.5) * dy
    }
  }
  const out = asTensor(options.predict(fromData([res * res, 2], grid))) // read only: a float32 model's scores read as numbers
  if (out.shape.length !== 2 || out.shape[0] !== res * res) {
    throw new PlotError(`${where}: predict must map points [${res * res}, 2] to scores [${res * res}, C], got [${out.shape.join(', ')}]`)
  }
  const width = out.shape[1]!
  const classes = width === 1 ? 2 : width
  let maxLabel = 0
  for (const l of labels) maxLabel = Math.max(maxLabel, l)
  if (maxLabel >= classes) throw new PlotError(`${where}: the data has class ${maxLabel} but the model scores only ${classes} classes`)
  const names = options.classNames ?? Array.from({ length: classes }, (_, c) => String(c))
  if (names.length !== classes) throw new PlotError(`${where}: ${names.length} class names for ${classes} classes`)

  const cells: { a: number; b: number; class: string; p: number }[] = []
  for (let k = 0; k < res * res; k++) {
    const row = out.data.subarray(k * width, (k + 1) * width)
    if (!row.every(Number.isFinite))
      throw new PlotError(`${where}: predict gave a non-finite score at grid point (${grid[2 * k]}, ${grid[2 * k + 1]})`)
    const { cls, p } = confidenceOf(row)
    cells.push({ a: round6(grid[2 * k]!), b: round6(grid[2 * k + 1]!), class: names[cls]!, p: round6(p) })
  }
  const points = thinIndices(n, checkInt(where, 'maxPoints', options.maxPoints ?? 2000, 2)).map((i) => ({
    a: round6(data.x.data[2 * i]!),
    b: round6(data.x.data[2 * i + 1]!),
    class: names[labels[i]!]!,
  }))
  const size = res * cell
  return {
    $schema: SCHEMA,
    title: options.title ?? { text: 'decision boundary', subtitle: 'regions: predicted class (paler: less sure) · points: true class' },
    width: size,
    height: size,
    encoding: {
      x: { field: 'a', type: 'quantitative', title: 'x₁', scale: { domain: [x0, x1], nice: false, zero: false }, axis: { grid: false } },
      y: { field: 'b', type: 'quantitative', title: 'x₂', scale: { domain: [y0, y1], nice: false, zero: false }, axis: { grid: false } },
      // one colour per class, shared by the regions (predicted) and the points (true)
      color: {
        field: 'class',
        type: 'nominal',
        title: 'class',
        scale: { domain: [...names], scheme: classes <= 10 ? 'tableau10' : 'category20' },
      },
    },
    layer: [
      {
        data: { values: cells },
        // each cell spans its centre ± half a cell
        transform: [
          { calculate: `datum.a - ${dx / 2}`, as: 'a0' },
          { calculate: `datum.a + ${dx / 2}`, as: 'a1' },
          { calculate: `datum.b - ${dy / 2}`, as: 'b0' },
          { calculate: `datum.b + ${dy / 2}`, as: 'b1' },
        ],
        mark: { type: 'rect', aria: false },
        encoding: {
          x: { field: 'a0', type: 'quantitative' },
          x2: { field: 'a1' },
          y: { field: 'b0', type: 'quantitative' },
          y2: { field: 'b1' },
          opacity: {
            field: 'p',
            type: 'quantitative',
            title: 'probability',
            scale: { domain: [1 / classes, 1], range: [0.08, 0.55] },
            legend: null,
          },
          tooltip: [
            { field: 'class', type: 'nominal', title: 'predicted' },
            { field: 'p', type: 'quantitative', title: 'probability', format: '.2f' },
          ],
        },
      },
      {
        data: { values: points },
        mark: { type: 'point', filled: true, size: 28, stroke: '#222222', strokeWidth: 0.6, opacity: 1 },
        encoding: {
          shape: { field: 'class', type: 'nominal', title: 'class', scale: { domain: [...names] } },
          tooltip: [
            { field: 'class', type: 'nominal', title: 'true class' },
            { field: 'a', type: 'quantitative', title: 'x₁', format: '.3f' },
            { field: 'b', type: 'quantitative', title: 'x₂', format: '.3f' },
          ],
        },
      },
    ],
  }
}
