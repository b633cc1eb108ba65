import { describe, expect, test } from 'vitest'
import { Data, Key, L, Loss, Optim, Schedule, T, Train, Tree } from '../../src/index.ts'
import * as Plot from '../../src/plot/index.ts'
import { toPng, toSvg, toVega } from '../../src/node/plot.ts'
import type { History } from '../../src/train/fit.ts'

// Every chart: its spec has the marks, encodings and data it should, it compiles without a
// single vega-lite or vega warning, and it renders to an SVG and to a PNG.

type Json = null | boolean | number | string | Json[] | { [k: string]: Json }
interface Unit {
  readonly mark: string
  readonly encoding: Record<string, { field?: string }>
  readonly values: readonly Record<string, Json>[] | undefined
}

/** The unit (mark) specs of a spec, through concat and layer, each with its encoding merged with its parents' and its data. */
const units = (spec: unknown, inherited: Record<string, { field?: string }> = {}, data?: readonly Record<string, Json>[]): Unit[] => {
  const s = spec as Record<string, unknown>
  const enc = { ...inherited, ...((s['encoding'] as Record<string, { field?: string }> | undefined) ?? {}) }
  const values = (s['data'] as { values?: Record<string, Json>[] } | undefined)?.values ?? data
  const out: Unit[] = []
  for (const k of ['vconcat', 'hconcat', 'layer'] as const) {
    const children = s[k] as unknown[] | undefined
    if (children !== undefined)
      for (const c of children) out.push(...units(c, k === 'layer' ? enc : {}, k === 'layer' ? values : undefined))
  }
  if (s['mark'] !== undefined) {
    const m = s['mark'] as string | { type: string }
    out.push({ mark: typeof m === 'string' ? m : m.type, encoding: enc, values })
  }
  return out
}

const field = (u: Unit, channel: string): string | undefined => u.encoding[channel]?.field

/** Compiles and renders, failing on any warning; returns the SVG and the PNG. */
const render = (spec: Plot.VegaLiteSpec): { svg: string; png: Uint8Array } => {
  const warnings: string[] = []
  const onWarning = (m: string): void => void warnings.push(m)
  toVega(spec, { onWarning })
  const svg = toSvg(spec, { onWarning })
  const png = toPng(spec, { onWarning, scale: 1 })
  expect(warnings).toEqual([])
  return { svg, png }
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]
/** The width and height a PNG declares in its IHDR chunk. */
const pngSize = (png: Uint8Array): [number, number] => {
  const v = new DataView(png.buffer, png.byteOffset, png.byteLength)
  return [v.getUint32(16), v.getUint32(20)]
}
const expectPng = (png: Uint8Array, minBytes = 5000): void => {
  expect([...png.subarray(0, 8)]).toEqual(PNG_SIGNATURE)
  expect(png.length).toBeGreaterThan(minBytes)
  const [w, h] = pngSize(png)
  expect(w).toBeGreaterThan(50)
  expect(h).toBeGreaterThan(50)
}
/** How many SVG elements vega labels with the mark (aria-roledescription "rect mark", "point", ...). */
const countMarks = (svg: string, mark: string): number =>
  (svg.match(new RegExp(`aria-roledescription="${mark}( mark)?"`, 'g')) ?? []).length

// a small, deterministic training run used by several charts
const spiral = Data.spirals(Key.fromSeed(0), { classes: 3, perClass: 40, noise: 0.1 })
const model = L.pipe(L.dense(16), L.relu, L.dense(16), L.relu, L.dense(3))
const loss = Loss.softmaxCrossEntropy
const run = Train.fit({
  model,
  loss,
  optimizer: Optim.sgd({ lr: 0.1, momentum: 0.9 }),
  data: spiral,
  epochs: 6,
  batchSize: 20,
  key: Key.fromSeed(1),
  validation: 0.25,
})

