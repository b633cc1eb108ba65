/**
 * float32 against float64: dense, relu, softmax cross-entropy and sgd (momentum, Nesterov, weight
 * decay) run in float32 agree with their float64 selves on the same (float32) inputs within the
 * float32 rounding bound; the float32 chain of sgd gives its fused pass's bits (law 13); and fit
 * and evaluate train and score a float32 model.
 *
 * The bound. Each float32 result is a sum of products of the inputs (and of the scalars λ, β, lr),
 * every multiply and add one float32 operation. For such an expression, computed with at most m
 * roundings along any path from an input to the result, |computed − exact| ≤ γ_m·M, γ_m =
 * m·u/(1 − m·u) and M the same expression on the inputs' absolute values (Higham, Accuracy and
 * Stability of Numerical Algorithms, §3.1). The float64 result obeys the same with u = 2⁻⁵³, so
 *   |float32 − float64| ≤ (γ_m(2⁻²⁴) + γ_m(2⁻⁵³))·M.
 * m is k + 1 for dense's y (k products and the bias), N for dW and db (a sum over the batch), the
 * units for dx, and 10 for an sgd step (the longest path: fl32(β), β·t′, + d, β·t, + d, fl32(−lr),
 * −lr·v, p + u, and with λ fl32(λ), λ·p, + g). ReLU is exact in both dtypes, so they are equal.
 * softmax cross-entropy computes in float64 from the float32 logits and rounds each gradient
 * element once: its value equals float64's and its gradient is within 2⁻²⁴·|float64's|.
 * Inputs avoid float32's subnormals (|v| ≥ 2⁻⁸ or 0), where the relative bound would not hold.
 */
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { Kernels, Key, L, Loss, Optim, T, Train, Tree } from '../../src/index.ts'
import { loadMnist } from '../../src/node/index.ts'
import { gamma } from '../support/float32-bound.ts'

const bound = (m: number): number => gamma(m, 2 ** -24) + gamma(m, 2 ** -53)

/** A float32 tensor of `shape` from a seed: values in (−2, 2), never below 2⁻⁸ in magnitude but for some exact zeros. */
const random32 = (shape: readonly number[], seed: number): T.Tensor => {
  let s = seed >>> 0
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = Math.imul(s ^ (s >>> 15), s | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32
  }
  return T.asTensor(
    T.cast(
      T.generate(shape, () => {
        const v = 4 * next() - 2
        return Math.abs(v) < 2 ** -8 ? 0 : v
      }),
      'float32',
    ),
  )
}

const f64 = (t: T.Tensor): T.Tensor => T.cast(t, 'float64')
const abs = (t: T.Tensor): T.Tensor => T.map(Math.abs)(f64(t))

/** Every |a − b| ≤ tol·M elementwise; returns the first index that fails, or -1. */
const firstOutside = (a: T.Tensor, b: T.Tensor, m: T.Tensor, tol: number): number => {
  expect(a.shape).toEqual(b.shape)
  return a.data.findIndex((v, i) => !(Math.abs(v - b.data[i]!) <= tol * m.data[i]!))
}

const ctx = { mode: 'train' as const, key: Key.fromSeed(0) }
const sizes = fc.record({ n: fc.integer({ min: 1, max: 9 }), k: fc.integer({ min: 1, max: 70 }), u: fc.integer({ min: 1, max: 20 }) })

