/**
 * Shapes at init for conv2d and reshape: inferred output shapes for every padding mode, and
 * errors that name the layer's path and both shapes (kernel larger than the padded input, wrong
 * rank, wrong channels at forward), plus option validation.
 */
import { describe, expect, test } from 'vitest'
import { Key, L, T } from '../../src/index.ts'

const key = Key.fromSeed(0)
const ctx = { mode: 'train' as const, key }

const outShape = (layer: L.AnyLayer, inShape: readonly number[]): readonly number[] => L.initialize(layer, key, inShape).outShape

describe('conv2d infers its output shape at init', () => {
  test.each([
    // [description, layer, input, output]
    ['valid 5x5 on 28x28', L.conv2d(8, 5), [1, 28, 28], [8, 24, 24]],
    ['padding 2 keeps 28x28', L.conv2d(8, 5, { padding: 2 }), [1, 28, 28], [8, 28, 28]],
    ["'same' keeps the size at stride 1", L.conv2d(4, [3, 5], { padding: 'same' }), [2, 9, 7], [4, 9, 7]],
    ["'same' at stride 2 gives ⌈size/2⌉", L.conv2d(4, 3, { padding: 'same', stride: 2 }), [2, 9, 8], [4, 5, 4]],
    ['stride [2, 1]', L.conv2d(3, 3, { stride: [2, 1] }), [1, 7, 7], [3, 3, 5]],
    ['dilation 2: a 3x3 kernel spans 5x5', L.conv2d(2, 3, { dilation: 2 }), [1, 7, 9], [2, 3, 5]],
    ['padding [1, 0]', L.conv2d(2, 3, { padding: [1, 0] }), [1, 4, 4], [2, 4, 2]],
    ['1x1 kernel', L.conv2d(6, 1), [3, 5, 5], [6, 5, 5]],
  ] as const)('%s', (_name, layer, input, output) => {
    expect(outShape(layer, input)).toEqual(output)
  })

  test('kernels are [filters, channels, kh, kw] and biases [filters]; bias: false drops b', () => {
    const p = L.initialize(L.conv2d(5, [2, 3]), key, [4, 6, 6]).params
    expect(p.W.shape).toEqual([5, 4, 2, 3])
    expect('b' in p && p.b.shape).toEqual([5])
    expect('b' in L.initialize(L.conv2d(5, 3, { bias: false }), key, [4, 6, 6]).params).toBe(false)
  })

  test("'he' init has std √(2 / fan-in) with fan-in = channels·kh·kw", () => {
    const W = L.initialize(L.conv2d(64, 3), key, [8, 5, 5]).params.W
    const std = Math.sqrt(T.sum(T.square(W)) / W.data.length)
    expect(std).toBeGreaterThan(0.9 * Math.sqrt(2 / 72))
    expect(std).toBeLessThan(1.1 * Math.sqrt(2 / 72))
  })

  test('the spec records the hyper-parameters as numbers per axis', () => {
    expect(L.conv2d(8, 5, { padding: 2, stride: [1, 2] }).spec).toEqual({
      kind: 'conv2d',
      filters: 8,
      kernelSize: [5, 5],
      stride: [1, 2],
      padding: [2, 2],
      dilation: [1, 1],
      bias: true,
      init: 'he',
    })
  })
})

