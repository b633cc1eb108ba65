/**
 * The CNN layers in float32: conv2d (plain and with its fused relu), maxPool2d, avgPool2d,
 * globalAvgPool, flatten and reshape follow their input's dtype; a mix of dtypes is an error
 * naming both (batchNorm in float32: test/laws/float32-vs-float64.test.ts).
 *
 * float32 against float64, on the same (float32) inputs. Each result is a sum of products, every
 * multiply and add one float32 operation; with at most m roundings along any path from an input
 * to the result, |computed − exact| ≤ γ_m·M, γ_m = m·u/(1 − m·u), M the same sum on the inputs'
 * absolute values (Higham, Accuracy and Stability of Numerical Algorithms, §3.1). The float64
 * result obeys the same with u = 2⁻⁵³, so |float32 − float64| ≤ (γ_m(2⁻²⁴) + γ_m(2⁻⁵³))·M.
 * A sum of n terms (a product each), in any order and grouping, has at most n roundings on any
 * path (one for the product, at most n − 1 adds), so m is the number of terms:
 * - conv2d y: C·KH·KW products and the bias; dx: at most F·KH·KW products per pixel; dW: N·OH·OW
 *   products; db: N·OH·OW terms. Relu is exact and 1-Lipschitz, so the fused forward keeps the
 *   bound (its vjp is not compared: where y is within rounding of 0 the two masks may differ);
 * - avgPool2d: the window's KH·KW taps, then fl32(1/(KH·KW)) and the product: m = KH·KW + 2; its
 *   vjp: the share (two roundings) added by each of the windows covering a pixel;
 * - globalAvgPool: H·W adds and the division; its vjp one division;
 * - dropout: fl32(1/(1 − p)) and one product, in y and in dx;
 * - maxPool2d only compares and copies (its y equals float64's), and its vjp adds the dy of each
 *   window whose max a pixel is.
 * Inputs avoid float32's subnormals (|v| ≥ 2⁻⁸ or 0), where the relative bound would not hold.
 *
 * Fast equals readable (law 13): under 'js' and 'wasm' the float32 layers give the 'reference'
 * kernels' bits, and conv2d with its fused relu gives conv2d then relu's bits.
 */
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { Kernels, Key, L, T } from '../../src/index.ts'
import type { Conv2dOptions } from '../../src/layers/conv2d.ts'
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
const bits = (t: T.Tensor): number[] => [...t.data]

/** Every |a − b| ≤ tol·M elementwise; returns the first index that fails, or -1. */
const firstOutside = (a: T.Tensor, b: T.Tensor, m: T.Tensor, tol: number): number => {
  expect(a.shape).toEqual(b.shape)
  return a.data.findIndex((v, i) => !(Math.abs(v - b.data[i]!) <= tol * m.data[i]!))
}

const ctx = { mode: 'train' as const, key: Key.fromSeed(0) }
type ConvParams = { W: T.Tensor; b: T.Tensor }

/** A conv2d geometry: batch, channels, image, filters, kernel, and the options (stride, padding, dilation). */
const convCase = fc
  .record({
    n: fc.integer({ min: 1, max: 3 }),
    c: fc.integer({ min: 1, max: 3 }),
    h: fc.integer({ min: 4, max: 9 }),
    w: fc.integer({ min: 4, max: 9 }),
    f: fc.integer({ min: 1, max: 5 }),
    k: fc.integer({ min: 1, max: 3 }),
    stride: fc.integer({ min: 1, max: 2 }),
    dilation: fc.integer({ min: 1, max: 2 }),
    padding: fc.constantFrom<Conv2dOptions['padding']>('valid', 'same', 1),
  })
  .filter(({ h, w, k, dilation }) => (k - 1) * dilation + 1 <= Math.min(h, w))

interface ConvCase {
  readonly n: number
  readonly c: number
  readonly h: number
  readonly w: number
  readonly f: number
  readonly k: number
  readonly stride: number
  readonly dilation: number
  readonly padding: Conv2dOptions['padding']
}