describe('ema: the debiased exponential moving average', () => {
  test('starts at the first value, weights the rest by α', () => {
    const s = Plot.ema([1, 0, 0], 0.5)
    expect(s[0]).toBe(1)
    expect(s[1]).toBeCloseTo(1 / 3, 15)
    expect(s[2]).toBeCloseTo(1 / 7, 15)
  })
  test('keeps a constant series constant, and smoothing 0 is the identity', () => {
    expect(Plot.ema([2, 2, 2, 2], 0.9).every((v) => Math.abs(v - 2) < 1e-12)).toBe(true)
    expect(Plot.ema([3, 1, 4], 0)).toEqual([3, 1, 4])
  })
  test('rejects a factor outside [0, 1)', () => {
    expect(() => Plot.ema([1], 1)).toThrow(/smoothing must be in \[0, 1\)/)
  })
})

describe('history: loss and accuracy per step and per epoch', () => {
  const h = run.history
  test('spec: a row of per-step panels (raw + smoothed) over a row of per-epoch panels (train + validation)', () => {
    const spec = Plot.history(h, { smoothing: 0.5 }) as { vconcat: { hconcat: unknown[] }[] }
    expect(spec.vconcat).toHaveLength(2)
    expect(spec.vconcat.map((r) => r.hconcat.length)).toEqual([2, 2])
    const us = units(spec)
    expect(us.map((u) => u.mark)).toEqual(['line', 'line', 'line', 'line'])
    for (const u of us) expect([field(u, 'x'), field(u, 'y'), field(u, 'color')]).toEqual(['x', 'value', 'series'])
    const [stepLoss, stepAcc, epochLoss, epochAcc] = us as [Unit, Unit, Unit, Unit]
    expect(stepLoss.values).toHaveLength(2 * h.steps.length)
    expect(stepAcc.values).toHaveLength(2 * h.steps.length)
    expect(epochLoss.values).toHaveLength(2 * h.epochs.length)
    expect(epochAcc.values).toHaveLength(2 * h.epochs.length)
    // raw values are the recorded ones; the smoothed series starts at the first one
    const raw = stepLoss.values!.filter((r) => r['series'] === 'per step').map((r) => r['value'])
    expect(raw[0]).toBeCloseTo(h.steps[0]!.loss, 5)
    const smooth = stepLoss.values!.filter((r) => r['series'] === 'smoothed').map((r) => r['value'])
    expect(smooth[0]).toBeCloseTo(h.steps[0]!.loss, 5)
    expect(epochLoss.values!.filter((r) => r['series'] === 'validation').map((r) => r['value'])[5]).toBeCloseTo(h.epochs[5]!.valLoss!, 5)
  })
  test('with smoothing 0 (the default for this 30-step run) the smoothed series would be the raw one: it is left out', () => {
    const [stepLoss] = units(Plot.history(h)) as [Unit]
    expect(stepLoss.values).toHaveLength(h.steps.length)
    expect(stepLoss.values!.every((r) => r['series'] === 'per step')).toBe(true)
    expect(render(Plot.history(h)).svg).not.toContain('smoothed')
  })
  test('renders: titles, legends and both series in the SVG; a PNG', () => {
    const { svg, png } = render(Plot.history(h, { smoothing: 0.5 }))
    expect(svg).toContain('<svg')
    for (const text of [
      'training history',
      'loss per step',
      'accuracy per step',
      'loss per epoch',
      'accuracy per epoch',
      'smoothed',
      'validation',
    ])
      expect(svg).toContain(text)
    expect(countMarks(svg, 'line')).toBeGreaterThanOrEqual(8) // 2 series × 4 panels
    expectPng(png, 20_000)
  })
  test('a long run is thinned to maxPoints per series, keeping the first and last step', () => {
    const steps = Array.from({ length: 5000 }, (_, i) => ({ step: i + 1, epoch: 0, loss: 1 / (i + 1), accuracy: undefined }))
    const long: History = { steps, epochs: [] }
    const spec = Plot.stepHistory(long, { maxPoints: 500 })
    const [u] = units(spec) as [Unit]
    expect(u.values).toHaveLength(1000)
    expect(u.values![0]!['x']).toBe(1)
    expect(u.values!.at(-1)!['x']).toBe(5000)
  })
  test('a regression run (no accuracy) and no validation: loss panels only, one series per epoch panel', () => {
    const hist: History = {
      steps: [1, 2, 3, 4].map((s) => ({ step: s, epoch: s > 2 ? 1 : 0, loss: 1 / s, accuracy: undefined })),
      epochs: [0, 1].map((e) => ({
        epoch: e,
        step: 2 * e + 2,
        loss: 1 / (e + 1),
        accuracy: undefined,
        valLoss: undefined,
        valAccuracy: undefined,
        seconds: 0,
      })),
    }
    const us = units(Plot.history(hist, { lossScale: 'log' }))
    expect(us).toHaveLength(2)
    expect(us[1]!.values).toHaveLength(2)
    const { svg } = render(Plot.history(hist, { lossScale: 'log' }))
    expect(svg).not.toContain('accuracy')
    expect(svg).not.toContain('validation')
    // the log axis spans the losses seen (0.25..1), not whole decades
    const y = (us[0] as unknown as { encoding: { y: { scale: { type: string; nice: boolean } } } }).encoding.y.scale
    expect(y).toEqual({ type: 'log', nice: false })
  })
  test('after one epoch there is no per-epoch row (it would be one dot per panel): only the per-step panels', () => {
    const first: History = { steps: h.steps.filter((s) => s.epoch === h.epochs[0]!.epoch), epochs: h.epochs.slice(0, 1) }
    const spec = Plot.history(first) as { vconcat: { hconcat: unknown[] }[] }
    expect(spec.vconcat).toHaveLength(1)
    expect(render(Plot.history(first)).svg).not.toContain('per epoch')
  })
  test('an empty history is an error that says so', () => {
    expect(() => Plot.history({ steps: [], epochs: [] })).toThrow(/history is empty/)
  })
})

