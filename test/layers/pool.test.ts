/**
 * Pooling by hand: max-pool and avg-pool forwards and vjps on small images written out, padding
 * behaviour (max ignores it, avg counts it as zeros), global average pooling, shape inference
 * and errors. Then the kernels (a branch-free general loop, straight-line 2x2 stride-2 code)
 * against a naive reference written from the definitions, bit for bit, on inputs full of ties
 * and special values.
 */
import { describe, expect, test } from 'vitest'
import { Kernels, Key, L, T, type Tensor } from '../../src/index.ts'
import { avgPoolBackward, maxPoolBackward, maxPoolForward } from '../../src/kernels/pool.ts'
import { planWindow, type Padding } from '../../src/kernels/window.ts'

const key = Key.fromSeed(0)
const ctx = { mode: 'train' as const, key }

//       ┌ 1  5  2  0 ┐
//  x =  │ 3  4  8  6 │      2x2 windows, stride 2:  max → ┌ 5  8 ┐    avg → ┌ 13/4  16/4 ┐
//       │ 0 -1  7  9 │                                    └ 3  9 ┘          └  4/4  18/4 ┘
//       └ 2  3 -4  6 ┘
const x = T.tensor([
  [
    [
      [1, 5, 2, 0],
      [3, 4, 8, 6],
      [0, -1, 7, 9],
      [2, 3, -4, 6],
    ],
  ],
])

describe('maxPool2d by hand', () => {
  const pool = L.maxPool2d(2)

  test('forward takes the max of each 2x2 window', () => {
    expect(T.toNested(pool.forward(L.none, L.none, x, ctx).y)).toEqual([
      [
        [
          [5, 8],
          [3, 9],
        ],
      ],
    ])
  })

  test('vjp sends each dy to the position of its window max, zero elsewhere', () => {
    const { tape } = pool.forward(L.none, L.none, x, ctx)
    const { dx } = pool.vjp(
      L.none,
      tape,
      T.tensor([
        [
          [
            [10, 20],
            [30, 40],
          ],
        ],
      ]),
    )
    // maxima: 5 at (0,1), 8 at (1,2), 3 at (3,1), 9 at (2,3)
    expect(T.toNested(dx)).toEqual([
      [
        [
          [0, 10, 0, 0],
          [0, 0, 20, 0],
          [0, 0, 0, 40],
          [0, 30, 0, 0],
        ],
      ],
    ])
  })

  test('overlapping windows (3x3, stride 1) add their cotangents at a shared max', () => {
    const y = T.tensor([
      [
        [
          [1, 2, 3],
          [4, 9, 5],
          [6, 7, 8],
        ],
      ],
    ])
    const p = L.maxPool2d(3, { stride: 1, padding: 1 })
    const { y: out, tape } = p.forward(L.none, L.none, y, ctx)
    // every 3x3 window around a pixel of a 3x3 image contains the centre 9
    expect(T.toNested(out)).toEqual([
      [
        [
          [9, 9, 9],
          [9, 9, 9],
          [9, 9, 9],
        ],
      ],
    ])
    const { dx } = p.vjp(L.none, tape, T.ones([1, 1, 3, 3]))
    expect(T.toNested(dx)).toEqual([
      [
        [
          [0, 0, 0],
          [0, 9, 0],
          [0, 0, 0],
        ],
      ],
    ])
  })

  test('padding never wins a max, even when every value is negative', () => {
    const neg = T.tensor([
      [
        [
          [-5, -3],
          [-4, -2],
        ],
      ],
    ])
    const y = L.maxPool2d(2, { stride: 1, padding: 1 }).forward(L.none, L.none, neg, ctx).y
    expect(T.toNested(y)).toEqual([
      [
        [
          [-5, -3, -3],
          [-4, -2, -2],
          [-4, -2, -2],
        ],
      ],
    ])
  })

  test("a NaN anywhere in a window is its max, and takes the window's gradient (PyTorch's rule: it is never hidden)", () => {
    //  ┌ 1   2   NaN  3 ┐   windows: [1 2; 3 NaN] → NaN at (1,1) (last tap), [NaN 3; 0 NaN] → NaN at (1,3) (the last NaN)
    //  └ 3  NaN  0   NaN ┘
    const withNaN = T.tensor([
      [
        [
          [1, 2, NaN, 3],
          [3, NaN, 0, NaN],
        ],
      ],
    ])
    for (const family of ['reference', 'js', 'wasm'] as const) {
      const { y, tape } = Kernels.using(family, () => pool.forward(L.none, L.none, withNaN, ctx))
      expect(T.toNested(y)).toEqual([[[[NaN, NaN]]]])
      const { dx } = Kernels.using(family, () => pool.vjp(L.none, tape, T.tensor([[[[10, 20]]]])))
      expect(T.toNested(dx)).toEqual([
        [
          [
            [0, 0, 0, 0],
            [0, 10, 0, 20],
          ],
        ],
      ])
    }
    // A 1x2 window [1, NaN] (the general loop): NaN, with the gradient at the NaN.
    const p = L.maxPool2d([1, 2])
    const { y, tape } = p.forward(L.none, L.none, T.tensor([[[[1, NaN]]]]), ctx)
    expect(T.toNested(y)).toEqual([[[[NaN]]]])
    expect(T.toNested(p.vjp(L.none, tape, T.tensor([[[[5]]]])).dx)).toEqual([[[[0, 5]]]])
  })

  test('channels and samples are pooled separately', () => {
    const two = T.stack([
      T.reshape([2, 2, 2])(T.tensor([1, 2, 3, 4, 8, 7, 6, 5])),
      T.reshape([2, 2, 2])(T.tensor([0, 0, 0, -1, 9, 9, 9, 9])),
    ])
    expect(T.toNested(L.maxPool2d(2).forward(L.none, L.none, two, ctx).y)).toEqual([
      [[[4]], [[8]]],
      [[[0]], [[9]]],
    ])
  })
})

