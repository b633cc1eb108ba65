import { describe, expect, test } from 'vitest'
import { T, Train, Tree } from 'chainrule'
import { defaults, type Config } from '../../playground/core/config.ts'
import { batchAt, build, initialState } from '../../playground/core/build.ts'
import { keepEvery, start, walk, type Place } from '../../playground/core/walk.ts'

const bits = (t: T.Tensor): string => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).toString('hex')
const stateBits = (ts: Train.TrainState): string[][] => [
  Tree.leaves(ts.params).map(bits),
  Tree.leaves(ts.state).map(bits),
  Tree.leaves(ts.optState).map(bits),
  [`${ts.key.k0} ${ts.key.k1}`, String(ts.step)],
]

// dropout draws from the step's key, batchNorm keeps running statistics, momentum and a schedule keep a count: all carried by the walk
const config: Config = {
  ...defaults('xor'),
  data: { set: 'xor', size: 40, noise: 0.2, seed: 1 },
  layers: [
    { kind: 'dense', units: 5 },
    { kind: 'batchNorm' },
    { kind: 'dropout', rate: 0.3 },
    { kind: 'tanh' },
    { kind: 'dense', units: 2 },
  ],
  optimizer: { name: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 1e-3 },
  lr: { kind: 'cosineDecay', init: 0.1, floor: 0 },
  batchSize: 16,
  epochs: 5,
}
const run = build(config)

/** The state before step `to`, every step taken at once: trainStep folded over fit's batches. */
const direct = (to: number): Train.TrainState => {
  const step = Train.trainStep(run.model, run.loss, run.optimizer)
  let ts = initialState(run)
  for (let k = 0; k < to; k++) ts = step(ts, batchAt(run, k))[0]
  return ts
}

describe('walk: a run taken to a far step in slices', () => {
  test.each([1, 2, 7, 1000])('in slices of %i steps, the state before each step equals the steps taken at once, bit for bit', (slice) => {
    const to = run.totalSteps - 1 // 5 epochs of 3 batches: the walk crosses epochs and a short last batch
    let place: Place = start(run)
    let slices = 0
    while (place.at < to) {
      const w = walk(run, place, to, slice)
      expect(w.failed).toBeUndefined()
      expect(w.place.at).toBe(Math.min(place.at + slice, to))
      place = w.place
      slices++
      expect(stateBits(place.state)).toEqual(stateBits(direct(place.at)))
    }
    expect(slices).toBe(Math.ceil(to / slice))
  })

  test('a walk from a kept place goes on as the walk from the start', () => {
    const kept = walk(run, start(run), 6).place
    expect(stateBits(walk(run, kept, 11).place.state)).toEqual(stateBits(walk(run, start(run), 11).place.state))
  })

  test('a walk already at its step, or with no budget, takes no step', () => {
    const s = start(run)
    expect(walk(run, s, 0).place).toBe(s)
    expect(walk(run, s, 5, 0).place).toBe(s)
  })

  test('a step that throws stops the walk before it, with the step and what the library threw', () => {
    const layers: Config['layers'] = [
      { kind: 'dense', units: 5 },
      { kind: 'dense', units: 2 },
    ]
    const big = build({ ...config, layers, lr: { kind: 'constant', value: 1e200 } })
    const w = walk(big, start(big), big.totalSteps, 3)
    expect(w.failed).toBeDefined()
    expect(w.place.at).toBe(w.failed!.at)
    expect(w.failed!.at).toBeGreaterThan(0)
    expect((w.failed!.error as Error).name).toBe('NonFiniteError')
    // from there it fails again at once, taking no step
    expect(walk(big, w.place, big.totalSteps).failed?.at).toBe(w.failed!.at)
  })

  test('keepEvery keeps at most about 100 places of a run, one every 20 steps or more', () => {
    for (const total of [1, 20, 150, 2000, 1_000_000]) {
      const every = keepEvery(total)
      expect(every).toBeGreaterThanOrEqual(20)
      expect(Math.floor(total / every)).toBeLessThanOrEqual(100)
    }
  })
})
