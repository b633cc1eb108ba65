/** Reductions: sums, means, maxima and argmax, over everything or along one axis. */
import { asTensor, assertConfig, assertTensor, buffer, buffer32, isFloat32, showShape, sizeOf, TensorError } from './tensor.ts'
import type { AnyTensor, Tensor } from './tensor.ts'

/** Sum of all elements. */
export const sum = (t: AnyTensor): number => {
  assertTensor(t, 'T.sum', 'argument')
  const x = t.data
  let s = 0
  for (let i = 0; i < x.length; i++) s += x[i]!
  return s
}

/** Mean of all elements (NaN for an empty tensor). */
export const mean = (t: AnyTensor): number => {
  assertTensor(t, 'T.mean', 'argument')
  return sum(t) / t.data.length
}

/** The larger of m and v, NaN if either is NaN (as NumPy's max): a NaN is never skipped. */
const maxNaN = (m: number, v: number): number => (v > m || v !== v ? v : m)

/** Largest element: NaN if any element is NaN (as in NumPy), -Infinity for an empty tensor. */
export const max = (t: AnyTensor): number => {
  assertTensor(t, 'T.max', 'argument')
  const x = t.data
  let m = -Infinity
  for (let i = 0; i < x.length; i++) m = maxNaN(m, x[i]!)
  return m
}

/** Inner product <a, b> = Σ a_i b_i of two tensors with the same number of elements. */
export const dot = (a: AnyTensor, b: AnyTensor): number => {
  assertTensor(a, 'T.dot', 'first argument')
  assertTensor(b, 'T.dot', 'second argument')
  if (a.data.length !== b.data.length) {
    throw new TensorError(`dot: ${showShape(a.shape)} and ${showShape(b.shape)} hold different numbers of elements`)
  }
  const x = a.data,
    y = b.data
  let s = 0
  for (let i = 0; i < x.length; i++) s += x[i]! * y[i]!
  return s
}

/** Euclidean norm √<t, t>. */
export const norm = (t: AnyTensor): number => {
  assertTensor(t, 'T.norm', 'argument')
  return Math.sqrt(dot(t, t))
}

const normaliseAxis = (t: Tensor, axis: number, where: string): number => {
  const r = t.shape.length
  const a = axis < 0 ? axis + r : axis
  if (!Number.isInteger(a) || a < 0 || a >= r) {
    throw new TensorError(`${where}: axis ${axis} out of range for shape ${showShape(t.shape)}`)
  }
  return a
}

/** Folds one axis away: out[..., ...] = fold over i of t[..., i, ...]. */
const reduceAxis = (t: Tensor, axis: number, where: string, init: number, step: (acc: number, v: number) => number): Tensor => {
  const a = normaliseAxis(t, axis, where)
  const outer = sizeOf(t.shape.slice(0, a))
  const d = t.shape[a]!
  const inner = sizeOf(t.shape.slice(a + 1))
  const shape = [...t.shape.slice(0, a), ...t.shape.slice(a + 1)]
  if (isFloat32(t)) return asTensor({ shape, data: fold(t.data, buffer32(outer * inner).fill(init), outer, d, inner, step) })
  return { shape, data: fold(t.data, buffer(outer * inner).fill(init), outer, d, inner, step) }
}

/** out[o, j] = step(… step(out[o, j], x[o, 0, j]) …, x[o, d−1, j]); into a Float32Array each step is rounded to float32. */
const fold = <A extends Float64Array | Float32Array>(
  x: Float64Array | Float32Array,
  out: A,
  outer: number,
  d: number,
  inner: number,
  step: (acc: number, v: number) => number,
): A => {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < d; i++) {
      const base = (o * d + i) * inner
      for (let j = 0; j < inner; j++) out[o * inner + j] = step(out[o * inner + j]!, x[base + j]!)
    }
  }
  return out
}