const convSetup = ({ n, c, h, w, f, k, stride, dilation, padding }: ConvCase, seed: number, activation?: 'relu') => {
  const options: Conv2dOptions = { stride, dilation, padding, ...(activation ? { activation } : {}) }
  const layer = L.conv2d(f, k, options)
  const { outShape } = layer.init(Key.fromSeed(seed), [c, h, w])
  const p32: ConvParams = { W: random32([f, c, k, k], seed), b: random32([f], seed + 1) }
  const x32 = random32([n, c, h, w], seed + 2)
  const dy32 = random32([n, ...outShape], seed + 3)
  return { layer, p32, x32, dy32, terms: { y: c * k * k + 1, dx: f * k * k, dW: n * outShape[1]! * outShape[2]! } }
}

describe('float32 CNN layers agree with their float64 selves within the float32 bound', () => {
  test('conv2d: y, dx, dW and db (and the fused relu forward)', () => {
    fc.assert(
      fc.property(convCase, fc.integer(), (cs, seed) => {
        const { layer, p32, x32, dy32, terms } = convSetup(cs, seed)
        const p64 = { W: f64(p32.W), b: f64(p32.b) }
        const r32 = layer.forward(p32, [], x32, ctx)
        const r64 = layer.forward(p64, [], f64(x32), ctx)
        expect(r32.y.data).toBeInstanceOf(Float32Array)
        const pAbs = { W: abs(p32.W), b: abs(p32.b) }
        const rAbs = layer.forward(pAbs, [], abs(x32), ctx) // M for y: Σ |W·x| + |b|
        expect(firstOutside(r32.y, r64.y, rAbs.y, bound(terms.y))).toBe(-1)
        const g32 = layer.vjp(p32, r32.tape, dy32)
        const g64 = layer.vjp(p64, r64.tape, f64(dy32))
        const gAbs = layer.vjp(pAbs, rAbs.tape, abs(dy32)) // M for dx, dW, db: the same sums on |dy|, |W|, |x|
        const [dp32, dp64, dpAbs] = [g32.dp, g64.dp, gAbs.dp] as ConvParams[]
        expect(g32.dx!.data).toBeInstanceOf(Float32Array)
        expect(dp32!.W.data).toBeInstanceOf(Float32Array)
        expect(dp32!.b.data).toBeInstanceOf(Float32Array)
        expect(firstOutside(g32.dx!, g64.dx!, gAbs.dx!, bound(terms.dx))).toBe(-1)
        expect(firstOutside(dp32!.W, dp64!.W, dpAbs!.W, bound(terms.dW))).toBe(-1)
        expect(firstOutside(dp32!.b, dp64!.b, dpAbs!.b, bound(terms.dW))).toBe(-1)

        const fused = convSetup(cs, seed, 'relu')
        const y32 = fused.layer.forward(p32, [], x32, ctx).y
        const y64 = fused.layer.forward(p64, [], f64(x32), ctx).y
        expect(firstOutside(y32, y64, rAbs.y, bound(terms.y))).toBe(-1)
      }),
      { numRuns: 60 },
    )
  })

  const poolCase = fc
    .record({
      n: fc.integer({ min: 1, max: 3 }),
      c: fc.integer({ min: 1, max: 3 }),
      h: fc.integer({ min: 3, max: 9 }),
      w: fc.integer({ min: 3, max: 9 }),
      k: fc.integer({ min: 1, max: 3 }),
      stride: fc.integer({ min: 1, max: 3 }),
      padding: fc.constantFrom<'valid' | 'same'>('valid', 'same'),
    })
    .filter(({ h, w, k }) => k <= Math.min(h, w))

  /** How many windows of size k at this stride can cover one pixel, per axis squared. */
  const covering = (k: number, stride: number): number => Math.ceil(k / stride) ** 2

  test('avgPool2d: y within bound(KH·KW + 2), dx within bound(windows per pixel + 2)', () => {
    fc.assert(
      fc.property(poolCase, fc.integer(), ({ n, c, h, w, k, stride, padding }, seed) => {
        const layer = L.avgPool2d(k, { stride, padding })
        const { outShape } = layer.init(Key.fromSeed(0), [c, h, w])
        const x32 = random32([n, c, h, w], seed)
        const dy32 = random32([n, ...outShape], seed + 1)
        const r32 = layer.forward([], [], x32, ctx)
        const r64 = layer.forward([], [], f64(x32), ctx)
        expect(r32.y.data).toBeInstanceOf(Float32Array)
        expect(firstOutside(r32.y, r64.y, layer.forward([], [], abs(x32), ctx).y, bound(k * k + 2))).toBe(-1)
        const dx32 = layer.vjp([], r32.tape, dy32).dx!
        expect(dx32.data).toBeInstanceOf(Float32Array)
        const M = layer.vjp([], r64.tape, abs(dy32)).dx!
        expect(firstOutside(dx32, layer.vjp([], r64.tape, f64(dy32)).dx!, M, bound(covering(k, stride) + 2))).toBe(-1)
      }),
      { numRuns: 60 },
    )
  })

  test('maxPool2d: y equal (it only compares), dx within bound(windows per pixel)', () => {
    fc.assert(
      fc.property(poolCase, fc.integer(), ({ n, c, h, w, k, stride, padding }, seed) => {
        const layer = L.maxPool2d(k, { stride, padding })
        const { outShape } = layer.init(Key.fromSeed(0), [c, h, w])
        const x32 = random32([n, c, h, w], seed)
        const dy32 = random32([n, ...outShape], seed + 1)
        const r32 = layer.forward([], [], x32, ctx)
        const r64 = layer.forward([], [], f64(x32), ctx)
        expect(r32.y.data).toBeInstanceOf(Float32Array)
        expect(bits(r32.y)).toEqual(bits(r64.y))
        const dx32 = layer.vjp([], r32.tape, dy32).dx!
        expect(dx32.data).toBeInstanceOf(Float32Array)
        const M = layer.vjp([], r64.tape, abs(dy32)).dx!
        expect(firstOutside(dx32, layer.vjp([], r64.tape, f64(dy32)).dx!, M, bound(covering(k, stride)))).toBe(-1)
      }),
      { numRuns: 60 },
    )
  })

  test('globalAvgPool: y within bound(H·W + 1), dx within bound(1)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer(),
        (n, c, hw, seed) => {
          const x32 = random32([n, c, hw, hw + 1], seed)
          const dy32 = random32([n, c], seed + 1)
          const r32 = L.globalAvgPool.forward([], [], x32, ctx)
          const r64 = L.globalAvgPool.forward([], [], f64(x32), ctx)
          expect(r32.y.data).toBeInstanceOf(Float32Array)
          expect(firstOutside(r32.y, r64.y, L.globalAvgPool.forward([], [], abs(x32), ctx).y, bound(hw * (hw + 1) + 1))).toBe(-1)
          const dx32 = L.globalAvgPool.vjp([], r32.tape, dy32).dx!
          expect(dx32.data).toBeInstanceOf(Float32Array)
          const dx64 = L.globalAvgPool.vjp([], r64.tape, f64(dy32)).dx!
          expect(firstOutside(dx32, dx64, L.globalAvgPool.vjp([], r64.tape, abs(dy32)).dx!, bound(1))).toBe(-1)
        },
      ),
      { numRuns: 40 },
    )
  })

  test('dropout: the same units dropped, y and dx within bound(2) (fl32(1/(1 − p)) and the product); eval is the identity', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.double({ min: 0.05, max: 0.9, noNaN: true }), fc.integer(), (n, dropProb, seed) => {
        const layer = L.dropout({ dropProb })
        const x32 = random32([3, n], seed)
        const dy32 = random32([3, n], seed + 1)
        const r32 = layer.forward([], [], x32, ctx)
        const r64 = layer.forward([], [], f64(x32), ctx)
        expect(r32.y.data).toBeInstanceOf(Float32Array)
        const M = layer.forward([], [], abs(x32), ctx).y // |x|·m, and 0 where a unit is dropped: both dtypes give 0 there
        expect(firstOutside(r32.y, r64.y, M, bound(2))).toBe(-1)
        const dx32 = layer.vjp([], r32.tape, dy32).dx!
        expect(dx32.data).toBeInstanceOf(Float32Array)
        const dx64 = layer.vjp([], r64.tape, f64(dy32)).dx!
        expect(firstOutside(dx32, dx64, layer.vjp([], r64.tape, abs(dy32)).dx!, bound(2))).toBe(-1)
        expect(layer.forward([], [], x32, { mode: 'eval', key: Key.fromSeed(0) }).y).toBe(x32)
      }),
      { numRuns: 40 },
    )
  })

  test('flatten and reshape: the same float32 values in the new shape, both ways', () => {
    const x32 = random32([2, 3, 4, 5], 7)
    for (const layer of [L.flatten, L.reshape([5, -1])]) {
      const { y, tape } = layer.forward([], [], x32, ctx)
      expect(y.data).toBeInstanceOf(Float32Array)
      expect(bits(y)).toEqual(bits(x32))
      const dx = layer.vjp([], tape, y).dx!
      expect(dx.data).toBeInstanceOf(Float32Array)
      expect(dx.shape).toEqual([2, 3, 4, 5])
      expect(bits(dx)).toEqual(bits(x32))
    }
  })
})

