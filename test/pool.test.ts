/**
 * Pooling by hand: max-pool and avg-pool forwards and vjps on small images written out, padding
 * behaviour (max ignores it, avg counts it as zeros), global average pooling, shape inference
 * and errors.
 */
import { describe, expect, test } from 'vitest'
import { Key, L, T } from '../src/index.ts'

const key = Key.fromSeed(0)
const ctx = { mode: 'train' as const, key }

//       ┌ 1  5  2  0 ┐
//  x =  │ 3  4  8  6 │      2x2 windows, stride 2:  max → ┌ 5  8 ┐    avg → ┌ 13/4  16/4 ┐
//       │ 0 -1  7  9 │                                    └ 3  9 ┘          └  4/4  18/4 ┘
//       └ 2  3 -4  6 ┘
const x = T.tensor([[[[1, 5, 2, 0], [3, 4, 8, 6], [0, -1, 7, 9], [2, 3, -4, 6]]]])

describe('maxPool2d by hand', () => {
  const pool = L.maxPool2d(2)

  test('forward takes the max of each 2x2 window', () => {
    expect(T.toNested(pool.forward(L.none, L.none, x, ctx).y)).toEqual([[[[5, 8], [3, 9]]]])
  })

  test('vjp sends each dy to the position of its window max, zero elsewhere', () => {
    const { tape } = pool.forward(L.none, L.none, x, ctx)
    const { dx } = pool.vjp(L.none, tape, T.tensor([[[[10, 20], [30, 40]]]]))
    // maxima: 5 at (0,1), 8 at (1,2), 3 at (3,1), 9 at (2,3)
    expect(T.toNested(dx)).toEqual([[[[0, 10, 0, 0], [0, 0, 20, 0], [0, 0, 0, 40], [0, 30, 0, 0]]]])
  })

  test('overlapping windows (3x3, stride 1) add their cotangents at a shared max', () => {
    const y = T.tensor([[[[1, 2, 3], [4, 9, 5], [6, 7, 8]]]])
    const p = L.maxPool2d(3, { stride: 1, padding: 1 })
    const { y: out, tape } = p.forward(L.none, L.none, y, ctx)
    // every 3x3 window around a pixel of a 3x3 image contains the centre 9
    expect(T.toNested(out)).toEqual([[[[9, 9, 9], [9, 9, 9], [9, 9, 9]]]])
    const { dx } = p.vjp(L.none, tape, T.ones([1, 1, 3, 3]))
    expect(T.toNested(dx)).toEqual([[[[0, 0, 0], [0, 9, 0], [0, 0, 0]]]])
  })

  test('padding never wins a max, even when every value is negative', () => {
    const neg = T.tensor([[[[-5, -3], [-4, -2]]]])
    const y = L.maxPool2d(2, { stride: 1, padding: 1 }).forward(L.none, L.none, neg, ctx).y
    expect(T.toNested(y)).toEqual([[[[-5, -3, -3], [-4, -2, -2], [-4, -2, -2]]]])
  })

  test('channels and samples are pooled separately', () => {
    const two = T.stack([T.reshape([2, 2, 2])(T.tensor([1, 2, 3, 4, 8, 7, 6, 5])), T.reshape([2, 2, 2])(T.tensor([0, 0, 0, -1, 9, 9, 9, 9]))])
    expect(T.toNested(L.maxPool2d(2).forward(L.none, L.none, two, ctx).y)).toEqual([[[[4]], [[8]]], [[[0]], [[9]]]])
  })
})

describe('avgPool2d by hand', () => {
  test('forward averages each window; vjp shares dy equally', () => {
    const pool = L.avgPool2d(2)
    const { y, tape } = pool.forward(L.none, L.none, x, ctx)
    expect(T.toNested(y)).toEqual([[[[13 / 4, 16 / 4], [4 / 4, 18 / 4]]]])
    const { dx } = pool.vjp(L.none, tape, T.tensor([[[[4, 8], [12, 16]]]]))
    expect(T.toNested(dx)).toEqual([[[[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]]])
  })

  test('padding counts as zeros: a corner window of a padded image divides by the full window', () => {
    const ones = T.ones([1, 1, 2, 2])
    const y = L.avgPool2d(2, { stride: 1, padding: 1 }).forward(L.none, L.none, ones, ctx).y
    expect(T.toNested(y)).toEqual([[[[1 / 4, 2 / 4, 1 / 4], [2 / 4, 1, 2 / 4], [1 / 4, 2 / 4, 1 / 4]]]])
  })
})

describe('globalAvgPool', () => {
  test('averages each channel to one number; dx spreads dy / (H·W)', () => {
    const img = T.tensor([[[[1, 2], [3, 6]], [[0, 0], [0, 4]]]])
    const { y, tape } = L.globalAvgPool.forward(L.none, L.none, img, ctx)
    expect(T.toNested(y)).toEqual([[3, 1]])
    const { dx } = L.globalAvgPool.vjp(L.none, tape, T.tensor([[8, 4]]))
    expect(T.toNested(dx)).toEqual([[[[2, 2], [2, 2]], [[1, 1], [1, 1]]]])
  })

  test('init: [C, H, W] → [C]; a vector input is rejected', () => {
    expect(L.initialize(L.globalAvgPool, key, [16, 7, 7]).outShape).toEqual([16])
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
    expect(L.initialize(layer as L.AnyLayer, key, input).outShape).toEqual(output)
  })

  test('a window larger than the input is a ShapeError naming the layer path', () => {
    expect(() => L.initialize(L.pipe(L.conv2d(2, 3), L.maxPool2d(4)), key, [1, 5, 5])).toThrow(
      /^pipe\[1\]\.maxPool2d: window 4x4 is larger than the padded input 3x3/,
    )
  })

  test('padding must be smaller than the window; sizes and strides positive integers', () => {
    expect(() => L.maxPool2d(2, { padding: 2 })).toThrow(/padding 2 must be smaller than the window 2x2/)
    expect(() => L.avgPool2d(0)).toThrow(/size must be a positive integer/)
    expect(() => L.avgPool2d(2, { stride: 0 })).toThrow(/stride must be a positive integer/)
  })

  test('forward checks the input rank', () => {
    expect(() => L.maxPool2d(2).forward(L.none, L.none, T.zeros([2, 4]), ctx)).toThrow(/maxPool2d: input shape: expected \[N, \*, \*, \*\], got \[2, 4\]/)
  })
})