/** Sums along one axis, removing it. @example sumAxis(0)(tensor([[1, 2], [3, 4]])) // [4, 6] */
export const sumAxis = (axis: number) => {
  assertConfig(axis, 'T.sumAxis', 'the axis', 'T.sumAxis(0)(x)')
  return (t: Tensor): Tensor => {
    assertTensor(t, 'T.sumAxis', 'argument')
    const a = normaliseAxis(t, axis, 'sumAxis')
    const outer = sizeOf(t.shape.slice(0, a))
    const d = t.shape[a]!
    const inner = sizeOf(t.shape.slice(a + 1))
    const shape = [...t.shape.slice(0, a), ...t.shape.slice(a + 1)]
    // reduceAxis's fold with s + v, in loops of one array type each (a bias gradient Σₙ dy[n, :] every step)
    if (isFloat32(t)) return asTensor({ shape, data: sum32(t.data, buffer32(outer * inner), outer, d, inner) })
    return { shape, data: sum64(t.data, buffer(outer * inner), outer, d, inner) }
  }
}

/** fold with s + v on float32: out[o, j] += x[o, i, j] for i = 0, 1, …, d − 1, each add rounded by the store. */
const sum32 = (x: Float32Array, out: Float32Array, outer: number, d: number, inner: number): Float32Array => {
  for (let o = 0; o < outer; o++) {
    const at = o * inner
    for (let i = 0; i < d; i++) {
      const base = (o * d + i) * inner
      for (let j = 0; j < inner; j++) out[at + j] = out[at + j]! + x[base + j]!
    }
  }
  return out
}

/** fold with s + v on float64. */
const sum64 = (x: Float64Array, out: Float64Array, outer: number, d: number, inner: number): Float64Array => {
  for (let o = 0; o < outer; o++) {
    const at = o * inner
    for (let i = 0; i < d; i++) {
      const base = (o * d + i) * inner
      for (let j = 0; j < inner; j++) out[at + j] = out[at + j]! + x[base + j]!
    }
  }
  return out
}

/** Means along one axis, removing it. */
export const meanAxis = (axis: number) => {
  assertConfig(axis, 'T.meanAxis', 'the axis', 'T.meanAxis(0)(x)')
  return (t: Tensor): Tensor => {
    assertTensor(t, 'T.meanAxis', 'argument')
    const s = reduceAxis(t, axis, 'meanAxis', 0, (acc, v) => acc + v)
    const d = t.shape[normaliseAxis(t, axis, 'meanAxis')]!
    const n = s.data.length
    const out = isFloat32(t) ? buffer32(n) : buffer(n)
    for (let i = 0; i < out.length; i++) out[i] = s.data[i]! / d
    return out instanceof Float32Array ? asTensor({ shape: s.shape, data: out }) : { shape: s.shape, data: out }
  }
}

/** Maxima along one axis, removing it: NaN where a NaN is among the values (as in NumPy), -Infinity along an empty axis (as `max`). */
export const maxAxis =
  (axis: number) =>
  (t: Tensor): Tensor => {
    assertTensor(t, 'T.maxAxis', 'argument')
    return reduceAxis(t, axis, 'maxAxis', -Infinity, maxNaN)
  }

/**
 * Index of the largest value in each row of a matrix (ties go to the first; a row holding NaN
 * gives the index of its first NaN, as NumPy's and PyTorch's argmax do).
 * @example argmaxRows(tensor([[0, 3, 1], [5, 4, 2]])) // [1, 0]
 */
export const argmaxRows = (t: AnyTensor): Int32Array => {
  assertTensor(t, 'T.argmaxRows', 'argument')
  if (t.shape.length !== 2) throw new TensorError(`argmaxRows: expected a matrix, got shape ${showShape(t.shape)}`)
  const [n, c] = t.shape as [number, number]
  if (c === 0 && n > 0) throw new TensorError(`argmaxRows: rows of no values have no argmax, got shape ${showShape(t.shape)}`)
  const x = t.data
  const out = new Int32Array(n)
  for (let i = 0; i < n; i++) {
    let best = 0
    let m = x[i * c]!
    for (let j = 1; j < c && m === m; j++) {
      // once m is NaN, the first NaN is the answer
      const v = x[i * c + j]!
      if (v > m || v !== v) {
        m = v
        best = j
      }
    }
    out[i] = best
  }
  return out
}
