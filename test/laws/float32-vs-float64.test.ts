/**
 * Law 14: every float32 layer, loss and optimizer agrees with its float64 self on the same inputs
 * (random float32 values, so exact in both dtypes) within a bound derived from the operations it
 * runs, never tuned. Each result r is modelled as an `Approx` (test/support/float32-error.ts): the
 * same formula in the code's order, operation by operation, each adding to its operands' errors
 * its own rounding, u = 2⁻²⁴ in float32 and 2⁻⁵³ in float64; the law is |r32 − r64| ≤ e32 + e64.
 * - Sums of products in an order the kernels choose (dense, conv2d, avg-pooling) take Higham's
 *   γ_m·M (§3.1), M the same sum on absolute values, m its roundings on any path: k + 1 for
 *   dense's y (k inputs), the units for dx, the batch for dW and db; C·KH·KW + 1, F·KH·KW and
 *   N·OH·OW for conv2d; KH·KW + 2 for avgPool2d (the taps, fl32(1/(KH·KW)), the product).
 * - Element-wise layers, softmax, dropout, globalAvgPool, batchNorm, the losses' gradients (and
 *   mse's value) and the optimizers are modelled exactly in the code's order (and the model's
 *   float64 value is checked to be the float64 result, bit for bit, so the model is the code): each
 *   +, −, ×, ÷, √ one rounding; Math.exp, Math.expm1 and Math.tanh within η = 2⁻⁵⁰ of exact, then
 *   rounded once to float32: within (1 + η)(1 + 2⁻²⁴) − 1.
 * - relu, maxPool2d (windows that do not overlap), flatten, reshape and identity only compare and
 *   copy: equal. A loss value is a float64 number in both; crossEntropy's, binaryCrossEntropy's
 *   and softmaxCrossEntropy's are computed in float64 from the float32 inputs: equal.
 * - Optimizers: three steps from the same params with the same gradients each step (drawn, not
 *   recomputed from params that differ between the dtypes after a step), the params and every
 *   moment compared after each step; the params' and moments' errors carry from step to step.
 * Compositions carry their parts' bounds: pipe(dense, softmax) feeds dense's bound into softmax's
 * model and softmax's into dense's vjp; residual and branches add their bodies' bounds.
 * Inputs lie in (−s, s), s = 2 (up to 8 for activations and logits, 3 for batchNorm's x), at least
 * 2⁻⁸ in magnitude or 0, as in the other float32 tests.
 */
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { Key, L, Loss, Optim, T, Tree } from '../../src/index.ts'
import { gamma } from '../support/float32-bound.ts'
import * as E from '../support/float32-error.ts'
import type { Approx } from '../support/float32-error.ts'

/** A float32 tensor of `shape` from a seed: values in (−s, s), never below 2⁻⁸ in magnitude but for some exact zeros. */
const random32 = (shape: readonly number[], seed: number, s = 2): T.Tensor => {
  let state = seed >>> 0
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = Math.imul(state ^ (state >>> 15), state | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32
  }
  return T.asTensor(
    T.cast(
      T.generate(shape, () => {
        const v = s * (2 * next() - 1)
        return Math.abs(v) < 2 ** -8 ? 0 : v
      }),
      'float32',
    ),
  )
}

const f64 = (t: T.Tensor): T.Tensor => T.cast(t, 'float64')
const abs64 = (t: T.Tensor): T.Tensor => T.map(Math.abs)(f64(t))
/** Each row of t ([N, C], non-negative) divided by its sum (a row of zeros becomes uniform): probability rows. */
const rowsSummingToOne = (t: T.Tensor): T.Tensor => {
  const [n, c] = [t.shape[0]!, t.shape[1]!]
  return T.generate([n, c], (k) => {
    const row = k - (k % c)
    let sum = 0
    for (let q = 0; q < c; q++) sum += t.data[row + q]!
    return sum === 0 ? 1 / c : t.data[k]! / sum
  })
}
const exactly = (t: T.Tensor): Approx[] => [...t.data].map(E.exact)
const values = (t: T.Tensor): number[] => [...t.data]
const ctx = { mode: 'train' as const, key: Key.fromSeed(3) }

/** A result of m roundings per element, in an order the test does not know: within γ_m·M, M from the float64 layer on absolute values. */
const higham = (r64: T.Tensor, M: T.Tensor, m: number): Approx[] =>
  values(r64).map((v, i) => E.known(v, gamma(m, 2 ** -24) * M.data[i]!, gamma(m, 2 ** -53) * M.data[i]!))

/**
 * Law 14 for one result: r32 is float32, r64 float64, of one shape, and |r32 − r64| ≤ e32 + e64 at
 * every index. `modelled`: the bound models the code's own order, so its float64 value is r64, bit for bit.
 */
const expectAgree = (what: string, bound: readonly Approx[], r32: T.Tensor, r64: T.Tensor, modelled = false): void => {
  expect(r32.data, `${what} in float32`).toBeInstanceOf(Float32Array)
  expect(r64.data, `${what} in float64`).toBeInstanceOf(Float64Array)
  expect(r32.shape).toEqual(r64.shape)
  expect(bound.length).toBe(r32.data.length)
  const bad = bound.findIndex((a, i) => !E.agrees(a, r32.data[i]!, r64.data[i]!) || (modelled && a.v !== r64.data[i]))
  if (bad >= 0) {
    const a = bound[bad]!
    expect.fail(`${what}[${bad}]: float32 ${r32.data[bad]}, float64 ${r64.data[bad]}, model ${a.v}, bound ${a.e32 + a.e64}`)
  }
}

/** Equal, value for value: a float32 result of a layer that only compares and copies. */
const expectEqual = (what: string, r32: T.Tensor, r64: T.Tensor): void => {
  expect(r32.data, `${what} in float32`).toBeInstanceOf(Float32Array)
  expect(values(r32), what).toEqual(values(r64))
}