describe('float32 CNN layers: fast equals readable, bit for bit (law 13)', () => {
  const families = ['js', 'wasm', 'fast'] as const

  test('conv2d, plain and with its fused relu: y, dx, dW and db on every family equal the reference kernels', () => {
    fc.assert(
      fc.property(convCase, fc.integer(), fc.boolean(), (cs, seed, withRelu) => {
        const { layer, p32, x32, dy32 } = convSetup(cs, seed, withRelu ? 'relu' : undefined)
        const run = () => {
          const r = layer.forward(p32, [], x32, ctx)
          const g = layer.vjp(p32, r.tape, dy32)
          const dp = g.dp as ConvParams
          return [r.y, g.dx!, dp.W, dp.b].map(bits)
        }
        const reference = Kernels.using('reference', run)
        for (const family of families) expect(Kernels.using(family, run)).toEqual(reference)
      }),
      { numRuns: 30 },
    )
  })

  test('conv2d with its fused relu gives conv2d then relu, and a pipe fuses them, in float32', () => {
    fc.assert(
      fc.property(convCase, fc.integer(), (cs, seed) => {
        const plain = convSetup(cs, seed)
        const fused = convSetup(cs, seed, 'relu')
        const { p32, x32, dy32 } = plain
        const conv = plain.layer.forward(p32, [], x32, ctx)
        const relu = L.relu.forward([], [], conv.y, ctx)
        const unfusedDz = L.relu.vjp([], relu.tape, dy32).dx!
        const unfused = plain.layer.vjp(p32, conv.tape, unfusedDz)
        const f = fused.layer.forward(p32, [], x32, ctx)
        const g = fused.layer.vjp(p32, f.tape, dy32)
        expect(bits(f.y)).toEqual(bits(relu.y))
        expect(bits(g.dx!)).toEqual(bits(unfused.dx!))
        expect(bits((g.dp as ConvParams).W)).toEqual(bits((unfused.dp as ConvParams).W))
        expect(bits((g.dp as ConvParams).b)).toEqual(bits((unfused.dp as ConvParams).b))
        const pipe = L.pipe(L.conv2d(cs.f, cs.k, { stride: cs.stride, dilation: cs.dilation, padding: cs.padding }), L.relu)
        const viaPipe = pipe.forward([p32, []], [[], []], x32, ctx)
        expect(bits(viaPipe.y)).toEqual(bits(relu.y))
      }),
      { numRuns: 30 },
    )
  })

  test('maxPool2d and avgPool2d (2x2 stride 2, and other windows): y and dx on every family equal the reference kernels', () => {
    const shapes: [number, number, number][] = [
      [2, 3, 8, 8],
      [1, 2, 7, 9],
    ].map(([n, c, h, w]) => [n! * c!, h!, w!])
    for (const [nc, h, w] of shapes) {
      for (const layer of [
        L.maxPool2d(2),
        L.avgPool2d(2),
        L.maxPool2d(3, { stride: 2, padding: 'same' }),
        L.avgPool2d([2, 3], { stride: 1 }),
      ]) {
        const x32 = random32([1, nc, h, w], nc + h)
        const run = () => {
          const r = layer.forward([], [], x32, ctx)
          const dy = random32(r.y.shape, w)
          return [r.y, layer.vjp([], r.tape, dy).dx!].map(bits)
        }
        const reference = Kernels.using('reference', run)
        for (const family of families) expect(Kernels.using(family, run)).toEqual(reference)
      }
    }
  })
})

