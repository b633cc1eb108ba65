/**
 * float32 ReLU: the readable loops (the oracle, which the 'reference' kernels run) and the
 * branch-free ones (every other family), on Float32Array. Both are exact (no rounding: y is x or
 * +0, dx is dy or +0), so they agree bit for bit (test/kernels/relu32.test.ts), as the float64
 * loops of ./relu.ts agree with src/layers/relu.ts.
 *
 *   forward   y  = max(x, 0)        (−0 and −∞ give +0, NaN stays NaN)
 *   vjp       dx = dy where x > 0, else +0   (a choice, not a product: +0 even where dy is ±∞ or NaN)
 */
import { resolveKernels } from './backend.ts'

/** A ReLU kernel pair: y = relu(x) and dx = relu'(x)·dy, each writing every element of its output. */
export interface Relu32Kernels {
  readonly forward: (x: Float32Array, y: Float32Array) => void
  readonly vjp: (x: Float32Array, dy: Float32Array, dx: Float32Array) => void
}

const same = (what: string, a: Float32Array, n: number): void => {
  if (a.length !== n) throw new RangeError(`relu32: ${what} has ${a.length} values, x has ${n}`)
}

/** The readable ReLU: y = max(x, 0) and dx = (x > 0 ? dy : 0), one element at a time. */
export const reluReference32: Relu32Kernels = {
  forward: (x, y) => {
    same('y', y, x.length)
    for (let i = 0; i < x.length; i++) y[i] = Math.max(x[i]!, 0)
  },
  vjp: (x, dy, dx) => {
    same('dy', dy, x.length)
    same('dx', dx, x.length)
    for (let i = 0; i < x.length; i++) dx[i] = x[i]! > 0 ? dy[i]! : 0
  },
}

/**
 * The branch-free ReLU (x's sign is random, so a branch mispredicts half the time): x·[x > 0] + 0
 * (+ 0 turns −0 into +0), with −∞ (whose product with 0 is NaN) fixed afterwards; and
 * dy·m − (m − 1)·0 with m = [x > 0], with the NaNs of ±∞·0 and NaN·0 fixed afterwards.
 */
export const reluFast32: Relu32Kernels = {
  forward: (x, y) => {
    const n = x.length
    same('y', y, n)
    let minusInf = 0
    for (let i = 0; i < n; i++) {
      const a = x[i]!
      y[i] = a * +(a > 0) + 0
      minusInf |= +(a === -Infinity)
    }
    if (minusInf) for (let i = 0; i < n; i++) if (x[i] === -Infinity) y[i] = 0
  },
  vjp: (x, dy, dx) => {
    const n = x.length
    same('dy', dy, n)
    same('dx', dx, n)
    let nan = 0
    for (let i = 0; i < n; i++) {
      const m = +(x[i]! > 0)
      const a = dy[i]! * m - (m - 1) * 0
      dx[i] = a
      nan |= +(a !== a)
    }
    if (nan) for (let i = 0; i < n; i++) if (!(x[i]! > 0)) dx[i] = 0
  },
}

/** The float32 ReLU of the kernel family in use: the readable loops under 'reference', the branch-free ones otherwise. */
export const relu32Kernels = (): Relu32Kernels => (resolveKernels() === 'reference' ? reluReference32 : reluFast32)
