import { describe, expect, test } from 'vitest'
import { L, Plot, T, Train } from 'chainrule'
import { defaults, type Config } from '../../playground/core/config.ts'
import { build, firstBatch, fitOptions, initialState } from '../../playground/core/build.ts'
import {
  classMap,
  exampleActivations,
  firstLayerWeights,
  gradientNorms,
  layerOutputs,
  mistakes,
  nonFiniteHint,
  planeGrid,
  recorder,
  redrawPacer,
  unitMaps,
} from '../../playground/core/train.ts'
import { mnistBytes } from './support.ts'

const bits = (t: T.Tensor): string => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).toString('hex')

describe('train: what live training shows, as data', () => {
  const run = build(defaults('spiral'))
  const ts = initialState(run)
  const grid = planeGrid(run.data, 12)

  test('the plane grid is square around the data, cell centres row by row from the bottom left', () => {
    expect(grid.points.shape).toEqual([144, 2])
    expect(grid.x1 - grid.x0).toBeCloseTo(grid.y1 - grid.y0, 12)
    const [px, py] = [grid.points.data[0]!, grid.points.data[1]!]
    expect(px).toBeCloseTo(grid.x0 + (grid.x1 - grid.x0) / 24, 12)
    expect(py).toBeCloseTo(grid.y0 + (grid.y1 - grid.y0) / 24, 12)
    expect(grid.points.data[2]!).toBeGreaterThan(px) // the next point is to the right, same row
    expect(grid.points.data[3]!).toBe(py)
    for (let i = 0; i < run.data.x.data.length; i += 2) {
      expect(run.data.x.data[i]!).toBeGreaterThan(grid.x0)
      expect(run.data.x.data[i]!).toBeLessThan(grid.x1)
    }
  })

  test('unit maps: the first dense layer’s unit u at a grid point is x·W[:, u] + b[u], and the last layer’s maps are the network output', () => {
    const maps = unitMaps(run, ts.params, ts.state, grid)
    expect(maps.map((m) => m.name)).toEqual(run.shapes.map((s) => s.name))
    const { W, b } = (ts.params as readonly { W: T.Tensor; b: T.Tensor }[])[0]!
    const k = 37
    const [x, y] = [grid.points.data[2 * k]!, grid.points.data[2 * k + 1]!]
    for (const u of [0, 5, 15]) expect(maps[0]!.units[u]!.values[k]).toBeCloseTo(x * W.data[u]! + y * W.data[16 + u]! + b.data[u]!, 12)
    const out = Train.predict(run.model, ts.params, ts.state, grid.points)
    const last = maps.at(-1)!
    for (let u = 0; u < 3; u++)
      expect(bits(T.fromData([144], last.units[u]!.values))).toBe(bits(T.generate([144], (i) => out.data[3 * i + u]!)))
    for (const m of maps) for (const unit of m.units) for (const v of unit.values) expect(v >= m.min && v <= m.max).toBe(true)
  })

  test('the class map is the argmax of Train.predict, with its softmax probability', () => {
    const map = classMap(run, ts.params, ts.state, grid.points)
    const out = Train.predict(run.model, ts.params, ts.state, grid.points)
    expect(Array.from(map.classes)).toEqual(Array.from(T.argmaxRows(out)))
    const p = L.softmaxRows(out)
    map.classes.forEach((c, i) => expect(map.probability[i]).toBe(p.data[3 * i + c]))
  })

  test('gradient norms carry the layers’ names, not their paths, with the numbers of Plot.gradientNorms', () => {
    const batch = firstBatch(run)
    const named = gradientNorms(run, ts, batch)
    const plain = Plot.gradientNorms({ model: run.model, params: ts.params, state: ts.state, batch, loss: run.loss })
    expect(named.map((g) => g.layer)).toEqual(['dense 1 (2→16)', 'dense 2 (16→16)', 'dense 3 (16→3)'])
    expect(named.map((g) => g.norm)).toEqual(plain.map((g) => g.norm))
  })

  test('the recorder keeps every step and epoch of a run and gradient norms under the layers’ names', () => {
    const short = build({ ...defaults('spiral'), epochs: 2 })
    const rec = recorder(short, { every: 5 })
    Train.fit({ ...fitOptions(short), callbacks: [...rec.callbacks] })
    expect(rec.history.steps.length).toBe(2 * short.stepsPerEpoch)
    expect(rec.history.epochs.map((e) => e.epoch)).toEqual([1, 2])
    const steps = [...new Set(rec.gradients().map((g) => g.step))]
    expect(steps).toEqual([1, 5, 10, 15, 20])
    expect(new Set(rec.gradients().map((g) => g.layer))).toEqual(new Set(['dense 1 (2→16)', 'dense 2 (16→16)', 'dense 3 (16→3)']))
    Plot.gradientNormChart(rec.gradients()) // a spec the page can draw
  })

  test('the recorder’s probe holds every class of a set stored class by class, and costs at most the training it watches', () => {
    const short = build({ ...defaults('spiral'), epochs: 3 }) // 300 points, class 0 first, then 1, then 2
    expect([...short.data.y.data.slice(0, 100)].every((c) => c === 0)).toBe(true)
    const rec = recorder(short, { probe: 150 })
    expect(rec.probe.x.shape).toEqual([150, 2])
    expect(new Set(rec.probe.y.data)).toEqual(new Set([0, 1, 2]))
    expect([...rec.probe.y.data].filter((c) => c === 2).length).toBe(50)
    Train.fit({ ...fitOptions(short), callbacks: [...rec.callbacks] })
    // 30 steps of 32: about 100 records would be every step; 150 examples a record allow one every 5 steps
    expect([...new Set(rec.gradients().map((g) => g.step))]).toEqual([1, 5, 10, 15, 20, 25, 30])
  })
})