describe('compareRuns: several runs on shared axes, one colour and dash pattern per run', () => {
  const other = Train.fit({
    model,
    loss,
    optimizer: Optim.adam({ lr: 0.01 }),
    data: spiral,
    epochs: 6,
    batchSize: 20,
    key: Key.fromSeed(1),
    validation: 0.25,
  })
  const runs = [
    { name: 'sgd + momentum', history: run.history },
    { name: 'adam', history: other.history },
  ]
  test("spec: a loss panel and an accuracy panel, each one smoothed line per run, the run's name as its series", () => {
    const us = units(Plot.compareRuns(runs, { smoothing: 0.5 }))
    expect(us.map((u) => u.mark)).toEqual(['line', 'line'])
    const [lossPanel, accPanel] = us as [Unit, Unit]
    for (const u of us)
      expect([field(u, 'x'), field(u, 'y'), field(u, 'color'), field(u, 'strokeDash')]).toEqual(['x', 'value', 'series', 'series'])
    expect(lossPanel.values).toHaveLength(run.history.steps.length + other.history.steps.length)
    expect(accPanel.values).toHaveLength(run.history.steps.length + other.history.steps.length)
    // each run's line is its own smoothed per-step loss, as the history chart draws it
    const adam = lossPanel.values!.filter((r) => r['series'] === 'adam').map((r) => r['value'])
    const own = Plot.stepRows(other.history, 'loss', { smoothing: 0.5 })
      .filter((r) => r.series === 'smoothed')
      .map((r) => r.value)
    expect(adam).toEqual(own)
  })
  test('renders both runs, named in the legend; a PNG', () => {
    const { svg, png } = render(Plot.compareRuns(runs, { lossScale: 'log' }))
    for (const text of ['runs compared', 'loss per step', 'accuracy per step', 'sgd + momentum', 'adam']) expect(svg).toContain(text)
    expectPng(png, 10_000)
  })
  test('no runs, a run without steps, or two runs of one name are errors that say so', () => {
    expect(() => Plot.compareRuns([])).toThrow('compareRuns: needs at least one run { name, history }')
    expect(() => Plot.compareRuns([{ name: 'x', history: { steps: [], epochs: [] } }])).toThrow("compareRuns: run 'x' has no steps")
    expect(() => Plot.compareRuns([runs[0]!, { ...runs[1]!, name: 'sgd + momentum' }])).toThrow(
      "compareRuns: two runs are named 'sgd + momentum'; names label the lines",
    )
  })
})