describe('float32 CNN layers: a mix of dtypes is an error naming both', () => {
  const x32 = random32([1, 1, 6, 6], 1)
  const x64 = f64(x32)

  test('conv2d: float32 x on float64 params, float64 dy on a float32 tape, and a float32 W with a float64 b', () => {
    const layer = L.conv2d(2, 3)
    const p64 = L.initialize(layer, Key.fromSeed(0), [1, 6, 6]).params
    const p32 = L.initialize(layer, Key.fromSeed(0), [1, 6, 6], { dtype: 'float32' }).params
    expect(() => layer.forward(p64, [], x32, ctx)).toThrow(/conv2d: dtypes differ, float32 .* vs float64/)
    const { tape } = L.asDType(layer, 'float32').forward(p32, [], T.cast(x32, 'float32'), ctx)
    // @ts-expect-error float32 params with a float64 dy: the types say so too
    expect(() => layer.vjp(p32, tape, T.zeros([1, 2, 4, 4]))).toThrow(/conv2d: dtypes differ, float32 .* vs float64/)
    // @ts-expect-error a float32 W with a float64 b: the types say so too
    expect(() => layer.forward({ W: p32.W, b: T.zeros([2]) }, [], x32, ctx)).toThrow(/conv2d: dtypes differ, float32 .* vs float64/)
  })

  test('maxPool2d, avgPool2d and globalAvgPool: a float64 dy for a float32 input', () => {
    for (const layer of [L.maxPool2d(2), L.avgPool2d(2)]) {
      const { tape } = layer.forward([], [], x32, ctx)
      expect(() => layer.vjp([], tape, T.zeros([1, 1, 3, 3]))).toThrow(
        new RegExp(`${layer.name}: dtypes differ, the input was float32 but dy is float64`),
      )
    }
    const { tape } = L.globalAvgPool.forward([], [], x32, ctx)
    expect(() => L.globalAvgPool.vjp([], tape, T.zeros([1, 1]))).toThrow(
      /globalAvgPool: dtypes differ, the input was float32 but dy is float64/,
    )
    expect(L.maxPool2d(2).forward([], [], x64, ctx).y.data).toBeInstanceOf(Float64Array)
  })

  test('flatten and reshape: a dy of the other dtype than the input, either way round', () => {
    for (const [x, dy, from, to] of [
      [x32, T.zeros([1, 36]), 'float32', 'float64'],
      [x64, T.cast(T.zeros([1, 36]), 'float32'), 'float64', 'float32'],
    ] as const) {
      for (const layer of [L.flatten, L.reshape([36])]) {
        const { tape } = layer.forward([], [], x, ctx)
        expect(() => layer.vjp([], tape, T.asTensor(dy))).toThrow(
          new RegExp(`${layer.name}: dtypes differ, the input was ${from} but dy is ${to}`),
        )
        expect(T.dtypeOf(layer.vjp([], tape, T.asTensor(T.cast(dy, from))).dx)).toBe(from)
      }
    }
  })
})
