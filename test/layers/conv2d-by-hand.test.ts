/**
 * conv2d worked by hand, as a textbook would: a 1-channel 4x4 image through one 2x2 kernel,
 * stride 1, no padding, so the output is 3x3. Every expected number below is written out; the
 * test runs it on both kernel families (the naive loops and im2col + GEMM).
 */
import { describe, expect, test } from 'vitest'
import { Kernels, Key, L, T } from '../../src/index.ts'

// The image x (x[h][w] = 4h + w + 1) and the kernel K:
//
//        ┌  1  2  3  4 ┐          ┌ 1  2 ┐
//   x =  │  5  6  7  8 │     K =  └ 3  4 ┘      bias b = 0.5
//        │  9 10 11 12 │
//        └ 13 14 15 16 ┘
//
// Forward: y[i][j] = b + Σ_a Σ_c K[a][c] · x[i + a][j + c]   (slide K over x, multiply, add)
//   y[0][0] = 0.5 + 1·1 + 2·2 + 3·5 + 4·6    = 0.5 + 1 + 4 + 15 + 24  = 44.5
//   y[0][1] = 0.5 + 1·2 + 2·3 + 3·6 + 4·7    = 0.5 + 2 + 6 + 18 + 28  = 54.5
//   y[0][2] = 0.5 + 1·3 + 2·4 + 3·7 + 4·8    = 0.5 + 3 + 8 + 21 + 32  = 64.5
//   y[1][0] = 0.5 + 1·5 + 2·6 + 3·9 + 4·10   = 0.5 + 5 + 12 + 27 + 40 = 84.5
//   y[1][1] = 0.5 + 1·6 + 2·7 + 3·10 + 4·11  = 94.5
//   y[1][2] = 0.5 + 1·7 + 2·8 + 3·11 + 4·12  = 104.5
//   y[2][0] = 0.5 + 1·9 + 2·10 + 3·13 + 4·14 = 124.5
//   y[2][1] = 0.5 + 1·10 + 2·11 + 3·14 + 4·15 = 134.5
//   y[2][2] = 0.5 + 1·11 + 2·12 + 3·15 + 4·16 = 144.5
const x = T.tensor([
  [
    [
      [1, 2, 3, 4],
      [5, 6, 7, 8],
      [9, 10, 11, 12],
      [13, 14, 15, 16],
    ],
  ],
])
const params = {
  W: T.tensor([
    [
      [
        [1, 2],
        [3, 4],
      ],
    ],
  ]),
  b: T.tensor([0.5]),
}
const y = [
  [44.5, 54.5, 64.5],
  [84.5, 94.5, 104.5],
  [124.5, 134.5, 144.5],
]

// Backward with dy = all ones (the gradient of Σ y):
//   db       = Σ dy = 9
//   dK[a][c] = Σ_i Σ_j dy[i][j] · x[i + a][j + c]: the sum of the 3x3 window of x at offset (a, c)
//     dK[0][0] = 1+2+3 + 5+6+7 + 9+10+11    = 54
//     dK[0][1] = 2+3+4 + 6+7+8 + 10+11+12   = 63
//     dK[1][0] = 5+6+7 + 9+10+11 + 13+14+15 = 90
//     dK[1][1] = 6+7+8 + 10+11+12 + 14+15+16 = 99
//   dx[h][w] = Σ over the outputs (i, j) whose window covers (h, w) of K[h − i][w − j]:
//     a corner is covered once (by one tap), an edge pixel twice, an inner pixel by all four taps
//     dx[0] = [K00, K00+K01, K00+K01, K01]                     = [1, 3, 3, 2]
//     dx[1] = [K00+K10, ΣK, ΣK, K01+K11]                       = [4, 10, 10, 6]
//     dx[2] = the same as dx[1]                                = [4, 10, 10, 6]
//     dx[3] = [K10, K10+K11, K10+K11, K11]                     = [3, 7, 7, 4]
const ones = {
  db: [9],
  dK: [
    [54, 63],
    [90, 99],
  ],
  dx: [
    [1, 3, 3, 2],
    [4, 10, 10, 6],
    [4, 10, 10, 6],
    [3, 7, 7, 4],
  ],
}