type Dense = { W: T.Tensor; b: T.Tensor }

/** The bias of dense or conv2d params (built with one here). */
const biasOf = (p: { readonly W: T.Tensor } | { readonly W: T.Tensor; readonly b: T.Tensor }): T.Tensor => {
  if (!('b' in p)) throw new Error('params without a bias')
  return p.b
}

/** dense's params in float32 and float64, and its bounds: y = x·W + b (k + 1 roundings), given x's bound. */
const denseSetup = (k: number, u: number, seed: number) => {
  const p32: Dense = { W: random32([k, u], seed), b: random32([u], seed + 1) }
  const p64: Dense = { W: f64(p32.W), b: f64(p32.b) }
  return { layer: L.dense(u), p32, p64 }
}

/** The bounds of dense's vjp for a cotangent known within `dy` (float64 values and bounds), by rows of [n, u]. */
const denseVjpBounds = (x: T.Tensor, W: T.Tensor, dy: readonly Approx[], n: number, k: number, u: number) => {
  const w = (p: number, j: number) => E.exact(W.data[p * u + j]!)
  const xs = (i: number, p: number) => E.exact(x.data[i * k + p]!)
  const dyAt = (i: number, j: number) => dy[i * u + j]!
  const range = (m: number) => Array.from({ length: m }, (_, i) => i)
  return {
    dx: range(n * k).map((ip) =>
      E.dot(
        range(u).map((j) => [dyAt(Math.floor(ip / k), j), w(ip % k, j)] as const),
        u,
      ),
    ),
    dW: range(k * u).map((pj) =>
      E.dot(
        range(n).map((i) => [xs(i, Math.floor(pj / u)), dyAt(i, pj % u)] as const),
        n,
      ),
    ),
    db: range(u).map((j) =>
      E.dot(
        range(n).map((i) => [dyAt(i, j), E.exact(1)] as const),
        n,
      ),
    ),
  }
}

const sizes = fc.record({ n: fc.integer({ min: 1, max: 6 }), k: fc.integer({ min: 1, max: 40 }), u: fc.integer({ min: 1, max: 12 }) })