describe('learningRate: the schedule over the steps', () => {
  const lr = Schedule.stepDecay({ init: 0.1, factor: 0.5, every: 40 })
  test('spec: one point per step (0..steps), the schedule value at each, epoch rules', () => {
    const spec = Plot.learningRate(lr, { steps: 120, stepsPerEpoch: 30 })
    const [rules, line] = units(spec) as [Unit, Unit]
    expect(rules.mark).toBe('rule')
    expect(rules.values).toHaveLength(4)
    expect(line.mark).toBe('line')
    expect([field(line, 'x'), field(line, 'y')]).toEqual(['step', 'lr'])
    expect(line.values).toHaveLength(121)
    for (const r of line.values!) expect(r['lr']).toBeCloseTo(lr(r['step'] as number), 12)
  })
  test('long runs are sampled, keeping step 0 and the last step', () => {
    const [line] = units(Plot.learningRate(Schedule.cosineDecay({ init: 1, steps: 10_000 }), { steps: 10_000, maxPoints: 200 })) as [Unit]
    expect(line.values).toHaveLength(200)
    expect(line.values![0]!['step']).toBe(0)
    expect(line.values!.at(-1)!['step']).toBe(10_000)
  })
  test('renders with its title and axis titles', () => {
    const { svg, png } = render(Plot.learningRate(lr, { steps: 120, stepsPerEpoch: 30, scale: 'log' }))
    for (const text of ['learning rate', 'step']) expect(svg).toContain(text)
    expectPng(png)
  })
  test('a log axis refuses a schedule that reaches 0', () => {
    expect(() => Plot.learningRate(Schedule.cosineDecay({ init: 1, steps: 10 }), { steps: 10, scale: 'log' })).toThrow(
      /log axis needs positive values.*step 10/,
    )
  })
})

describe('confusionMatrix: true class against predicted, with counts', () => {
  const labels = [0, 0, 0, 1, 1, 2, 2, 2, 2]
  const preds = [0, 0, 1, 1, 1, 2, 0, 2, 2]
  test('confusionCounts counts each (true, predicted) pair', () => {
    expect(Plot.confusionCounts(labels, preds)).toEqual([
      [2, 1, 0],
      [0, 2, 0],
      [1, 0, 3],
    ])
  })
  test('takes tensors too: labels [N] and scores [N, C] (argmax)', () => {
    const scores = T.tensor([
      [2, 1],
      [0, 3],
      [5, -1],
    ])
    expect(Plot.confusionCounts(T.tensor([0, 1, 1]), scores)).toEqual([
      [1, 0],
      [1, 1],
    ])
  })
  test('spec: a rect per cell coloured by the row share, a text per cell with its count', () => {
    const spec = Plot.confusionMatrix(labels, preds, { classNames: ['cat', 'dog', 'eel'] })
    const [rect, text] = units(spec) as [Unit, Unit]
    expect(rect.mark).toBe('rect')
    expect(text.mark).toBe('text')
    expect([field(rect, 'x'), field(rect, 'y'), field(rect, 'color')]).toEqual(['predicted', 'true', 'share'])
    expect(field(text, 'text')).toBe('count')
    expect(rect.values).toHaveLength(9)
    const cell = rect.values!.find((r) => r['true'] === 'eel' && r['predicted'] === 'cat')!
    expect(cell).toEqual({ true: 'eel', predicted: 'cat', count: 1, share: 0.25 })
  })
  test('renders the counts, the class names and the accuracy', () => {
    const { svg, png } = render(Plot.confusionMatrix(labels, preds, { classNames: ['cat', 'dog', 'eel'] }))
    for (const text of [
      'confusion matrix',
      'accuracy 77.78% on 9 examples',
      'cat',
      'eel',
      'predicted class',
      'true class',
      'share of true class',
    ])
      expect(svg).toContain(text)
    expect(countMarks(svg, 'rect')).toBe(9)
    expect(countMarks(svg, 'text')).toBe(9)
    expectPng(png)
  })
  test('mismatched lengths and out-of-range classes are errors', () => {
    expect(() => Plot.confusionCounts([0, 1], [0])).toThrow(/2 labels but 1 predictions/)
    expect(() => Plot.confusionCounts([0, 3], [0, 1], 3)).toThrow(/label 3 of example 1 is not a class index in 0..2/)
  })
})

