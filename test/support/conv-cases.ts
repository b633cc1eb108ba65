/**
 * Random convolution geometries and operands, shared by the conv kernel tests: batch, channels,
 * filters, kernel size, strides, dilations and padding ('valid', 'same' or explicit) drawn at
 * random, with the input made just large enough (plus a random margin) for the window to fit.
 */
import fc from 'fast-check'
import { Key } from '../../src/index.ts'
import type { ConvWindow } from '../../src/kernels/conv.ts'
import { planWindow, span, type Padding } from '../../src/kernels/window.ts'

export interface Case {
  readonly g: ConvWindow
  readonly padding: Padding
  readonly seed: number
}

/** Random geometries with 1 to maxN samples; H and W are made large enough (with `.map`) for the window to fit its padded input. */
export const casesUpTo = (maxN: number): fc.Arbitrary<Case> =>
  fc
    .record({
      N: fc.integer({ min: 1, max: maxN }),
      C: fc.integer({ min: 1, max: 3 }),
      F: fc.integer({ min: 1, max: 5 }),
      kernel: fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })),
      stride: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
      dilation: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
      padding: fc.oneof(
        fc.constant<Padding>('valid'),
        fc.constant<Padding>('same'),
        fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })).map((p): Padding => p),
      ),
      extra: fc.tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 6 })),
      seed: fc.integer(),
    })
    .map(({ N, C, F, kernel, stride, dilation, padding, extra, seed: s }) => {
      const fit = (axis: 0 | 1): number => {
        const need = span(kernel[axis], dilation[axis])
        const pad = padding === 'valid' || padding === 'same' ? 0 : (padding as readonly [number, number])[axis]
        return Math.max(1, need - 2 * pad) + extra[axis]
      }
      const p = planWindow({ kernel, stride, dilation, padding }, C, fit(0), fit(1), N)
      if (typeof p === 'string') throw new Error(`test generator: ${p}`)
      return { g: { ...p.window, F }, padding, seed: s }
    })

/** Random geometries with 1 to 3 samples. */
export const cases: fc.Arbitrary<Case> = casesUpTo(3)

/** |a|, element-wise (the magnitudes that bound a sum's rounding error). */
export const abs = (a: Float64Array): Float64Array => a.map(Math.abs)

/** Random operands of a case: x, w, b and a cotangent dy, from its seed. */
export const operands = (c: Case) => {
  const { N, C, H, W, F, KH, KW, OH, OW } = c.g
  const [k1, k2, k3, k4] = Key.split(Key.fromSeed(c.seed), 4) as [Key.Key, Key.Key, Key.Key, Key.Key]
  return {
    x: Key.normal(k1, [N * C * H * W]).data,
    w: Key.normal(k2, [F * C * KH * KW]).data,
    b: Key.normal(k3, [F]).data,
    dy: Key.normal(k4, [N * F * OH * OW]).data,
  }
}

/** A case as one line, for failure messages. */
export const describeCase = (c: Case): string => {
  const g = c.g
  return `N${g.N} C${g.C} ${g.H}x${g.W} F${g.F} k${g.KH}x${g.KW} s${g.SH},${g.SW} d${g.DH},${g.DW} pad ${JSON.stringify(c.padding)} → ${g.OH}x${g.OW}`
}