describe('law 14: float32 layers agree with their float64 selves', () => {
  test('dense: y within γ_{k+1}·M, dx within γ_u·M, dW and db within γ_N·M', () => {
    fc.assert(
      fc.property(sizes, fc.integer(), ({ n, k, u }, seed) => {
        const { layer, p32, p64 } = denseSetup(k, u, seed)
        const x32 = random32([n, k], seed + 2)
        const dy32 = random32([n, u], seed + 3)
        const r32 = layer.forward(p32, [], x32, ctx)
        const r64 = layer.forward(p64, [], f64(x32), ctx)
        expectAgree('y', higham(r64.y, layer.forward({ W: abs64(p32.W), b: abs64(p32.b) }, [], abs64(x32), ctx).y, k + 1), r32.y, r64.y)
        const g32 = layer.vjp(p32, r32.tape, dy32)
        const g64 = layer.vjp(p64, r64.tape, f64(dy32))
        const b = denseVjpBounds(x32, p32.W, exactly(dy32), n, k, u)
        expectAgree('dx', b.dx, g32.dx, g64.dx)
        expectAgree('dW', b.dW, g32.dp.W, g64.dp.W)
        expectAgree('db', b.db, biasOf(g32.dp), biasOf(g64.dp))
      }),
      { numRuns: 40 },
    )
  })

  test('relu, identity, reshape and flatten: equal (they only compare and copy)', () => {
    fc.assert(
      fc.property(sizes, fc.integer(), ({ n, k }, seed) => {
        const x32 = random32([n, 2, k], seed)
        const dy32 = random32([n, 2, k], seed + 1)
        const copies = <Tape>(layer: L.Layer<L.None, L.None, Tape>): void => {
          const r32 = layer.forward([], [], x32, ctx)
          const r64 = layer.forward([], [], f64(x32), ctx)
          expectEqual(`${layer.name} y`, r32.y, r64.y)
          const dy = T.reshape(r32.y.shape)(dy32)
          expectEqual(`${layer.name} dx`, layer.vjp([], r32.tape, dy).dx, layer.vjp([], r64.tape, f64(dy)).dx)
        }
        copies(L.relu)
        copies(L.identity)
        copies(L.reshape([k, 2]))
        copies(L.flatten)
      }),
      { numRuns: 30 },
    )
  })

  const elementwise: readonly [
    string,
    L.Layer<L.None, L.None, unknown>,
    (x: number) => Approx,
    (y: Approx, x: number, dy: Approx) => Approx,
  ][] = [
    [
      'sigmoid: y = 1/(1 + e) or e/(1 + e), e = exp(−|x|); dx = (dy·y)·(1 − y)',
      L.sigmoid,
      (x) => logistic(E.exact(x)),
      (y, _x, dy) => E.mul(E.mul(dy, y), E.sub(E.exact(1), y)),
    ],
    ['tanh: y = tanh x; dx = dy·(1 − y·y)', L.tanh, (x) => E.tanh(E.exact(x)), (y, _x, dy) => E.mul(dy, E.sub(E.exact(1), E.mul(y, y)))],
    [
      'elu(0.7): y = x or α·expm1(x); dx = dy or dy·(y + α)',
      L.elu(0.7),
      (x) => (x > 0 ? E.exact(x) : E.mul(E.constant(0.7), E.expm1(E.exact(x)))),
      (y, _x, dy) => (y.v > 0 ? dy : E.mul(dy, E.add(y, E.constant(0.7)))),
    ],
    [
      'leakyRelu(0.1): y = x or α·x; dx = dy or α·dy',
      L.leakyRelu(0.1),
      (x) => (x > 0 ? E.exact(x) : E.mul(E.constant(0.1), E.exact(x))),
      (_y, x, dy) => (x > 0 ? dy : E.mul(E.constant(0.1), dy)),
    ],
  ]

  test.each(elementwise)('%s, the model the code', (_name, layer, forward, vjp) => {
    fc.assert(
      fc.property(sizes, fc.integer(), fc.constantFrom(1, 4), ({ n, k }, seed, s) => {
        const x32 = random32([n, k], seed, s)
        const dy32 = random32([n, k], seed + 1)
        const r32 = layer.forward([], [], x32, ctx)
        const r64 = layer.forward([], [], f64(x32), ctx)
        const y = values(x32).map(forward)
        expectAgree('y', y, r32.y, r64.y, true)
        const dx = y.map((yi, i) => vjp(yi, x32.data[i]!, E.exact(dy32.data[i]!)))
        expectAgree('dx', dx, layer.vjp([], r32.tape, dy32).dx, layer.vjp([], r64.tape, f64(dy32)).dx, true)
      }),
      { numRuns: 40 },
    )
  })

  test('softmax: the model the code (exp of x − max, the sum in order, the quotient; dot, then y·(dy − dot))', () => {
    fc.assert(
      fc.property(sizes, fc.integer(), fc.constantFrom(1, 8), ({ n, u }, seed, s) => {
        const c = u + 1
        const x32 = random32([n, c], seed, s)
        const dy32 = random32([n, c], seed + 1)
        const r32 = L.softmax.forward([], [], x32, ctx)
        const r64 = L.softmax.forward([], [], f64(x32), ctx)
        const y = softmaxRows(exactly(x32), c)
        expectAgree('y', y, r32.y, r64.y, true)
        expectEqual('L.softmaxRows', L.softmaxRows(x32), r32.y) // the function the layer runs, in x's dtype
        const dx = softmaxVjp(y, exactly(dy32), c)
        expectAgree('dx', dx, L.softmax.vjp([], r32.tape, dy32).dx, L.softmax.vjp([], r64.tape, f64(dy32)).dx, true)
      }),
      { numRuns: 40 },
    )
  })

  test("pipe(dense, softmax): dense's bound carried through softmax's model and back through dense's vjp", () => {
    fc.assert(
      fc.property(sizes, fc.integer(), ({ n, k, u }, seed) => {
        const c = u + 1
        const { p32, p64 } = denseSetup(k, c, seed)
        const net = L.pipe(L.dense(c), L.softmax)
        const x32 = random32([n, k], seed + 2)
        const dy32 = random32([n, c], seed + 3)
        const r32 = net.forward([p32, []], [[], []], x32, ctx)
        const r64 = net.forward([p64, []], [[], []], f64(x32), ctx)
        const z64 = L.dense(c).forward(p64, [], f64(x32), ctx).y
        const z = higham(z64, L.dense(c).forward({ W: abs64(p32.W), b: abs64(p32.b) }, [], abs64(x32), ctx).y, k + 1)
        const y = softmaxRows(z, c)
        expectAgree('y', y, r32.y, r64.y, true)
        const g32 = net.vjp([p32, []], r32.tape, dy32)
        const g64 = net.vjp([p64, []], r64.tape, f64(dy32))
        const b = denseVjpBounds(x32, p32.W, softmaxVjp(y, exactly(dy32), c), n, k, c)
        expectAgree('dx', b.dx, g32.dx, g64.dx)
        expectAgree('dW', b.dW, g32.dp[0].W, g64.dp[0].W)
        expectAgree('db', b.db, biasOf(g32.dp[0]), biasOf(g64.dp[0]))
      }),
      { numRuns: 40 },
    )
  })

  test("residual(dense) and branches('sum' | 'concat', dense, dense): the bodies' bounds, plus one rounding per add", () => {
    fc.assert(
      fc.property(sizes, fc.integer(), ({ n, k, u }, seed) => {
        const x32 = random32([n, k], seed)
        const a = denseSetup(k, k, seed + 1)
        const b = denseSetup(k, u, seed + 3)
        const c = denseSetup(k, u, seed + 5)
        const yOf = (d: ReturnType<typeof denseSetup>) =>
          higham(
            d.layer.forward(d.p64, [], f64(x32), ctx).y,
            d.layer.forward({ W: abs64(d.p32.W), b: abs64(d.p32.b) }, [], abs64(x32), ctx).y,
            k + 1,
          )
        // residual: y = x + dense(x), dx = dy + dense's dx
        const res = L.residual(L.dense(k))
        const dyRes = random32([n, k], seed + 7)
        const r32 = res.forward(a.p32, [], x32, ctx)
        const r64 = res.forward(a.p64, [], f64(x32), ctx)
        expectAgree(
          'residual y',
          yOf(a).map((z, i) => E.add(E.exact(x32.data[i]!), z)),
          r32.y,
          r64.y,
        )
        const g32 = res.vjp(a.p32, r32.tape, dyRes)
        const g64 = res.vjp(a.p64, r64.tape, f64(dyRes))
        const body = denseVjpBounds(x32, a.p32.W, exactly(dyRes), n, k, k)
        expectAgree(
          'residual dx',
          body.dx.map((d, i) => E.add(E.exact(dyRes.data[i]!), d)),
          g32.dx,
          g64.dx,
        )
        expectAgree('residual dW', body.dW, g32.dp.W, g64.dp.W)
        // branches: the sum adds the two outputs; the concat places them side by side; dx adds the two dx
        const dyB = random32([n, u], seed + 8)
        const dyC = random32([n, 2 * u], seed + 9)
        for (const merge of ['sum', 'concat'] as const) {
          const net = L.branches(merge, L.dense(u), L.dense(u))
          const dy = merge === 'sum' ? dyB : dyC
          const dyOf = (j: 0 | 1): Approx[] =>
            merge === 'sum' ? exactly(dyB) : exactly(dyC).filter((_, i) => Math.floor((i % (2 * u)) / u) === j)
          const s32 = net.forward([b.p32, c.p32], [[], []], x32, ctx)
          const s64 = net.forward([b.p64, c.p64], [[], []], f64(x32), ctx)
          const [yb, yc] = [yOf(b), yOf(c)]
          const rows = (r: number): Approx[] => [...yb.slice(r * u, (r + 1) * u), ...yc.slice(r * u, (r + 1) * u)]
          const y = merge === 'sum' ? yb.map((v, i) => E.add(v, yc[i]!)) : Array.from({ length: n }, (_, r) => rows(r)).flat()
          expectAgree(`${merge} y`, y, s32.y, s64.y)
          const h32 = net.vjp([b.p32, c.p32], s32.tape, dy)
          const h64 = net.vjp([b.p64, c.p64], s64.tape, f64(dy))
          const [vb, vc] = [denseVjpBounds(x32, b.p32.W, dyOf(0), n, k, u), denseVjpBounds(x32, c.p32.W, dyOf(1), n, k, u)]
          expectAgree(
            `${merge} dx`,
            vb.dx.map((d, i) => E.add(d, vc.dx[i]!)),
            h32.dx,
            h64.dx,
          )
          expectAgree(`${merge} dW of the second branch`, vc.dW, h32.dp[1].W, h64.dp[1].W)
        }
      }),
      { numRuns: 30 },
    )
  })

  test('dropout: y = x·m and dx = dy·m, m = fl32(1/(1 − p)) where kept; the same units dropped', () => {
    fc.assert(
      fc.property(sizes, fc.integer(), fc.constantFrom(0.1, 0.3, 0.5), ({ n, k }, seed, p) => {
        const layer = L.dropout({ dropProb: p })
        const x32 = random32([n, k], seed)
        const dy32 = random32([n, k], seed + 1)
        const r32 = layer.forward([], [], x32, ctx)
        const r64 = layer.forward([], [], f64(x32), ctx)
        const mask = values(r64.tape.mask!).map((m) => (m === 0 ? E.exact(0) : E.constant(1 / (1 - p))))
        expectAgree(
          'y',
          mask.map((m, i) => E.mul(E.exact(x32.data[i]!), m)),
          r32.y,
          r64.y,
          true,
        )
        const dx = mask.map((m, i) => E.mul(E.exact(dy32.data[i]!), m))
        expectAgree('dx', dx, layer.vjp([], r32.tape, dy32).dx, layer.vjp([], r64.tape, f64(dy32)).dx, true)
      }),
      { numRuns: 30 },
    )
  })

  const images = fc.record({
    n: fc.integer({ min: 1, max: 3 }),
    c: fc.integer({ min: 1, max: 3 }),
    h: fc.integer({ min: 3, max: 7 }),
    w: fc.integer({ min: 3, max: 7 }),
  })

  test('conv2d: y within γ_{C·KH·KW+1}·M, dx within γ_{F·KH·KW}·M, dW and db within γ_{N·OH·OW}·M', () => {
    fc.assert(
      fc.property(images, fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 2 }), fc.integer(), ({ n, c, h, w }, f, kk, seed) => {
        const layer = L.conv2d(f, kk, { padding: 1 })
        const { params } = L.initialize(layer, Key.fromSeed(seed), [c, h, w])
        const p32 = { W: random32(params.W.shape, seed), b: random32([f], seed + 1) }
        const p64 = { W: f64(p32.W), b: f64(p32.b) }
        const pAbs = { W: abs64(p32.W), b: abs64(p32.b) }
        const x32 = random32([n, c, h, w], seed + 2)
        const r32 = layer.forward(p32, [], x32, ctx)
        const r64 = layer.forward(p64, [], f64(x32), ctx)
        const rAbs = layer.forward(pAbs, [], abs64(x32), ctx)
        expectAgree('y', higham(r64.y, rAbs.y, c * kk * kk + 1), r32.y, r64.y)
        const [oh, ow] = [r64.y.shape[2]!, r64.y.shape[3]!]
        const dy32 = random32(r64.y.shape, seed + 3)
        const g32 = layer.vjp(p32, r32.tape, dy32)
        const g64 = layer.vjp(p64, r64.tape, f64(dy32))
        const gAbs = layer.vjp(pAbs, rAbs.tape, abs64(dy32))
        expectAgree('dx', higham(g64.dx, gAbs.dx, f * kk * kk), g32.dx, g64.dx)
        expectAgree('dW', higham(g64.dp.W, gAbs.dp.W, n * oh * ow), g32.dp.W, g64.dp.W)
        expectAgree('db', higham(biasOf(g64.dp), biasOf(gAbs.dp), n * oh * ow), biasOf(g32.dp), biasOf(g64.dp))
      }),
      { numRuns: 30 },
    )
  })

  test('maxPool2d (2×2 windows, stride 2): equal; avgPool2d: y within γ_{KH·KW+2}·M, dx within γ_{windows per pixel + 2}·M', () => {
    fc.assert(
      fc.property(
        images,
        fc.integer({ min: 1, max: 2 }),
        fc.integer({ min: 1, max: 2 }),
        fc.integer(),
        ({ n, c, h, w }, kk, stride, seed) => {
          const x32 = random32([n, c, h, w], seed)
          const max = L.maxPool2d(2)
          const m32 = max.forward([], [], x32, ctx)
          const m64 = max.forward([], [], f64(x32), ctx)
          expectEqual('maxPool2d y', m32.y, m64.y)
          const dyMax = random32(m64.y.shape, seed + 1)
          expectEqual('maxPool2d dx', max.vjp([], m32.tape, dyMax).dx, max.vjp([], m64.tape, f64(dyMax)).dx)
          const avg = L.avgPool2d(kk + 1, { stride })
          const a32 = avg.forward([], [], x32, ctx)
          const a64 = avg.forward([], [], f64(x32), ctx)
          const size = (kk + 1) * (kk + 1)
          expectAgree('avgPool2d y', higham(a64.y, avg.forward([], [], abs64(x32), ctx).y, size + 2), a32.y, a64.y)
          const dy = random32(a64.y.shape, seed + 2)
          const dx64 = avg.vjp([], a64.tape, f64(dy)).dx
          const covering = Math.ceil((kk + 1) / stride) ** 2
          expectAgree('avgPool2d dx', higham(dx64, avg.vjp([], a64.tape, abs64(dy)).dx, covering + 2), avg.vjp([], a32.tape, dy).dx, dx64)
        },
      ),
      { numRuns: 30 },
    )
  })

  test('globalAvgPool: the model the code (the sum over H·W in order, then ÷ H·W; dx = dy ÷ H·W)', () => {
    fc.assert(
      fc.property(images, fc.integer(), ({ n, c, h, w }, seed) => {
        const x32 = random32([n, c, h, w], seed)
        const dy32 = random32([n, c], seed + 1)
        const r32 = L.globalAvgPool.forward([], [], x32, ctx)
        const r64 = L.globalAvgPool.forward([], [], f64(x32), ctx)
        const hw = E.exact(h * w)
        const xs = exactly(x32)
        const y = Array.from({ length: n * c }, (_, nc) => E.div(E.sum(xs.slice(nc * h * w, (nc + 1) * h * w)), hw))
        expectAgree('y', y, r32.y, r64.y, true)
        const dx = exactly(dy32).flatMap((d) => Array.from({ length: h * w }, () => E.div(d, hw)))
        expectAgree('dx', dx, L.globalAvgPool.vjp([], r32.tape, dy32).dx, L.globalAvgPool.vjp([], r64.tape, f64(dy32)).dx, true)
      }),
      { numRuns: 30 },
    )
  })

  test('batchNorm, train and eval, [F] and [C, H, W]: y, x̂, the running statistics, dx, dγ and dβ, the model the code', () => {
    fc.assert(
      fc.property(
        images,
        fc.boolean(),
        fc.constantFrom('train' as const, 'eval' as const),
        fc.constantFrom(0.9, 0.99),
        fc.integer(),
        ({ n, c, h, w }, conv, mode, momentum, seed) => {
          const N = n + 1 // train mode needs two values per feature
          const inShape = conv ? [c, h, w] : [c * h]
          const layer = L.batchNorm({ momentum })
          const F = inShape[0]!
          const p32 = { gamma: random32([F], seed), beta: random32([F], seed + 1) }
          const s32 = {
            mean: random32([F], seed + 2),
            variance: T.asTensor(T.cast(T.map((v) => Math.abs(v) + 0.5)(f64(random32([F], seed + 3))), 'float32')),
          }
          const x32 = random32([N, ...inShape], seed + 4, 3)
          const dy32 = random32([N, ...inShape], seed + 5)
          const c64 = { mode, key: ctx.key }
          const r32 = layer.forward(p32, s32, x32, c64)
          const r64 = layer.forward(Tree.castTree(p32, 'float64'), Tree.castTree(s32, 'float64'), f64(x32), c64)
          const model = batchNormModel(x32, N, F, conv ? h * w : 1, p32, s32, mode, momentum, 1e-5)
          expectAgree('y', model.y, r32.y, r64.y, true)
          expectAgree('x̂', model.xhat, r32.tape.xhat, r64.tape.xhat, true)
          expectAgree('running mean', model.mean, r32.state.mean, r64.state.mean, true)
          expectAgree('running variance', model.variance, r32.state.variance, r64.state.variance, true)
          const g32 = layer.vjp(p32, r32.tape, dy32)
          const g64 = layer.vjp(Tree.castTree(p32, 'float64'), r64.tape, f64(dy32))
          const back = model.vjp(exactly(dy32))
          expectAgree('dx', back.dx, g32.dx, g64.dx, true)
          expectAgree('dγ', back.dgamma, g32.dp.gamma, g64.dp.gamma, true)
          expectAgree('dβ', back.dbeta, g32.dp.beta, g64.dp.beta, true)
        },
      ),
      { numRuns: 40 },
    )
  })
})

