/**
 * fast-check arbitraries for the laws: tensors of a shape, kept away from kinks with `.map`
 * (never `.filter`, so generation never stalls), class labels and probability rows.
 */
import fc from 'fast-check'
import { T, type Shape, type Tensor } from '../src/index.ts'

/** Options for tensor arbitraries. */
export interface TensorOptions {
  /** Values lie in [min, max] before the kink gap is applied (default -2, 2). */
  readonly min?: number
  readonly max?: number
  /** Keep every value at least this far from 0 (ReLU's kink); default 1e-3. 0 disables. */
  readonly awayFromZero?: number
}

/** Pushes v at least `gap` away from 0, keeping its sign. */
export const pushFromZero =
  (gap: number) =>
  (v: number): number =>
    gap === 0 ? v : v >= 0 ? v + gap : v - gap

/**
 * Tensors of a fixed shape with finite values in [min, max], at least `awayFromZero` from 0.
 * @example fc.sample(tensor([2, 3]), 1)[0]!.shape // [2, 3]
 */
export const tensor = (shape: Shape, options: TensorOptions = {}): fc.Arbitrary<Tensor> => {
  const min = options.min ?? -2
  const max = options.max ?? 2
  const gap = options.awayFromZero ?? 1e-3
  const n = T.sizeOf(shape)
  return fc
    .float64Array({ min, max, noNaN: true, noDefaultInfinity: true, minLength: n, maxLength: n })
    .map((a) => T.fromData(shape, Float64Array.from(a, pushFromZero(gap))))
}

/** Class indices [n] in 0..classes-1, as float64 values (what the losses take). */
export const classIndices = (n: number, classes: number): fc.Arbitrary<Tensor> =>
  fc.array(fc.integer({ min: 0, max: classes - 1 }), { minLength: n, maxLength: n }).map((a) => T.fromArray([n], a))

/** Probability rows [n, classes]: positive, each summing to 1. */
export const probabilityRows = (n: number, classes: number): fc.Arbitrary<Tensor> =>
  fc.float64Array({ min: 0.01, max: 1, noNaN: true, minLength: n * classes, maxLength: n * classes }).map((a) => {
    const out = Float64Array.from(a)
    for (let i = 0; i < n; i++) {
      let s = 0
      for (let j = 0; j < classes; j++) s += out[i * classes + j]!
      for (let j = 0; j < classes; j++) out[i * classes + j] = out[i * classes + j]! / s
    }
    return T.fromData([n, classes], out)
  })

/** A per-example shape: rank 1..maxRank, each axis 1..maxDim. */
export const shape = (maxRank = 3, maxDim = 4): fc.Arbitrary<Shape> =>
  fc.array(fc.integer({ min: 1, max: maxDim }), { minLength: 1, maxLength: maxRank })