describe('image grids: digits, dense weights, conv filters, mistakes', () => {
  // 6 little 5×4 "images" with a bright column that moves
  const x = T.generate([6, 1, 5, 4], (i) => (i % 4 === Math.floor(i / 20) % 4 ? 1 : 0.1))
  test('imageGrid: one rect per pixel, placed by calculate transforms; captions as text', () => {
    const pics = Plot.picturesOf(x, 6, ['a', 'b', 'c', 'd', 'e', 'f'])
    const spec = Plot.imageGrid(pics, { columns: 3, pixelSize: 5 })
    const [pixels, frames, captions] = units(spec) as [Unit, Unit, Unit]
    expect(pixels.mark).toBe('rect')
    expect(pixels.values).toHaveLength(6 * 5 * 4)
    expect(frames.values).toHaveLength(6)
    expect([field(pixels, 'x'), field(pixels, 'x2'), field(pixels, 'y'), field(pixels, 'y2'), field(pixels, 'color')]).toEqual([
      'x',
      'x2',
      'y',
      'y2',
      'v',
    ])
    expect(captions.mark).toBe('text')
    expect(captions.values!.map((c) => c['title'])).toEqual(['a', 'b', 'c', 'd', 'e', 'f'])
    const { svg, png } = render(spec)
    expect(countMarks(svg, 'text')).toBe(6)
    expect(svg).toContain('>f</text>')
    expect(svg.split('<path').length - 1).toBeGreaterThanOrEqual(120) // the pixels (aria off, so counted as paths)
    expectPng(png, 2000)
  })
  test('denseWeights: column j of W [in, units] becomes unit j, scaled per unit to [-1, 1]', () => {
    const W = T.generate([20, 3], (i) => (i % 3 === 1 ? -(i + 1) : i + 1))
    const spec = Plot.denseWeights(W, [5, 4])
    const [pixels] = units(spec) as [Unit]
    expect(pixels.values).toHaveLength(3 * 20)
    const unit1 = pixels.values!.filter((r) => r['i'] === 1).map((r) => r['v'] as number)
    expect(Math.min(...unit1)).toBe(-1) // unit 1's weights are all negative; the largest |w| maps to -1
    expect(unit1[0]).toBeCloseTo(-2 / 59, 5) // W[0, 1] = -2, max |W[:, 1]| = 59
    const { svg, png } = render(spec)
    for (const text of ['first-layer weights', 'weight / max |w|']) expect(svg).toContain(text)
    expectPng(png, 2000)
    expect(() => Plot.denseWeights(W, [28, 28])).toThrow(/need 784 inputs per unit, but W has 20/)
  })
  test('convFilters: one kh×kw image per (filter, input channel)', () => {
    const K = T.generate([4, 2, 3, 3], (i) => Math.sin(i))
    const spec = Plot.convFilters(K)
    const [pixels, , captions] = units(spec) as [Unit, Unit, Unit]
    expect(pixels.values).toHaveLength(4 * 2 * 9)
    expect(captions.values).toHaveLength(8)
    expect(captions.values![3]!['title']).toBe('1·1')
    const { svg } = render(spec)
    expect(svg).toContain('conv filters')
  })
  test('convFilters: the colour bar ends at ± the largest |weight|, and its end labels say so (not rounded out to ±1)', () => {
    const K = T.generate([2, 1, 3, 3], (i) => (i === 4 ? -0.945 : 0.5 * Math.sin(i)))
    const spec = Plot.convFilters(K)
    const [pixels] = units(spec) as [Unit]
    const color = (pixels as unknown as { encoding: { color: { scale: { domain: number[]; nice: boolean } } } }).encoding.color
    expect(color.scale.domain).toEqual([-0.945, 0.945])
    expect(color.scale.nice).toBe(false)
    const { svg } = render(spec)
    expect(svg).toContain('>0.945<')
    expect(svg).toContain('>−0.945<')
  })
  test('misclassified: the wrong ones only, captioned true and predicted', () => {
    const labels = T.tensor([0, 1, 2, 3, 0, 1])
    const preds = Int32Array.from([0, 2, 2, 1, 0, 0])
    const spec = Plot.misclassified(x, labels, preds, { classNames: ['zero', 'one', 'two', 'three'], pixelSize: 20 })
    const [pixels, , captions] = units(spec) as [Unit, Unit, Unit]
    expect(pixels.values).toHaveLength(3 * 20)
    expect(captions.values!.map((c) => c['title'])).toEqual([
      ['true one', 'pred two'],
      ['true three', 'pred one'],
      ['true one', 'pred zero'],
    ])
    const { svg, png } = render(spec)
    for (const text of ['misclassified examples', 'the first 3 of 3 mistakes in 6 examples', '>true three</tspan>', '>pred one</tspan>'])
      expect(svg).toContain(text)
    expectPng(png, 2000)
  })
  test('defaultColumns: about √n, filling every row when a divisor is near, at most 16', () => {
    expect([1, 7, 10, 16, 32, 64, 1000].map(Plot.defaultColumns)).toEqual([1, 3, 5, 4, 8, 8, 16])
  })
  test('bad images are errors that name the problem', () => {
    expect(() => Plot.imageGrid([])).toThrow(/no images/)
    expect(() => Plot.imageGrid([{ pixels: T.zeros([2, 2]) }, { pixels: T.zeros([3, 2]) }])).toThrow(
      /image 1 is \[3, 2\] but image 0 is \[2, 2\]/,
    )
    expect(() => Plot.picturesOf(T.zeros([2, 3, 4, 4]))).toThrow(/expected images \[N, H, W\] or \[N, 1, H, W\]/)
    expect(() => Plot.imageGrid([{ pixels: T.tensor([[0, NaN]]) }])).toThrow(/non-finite pixel/)
  })
})

