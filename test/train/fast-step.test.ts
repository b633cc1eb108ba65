/**
 * The fast float32 training step: fit gathers each batch straight into the model's dtype, a pipe
 * skips the vjp of its leading layers without params (flatten) when no dx is wanted, and the
 * WebAssembly SGD step records the gradients and params it found finite, so the step's check for
 * NaN and ±∞ does not scan them again. None of it may change a number: a float32 run equals the
 * same steps taken by trainStep on the float64 batches, the 'reference' kernels' run (law 13), and
 * a two-thread run, bit for bit; no input is written; a non-finite gradient is still reported.
 */
import { describe, expect, test } from 'vitest'
import { Data, Kernels, Key, L, Loss, Optim, T, Train, Tree } from '../../src/index.ts'
import { loadMnist } from '../../src/node/index.ts'

const bits = (t: Tree.Tree): number[][] => Tree.leaves(t).map((l) => Array.from(l.data))
const copy = (t: Tree.Tree): number[][] => bits(t)

describe('the float32 MLP training step, fast and readable', () => {
  const { train } = loadMnist({ train: 640, test: 10 })
  const model = L.pipe(L.flatten, L.dense(48), L.relu, L.dense(24), L.relu, L.dense(10))
  const optimizer = Optim.sgd({ lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 5e-4 })
  const key = Key.fromSeed(3)
  const fit = () =>
    Train.fit({ model, loss: Loss.softmaxCrossEntropy, optimizer, data: train, epochs: 1, batchSize: 64, key, dtype: 'float32' }).state

  test('fit equals trainStep on the float64 batches (each cast where the step meets it), and no input is written', async () => {
    await Kernels.useThreads(1)
    const fast = fit()
    // The same run by hand: fit's key split, its first epoch's order, batches left in float64.
    const [initKey, dataKey] = Key.split2(key)
    let ts = Train.initState(model, optimizer, initKey, [1, 28, 28], { dtype: 'float32' })
    const step = Train.trainStep(model, Loss.softmaxCrossEntropy, optimizer)
    for (const batch of Data.batches(Key.foldIn(dataKey, 1), train, 64)) {
      const before = { params: copy(ts.params), optState: copy(ts.optState), x: Array.from(batch.x.data) }
      const [next] = step(ts, batch)
      expect(copy(ts.params)).toEqual(before.params)
      expect(copy(ts.optState)).toEqual(before.optState)
      expect(Array.from(batch.x.data)).toEqual(before.x)
      expect(next.params).not.toBe(ts.params)
      ts = next
    }
    expect(Tree.dtypeOfTree(fast.params)).toBe('float32')
    expect(bits(fast.params)).toEqual(bits(ts.params))
    expect(bits(fast.optState)).toEqual(bits(ts.optState))
  })

  test("law 13: the 'reference' kernels (readable loops, the sgd chain) give the same params and state, bit for bit", async () => {
    await Kernels.useThreads(1)
    const fast = fit()
    const readable = Kernels.using('reference', fit)
    expect(bits(fast.params)).toEqual(bits(readable.params))
    expect(bits(fast.optState)).toEqual(bits(readable.optState))
  })

  test('one thread and two give the same params and state, bit for bit', async () => {
    await Kernels.useThreads(1)
    const one = fit()
    const running = await Kernels.useThreads(2)
    try {
      const two = fit()
      expect(bits(two.params)).toEqual(bits(one.params))
      expect(bits(two.optState)).toEqual(bits(one.optState))
    } finally {
      await Kernels.useThreads(1)
    }
    expect(typeof running).toBe('boolean')
  })

  test('a non-finite gradient in a leaf the WebAssembly step takes is still reported as the gradient, with its path', () => {
    // A layer whose gradient holds a NaN in a 2,000-value leaf (past the WebAssembly step's 1,024).
    const n = 2000
    const bad = L.define({
      name: 'bad',
      init: (_key, inShape) => ({ outShape: inShape, params: { w: T.zeros([n]) } }),
      forward: (_p, x) => ({ y: x, tape: undefined }),
      vjp: (p, _tape, dy) => {
        const g = T.generate([n], (i) => (i === n - 3 ? NaN : 1e-3 * i))
        return { dx: dy, dp: { w: T.dtypeOf(p.w) === 'float32' ? T.asTensor(T.cast(g, 'float32')) : g } }
      },
    })
    const net = L.pipe(L.dense(4), bad)
    const ts = Train.initState(net, optimizer, Key.fromSeed(1), [3], { dtype: 'float32' })
    const x = T.asTensor(T.cast(Key.normal(Key.fromSeed(2), [5, 3]), 'float32'))
    const y = T.fromArray([5], [0, 1, 2, 3, 0])
    const step = Train.trainStep(net, Loss.softmaxCrossEntropy, optimizer)
    expect(() => step(ts, { x, y })).toThrow(/gradient at params \[1\]\.w/)
  })
})