describe('float32 agrees with float64 within the float32 bound', () => {
  test('dense: y, dx, dW and db', () => {
    fc.assert(
      fc.property(sizes, fc.integer(), ({ n, k, u }, seed) => {
        const layer = L.dense(u)
        const p32 = { W: random32([k, u], seed), b: random32([u], seed + 1) }
        const p64 = { W: f64(p32.W), b: f64(p32.b) }
        const x32 = random32([n, k], seed + 2)
        const dy32 = random32([n, u], seed + 3)
        const r32 = layer.forward(p32, [], x32, ctx)
        const r64 = layer.forward(p64, [], f64(x32), ctx)
        expect(r32.y.data).toBeInstanceOf(Float32Array)
        // M for y: Σ_p |x_ip·W_pj| + |b_j|
        const My = T.addRowVector(T.matmul(abs(x32), abs(p32.W)), abs(p32.b))
        expect(firstOutside(r32.y, r64.y, My, bound(k + 1))).toBe(-1)
        const g32 = layer.vjp(p32, r32.tape, dy32)
        const g64 = layer.vjp(p64, r64.tape, f64(dy32))
        const dp32 = g32.dp as { W: T.Tensor; b: T.Tensor }
        const dp64 = g64.dp as { W: T.Tensor; b: T.Tensor }
        expect(dp32.W.data).toBeInstanceOf(Float32Array)
        expect(firstOutside(g32.dx!, g64.dx!, T.matmulNT(abs(dy32), abs(p32.W)), bound(u))).toBe(-1)
        expect(firstOutside(dp32.W, dp64.W, T.matmulTN(abs(x32), abs(dy32)), bound(n))).toBe(-1)
        expect(firstOutside(dp32.b, dp64.b, T.sumAxis(0)(abs(dy32)), bound(n))).toBe(-1)
      }),
      { numRuns: 60 },
    )
  })

  test('relu: forward and vjp equal (exact in both dtypes)', () => {
    fc.assert(
      fc.property(sizes, fc.integer(), ({ n, k }, seed) => {
        const x32 = random32([n, k], seed)
        const dy32 = random32([n, k], seed + 1)
        const r32 = L.relu.forward([], [], x32, ctx)
        const r64 = L.relu.forward([], [], f64(x32), ctx)
        expect(r32.y.data).toBeInstanceOf(Float32Array)
        expect([...r32.y.data]).toEqual([...r64.y.data])
        expect([...L.relu.vjp([], r32.tape, dy32).dx!.data]).toEqual([...L.relu.vjp([], r64.tape, f64(dy32)).dx!.data])
      }),
      { numRuns: 40 },
    )
  })

  test('softmax cross-entropy: the same value, the gradient rounded once', () => {
    fc.assert(
      fc.property(sizes, fc.integer(), ({ n, u }, seed) => {
        const c = u + 1
        const z32 = T.asTensor(T.scale(4, random32([n, c], seed)))
        const labels = T.generate([n], (i) => (i * 7 + (seed >>> 0)) % c)
        const r32 = Loss.softmaxCrossEntropy(z32, labels)
        const r64 = Loss.softmaxCrossEntropy(f64(z32), labels)
        expect(r32.grad.data).toBeInstanceOf(Float32Array)
        expect(r32.value).toBe(r64.value)
        expect(firstOutside(r32.grad, r64.grad, T.map(Math.abs)(r64.grad), 2 ** -24)).toBe(-1)
      }),
      { numRuns: 40 },
    )
  })

  test('mse: the value within (γ₂(2⁻²⁴) + 2γ_{k+2}(2⁻⁵³))·M, the gradient within bound(3)·(2/k)|p − t|; a float32 gradient', () => {
    fc.assert(
      fc.property(sizes, fc.integer(), ({ n, u }, seed) => {
        const p32 = random32([n, u], seed)
        const t32 = random32([n, u], seed + 1)
        const r32 = Loss.mse(p32, t32)
        const r64 = Loss.mse(f64(p32), f64(t32))
        expect(r32.grad.data).toBeInstanceOf(Float32Array)
        // fl32(p − t) is (p − t)(1 + δ), |δ| ≤ 2⁻²⁴; its squares and their sum are taken in float64 (T.dot), then / k.
        const k = n * u
        const diff = T.sub(f64(p32), f64(t32)) // exact: float32s of like magnitude
        const M = T.dot(diff, diff) / k
        expect(Math.abs(r32.value - r64.value)).toBeLessThanOrEqual((gamma(2, 2 ** -24) + 2 * gamma(k + 2, 2 ** -53)) * M)
        // fl32(fl32(2/k) · fl32(p − t)): three float32 roundings of (2/k)(p − t); float64's two.
        expect(firstOutside(r32.grad, r64.grad, T.scale(2 / k, T.map(Math.abs)(diff)), bound(3))).toBe(-1)
      }),
      { numRuns: 60 },
    )
    expect(() => Loss.mse(random32([2, 3], 1), T.zeros([2, 3]))).toThrow(/dtypes differ, float32 \[2, 3\] vs float64 \[2, 3\]/)
  })

  test('sgd with Nesterov momentum and weight decay: one step from a random trace', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5000 }), fc.integer(), fc.constantFrom('reference', 'js', 'fast'), (len, seed, family) => {
        const lr = 0.05
        const beta = 0.9
        const lambda = 5e-4
        const opt = Optim.sgd({ lr, momentum: beta, nesterov: true, weightDecay: lambda })
        const p32 = { w: random32([len], seed) }
        const g32 = { w: random32([len], seed + 1) }
        const t32 = { w: random32([len], seed + 2) }
        const state32 = [[], { trace: t32 }, { count: T.scalar(0) }] as const
        const state64 = [[], { trace: Tree.castTree(t32, 'float64') }, { count: T.scalar(0) }] as const
        const [next32, s32] = Kernels.using(family, () => Optim.updateAndApply(opt, g32, state32, p32))
        const [next64, s64] = Optim.updateAndApply(opt, Tree.castTree(g32, 'float64'), state64, Tree.castTree(p32, 'float64'))
        expect(next32.w.data).toBeInstanceOf(Float32Array)
        const trace32 = (s32[1] as { trace: { w: T.Tensor } }).trace.w
        const trace64 = (s64[1] as { trace: { w: T.Tensor } }).trace.w
        expect(trace32.data).toBeInstanceOf(Float32Array)
        // M, the step on absolute values: |d| = |g| + λ|p|, |t| = |d| + β|t′|, |v| = |d| + β|t|, |p| + lr·|v|
        const P = abs(p32.w)
        const D = T.addScaled(abs(g32.w), lambda, P)
        const Tm = T.addScaled(D, beta, abs(t32.w))
        const V = T.addScaled(D, beta, Tm)
        expect(firstOutside(trace32, trace64, Tm, bound(10))).toBe(-1)
        expect(firstOutside(next32.w, next64.w, T.addScaled(P, lr, V), bound(10))).toBe(-1)
      }),
      { numRuns: 40 },
    )
  })
})