describe('decisionBoundary: predicted class over a grid, data on top', () => {
  test('spec: a rect per grid cell coloured by predicted class, a point per example', () => {
    const predict = (pts: T.Tensor): T.Tensor => Train.predict(model, run.state.params, run.state.state, pts)
    const spec = Plot.decisionBoundary({ predict, data: spiral, resolution: 30 })
    const [cells, points] = units(spec) as [Unit, Unit]
    expect(cells.mark).toBe('rect')
    expect(cells.values).toHaveLength(900)
    expect([field(cells, 'x'), field(cells, 'x2'), field(cells, 'color'), field(cells, 'opacity')]).toEqual(['a0', 'a1', 'class', 'p'])
    expect(points.mark).toBe('point')
    expect(points.values).toHaveLength(120)
    expect(field(points, 'color')).toBe('class')
    const { svg, png } = render(spec)
    for (const text of ['decision boundary', 'class', 'x₁', 'x₂']) expect(svg).toContain(text)
    expect(countMarks(svg, 'point')).toBe(120)
    expectPng(png, 10_000)
  })
  test('the class and probability of each cell come from predict (binary logits too)', () => {
    // logit = x₁: class 1 right of 0, class 0 left of it, surer further out
    const data = Data.make(
      T.tensor([
        [-1, -1],
        [1, 1],
      ]),
      T.tensor([0, 1]),
    )
    const spec = Plot.decisionBoundary({
      predict: (pts) => T.generate([pts.shape[0]!, 1], (i) => pts.data[2 * i]! * 4),
      data,
      resolution: 10,
      classNames: ['left', 'right'],
    })
    const [cells] = units(spec) as [Unit]
    for (const c of cells.values!) {
      expect(c['class']).toBe((c['a'] as number) > 0 ? 'right' : 'left')
      expect(c['p']).toBeCloseTo(1 / (1 + Math.exp(-4 * Math.abs(c['a'] as number))), 5)
    }
    render(spec)
  })
  test('rejects non-2-D data and a predict of the wrong shape', () => {
    expect(() => Plot.decisionBoundary({ predict: (p) => p, data: Data.make(T.zeros([3, 3]), T.zeros([3])) })).toThrow(
      /data.x must be points \[N, 2\]/,
    )
    expect(() => Plot.decisionBoundary({ predict: () => T.zeros([3]), data: spiral, resolution: 4 })).toThrow(
      /predict must map points \[16, 2\] to scores \[16, C\]/,
    )
  })
})

