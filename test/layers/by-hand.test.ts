import { describe, expect, test } from 'vitest'
import { Key, L, Loss, T } from '../../src/index.ts'

const σ = (z: number): number => 1 / (1 + Math.exp(-z))
const ctx = { mode: 'train' as const, key: Key.fromSeed(0) }

describe('a 2-2-1 network, gradients worked out by hand', () => {
  // x = [1, 2] → dense(2) → sigmoid → dense(1) → MSE against 1
  const net = L.pipe(L.dense(2), L.sigmoid, L.dense(1))
  const params = [
    {
      W: T.tensor([
        [0.1, 0.2],
        [0.3, 0.4],
      ]),
      b: T.tensor([0, 0.1]),
    },
    L.none,
    { W: T.tensor([[0.5], [0.6]]), b: T.tensor([0.2]) },
  ] as const
  const state = [L.none, L.none, L.none] as const
  const x = T.tensor([[1, 2]])

  // Forward, on paper:
  const z = [1 * 0.1 + 2 * 0.3 + 0, 1 * 0.2 + 2 * 0.4 + 0.1] // z = x·W1 + b1 = [0.7, 1.1]
  const h = z.map(σ) //                                           h = σ(z)
  const y = h[0]! * 0.5 + h[1]! * 0.6 + 0.2 //                     y = h·W2 + b2
  // Backward, on paper (the chain rule, one factor per layer):
  const dy = 2 * (y - 1) //                                        dL/dy for L = (y - 1)²
  const dh = [dy * 0.5, dy * 0.6] //                               dh = dy·W2ᵀ
  const dz = dh.map((d, i) => d * h[i]! * (1 - h[i]!)) //          dz = dh ⊙ σ'(z) = dh ⊙ h(1 - h)
  const dW1 = [
    [1 * dz[0]!, 1 * dz[1]!],
    [2 * dz[0]!, 2 * dz[1]!],
  ] // dW1 = xᵀ·dz
  const dx = [dz[0]! * 0.1 + dz[1]! * 0.2, dz[0]! * 0.3 + dz[1]! * 0.4] // dx = dz·W1ᵀ

  const forward = net.forward(params, state, x, ctx)
  const { value, grad } = Loss.mse(forward.y, T.tensor([[1]]))
  const back = net.vjp(params, forward.tape, grad)

  test('forward gives y = σ(z)·W2 + b2', () => {
    expect(forward.y.data[0]).toBeCloseTo(y, 15)
    expect(value).toBeCloseTo((y - 1) ** 2, 15)
  })
  test('the tape keeps x for the first dense and σ(z) for the sigmoid', () => {
    expect(Array.from(forward.tape[0].x.data)).toEqual([1, 2])
    const sig = forward.tape[1].y.data
    expect(sig[0]).toBeCloseTo(h[0]!, 15)
    expect(sig[1]).toBeCloseTo(h[1]!, 15)
  })
  test('dW2 = hᵀ·dy and db2 = dy', () => {
    const d2 = back.dp[2] as { W: T.Tensor; b: T.Tensor }
    expect(d2.W.data[0]).toBeCloseTo(h[0]! * dy, 15)
    expect(d2.W.data[1]).toBeCloseTo(h[1]! * dy, 15)
    expect(d2.b.data[0]).toBeCloseTo(dy, 15)
  })
  test('dW1 = xᵀ·(dy·W2ᵀ ⊙ σ′), db1 = dz, dx = dz·W1ᵀ', () => {
    const d1 = back.dp[0] as { W: T.Tensor; b: T.Tensor }
    Array.from(d1.W.data).forEach((v, i) => expect(v).toBeCloseTo(dW1.flat()[i]!, 15))
    expect(d1.b.data[0]).toBeCloseTo(dz[0]!, 15)
    expect(d1.b.data[1]).toBeCloseTo(dz[1]!, 15)
    expect(back.dx.data[0]).toBeCloseTo(dx[0]!, 15)
    expect(back.dx.data[1]).toBeCloseTo(dx[1]!, 15)
  })
  test('the sigmoid has no params, so its dp is the empty tree', () => expect(back.dp[1]).toEqual([]))
})

describe('numerically stable activations', () => {
  const x = T.tensor([[-1000, -50, 0, 50, 1000]])
  test('sigmoid does not overflow at |x| = 1000', () => {
    const { y } = L.sigmoid.forward(L.none, L.none, x, ctx)
    const [a, b, c, d, e] = Array.from(y.data)
    expect([a, c, d, e]).toEqual([0, 0.5, σ(50), 1])
    expect(b! / σ(-50)).toBeCloseTo(1, 14) // tiny but not flushed to 0
    expect(T.allFinite(y)).toBe(true)
  })
  test('softmax does not overflow at 1000 and its rows sum to 1', () => {
    const { y } = L.softmax.forward(L.none, L.none, T.tensor([[1000, 999, -1000]]), ctx)
    expect(y.data[0]).toBeCloseTo(1 / (1 + Math.exp(-1)), 15)
    expect(y.data[1]).toBeCloseTo(Math.exp(-1) / (1 + Math.exp(-1)), 15)
    expect(y.data[2]).toBe(0)
  })
  test('tanh saturates to ±1 without NaN, and its vjp there is 0', () => {
    const f = L.tanh.forward(L.none, L.none, x, ctx)
    expect(f.y.data[0]).toBe(-1)
    const { dx } = L.tanh.vjp(L.none, f.tape, T.ones(x.shape))
    expect(dx.data[0]).toBe(0)
  })
})

describe('dense and activation options', () => {
  test('dense(units) rejects non-positive or fractional units', () => {
    expect(() => L.dense(0)).toThrow('dense: units must be a positive integer, got 0')
    expect(() => L.dense(1.5)).toThrow('dense: units must be a positive integer, got 1.5')
  })
  test('dense init scales: he has std √(2/in), glorot is bounded by √(6/(in+out))', () => {
    const he = L.initialize(L.dense(200), Key.fromSeed(3), [400]).params
    const w = he.W.data
    const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length)
    expect(Math.abs(std - Math.sqrt(2 / 400)) / Math.sqrt(2 / 400)).toBeLessThan(0.02) // 80k draws: std error ≈ 0.25%
    const g = L.initialize(L.dense(100, { init: 'glorot' }), Key.fromSeed(3), [300]).params.W.data
    const bound = Math.sqrt(6 / 400)
    expect(g.every((v) => Math.abs(v) <= bound)).toBe(true)
    expect(L.initialize(L.dense(3, { bias: false }), Key.fromSeed(0), [2]).params).not.toHaveProperty('b')
  })
  test('leakyRelu rejects a non-finite alpha', () =>
    expect(() => L.leakyRelu(NaN)).toThrow('leakyRelu: alpha must be a finite number, got NaN'))
  test('the same key gives the same initial params, another key different ones', () => {
    const net = L.pipe(L.dense(4), L.relu, L.dense(2))
    const a = L.initialize(net, Key.fromSeed(1), [3]).params
    const b = L.initialize(net, Key.fromSeed(1), [3]).params
    const c = L.initialize(net, Key.fromSeed(2), [3]).params
    expect(Array.from(a[0].W.data)).toEqual(Array.from(b[0].W.data))
    expect(Array.from(a[0].W.data)).not.toEqual(Array.from(c[0].W.data))
  })
})