describe('float32 layers keep float32 from end to end, and refuse a mix', () => {
  test('pipe(dense, softmax, dense, sigmoid, leakyRelu, tanh, elu, dense) in float32: every output, dx and dparam float32', () => {
    const net = L.pipe(L.dense(3), L.softmax, L.dense(4), L.sigmoid, L.leakyRelu(), L.tanh, L.elu(), L.dense(2))
    const { params, state } = L.initialize(net, Key.fromSeed(0), [5], { dtype: 'float32' })
    const net32 = L.asDType(net, 'float32') // the model typed in float32, as its params are
    const r = net32.forward(params, state, T.cast(random32([3, 5], 1), 'float32'), ctx)
    expect(r.y.data).toBeInstanceOf(Float32Array)
    const g = net32.vjp(params, r.tape, T.cast(random32([3, 2], 2), 'float32'))
    expect(g.dx.data).toBeInstanceOf(Float32Array)
    expect(new Set(Tree.leaves(g.dp).map(T.dtypeOf))).toEqual(new Set(['float32']))
  })

  const activations: readonly [string, L.Layer<L.None, L.None, unknown>][] = [
    ['sigmoid', L.sigmoid],
    ['tanh', L.tanh],
    ['elu', L.elu()],
    ['leakyRelu', L.leakyRelu()],
    ['softmax', L.softmax],
  ]
  test.each(activations)('%s: a float64 dy for a float32 input is an error naming both dtypes', (name, layer) => {
    const { tape } = layer.forward([], [], random32([2, 3], 1), ctx)
    expect(() => layer.vjp([], tape, T.ones([2, 3]))).toThrow(
      new RegExp(`${name}: dtypes differ, float32 \\[2, 3\\] vs float64 \\[2, 3\\]`),
    )
  })
})

