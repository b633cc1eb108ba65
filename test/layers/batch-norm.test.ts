/**
 * batchNorm: normalises per feature (dense) or per channel (conv) over the batch in train mode,
 * updates the running statistics in `state`, uses them in eval mode, and validates its options
 * and shapes. (Its vjp is checked by the laws in conv-laws.test.ts.)
 */
import { describe, expect, test } from 'vitest'
import { Key, L, Loss, Optim, T, Train } from '../../src/index.ts'

const trainCtx = { mode: 'train' as const, key: Key.fromSeed(0) }
const evalCtx = { mode: 'eval' as const, key: Key.fromSeed(0) }

/** Per-feature mean and biased variance of an [N, F] matrix. */
const columnStats = (y: T.Tensor): { mean: number[]; variance: number[] } => {
  const [n, f] = y.shape as [number, number]
  const mean = Array.from({ length: f }, (_, j) => Array.from({ length: n }, (_, i) => y.data[i * f + j]!).reduce((a, b) => a + b, 0) / n)
  const variance = mean.map((m, j) => Array.from({ length: n }, (_, i) => (y.data[i * f + j]! - m) ** 2).reduce((a, b) => a + b, 0) / n)
  return { mean, variance }
}

describe('batchNorm on [N, F] in train mode', () => {
  const bn = L.batchNorm({ momentum: 0.9, eps: 1e-5 })
  const init = L.initialize(bn, Key.fromSeed(0), [3])
  const x = T.tensor([
    [1, 10, -2],
    [2, 20, -2.5],
    [3, 30, -1],
    [6, 60, -3],
  ])

  test('init: γ = 1, β = 0, running mean 0 and variance 1, shape kept', () => {
    expect(init.outShape).toEqual([3])
    expect(Array.from(init.params.gamma.data)).toEqual([1, 1, 1])
    expect(Array.from(init.params.beta.data)).toEqual([0, 0, 0])
    expect(Array.from(init.state.mean.data)).toEqual([0, 0, 0])
    expect(Array.from(init.state.variance.data)).toEqual([1, 1, 1])
  })

  test('with γ = 1, β = 0 every feature comes out with mean 0 and variance σ²/(σ² + ε) ≈ 1', () => {
    const { y } = bn.forward(init.params, init.state, x, trainCtx)
    const { mean, variance } = columnStats(y)
    for (const m of mean) expect(Math.abs(m)).toBeLessThan(1e-12)
    const xs = columnStats(x).variance
    variance.forEach((v, j) => expect(v).toBeCloseTo(xs[j]! / (xs[j]! + 1e-5), 12))
  })

  test('y = γ·x̂ + β', () => {
    const params = { gamma: T.tensor([2, -1, 0.5]), beta: T.tensor([1, 0, -3]) }
    const base = bn.forward(init.params, init.state, x, trainCtx).y
    const { y } = bn.forward(params, init.state, x, trainCtx)
    for (let i = 0; i < 12; i++) expect(y.data[i]).toBeCloseTo(params.gamma.data[i % 3]! * base.data[i]! + params.beta.data[i % 3]!, 12)
  })

  test('the running statistics move towards the batch ones: running ← m·running + (1 − m)·batch', () => {
    const { state } = bn.forward(init.params, init.state, x, trainCtx)
    const { mean, variance } = columnStats(x)
    mean.forEach((m, j) => expect(state.mean.data[j]).toBeCloseTo(0.9 * 0 + 0.1 * m, 12))
    variance.forEach((v, j) => expect(state.variance.data[j]).toBeCloseTo(0.9 * 1 + 0.1 * v, 12))
    expect(init.state.mean.data[0]).toBe(0) // the old state is untouched
  })

  test('eval mode uses the running statistics, leaves them alone, and treats examples independently', () => {
    const state = { mean: T.tensor([1, 2, 3]), variance: T.tensor([4, 9, 16]) }
    const { y, state: after } = bn.forward(init.params, state, x, evalCtx)
    expect(after).toBe(state)
    for (let i = 0; i < 12; i++) {
      const j = i % 3
      expect(y.data[i]).toBeCloseTo((x.data[i]! - state.mean.data[j]!) / Math.sqrt(state.variance.data[j]! + 1e-5), 12)
    }
    const one = bn.forward(init.params, state, T.sliceRows(x, 2, 3), evalCtx).y
    expect(Array.from(one.data)).toEqual(Array.from(y.data.slice(6, 9)))
  })

  test('the train-mode vjp is the full batch-statistics vjp: Σ dx = 0 per feature, Σ dx·x̂ = a·Σ dy·x̂·(1 − mean x̂²)', () => {
    // dx = a·(dy − mean(dy) − x̂·mean(dy·x̂)) with a = γ/√(σ² + ε): the mean and variance of the
    // batch depend on every x, which removes the components of dy along 1 and (almost) along x̂.
    const { tape } = bn.forward(init.params, init.state, x, trainCtx)
    const dy = Key.normal(Key.fromSeed(9), [4, 3])
    const { dx, dp } = bn.vjp(init.params, tape, dy)
    for (const s of columnStats(dx).mean) expect(Math.abs(s)).toBeLessThan(1e-12)
    for (let j = 0; j < 3; j++) {
      let dxXhat = 0
      let dyXhat = 0
      let xhat2 = 0
      for (let i = 0; i < 4; i++) {
        const h = tape.xhat.data[i * 3 + j]!
        dxXhat += dx.data[i * 3 + j]! * h
        dyXhat += dy.data[i * 3 + j]! * h
        xhat2 += h * h
      }
      expect(dxXhat).toBeCloseTo(tape.invStd.data[j]! * dyXhat * (1 - xhat2 / 4), 10)
    }
    expect(dp.beta.data[0]).toBeCloseTo(dy.data[0]! + dy.data[3]! + dy.data[6]! + dy.data[9]!, 12)
  })
})