describe('gradient norms per layer', () => {
  const params = run.state.params
  const batch = { x: T.sliceRows(spiral.x, 0, 32), y: T.sliceRows(spiral.y, 0, 32) }
  test('leafGradientNorms equals ‖dp‖ of a forward + loss + vjp, leaf by leaf, named by layer path', () => {
    const norms = Plot.leafGradientNorms({ model, params, state: run.state.state, batch, loss })
    const { y, tape } = model.forward(params, run.state.state, batch.x, { mode: 'train', key: Key.fromSeed(0) })
    const { dp } = model.vjp(params, tape, loss(y, batch.y).grad)
    const want = Tree.leavesWithPaths(dp).map(({ path, leaf }) => ({ path, norm: T.norm(leaf) }))
    expect(norms.map((n) => n.path)).toEqual(want.map((w) => w.path))
    norms.forEach((n, i) => expect(n.norm).toBeCloseTo(want[i]!.norm, 12))
    expect(norms.map((n) => n.layer)).toEqual([
      'pipe[0].dense',
      'pipe[0].dense',
      'pipe[2].dense',
      'pipe[2].dense',
      'pipe[4].dense',
      'pipe[4].dense',
    ])
  })
  test("gradientNorms joins a layer's leaves: ‖(dW, db)‖ = √(‖dW‖² + ‖db‖²)", () => {
    const leaves = Plot.leafGradientNorms({ model, params, state: run.state.state, batch, loss })
    const layers = Plot.gradientNorms({ model, params, state: run.state.state, batch, loss })
    expect(layers.map((l) => l.layer)).toEqual(['pipe[0].dense', 'pipe[2].dense', 'pipe[4].dense'])
    expect(layers[1]!.norm).toBeCloseTo(Math.hypot(leaves[2]!.norm, leaves[3]!.norm), 12)
    expect(layers[2]!.size).toBe(16 * 3 + 3)
  })
  test('ownerOf names layers inside residuals and nested pipes as error paths do', () => {
    const net = L.pipe(L.dense(4), L.residual(L.pipe(L.dense(4), L.tanh)), L.dense(2))
    expect(Plot.ownerOf(net.spec, '[1][0].W')).toBe('pipe[1].residual.pipe[0].dense')
    expect(Plot.ownerOf(net.spec, '[2].b')).toBe('pipe[2].dense')
    expect(Plot.ownerOf(L.dense(3).spec, 'W')).toBe('dense')
  })
  test('recordGradientNorms measures after step 1 and every k steps, without changing training', () => {
    const rec = Plot.recordGradientNorms({ model, loss, batch, every: 5 })
    const opts = {
      model,
      loss,
      optimizer: Optim.sgd({ lr: 0.1, momentum: 0.9 }),
      data: spiral,
      epochs: 2,
      batchSize: 20,
      key: Key.fromSeed(1),
    }
    const plain = Train.fit(opts)
    const withRec = Train.fit({ ...opts, callbacks: rec.callbacks })
    expect(Tree.leaves(withRec.state.params).map((t) => [...t.data])).toEqual(Tree.leaves(plain.state.params).map((t) => [...t.data]))
    const steps = [...new Set(rec.records().map((r) => r.step))]
    expect(steps).toEqual([1, 5, 10])
    expect(rec.records()).toHaveLength(9)
  })
  test('gradientNormChart: a line per layer over the steps, log axis; renders', () => {
    const rec = Plot.recordGradientNorms({ model, loss, batch, every: 2 })
    Train.fit({
      model,
      loss,
      optimizer: Optim.sgd({ lr: 0.1 }),
      data: spiral,
      epochs: 2,
      batchSize: 20,
      key: Key.fromSeed(1),
      callbacks: rec.callbacks,
    })
    const spec = Plot.gradientNormChart(rec.records())
    const [u] = units(spec) as [Unit]
    expect(u.mark).toBe('line')
    expect([field(u, 'x'), field(u, 'y'), field(u, 'color')]).toEqual(['step', 'value', 'layer'])
    expect(u.values).toHaveLength(rec.records().length)
    const { svg, png } = render(spec)
    for (const text of ['gradient norm per layer', 'pipe[0].dense', 'pipe[4].dense']) expect(svg).toContain(text)
    expectPng(png)
    const rel = units(Plot.gradientNormChart(rec.records(), { measure: 'relative' }))[0]!
    expect(rel.values![0]!['value']).toBeCloseTo(rec.records()[0]!.norm / rec.records()[0]!.paramNorm, 5)
  })
})