/** The logistic function as sigmoid.ts computes it: e = exp(−|x|), then 1/(1 + e) for x ≥ 0, e/(1 + e) below. */
const logistic = (x: Approx): Approx => {
  const e = E.exp(E.neg(E.abs(x)))
  const d = E.add(E.exact(1), e)
  return x.v >= 0 ? E.div(E.exact(1), d) : E.div(e, d)
}

/** softmax.ts's forward on rows of c: m = max, eⱼ = exp(xⱼ − m), Z = Σ eⱼ in order, yⱼ = eⱼ/Z. */
const softmaxRows = (x: readonly Approx[], c: number): Approx[] =>
  Array.from({ length: x.length / c }, (_, r) => {
    const row = x.slice(r * c, (r + 1) * c)
    const m = row.reduce(E.max, E.exact(-Infinity))
    const e = row.map((v) => E.exp(E.sub(v, m)))
    const z = E.sum(e)
    return e.map((ej) => E.div(ej, z))
  }).flat()

/** softmax.ts's vjp on rows of c: dot = Σ dyᵢ·yᵢ in order, dxⱼ = yⱼ·(dyⱼ − dot). */
const softmaxVjp = (y: readonly Approx[], dy: readonly Approx[], c: number): Approx[] =>
  Array.from({ length: y.length / c }, (_, r) => {
    const ys = y.slice(r * c, (r + 1) * c)
    const ds = dy.slice(r * c, (r + 1) * c)
    const dot = E.sum(ys.map((yi, i) => E.mul(ds[i]!, yi)))
    return ys.map((yj, j) => E.mul(yj, E.sub(ds[j]!, dot)))
  }).flat()