describe('train: when live training redraws', () => {
  /** The epochs after which a run of `run` epochs redraws, when each epoch takes `msPerEpoch` of the clock. */
  const redraws = (run: number, msPerEpoch: number, options?: Parameters<typeof redrawPacer>[1]): number[] => {
    const due = redrawPacer(run, options)
    return Array.from({ length: run }, (_, i) => i + 1).filter((epoch) => due(epoch, epoch * msPerEpoch))
  }

  test('on a slow machine a run redraws at most maxRedraws times, evenly: the drawing is bounded by the run, not the clock', () => {
    expect(redraws(200, 1000)).toEqual(Array.from({ length: 25 }, (_, i) => 8 * (i + 1)))
    expect(redraws(200, 1000, { maxRedraws: 5 })).toEqual([40, 80, 120, 160, 200])
    expect(redraws(10, 1000)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) // a short run: every epoch
  })

  test('on a fast machine the interval binds: one redraw per everyMs of the clock', () => {
    const drawn = redraws(200, 10, { everyMs: 300 }) // 2 s in all: one redraw every 30 epochs
    expect(drawn).toEqual([8, 38, 68, 98, 128, 158, 188])
  })
})

describe('train: MNIST views', () => {
  const config: Config = { ...defaults('mnist'), data: { set: 'mnist', size: 64, testSize: 50 } }
  const run = build(config, mnistBytes())
  const ts = initialState(run)

  test('the first layer’s filters are the conv2d kernels [8, 1, 3, 3]; a dense after a flatten pictures 28×28 images', () => {
    const w = firstLayerWeights(run, ts.params)
    expect(w?.kind).toBe('conv2d')
    expect(w?.W.shape).toEqual([8, 1, 3, 3])
    Plot.convFilters(w!.W)
    const mlp = build({ ...config, layers: [{ kind: 'flatten' }, { kind: 'dense', units: 10 }] }, mnistBytes())
    const dense = firstLayerWeights(mlp, initialState(mlp).params)
    expect(dense).toMatchObject({ kind: 'dense', name: 'dense 1 (784→10)', imageShape: [28, 28] })
  })

  test('one digit’s activations follow it through every layer; the last is Train.predict’s output for it', () => {
    const acts = exampleActivations(run, ts.params, ts.state, run.test!, 3)
    expect(acts.map((a) => a.y.shape)).toEqual(run.shapes.map((s) => s.outShape))
    const out = Train.predict(run.model, ts.params, ts.state, T.gatherRows(run.test!.x, [3]))
    expect(bits(acts.at(-1)!.y)).toBe(bits(out))
  })

  test('the mistakes are the examples whose evaluated class differs from the label', () => {
    const m = mistakes(run, ts.params, ts.state, run.test!, 5)
    const { predictions, accuracy } = Train.evaluate(run.model, ts.params, ts.state, run.test!, { loss: run.loss })
    expect(m.accuracy).toBe(accuracy)
    expect(m.total).toBe(Math.round(50 * (1 - accuracy!)))
    expect(m.rows.length).toBe(Math.min(5, m.total))
    for (const [j, i] of m.rows.entries()) {
      expect(m.predictions[j]).toBe(predictions![i])
      expect(m.labels[j]).toBe(run.test!.y.data[i])
      expect(m.labels[j]).not.toBe(m.predictions[j])
    }
    expect(m.x.shape).toEqual([m.rows.length, 1, 28, 28])
  })

  test('layer outputs run in eval mode: dropout passes its input through', () => {
    const drop = build({
      ...defaults('xor'),
      layers: [
        { kind: 'dense', units: 4 },
        { kind: 'dropout', rate: 0.9 },
        { kind: 'dense', units: 2 },
      ],
    })
    const s = initialState(drop)
    const [dense, dropout] = layerOutputs(drop, s.params, s.state, drop.data.x)
    expect(bits(dropout!.y)).toBe(bits(dense!.y))
  })
})

describe('train: what to try when the loss becomes non-finite', () => {
  test('the hint names the learning rate the run used, a number or a schedule as the address spells it', () => {
    const big = { ...defaults('spiral'), lr: { kind: 'constant', value: 1e200 } } as const
    expect(nonFiniteHint(big)).toContain('the learning rate, 1e+200, is most likely too large')
    const schedule = { ...defaults('spiral'), lr: { kind: 'cosineDecay', init: 50, floor: 0 } } as const
    expect(nonFiniteHint(schedule)).toContain('the learning rate, the schedule cosineDecay:50:0, is most likely too large')
  })

  test('and it is the cure: the same run with a learning rate ten times smaller, each time, ends finite', () => {
    let c: Config = { ...defaults('spiral'), optimizer: { name: 'sgd', momentum: 0, nesterov: false, weightDecay: 0 }, epochs: 1 }
    const finite = (lr: number): boolean => {
      c = { ...c, lr: { kind: 'constant', value: lr } }
      try {
        Train.fit(fitOptions(build(c)))
        return true
      } catch (e) {
        if (e instanceof Error && e.name === 'NonFiniteError') return false
        throw e
      }
    }
    expect(finite(1e200)).toBe(false)
    let lr = 1e200
    while (!finite(lr)) lr /= 10
    expect(lr).toBeGreaterThan(1e-3) // far from a learning rate that does nothing
  })
})