describe('batchNorm on [N, C, H, W]', () => {
  test('normalises each channel over the batch and all pixels', () => {
    const bn = L.batchNorm()
    const { params, state } = L.initialize(bn, Key.fromSeed(0), [2, 3, 3])
    expect(params.gamma.shape).toEqual([2])
    const x = T.add(Key.normal(Key.fromSeed(1), [4, 2, 3, 3], 5, 3), T.zeros([4, 2, 3, 3]))
    const { y } = bn.forward(params, state, x, trainCtx)
    for (let c = 0; c < 2; c++) {
      const vals: number[] = []
      for (let n = 0; n < 4; n++) for (let k = 0; k < 9; k++) vals.push(y.data[(n * 2 + c) * 9 + k]!)
      const mean = vals.reduce((a, b) => a + b, 0) / vals.length
      const variance = vals.reduce((a, b) => a + (b - mean) ** 2, 0) / vals.length
      expect(Math.abs(mean)).toBeLessThan(1e-12)
      expect(variance).toBeCloseTo(1, 4)
    }
  })

  test('a small CNN with batch-norm trains, and the running statistics end up in the state', () => {
    const net = L.pipe(L.conv2d(3, 3, { bias: false }), L.batchNorm({ momentum: 0.5 }), L.relu, L.flatten, L.dense(2))
    const data = { x: Key.normal(Key.fromSeed(1), [32, 1, 5, 5]), y: Key.randint(Key.fromSeed(2), [32], 0, 2) }
    const { state, history } = Train.fit({
      model: net,
      loss: Loss.softmaxCrossEntropy,
      optimizer: Optim.adam({ lr: 0.01 }),
      data,
      epochs: 5,
      batchSize: 8,
      key: Key.fromSeed(3),
    })
    const bnState = state.state[1] as { mean: T.Tensor; variance: T.Tensor }
    expect(Array.from(bnState.mean.data).some((v) => v !== 0)).toBe(true)
    expect(Array.from(bnState.variance.data).some((v) => v !== 1)).toBe(true)
    expect(history.epochs.at(-1)!.loss).toBeLessThan(history.epochs[0]!.loss)
  })
})

describe('batchNorm validates', () => {
  test.each([
    [{ momentum: 1 }, /momentum must be a number in \[0, 1\), got 1/],
    [{ momentum: -0.1 }, /momentum must be a number in \[0, 1\)/],
    [{ eps: 0 }, /eps must be a finite number > 0, got 0/],
    [{ eps: Number.NaN }, /eps must be a finite number > 0, got NaN/],
  ])('options %o', (options, message) => {
    expect(() => L.batchNorm(options)).toThrow(RangeError)
    expect(() => L.batchNorm(options)).toThrow(message)
  })

  test('train mode refuses one value per feature (a batch of one on [N, F], or of one 1x1 image), as PyTorch does; eval mode takes it', () => {
    const bn = L.batchNorm()
    const dense = L.initialize(bn, Key.fromSeed(0), [3])
    expect(() => bn.forward(dense.params, dense.state, T.ones([1, 3]), trainCtx)).toThrow(L.ShapeError)
    expect(() => bn.forward(dense.params, dense.state, T.ones([1, 3]), trainCtx)).toThrow(
      /batchNorm: train mode needs more than one value per feature to take batch statistics, got input \[1, 3\] \(a batch of one\?/,
    )
    expect(bn.forward(dense.params, dense.state, T.ones([1, 3]), { ...trainCtx, mode: 'eval' }).y.shape).toEqual([1, 3])
    const image = L.initialize(bn, Key.fromSeed(0), [2, 1, 1])
    expect(() => bn.forward(image.params, image.state, T.ones([1, 2, 1, 1]), trainCtx)).toThrow(/got input \[1, 2, 1, 1\]/)
    const bigger = L.initialize(bn, Key.fromSeed(0), [2, 2, 1])
    expect(
      bn.forward(
        bigger.params,
        bigger.state,
        T.tensor([
          [
            [[1], [2]],
            [[3], [5]],
          ],
        ]),
        trainCtx,
      ).y.shape,
    ).toEqual([1, 2, 2, 1]) // two values per channel
  })

  test('shapes: [F] or [C, H, W] at init; forward checks the features', () => {
    // @ts-expect-error the compile-time shape rule rejects this too (test/types); here the run-time check is under test
    expect(() => L.initialize(L.batchNorm(), Key.fromSeed(0), [2, 3])).toThrow(
      /batchNorm: input shape: expected \[features\] or \[channels, height, width\], got \[2, 3\]/,
    )
    const bn = L.batchNorm()
    const { params, state } = L.initialize(bn, Key.fromSeed(0), [3])
    expect(() => bn.forward(params, state, T.zeros([2, 4]), trainCtx)).toThrow(/batchNorm: input shape: expected \[N, 3\], got \[2, 4\]/)
  })
})