/** batch-norm.ts's forward and vjp, operation by operation in its order (index (n·F + f)·inner + k). */
const batchNormModel = (
  x: T.Tensor,
  N: number,
  F: number,
  inner: number,
  p: { gamma: T.Tensor; beta: T.Tensor },
  s: { mean: T.Tensor; variance: T.Tensor },
  mode: 'train' | 'eval',
  momentum: number,
  eps: number,
) => {
  const m = E.exact(N * inner)
  const at = (f: number): number[] => Array.from({ length: N * inner }, (_, q) => (Math.floor(q / inner) * F + f) * inner + (q % inner))
  const xs = exactly(x)
  const features = Array.from({ length: F }, (_, f) => f)
  const batchMean = features.map((f) => E.div(E.sum(at(f).map((i) => xs[i]!)), m))
  const batchVariance = features.map((f) =>
    E.div(
      E.sum(
        at(f).map((i) => {
          const d = E.sub(xs[i]!, batchMean[f]!)
          return E.mul(d, d)
        }),
      ),
      m,
    ),
  )
  const [mean, variance] = mode === 'train' ? [batchMean, batchVariance] : [exactly(s.mean), exactly(s.variance)]
  const invStd = variance.map((v) => E.div(E.exact(1), E.sqrt(E.add(v, E.constant(eps)))))
  const featureOf = (i: number): number => Math.floor(i / inner) % F
  const xhat = xs.map((xi, i) => E.mul(E.sub(xi, mean[featureOf(i)]!), invStd[featureOf(i)]!))
  const gamma = exactly(p.gamma)
  const beta = exactly(p.beta)
  const y = xhat.map((h, i) => E.add(E.mul(gamma[featureOf(i)]!, h), beta[featureOf(i)]!))
  const running = (old: T.Tensor, batch: readonly Approx[]): Approx[] =>
    mode === 'train'
      ? exactly(old).map((o, f) => E.add(E.mul(E.constant(momentum), o), E.mul(E.constant(1 - momentum), batch[f]!)))
      : exactly(old)
  const vjp = (dy: readonly Approx[]) => {
    const dbeta = features.map((f) => E.sum(at(f).map((i) => dy[i]!)))
    const dgamma = features.map((f) => E.sum(at(f).map((i) => E.mul(dy[i]!, xhat[i]!))))
    const dx = dy.map((g, i) => {
      const f = featureOf(i)
      const a = E.mul(gamma[f]!, invStd[f]!)
      if (mode === 'eval') return E.mul(a, g)
      const meanDy = E.div(dbeta[f]!, m)
      const meanDyXhat = E.div(dgamma[f]!, m)
      return E.mul(a, E.sub(E.sub(g, meanDy), E.mul(xhat[i]!, meanDyXhat)))
    })
    return { dx, dgamma, dbeta }
  }
  return { y, xhat, mean: running(s.mean, batchMean), variance: running(s.variance, batchVariance), vjp }
}