describe('avgPool2d by hand', () => {
  test('forward averages each window; vjp shares dy equally', () => {
    const pool = L.avgPool2d(2)
    const { y, tape } = pool.forward(L.none, L.none, x, ctx)
    expect(T.toNested(y)).toEqual([
      [
        [
          [13 / 4, 16 / 4],
          [4 / 4, 18 / 4],
        ],
      ],
    ])
    const { dx } = pool.vjp(
      L.none,
      tape,
      T.tensor([
        [
          [
            [4, 8],
            [12, 16],
          ],
        ],
      ]),
    )
    expect(T.toNested(dx)).toEqual([
      [
        [
          [1, 1, 2, 2],
          [1, 1, 2, 2],
          [3, 3, 4, 4],
          [3, 3, 4, 4],
        ],
      ],
    ])
  })

  test('padding counts as zeros: a corner window of a padded image divides by the full window', () => {
    const ones = T.ones([1, 1, 2, 2])
    const y = L.avgPool2d(2, { stride: 1, padding: 1 }).forward(L.none, L.none, ones, ctx).y
    expect(T.toNested(y)).toEqual([
      [
        [
          [1 / 4, 2 / 4, 1 / 4],
          [2 / 4, 1, 2 / 4],
          [1 / 4, 2 / 4, 1 / 4],
        ],
      ],
    ])
  })
})

describe('globalAvgPool', () => {
  test('averages each channel to one number; dx spreads dy / (H·W)', () => {
    const img = T.tensor([
      [
        [
          [1, 2],
          [3, 6],
        ],
        [
          [0, 0],
          [0, 4],
        ],
      ],
    ])
    const { y, tape } = L.globalAvgPool.forward(L.none, L.none, img, ctx)
    expect(T.toNested(y)).toEqual([[3, 1]])
    const { dx } = L.globalAvgPool.vjp(L.none, tape, T.tensor([[8, 4]]))
    expect(T.toNested(dx)).toEqual([
      [
        [
          [2, 2],
          [2, 2],
        ],
        [
          [1, 1],
          [1, 1],
        ],
      ],
    ])
  })

  test('init: [C, H, W] → [C]; a vector input is rejected', () => {
    expect(L.initialize(L.globalAvgPool, key, [16, 7, 7]).outShape).toEqual([16])
    // @ts-expect-error the compile-time shape rule rejects this too (test/types); here the run-time check is under test
    expect(() => L.initialize(L.globalAvgPool, key, [10])).toThrow(/globalAvgPool: input shape: expected \[channels, height, width\]/)
  })
})