describe('float32 sgd: the chain and the fused pass give the same bits (law 13)', () => {
  test.each([
    { momentum: 0, nesterov: false, weightDecay: 0 },
    { momentum: 0.9, nesterov: false, weightDecay: 1e-3 },
    { momentum: 0.9, nesterov: true, weightDecay: 5e-4 },
  ])('%o, three steps, leaves below and above the WebAssembly threshold', (options) => {
    const opt = Optim.sgd({ lr: 0.07, ...options })
    let params = { a: random32([3, 5], 1), b: random32([5000], 2) }
    const steps = (family: Kernels.Choice): { a: T.Tensor; b: T.Tensor } => {
      let p = params
      let s = opt.init(p)
      for (let i = 0; i < 3; i++) {
        const g = { a: random32([3, 5], 10 + i), b: random32([5000], 20 + i) }
        ;[p, s] = Kernels.using(family, () => Optim.updateAndApply(opt, g, s, p))
      }
      return p
    }
    const chain = steps('reference')
    expect(chain.b.data).toBeInstanceOf(Float32Array)
    for (const family of ['js', 'wasm', 'fast'] as const) {
      const fused = steps(family)
      expect([...fused.a.data]).toEqual([...chain.a.data])
      expect([...fused.b.data]).toEqual([...chain.b.data])
    }
    params = chain
  })

  test('float32 grads on float64 params are a DTypeError naming the param and both dtypes, in the chain and in the fused pass', () => {
    const opt = Optim.sgd({ lr: 0.1, momentum: 0.5 })
    const p = { w: T.tensor([1, 2]) }
    for (const family of ['reference', 'fast'] as const) {
      const step = () =>
        Kernels.using(family, () => Optim.updateAndApply(opt, { w: T.asTensor(T.cast(T.tensor([1, 1]), 'float32')) }, opt.init(p), p))
      expect(step).toThrow(T.DTypeError)
      expect(step).toThrow(/^sgd\.updateAndApply: dtypes differ at params\.w: the gradient is float32 \[2\], the param float64 \[2\] \(/)
    }
  })
})

/** Three float32 steps of `opt` under the readable chain and under every fused family: the same params, states and updates, bit for bit. */
const sameBitsEverywhere = <S extends Tree.Tree>(opt: Optim.GradientTransformation<S>): void => {
  const params = { a: random32([3, 5], 1), b: random32([5000], 2) }
  const grads = (i: number) => ({ a: random32([3, 5], 10 + i), b: random32([5000], 20 + i) })
  const steps = (family: Kernels.Choice) => {
    let p = params
    let s = opt.init(p)
    for (let i = 0; i < 3; i++) [p, s] = Kernels.using(family, () => Optim.updateAndApply(opt, grads(i), s, p))
    return { p, s }
  }
  const chain = steps('reference')
  expect(Tree.dtypeOfTree(chain.p)).toBe('float32')
  const moments = Tree.leaves(chain.s).filter((t) => t.shape.length > 0) // all but the float64 step counts
  expect(moments.length).toBeGreaterThanOrEqual(2)
  expect(new Set(moments.map(T.dtypeOf))).toEqual(new Set(['float32']))
  const bits = (t: Tree.Tree) => Tree.leaves(t).map((x) => [T.dtypeOf(x), ...x.data])
  const [u] = Kernels.using('reference', () => opt.update(grads(3), chain.s, chain.p))
  for (const family of ['js', 'wasm', 'fast'] as const) {
    const fused = steps(family)
    expect(bits(fused.p)).toEqual(bits(chain.p))
    expect(bits(fused.s)).toEqual(bits(chain.s))
    expect(bits(Kernels.using(family, () => opt.update(grads(3), chain.s, chain.p))[0])).toEqual(bits(u))
  }
}

describe("float32 Adam's family, RMSprop and Adagrad: the chain and the fused pass give the same bits (law 13)", () => {
  test.each([
    ['adam', Optim.adam({ lr: 0.01 })],
    ['adamw', Optim.adamw({ lr: 0.01, weightDecay: 0.05 })],
    ['nadam', Optim.nadam({ lr: 0.01 })],
    ['amsgrad', Optim.amsgrad({ lr: 0.01, b2: 0.9 })],
    ['adamax', Optim.adamax({ lr: 0.01 })],
    ['rmsprop', Optim.rmsprop({ lr: 0.01 })],
    ['rmsprop with momentum', Optim.rmsprop({ lr: 0.01, decay: 0.8, momentum: 0.9 })],
    ['adagrad', Optim.adagrad({ lr: 0.1, initialAccumulator: 0.1 })],
  ] as const)('%s, three steps, params and every moment float32, leaves below and above the WebAssembly threshold', (_name, opt) =>
    sameBitsEverywhere(opt),
  )

  test('float32 grads on float64 moments are an error naming both dtypes, in the chain and in the fused pass', () => {
    const p = { w: random32([4], 1) }
    for (const opt of [Optim.amsgrad({ lr: 0.01 }), Optim.rmsprop({ lr: 0.01 }), Optim.adagrad({ lr: 0.01 })])
      for (const family of ['reference', 'fast'] as const)
        expect(() =>
          Kernels.using(family, () => Optim.updateAndApply(opt, { w: random32([4], 2) }, opt.init(Tree.castTree(p, 'float64')), p)),
        ).toThrow(/dtypes differ, (float32 \[4\] vs float64|float64 \[4\] vs float32) \[4\]/)
  })
})

describe('fit and evaluate on a float32 model', () => {
  test('a regression with mse: float32 throughout, the loss falls as float64 does', () => {
    const x = T.generate([64, 3], (i) => Math.sin(i * 0.7))
    const y = T.generate([64, 1], (i) => Math.tanh(x.data[3 * i]! - 2 * x.data[3 * i + 1]! + 0.5 * x.data[3 * i + 2]!)) // learnable
    const model = L.pipe(L.dense(8), L.tanh, L.dense(1))
    const run = (dtype: T.DType) =>
      Train.fit({
        model,
        loss: Loss.mse,
        optimizer: Optim.adam({ lr: 0.02 }),
        data: { x, y },
        epochs: 30,
        batchSize: 16,
        key: Key.fromSeed(2),
        dtype,
      })
    const [r32, r64] = [run('float32'), run('float64')]
    expect(Tree.dtypeOfTree(r32.state.params)).toBe('float32')
    const losses = (r: typeof r32) => r.history.epochs.map((e) => e.loss)
    expect(losses(r32).at(-1)!).toBeLessThan(0.5 * losses(r32)[0]!)
    expect(Math.abs(losses(r32).at(-1)! - losses(r64).at(-1)!)).toBeLessThan(1e-3)
  })

  test('MNIST MLP, 2,000 images, three epochs: float32 params and optimizer state throughout, accuracy within 2 points of float64', () => {
    const { train, test: testSet } = loadMnist({ train: 2000, test: 1000 })
    const model = L.pipe(L.flatten, L.dense(32), L.relu, L.dense(10))
    const run = (dtype: T.DType) => {
      const { state } = Train.fit({
        model,
        loss: Loss.softmaxCrossEntropy,
        optimizer: Optim.sgd({ lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 5e-4 }),
        data: train,
        epochs: 3,
        batchSize: 64,
        key: Key.fromSeed(0),
        dtype,
      })
      return { state, result: Train.evaluate(model, state.params, state.state, testSet, { loss: Loss.softmaxCrossEntropy }) }
    }
    const r32 = run('float32')
    const r64 = run('float64')
    expect(Tree.dtypeOfTree(r32.state.params)).toBe('float32')
    expect(Tree.dtypeOfTree(r32.state.optState[1]!)).toBe('float32') // the momentum trace
    expect(Tree.dtypeOfTree(r64.state.params)).toBe('float64')
    expect(Train.predict(model, r32.state.params, r32.state.state, testSet.x).data).toBeInstanceOf(Float32Array)
    expect(r32.result.accuracy!).toBeGreaterThan(0.8)
    expect(Math.abs(r32.result.accuracy! - r64.result.accuracy!)).toBeLessThanOrEqual(0.02)
  })
})