describe('law 14: float32 losses agree with their float64 selves (the gradient in float32, the value a float64 number)', () => {
  const batch = fc.record({ n: fc.integer({ min: 1, max: 8 }), c: fc.integer({ min: 2, max: 10 }) })

  test('mse: d = fl32(p − t), grad = fl32(fl32(2/K)·d), value = (Σ d·d)/K in float64, the model the code', () => {
    fc.assert(
      fc.property(batch, fc.integer(), ({ n, c }, seed) => {
        const p32 = random32([n, c], seed)
        const t32 = random32([n, c], seed + 1)
        const r32 = Loss.mse(p32, t32)
        const r64 = Loss.mse(f64(p32), f64(t32))
        const k = n * c
        const d = values(p32).map((p, i) => E.sub(E.exact(p), E.exact(t32.data[i]!)))
        expectAgree(
          'grad',
          d.map((di) => E.mul(E.constant(2 / k), di)),
          r32.grad,
          r64.grad,
          true,
        )
        const value = E.div(
          E.sum(
            d.map((di) => E.mul(di, di, 'float64')),
            'float64',
          ),
          E.exact(k),
          'float64',
        )
        expect(value.v).toBe(r64.value)
        expect(E.agrees(value, r32.value, r64.value)).toBe(true)
      }),
      { numRuns: 40 },
    )
  })

  test('crossEntropy: grad = fl32(fl32(−t/p)/N), the value equal; class indices or float32 rows', () => {
    fc.assert(
      fc.property(batch, fc.boolean(), fc.integer(), ({ n, c }, rows, seed) => {
        const p32 = T.asTensor(T.cast(T.map((v) => Math.abs(v) / 4 + 2 ** -6)(f64(random32([n, c], seed))), 'float32'))
        const t = rows
          ? T.asTensor(T.cast(rowsSummingToOne(T.map(Math.abs)(f64(random32([n, c], seed + 1)))), 'float32'))
          : T.generate([n], (i) => (i + (seed >>> 0)) % c)
        const r32 = Loss.crossEntropy()(p32, t)
        const r64 = Loss.crossEntropy()(f64(p32), f64(t))
        expect(r32.value).toBe(r64.value)
        const td = rows ? values(t) : values(t).flatMap((label) => Array.from({ length: c }, (_, j) => (j === label ? 1 : 0)))
        const grad = values(p32).map((p, i) => E.div(E.div(E.neg(E.exact(td[i]!)), E.exact(p)), E.exact(n)))
        expectAgree('grad', grad, r32.grad, r64.grad, true)
      }),
      { numRuns: 40 },
    )
  })

  test('binaryCrossEntropy: grad = fl32(fl32(σ₃₂(x) − t)/K), σ₃₂ as the sigmoid layer computes it; the value equal', () => {
    fc.assert(
      fc.property(batch, fc.integer(), ({ n, c }, seed) => {
        const x32 = random32([n, c], seed, 8)
        const t32 = T.asTensor(T.cast(T.map((v) => Math.abs(v) / 2)(f64(random32([n, c], seed + 1))), 'float32'))
        const r32 = Loss.binaryCrossEntropy(x32, t32)
        const r64 = Loss.binaryCrossEntropy(f64(x32), f64(t32))
        expect(r32.value).toBe(r64.value)
        const grad = values(x32).map((x, i) => E.div(E.sub(logistic(E.exact(x)), E.exact(t32.data[i]!)), E.exact(n * c)))
        expectAgree('grad', grad, r32.grad, r64.grad, true)
      }),
      { numRuns: 40 },
    )
  })

  test('softmaxCrossEntropy: each gradient element the float64 one rounded once (within 2⁻²⁴ of it), the value equal', () => {
    fc.assert(
      fc.property(batch, fc.integer(), ({ n, c }, seed) => {
        const z32 = random32([n, c], seed, 8)
        const labels = T.generate([n], (i) => (i + (seed >>> 0)) % c)
        const r32 = Loss.softmaxCrossEntropy(z32, labels)
        const r64 = Loss.softmaxCrossEntropy(f64(z32), labels)
        expect(r32.value).toBe(r64.value)
        expectAgree(
          'grad',
          values(r64.grad).map((g) => E.known(g, 2 ** -24 * Math.abs(g) + 2 ** -150, 0)),
          r32.grad,
          r64.grad,
          true,
        )
      }),
      { numRuns: 40 },
    )
  })

  test('a float64 target of the shape of a float32 prediction is an error naming both dtypes; class indices may be either', () => {
    const p32 = T.asTensor(T.cast(T.tensor([[0.25, 0.75]]), 'float32'))
    const rows64 = T.tensor([[0, 1]])
    for (const [name, loss] of [
      ['mse', Loss.mse],
      ['binaryCrossEntropy', Loss.binaryCrossEntropy],
      ['crossEntropy', Loss.crossEntropy()],
      ['softmaxCrossEntropy', Loss.softmaxCrossEntropy],
    ] as const) {
      expect(() => loss(p32, rows64), name).toThrow(new RegExp(`${name}: dtypes differ, float32 \\[1, 2\\] vs float64 \\[1, 2\\]`))
    }
    for (const loss of [Loss.crossEntropy(), Loss.softmaxCrossEntropy]) {
      expect(loss(p32, T.tensor([1])).grad.data).toBeInstanceOf(Float32Array)
      expect(loss(p32, T.asTensor(T.cast(T.tensor([1]), 'float32'))).grad.data).toBeInstanceOf(Float32Array)
    }
  })
})

/** One optimizer step on one element, operation by operation in the chain's order: t the step (1 first), g, p and the moments before. */
type StepModel = (t: number, g: Approx, p: Approx, moments: readonly Approx[]) => { p: Approx; moments: Approx[] }

const c = E.constant

/** Adam's direction from μ and ν (bias-corrected), or with NAdam's look-ahead, as src/optim/adaptive.ts computes it. */
const adamModel =
  (o: { lr: number; b1: number; b2: number; eps: number; weightDecay?: number; variant?: 'nadam' | 'amsgrad' }): StepModel =>
  (t, g, p, [m0, v0, w0]) => {
    const m = E.add(E.mul(c(o.b1), m0!), E.mul(c(1 - o.b1), g))
    const v = E.add(E.mul(c(o.b2), v0!), E.mul(c(1 - o.b2), E.mul(g, g)))
    const w = o.variant === 'amsgrad' ? E.max(w0!, v) : v
    const den = E.add(E.sqrt(E.div(w, c(1 - o.b2 ** t))), c(o.eps))
    const mHat =
      o.variant === 'nadam'
        ? E.add(E.mul(c(o.b1), E.div(m, c(1 - o.b1 ** (t + 1)))), E.mul(c(1 - o.b1), E.div(g, c(1 - o.b1 ** t))))
        : E.div(m, c(1 - o.b1 ** t))
    const d = E.div(mHat, den)
    const dw = o.weightDecay === undefined ? d : E.add(d, E.mul(c(o.weightDecay), p))
    return { p: E.add(p, E.mul(c(-o.lr), dw)), moments: o.variant === 'amsgrad' ? [m, v, w] : [m, v] }
  }