// Backward with dy = 1 at y[1][2] only (one output's gradient):
//   that output read x[1..2][2..3] through K, so
//   dK = its window of x = [[7, 8], [11, 12]]     dx = K placed at rows 1-2, columns 2-3     db = 1
const single = {
  dy: [
    [0, 0, 0],
    [0, 0, 1],
    [0, 0, 0],
  ],
  db: [1],
  dK: [
    [7, 8],
    [11, 12],
  ],
  dx: [
    [0, 0, 0, 0],
    [0, 0, 1, 2],
    [0, 0, 3, 4],
    [0, 0, 0, 0],
  ],
}

const ctx = { mode: 'train' as const, key: Key.fromSeed(0) }
const conv = L.conv2d(1, 2)

for (const family of ['fast', 'reference'] as const) {
  describe(`conv2d by hand: 1-channel 4x4 image, 2x2 kernel (${family === 'fast' ? 'im2col + GEMM' : 'naive loops'})`, () => {
    const run = <A>(f: () => A): A => Kernels.using(family, f)

    test('init infers the output shape [1, 3, 3] and kernel shape [1, 1, 2, 2]', () => {
      const r = conv.init(Key.fromSeed(0), [1, 4, 4])
      expect(r.outShape).toEqual([1, 3, 3])
      expect(r.params.W.shape).toEqual([1, 1, 2, 2])
    })

    test('forward: y = b + K slid over x', () => {
      const out = run(() => conv.forward(params, L.none, x, ctx))
      expect(out.y.shape).toEqual([1, 1, 3, 3])
      expect(T.toNested(out.y)).toEqual([[y]])
    })

    test('backward with dy = ones: db = 9, dK = window sums of x, dx = how often each tap covers a pixel', () => {
      const { tape } = run(() => conv.forward(params, L.none, x, ctx))
      const { dx, dp } = run(() => conv.vjp(params, tape, T.ones([1, 1, 3, 3])))
      expect(T.toNested(dx)).toEqual([[ones.dx]])
      expect('b' in dp && Array.from(dp.b.data)).toEqual(ones.db)
      expect(T.toNested(dp.W)).toEqual([[ones.dK]])
    })

    test('backward with dy = 1 at one output: dK is its window of x, dx is K at that window', () => {
      const { tape } = run(() => conv.forward(params, L.none, x, ctx))
      const { dx, dp } = run(() => conv.vjp(params, tape, T.tensor([[single.dy]])))
      expect(T.toNested(dx)).toEqual([[single.dx]])
      expect('b' in dp && Array.from(dp.b.data)).toEqual(single.db)
      expect(T.toNested(dp.W)).toEqual([[single.dK]])
    })
  })
}

describe('conv2d by hand: stride, padding and dilation', () => {
  test('stride 2 with padding 1 on the same image: windows start at -1, 1 and 3 (out of range is 0)', () => {
    // padded x has a ring of zeros; the 2x2 windows at rows/columns -1, 1, 3 each see one real
    // pixel in the corners: y[0][0] = K[1][1]·x[0][0] = 4·1 = 4, y[0][1] = K10·x01 + K11·x02 = 3·2 + 4·3 = 18, …
    const p = {
      W: T.tensor([
        [
          [
            [1, 2],
            [3, 4],
          ],
        ],
      ]),
    }
    const y2 = L.conv2d(1, 2, { stride: 2, padding: 1, bias: false }).forward(p, L.none, x, ctx).y
    expect(T.toNested(y2)).toEqual([
      [
        [
          [4 * 1, 3 * 2 + 4 * 3, 3 * 4],
          [2 * 5 + 4 * 9, 1 * 6 + 2 * 7 + 3 * 10 + 4 * 11, 1 * 8 + 3 * 12],
          [2 * 13, 1 * 14 + 2 * 15, 1 * 16],
        ],
      ],
    ])
  })

  test('dilation 2 spreads the taps: a 2x2 kernel reads pixels two apart (a 3x3 footprint)', () => {
    // y[i][j] = x[i][j] + 2·x[i][j+2] + 3·x[i+2][j] + 4·x[i+2][j+2], for i, j in 0..1
    const p = {
      W: T.tensor([
        [
          [
            [1, 2],
            [3, 4],
          ],
        ],
      ]),
    }
    const y3 = L.conv2d(1, 2, { dilation: 2, bias: false }).forward(p, L.none, x, ctx).y
    expect(T.toNested(y3)).toEqual([
      [
        [
          [1 + 2 * 3 + 3 * 9 + 4 * 11, 2 + 2 * 4 + 3 * 10 + 4 * 12],
          [5 + 2 * 7 + 3 * 13 + 4 * 15, 6 + 2 * 8 + 3 * 14 + 4 * 16],
        ],
      ],
    ])
  })
})