describe('conv2d rejects shapes it cannot take, naming the layer and the shapes', () => {
  test('a kernel larger than the padded input is a ShapeError at init, with the path inside a pipe', () => {
    const net = L.pipe(L.conv2d(4, 3), L.relu, L.conv2d(4, 5))
    let e: unknown
    try {
      net.init(key, [1, 6, 6]) // the second conv sees 4x4
    } catch (thrown) {
      e = thrown
    }
    expect(e).toBeInstanceOf(L.ShapeError)
    if (e instanceof L.ShapeError) {
      expect(e.path).toEqual(['pipe[2]', 'conv2d'])
      expect(e.message).toMatch(/^pipe\[2\]\.conv2d: window 5x5 is larger than the padded input 4x4/)
      expect(e.message).toContain('input shape [4, 4, 4]')
    }
  })

  test('dilation counts: a 3x3 kernel at dilation 3 spans 7x7', () => {
    // @ts-expect-error the compile-time shape rule rejects this too (test/types); here the run-time check is under test
    expect(() => L.initialize(L.conv2d(1, 3, { dilation: 3 }), key, [1, 6, 6])).toThrow(
      /window 3x3 \(dilated to 7x7\) is larger than the padded input 6x6/,
    )
  })

  test('padding can make a large kernel fit', () => {
    expect(outShape(L.conv2d(1, 5, { padding: 1 }), [1, 3, 3])).toEqual([1, 1, 1])
  })

  test('a vector input (not [C, H, W]) is rejected with both shapes', () => {
    // @ts-expect-error the compile-time shape rule rejects this too (test/types); here the run-time check is under test
    expect(() => L.initialize(L.pipe(L.flatten, L.conv2d(2, 3)), key, [1, 4, 4])).toThrow(
      'pipe[1].conv2d: input shape: expected [channels, height, width], got [16]',
    )
  })

  test('forward with the wrong number of channels is a ShapeError naming the layer', () => {
    const conv = L.conv2d(2, 3)
    const { params } = L.initialize(conv, key, [3, 5, 5])
    expect(() => conv.forward(params, L.none, T.zeros([1, 2, 5, 5]), ctx)).toThrow(
      /conv2d: input shape: expected \[N, 3, \*, \*\], got \[1, 2, 5, 5\]/,
    )
    expect(() => conv.forward(params, L.none, T.zeros([1, 3, 2, 2]), ctx)).toThrow(/conv2d: window 3x3 is larger than the padded input 2x2/)
  })

  test('vjp checks the cotangent shape', () => {
    const conv = L.conv2d(2, 3)
    const { params } = L.initialize(conv, key, [1, 5, 5])
    const { tape } = conv.forward(params, L.none, T.zeros([2, 1, 5, 5]), ctx)
    expect(() => conv.vjp(params, tape, T.zeros([2, 2, 4, 4]))).toThrow(/conv2d: input shape: expected \[N, 2, 3, 3\], got \[2, 2, 4, 4\]/)
  })

  test.each([
    ['filters 0', () => L.conv2d(0, 3), /filters must be a positive integer, got 0/],
    ['kernel 0', () => L.conv2d(2, 0), /kernelSize must be a pair of positive integers \[rows, columns\], got 0, read as \[0, 0\]/],
    [
      'kernel [3]',
      () => L.conv2d(2, [3] as unknown as [number, number]),
      /kernelSize must be a pair of positive integers \[rows, columns\], got \[3\]$/,
    ],
    [
      'stride 1.5',
      () => L.conv2d(2, 3, { stride: 1.5 }),
      /stride must be a pair of positive integers \[rows, columns\], got 1.5, read as \[1.5, 1.5\]/,
    ],
    [
      'dilation 0',
      () => L.conv2d(2, 3, { dilation: [1, 0] }),
      /dilation must be a pair of positive integers \[rows, columns\], got \[1, 0\]/,
    ],
    [
      'padding -1',
      () => L.conv2d(2, 3, { padding: -1 }),
      /padding must be 'valid', 'same' or a pair of non-negative integers, got -1, read as \[-1, -1\]/,
    ],
    ['padding "full"', () => L.conv2d(2, 3, { padding: 'full' as 'same' }), /padding must be 'valid', 'same'/],
    ['init', () => L.conv2d(2, 3, { init: 'xavier' as 'he' }), /init must be one of 'he', 'glorot', 'lecun', 'zeros', got "xavier"/],
  ])('bad option: %s', (_name, make, message) => {
    expect(make).toThrow(RangeError)
    expect(make).toThrow(message)
  })
})

describe('reshape', () => {
  test('infers one -1 axis and keeps the batch axis', () => {
    expect(outShape(L.reshape([1, 28, 28]), [784])).toEqual([1, 28, 28])
    expect(outShape(L.reshape([-1, 4]), [2, 3, 4])).toEqual([6, 4])
    const y = L.reshape([2, -1]).forward(
      L.none,
      L.none,
      T.fromArray(
        [3, 6],
        Array.from({ length: 18 }, (_, i) => i),
      ),
      ctx,
    ).y
    expect(y.shape).toEqual([3, 2, 3])
  })

  test('its vjp reshapes dy back to x', () => {
    const r = L.reshape([3, 2])
    const { tape } = r.forward(L.none, L.none, T.zeros([2, 6]), ctx)
    const dy = T.tensor([
      [
        [1, 2],
        [3, 4],
        [5, 6],
      ],
      [
        [7, 8],
        [9, 10],
        [11, 12],
      ],
    ])
    const { dx } = r.vjp(L.none, tape, dy)
    expect(dx.shape).toEqual([2, 6])
    expect(Array.from(dx.data)).toEqual(Array.from(dy.data))
  })

  test('a size mismatch is a ShapeError at init naming the layer', () => {
    // @ts-expect-error the compile-time shape rule rejects this too (test/types); here the run-time check is under test
    expect(() => L.initialize(L.pipe(L.dense(5), L.reshape([2, 3])), key, [4])).toThrow(
      'pipe[1].reshape: cannot reshape an example of 5 values to [2, 3] (input shape [5])',
    )
    // @ts-expect-error the compile-time shape rule rejects this too (test/types); here the run-time check is under test
    expect(() => L.initialize(L.reshape([-1, 4]), key, [6])).toThrow(/cannot reshape an example of 6 values to \[-1, 4\]/)
  })

  test('bad shapes are rejected when the layer is built', () => {
    expect(() => L.reshape([-1, -1])).toThrow(/at most one -1/)
    expect(() => L.reshape([2.5])).toThrow(RangeError)
  })
})