const adamaxModel =
  (o: { lr: number; b1: number; b2: number; eps: number }): StepModel =>
  (t, g, p, [m0, u0]) => {
    const m = E.add(E.mul(c(o.b1), m0!), E.mul(c(1 - o.b1), g))
    const u = E.max(E.mul(c(o.b2), u0!), E.add(E.abs(g), c(o.eps)))
    return { p: E.add(p, E.mul(c(-o.lr), E.div(E.div(m, c(1 - o.b1 ** t)), u))), moments: [m, u] }
  }

const rmspropModel =
  (o: { lr: number; decay: number; eps: number; momentum: number }): StepModel =>
  (_t, g, p, [v0, tr0]) => {
    const v = E.add(E.mul(c(o.decay), v0!), E.mul(c(1 - o.decay), E.mul(g, g)))
    const d = E.div(g, E.add(E.sqrt(v), c(o.eps)))
    if (o.momentum === 0) return { p: E.add(p, E.mul(c(-o.lr), d)), moments: [v] }
    const tr = E.add(d, E.mul(c(o.momentum), tr0!))
    return { p: E.add(p, E.mul(c(-o.lr), tr)), moments: [v, tr] }
  }

const adagradModel =
  (o: { lr: number; eps: number }): StepModel =>
  (_t, g, p, [s0]) => {
    const s = E.add(s0!, E.mul(g, g))
    return { p: E.add(p, E.mul(c(-o.lr), E.div(g, E.add(E.sqrt(s), c(o.eps))))), moments: [s] }
  }

const sgdModel =
  (o: { lr: number; momentum: number; nesterov: boolean; weightDecay: number }): StepModel =>
  (_t, g, p, [tr0]) => {
    const d = E.add(g, E.mul(c(o.weightDecay), p))
    const tr = E.add(d, E.mul(c(o.momentum), tr0!))
    const v = o.nesterov ? E.add(d, E.mul(c(o.momentum), tr)) : tr
    return { p: E.add(p, E.mul(c(-o.lr), v)), moments: [tr] }
  }

const adam = { lr: 0.01, b1: 0.9, b2: 0.999, eps: 1e-8 }
const optimizers: readonly [string, Optim.GradientTransformation, StepModel, (n: number) => Approx[][]][] = [
  ['adam', Optim.adam(adam), adamModel(adam), (n) => [zeros(n), zeros(n)]],
  ['adamw', Optim.adamw({ ...adam, weightDecay: 0.05 }), adamModel({ ...adam, weightDecay: 0.05 }), (n) => [zeros(n), zeros(n)]],
  ['nadam', Optim.nadam(adam), adamModel({ ...adam, variant: 'nadam' }), (n) => [zeros(n), zeros(n)]],
  [
    'amsgrad',
    Optim.amsgrad({ ...adam, b2: 0.9 }),
    adamModel({ ...adam, b2: 0.9, variant: 'amsgrad' }),
    (n) => [zeros(n), zeros(n), zeros(n)],
  ],
  ['adamax', Optim.adamax(adam), adamaxModel(adam), (n) => [zeros(n), zeros(n)]],
  [
    'rmsprop',
    Optim.rmsprop({ lr: 0.01, decay: 0.9, eps: 1e-8 }),
    rmspropModel({ lr: 0.01, decay: 0.9, eps: 1e-8, momentum: 0 }),
    (n) => [zeros(n)],
  ],
  [
    'rmsprop with momentum',
    Optim.rmsprop({ lr: 0.01, decay: 0.8, eps: 1e-8, momentum: 0.9 }),
    rmspropModel({ lr: 0.01, decay: 0.8, eps: 1e-8, momentum: 0.9 }),
    (n) => [zeros(n), zeros(n)],
  ],
  [
    'adagrad',
    Optim.adagrad({ lr: 0.1, eps: 1e-10, initialAccumulator: 0.1 }),
    adagradModel({ lr: 0.1, eps: 1e-10 }),
    (n) => [Array.from({ length: n }, () => c(0.1))],
  ],
  [
    'sgd, Nesterov momentum and weight decay',
    Optim.sgd({ lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 5e-4 }),
    sgdModel({ lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 5e-4 }),
    (n) => [zeros(n)],
  ],
]

function zeros(n: number): Approx[] {
  return Array.from({ length: n }, () => E.exact(0))
}

/** The leaves of an optimizer state that are moments (shaped like the params), in the state's key order. */
const moments = (state: Tree.Tree, n: number): T.Tensor[] => Tree.leaves(state).filter((t) => t.data.length === n && t.shape.length > 0)

describe('law 14: float32 optimizers agree with their float64 selves over three steps (params and every moment, after each step)', () => {
  test.each(optimizers)('%s, the model the chain', (_name, opt, model, init) => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.integer(), (n, seed) => {
        let p32 = { w: random32([n], seed) }
        let p64 = Tree.castTree(p32, 'float64')
        let s32 = opt.init(p32)
        let s64 = opt.init(p64)
        let p = exactly(p32.w)
        let ms = init(n)
        for (let t = 1; t <= 3; t++) {
          const g32 = { w: random32([n], seed + 10 * t) }
          ;[p32, s32] = Optim.updateAndApply(opt, g32, s32, p32)
          ;[p64, s64] = Optim.updateAndApply(opt, Tree.castTree(g32, 'float64'), s64, p64)
          const steps = p.map((pi, i) =>
            model(
              t,
              E.exact(g32.w.data[i]!),
              pi,
              ms.map((m) => m[i]!),
            ),
          )
          p = steps.map((st) => st.p)
          ms = ms.map((_, k) => steps.map((st) => st.moments[k]!))
          expectAgree(`step ${t}: params`, p, p32.w, p64.w, true)
          const [m32, m64] = [moments(s32, n), moments(s64, n)]
          expect(m32.length).toBe(ms.length)
          ms.forEach((m, k) => expectAgree(`step ${t}: moment ${k}`, m, m32[k]!, m64[k]!, true))
        }
      }),
      { numRuns: 25 },
    )
  })
})
