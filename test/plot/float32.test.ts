/**
 * Plots of float32 runs: every chart given float32 tensors, params or predictions is the chart of
 * the same values in float64 (the values here are exact in float32, so the specs are equal), the
 * gradient-norm recorder runs inside a float32 fit (its probe batch cast to the params' dtype, as a
 * step casts it), and a float32 run's history plots beside a float64 one's.
 */
import { describe, expect, test } from 'vitest'
import { Data, Key, L, Loss, Optim, T, Train, Tree } from '../../src/index.ts'
import * as Plot from '../../src/plot/index.ts'
import { toSvg } from '../../src/node/plot.ts'

const f32 = (t: T.Tensor): T.Tensor => T.asTensor(T.cast(t, 'float32'))
/** Values exact in float32: multiples of 1/64. */
const grid = (shape: readonly number[]): T.Tensor => T.generate(shape, (i) => ((i * 37) % 128) / 64 - 1)

const spiral = Data.spirals(Key.fromSeed(0), { classes: 3, perClass: 30, noise: 0.1 })
const model = L.pipe(L.dense(12), L.relu, L.dense(3))
const loss = Loss.softmaxCrossEntropy
const probe = Data.slice(spiral, 0, 32)
const options = {
  model,
  loss,
  optimizer: Optim.sgd({ lr: 0.1, momentum: 0.9 }),
  data: spiral,
  epochs: 2,
  batchSize: 15,
  key: Key.fromSeed(1),
  validation: 0.2,
}

describe('Plot given float32 values draws what it draws for the same values in float64', () => {
  test('imageGrid, convFilters, denseWeights and misclassified: the same spec; the float32 grid renders', () => {
    const images = grid([6, 4, 5])
    expect(Plot.imageGrid(f32(images))).toEqual(Plot.imageGrid(images))
    const K = grid([3, 2, 3, 3])
    expect(Plot.convFilters(f32(K))).toEqual(Plot.convFilters(K))
    const W = grid([20, 4])
    expect(Plot.denseWeights(f32(W), [5, 4])).toEqual(Plot.denseWeights(W, [5, 4]))
    const labels = T.tensor([0, 1, 2, 1, 0, 2])
    const scores = grid([6, 3])
    expect(Plot.misclassified(f32(images), f32(labels), f32(scores))).toEqual(Plot.misclassified(images, labels, scores))
    expect(toSvg(Plot.imageGrid(f32(images)))).toContain('<svg')
  })

  test('confusionMatrix: float32 scores and labels give the float64 counts', () => {
    const labels = T.tensor([0, 1, 2, 2, 1, 0, 0])
    const scores = grid([7, 3])
    expect(Plot.confusionMatrix(f32(labels), f32(scores))).toEqual(Plot.confusionMatrix(labels, scores))
    expect(Plot.confusionCounts(f32(labels), f32(scores))).toEqual(Plot.confusionCounts(labels, scores))
  })

  test("decisionBoundary of a float32 model: Train.predict casts the float64 grid, and the spec is the float64 predictions'", () => {
    const run = Train.fit({ ...options, dtype: 'float32' })
    expect(Tree.dtypeOfTree(run.state.params)).toBe('float32')
    const predict32 = (x: T.Tensor): T.Tensor => T.asTensor(Train.predict(model, run.state.params, run.state.state, x)) // a Tensor32
    expect(predict32(spiral.x).data).toBeInstanceOf(Float32Array)
    const predict64 = (x: T.Tensor): T.Tensor => T.cast(predict32(x), 'float64')
    expect(Plot.decisionBoundary({ predict: predict32, data: spiral, resolution: 12 })).toEqual(
      Plot.decisionBoundary({ predict: predict64, data: spiral, resolution: 12 }),
    )
  })

  test('gradient norms of float32 params: the float64 probe batch cast to float32, the norms of the float32 gradients', () => {
    const { params, state } = L.initialize(model, Key.fromSeed(2), [2], { dtype: 'float32' })
    const norms = Plot.leafGradientNorms({ model, params, state, batch: probe, loss })
    // by hand: the batch in float32, forward, loss, vjp, and the 2-norm of each float32 gradient leaf
    const x = f32(probe.x)
    const model32 = L.asDType(model, 'float32')
    const { y, tape } = model32.forward(params, state, T.cast(x, 'float32'), { mode: 'train', key: Key.fromSeed(0) })
    const { dp } = model32.vjp(params, tape, T.cast(loss(T.asTensor(y), f32(probe.y)).grad, 'float32'))
    const leaves = Tree.leaves(dp)
    expect(leaves.every((g) => g.data instanceof Float32Array)).toBe(true)
    const norm = (t: T.Tensor): number => Math.sqrt(t.data.reduce((s, v) => s + v * v, 0))
    expect(norms.map((n) => n.norm)).toEqual(leaves.map(norm))
    expect(norms.map((n) => n.paramNorm)).toEqual(Tree.leaves(params).map(norm))
  })

  test('recordGradientNorms inside a float32 fit, gradientNormChart of its records, and compareRuns of a float32 and a float64 run', () => {
    const rec = Plot.recordGradientNorms({ model, loss, batch: probe, every: 3 })
    const run32 = Train.fit({ ...options, dtype: 'float32', callbacks: rec.callbacks })
    const run64 = Train.fit(options)
    expect(rec.records().length).toBeGreaterThan(0)
    expect(rec.records().every((r) => Number.isFinite(r.norm) && r.norm > 0)).toBe(true)
    expect(toSvg(Plot.gradientNormChart(rec.records()))).toContain('<svg')
    expect(run32.history.steps).toHaveLength(run64.history.steps.length)
    const runs = [
      { name: 'float64', history: run64.history },
      { name: 'float32', history: run32.history },
    ]
    const svg = toSvg(Plot.compareRuns(runs))
    for (const name of ['float64', 'float32']) expect(svg).toContain(name)
    expect(toSvg(Plot.history(run32.history))).toContain('<svg')
  })
})
