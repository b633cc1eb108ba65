/**
 * dropout: the mask comes from ctx.key (same key, same mask), survivors are scaled by 1/(1 − p)
 * (inverted dropout), the tape keeps the mask and the vjp reuses it, eval mode is the identity,
 * and dropProb is validated.
 */
import { describe, expect, test } from 'vitest'
import { Key, L, Loss, Optim, T, Train } from '../../src/index.ts'

const x = T.generate([4, 250], (i) => 1 + (i % 7)) // 1000 values, none zero
const train = (key: Key.Key) => ({ mode: 'train' as const, key })

describe('dropout in train mode', () => {
  const drop = L.dropout({ dropProb: 0.25 })

  test('each value is either dropped (0) or kept and scaled by 1/(1 − p)', () => {
    const { y } = drop.forward(L.none, L.none, x, train(Key.fromSeed(1)))
    for (let i = 0; i < x.data.length; i++) {
      const v = y.data[i]!
      expect(v === 0 || v === x.data[i]! * (1 / 0.75)).toBe(true)
    }
  })

  test('about dropProb of the values are dropped, and the mean is kept (inverted dropout)', () => {
    const big = T.ones([100, 1000])
    const { y } = drop.forward(L.none, L.none, big, train(Key.fromSeed(2)))
    const dropped = y.data.filter((v) => v === 0).length / y.data.length
    expect(dropped).toBeGreaterThan(0.24)
    expect(dropped).toBeLessThan(0.26)
    expect(T.mean(y)).toBeCloseTo(1, 1)
  })

  test('the mask comes from ctx.key: the same key drops the same values, another key others', () => {
    const a = drop.forward(L.none, L.none, x, train(Key.fromSeed(3))).y
    const b = drop.forward(L.none, L.none, x, train(Key.fromSeed(3))).y
    const c = drop.forward(L.none, L.none, x, train(Key.fromSeed(4))).y
    expect(Array.from(a.data)).toEqual(Array.from(b.data))
    expect(Array.from(a.data)).not.toEqual(Array.from(c.data))
  })

  test('the tape keeps the scaled mask, and the vjp multiplies dy by it', () => {
    const { y, tape } = drop.forward(L.none, L.none, x, train(Key.fromSeed(5)))
    expect(tape.mask).not.toBeNull()
    const mask = tape.mask!
    expect(Array.from(T.mul(x, mask).data)).toEqual(Array.from(y.data))
    const dy = T.generate(x.shape, (i) => i)
    const { dx } = drop.vjp(L.none, tape, dy)
    for (let i = 0; i < dy.data.length; i++) expect(dx.data[i]).toBe(dy.data[i]! * mask.data[i]!)
  })

  test('dropProb 0 is the identity', () => {
    const { y } = L.dropout({ dropProb: 0 }).forward(L.none, L.none, x, train(Key.fromSeed(6)))
    expect(y).toBe(x)
  })

  test('inside a pipe, each step of training draws a fresh mask from the step key', () => {
    const net = L.pipe(L.dense(8), L.dropout({ dropProb: 0.5 }), L.dense(2))
    const { params } = L.initialize(net, Key.fromSeed(0), [3])
    const input = T.ones([1, 3])
    const y1 = net.forward(params, [L.none, L.none, L.none], input, train(Key.fromSeed(10))).y
    const y2 = net.forward(params, [L.none, L.none, L.none], input, train(Key.fromSeed(11))).y
    expect(Array.from(y1.data)).not.toEqual(Array.from(y2.data))
    // and training with it is deterministic given the key
    const data = { x: Key.normal(Key.fromSeed(1), [32, 3]), y: Key.randint(Key.fromSeed(2), [32], 0, 2) }
    const run = () =>
      Train.fit({
        model: net,
        loss: Loss.softmaxCrossEntropy,
        optimizer: Optim.sgd({ lr: 0.1 }),
        data,
        epochs: 2,
        batchSize: 8,
        key: Key.fromSeed(3),
      })
    expect(run().history.steps.map((s) => s.loss)).toEqual(run().history.steps.map((s) => s.loss))
  })
})

describe('dropout in eval mode is the identity', () => {
  test('y = x and dx = dy, with no mask', () => {
    const drop = L.dropout({ dropProb: 0.5 })
    const { y, tape } = drop.forward(L.none, L.none, x, { mode: 'eval', key: Key.fromSeed(0) })
    expect(y).toBe(x)
    expect(tape.mask).toBeNull()
    const dy = T.ones(x.shape)
    expect(drop.vjp(L.none, tape, dy).dx).toBe(dy)
  })
})

describe('dropout validates dropProb', () => {
  test.each([[1], [-0.1], [1.5], [Number.NaN], [Number.POSITIVE_INFINITY]])('dropProb %s is rejected with a clear message', (p) => {
    expect(() => L.dropout({ dropProb: p })).toThrow(RangeError)
    expect(() => L.dropout({ dropProb: p })).toThrow(
      `dropout: dropProb (the probability of dropping a value, not of keeping it) must be a number in [0, 1), got ${p}`,
    )
  })

  test('a missing or non-numeric dropProb is rejected', () => {
    expect(() => L.dropout({} as { dropProb: number })).toThrow(/must be a number in \[0, 1\), got nothing/)
    expect(() => L.dropout({ dropProb: '0.5' as unknown as number })).toThrow(/got "0.5"/)
  })

  test('the spec names the drop probability', () => {
    expect(L.dropout({ dropProb: 0.3 }).spec).toEqual({ kind: 'dropout', dropProb: 0.3 })
  })
})