describe('pooling shapes at init', () => {
  test.each([
    ['max 2 on 28x28', L.maxPool2d(2), [8, 28, 28], [8, 14, 14]],
    ['max 2 on odd 7x7 drops the last row and column', L.maxPool2d(2), [1, 7, 7], [1, 3, 3]],
    ["max 2, 'same' on 7x7 keeps them", L.maxPool2d(2, { padding: 'same' }), [1, 7, 7], [1, 4, 4]],
    ['max 3 stride 2 padding 1', L.maxPool2d(3, { stride: 2, padding: 1 }), [2, 8, 8], [2, 4, 4]],
    ['avg [2, 3] stride [2, 1]', L.avgPool2d([2, 3], { stride: [2, 1] }), [3, 6, 6], [3, 3, 4]],
  ] as const)('%s', (_name, layer, input, output) => {
    expect(L.initialize(layer, key, input).outShape).toEqual(output)
  })

  test('a window larger than the input is a ShapeError naming the layer path', () => {
    // @ts-expect-error the compile-time shape rule rejects this too (test/types); here the run-time check is under test
    expect(() => L.initialize(L.pipe(L.conv2d(2, 3), L.maxPool2d(4)), key, [1, 5, 5])).toThrow(
      /^pipe\[1\]\.maxPool2d: window 4x4 is larger than the padded input 3x3/,
    )
  })

  test('padding must be smaller than the window; sizes and strides positive integers', () => {
    expect(() => L.maxPool2d(2, { padding: 2 })).toThrow(/padding \[2, 2\] must be smaller than the window 2x2/)
    expect(() => L.avgPool2d(0)).toThrow(/size must be a pair of positive integers \[rows, columns\], got 0/)
    expect(() => L.avgPool2d(2, { stride: 0 })).toThrow(/stride must be a pair of positive integers \[rows, columns\], got 0/)
  })

  test('forward checks the input rank', () => {
    expect(() => L.maxPool2d(2).forward(L.none, L.none, T.zeros([2, 4]), ctx)).toThrow(
      /maxPool2d: input shape: expected \[N, \*, \*, \*\], got \[2, 4\]/,
    )
  })
})

type Two = readonly [number, number]

/**
 * The definitions as naive loops over each window's taps in row-major order. Max: the first tap
 * that is in bounds, then any tap greater than the best so far or NaN (PyTorch's rule: ties go
 * to the first tap, and a NaN anywhere wins, the last one if several); dx is 0 plus the dy of
 * every window whose max it was. Avg:
 * 0 plus the in-bounds taps, times 1/(kh·kw); dx is 0 plus its share of every window. Padding
 * [ph, pw] is above and left of the input; dy has the output's shape.
 */
const reference = (x: Tensor, dy: Tensor, [kh, kw]: Two, [sh, sw]: Two, [ph, pw]: Two) => {
  const [N, C, H, W] = x.shape as [number, number, number, number]
  const [OH, OW] = dy.shape.slice(2) as [number, number]
  const max = new Float64Array(N * C * OH * OW)
  const avg = new Float64Array(max.length)
  const dxMax = new Float64Array(x.data.length)
  const dxAvg = new Float64Array(x.data.length)
  const scale = 1 / (kh * kw)
  for (let nc = 0; nc < N * C; nc++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const q = (nc * OH + oh) * OW + ow
        let best = -Infinity
        let at = -1
        let sum = 0
        for (let i = 0; i < kh; i++) {
          for (let j = 0; j < kw; j++) {
            const h = oh * sh - ph + i
            const w = ow * sw - pw + j
            if (h < 0 || h >= H || w < 0 || w >= W) continue
            const k = (nc * H + h) * W + w
            const v = x.data[k]!
            if (at < 0 || v > best || Number.isNaN(v)) {
              best = v
              at = k
            }
            sum += v
            dxAvg[k] = dxAvg[k]! + dy.data[q]! * scale
          }
        }
        max[q] = best
        avg[q] = sum * scale
        dxMax[at] = dxMax[at]! + dy.data[q]!
      }
    }
  }
  return { max, avg, dxMax, dxAvg }
}

/** A small deterministic generator of values with many ties, zeros of both signs, infinities and NaN. */
const tricky = (seed: number) => {
  const values = [0, 0, 1, 1, 1, -1, 2, -2, -0, -0, NaN, Infinity, -Infinity, 5e-324, -5e-324, 0.5]
  let s = seed >>> 0
  return (n: number): Float64Array =>
    Float64Array.from({ length: n }, () => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0
      return values[(s >>> 24) % values.length]! // the high bits: the low ones of this generator cycle quickly
    })
}

/** A number as text that tells −0 from +0. */
const show = (v: number): string => (Object.is(v, -0) ? '-0' : String(v))

/** Index of the first element where a and b differ, telling −0 from +0 and matching NaN with NaN; -1 if none. */
const firstDifference = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (!Object.is(a[i], b[i])) return i
  return -1
}

describe('pooling kernels equal the naive definitions bit for bit (ties, ±0, ±∞, NaN)', () => {
  // name, input shape, window, stride, the layers' padding option, the padding above and left
  const geometries: [string, [number, number, number, number], Two, Two, Padding, Two][] = [
    ['2x2 stride 2 (straight-line code)', [2, 3, 8, 8], [2, 2], [2, 2], 0, [0, 0]],
    ['2x2 stride 2 on 7x5 (odd last row and column left out)', [2, 2, 7, 5], [2, 2], [2, 2], 0, [0, 0]],
    ["2x2 stride 2 'same' on 7x5 (padding below and right only: the general loop)", [2, 2, 7, 5], [2, 2], [2, 2], 'same', [0, 0]],
    ['2x2 stride 2 padding 1 (general loop)', [1, 2, 5, 6], [2, 2], [2, 2], [1, 1], [1, 1]],
    ['2x2 stride 1 (overlapping)', [1, 2, 5, 5], [2, 2], [1, 1], 0, [0, 0]],
    ['3x3 stride 2 padding 1', [2, 2, 8, 7], [3, 3], [2, 2], 1, [1, 1]],
    ["3x3 stride 2 'same' on 8x7", [2, 2, 8, 7], [3, 3], [2, 2], 'same', [0, 1]],
    ['[2, 3] stride [2, 1] padding [1, 0]', [1, 3, 6, 6], [2, 3], [2, 1], [1, 0], [1, 0]],
    ['1x1 stride 1', [1, 1, 3, 4], [1, 1], [1, 1], 0, [0, 0]],
  ]
  for (const [name, inShape, size, stride, padding, before] of geometries) {
    test.each(['reference', 'js'] as const)(`${name}, %s kernels`, (family) =>
      Kernels.using(family, () => {
        const max = L.maxPool2d(size, { stride, padding })
        const avg = L.avgPool2d(size, { stride, padding })
        const next = tricky(inShape.reduce((a, b) => a * b) + size[0] * 7 + stride[1])
        for (let round = 0; round < 200; round++) {
          const x = T.fromData(inShape, next(inShape.reduce((a, b) => a * b)))
          const fm = max.forward(L.none, L.none, x, ctx)
          const fa = avg.forward(L.none, L.none, x, ctx)
          const dy = T.fromData(fm.y.shape, next(T.sizeOf(fm.y.shape)))
          const ref = reference(x, dy, size, stride, before)
          const got = {
            max: fm.y.data,
            avg: fa.y.data,
            dxMax: max.vjp(L.none, fm.tape, dy).dx.data,
            dxAvg: avg.vjp(L.none, fa.tape, dy).dx.data,
          }
          for (const what of ['max', 'avg', 'dxMax', 'dxAvg'] as const) {
            const i = firstDifference(got[what], ref[what])
            if (i >= 0)
              throw new Error(`round ${round}: ${what}[${i}] is ${show(got[what][i]!)}, the definition gives ${show(ref[what][i]!)}`)
          }
        }
      }),
    )
  }

  test("the MNIST CNN's first pooling ([64, 8, 28, 28], 2x2) on ReLU outputs, many of them tied at 0", () => {
    const x = L.relu.forward(L.none, L.none, Key.normal(Key.fromSeed(3), [64, 8, 28, 28]), ctx).y
    const pool = L.maxPool2d(2)
    const { y, tape } = pool.forward(L.none, L.none, x, ctx)
    const dy = Key.normal(Key.fromSeed(4), y.shape)
    const ref = reference(x, dy, [2, 2], [2, 2], [0, 0])
    expect(firstDifference(y.data, ref.max)).toBe(-1)
    expect(firstDifference(pool.vjp(L.none, tape, dy).dx.data, ref.dxMax)).toBe(-1)
    const avg = L.avgPool2d(2).forward(L.none, L.none, x, ctx)
    expect(firstDifference(avg.y.data, ref.avg)).toBe(-1)
    expect(firstDifference(L.avgPool2d(2).vjp(L.none, avg.tape, dy).dx.data, ref.dxAvg)).toBe(-1)
  })
})

describe('pooling kernels overwrite dx', () => {
  test.each([
    ['2x2 stride 2 on 5x7', 2, 2, 0, 5, 7],
    ['2x2 stride 2 on 6x8 (every input in a window)', 2, 2, 0, 6, 8],
    ['3x3 stride 2 padding 1', 3, 2, 1, 5, 7],
  ] as const)('%s: the backward kernels give the same dx into a buffer full of NaN as into zeros', (_name, k, s, p, h, w) => {
    const plan = planWindow({ kernel: [k, k], stride: [s, s], dilation: [1, 1], padding: p }, 2, h, w, 3)
    if (typeof plan === 'string') throw new Error(plan)
    const g = plan.window
    const x = Key.normal(Key.fromSeed(5), [3, 2, h, w]).data
    const n = g.N * g.C * g.OH * g.OW
    const y = new Float64Array(n)
    const argmax = new Int32Array(n)
    maxPoolForward(g, x, y, argmax)
    const dy = Key.normal(Key.fromSeed(6), [n]).data
    for (const backward of [(dx: Float64Array) => maxPoolBackward(g, dy, argmax, dx), (dx: Float64Array) => avgPoolBackward(g, dy, dx)]) {
      const clean = new Float64Array(x.length)
      const dirty = new Float64Array(x.length).fill(NaN)
      backward(clean)
      backward(dirty)
      expect(firstDifference(dirty, clean)).toBe(-1)
    }
  })
})
