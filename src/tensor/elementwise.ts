/** Element-wise operations: each output element depends on the same-index input elements. */
import { buffer, showShape, sameShape, TensorError, type Tensor } from './tensor.ts'

/** Applies f to every element. @example map(x => 2 * x)(tensor([1, 2])) // [2, 4] */
export const map =
  (f: (v: number) => number) =>
  (t: Tensor): Tensor => {
    const src = t.data
    const n = src.length
    const out = buffer(n)
    for (let i = 0; i < n; i++) out[i] = f(src[i]!)
    return { shape: t.shape, data: out }
  }

const checkSame = (a: Tensor, b: Tensor, where: string): void => {
  if (!sameShape(a.shape, b.shape)) {
    throw new TensorError(`${where}: shapes differ, ${showShape(a.shape)} vs ${showShape(b.shape)}`)
  }
}

/** Combines two same-shape tensors element by element with f. */
export const zipWith = (f: (a: number, b: number) => number, a: Tensor, b: Tensor): Tensor => {
  checkSame(a, b, 'zipWith')
  const x = a.data
  const y = b.data
  const n = x.length
  const out = buffer(n)
  for (let i = 0; i < n; i++) out[i] = f(x[i]!, y[i]!)
  return { shape: a.shape, data: out }
}

/** a + b, element-wise (same shapes). */
export const add = (a: Tensor, b: Tensor): Tensor => {
  checkSame(a, b, 'add')
  const x = a.data,
    y = b.data,
    n = x.length,
    out = buffer(n)
  for (let i = 0; i < n; i++) out[i] = x[i]! + y[i]!
  return { shape: a.shape, data: out }
}

/** a - b, element-wise (same shapes). */
export const sub = (a: Tensor, b: Tensor): Tensor => {
  checkSame(a, b, 'sub')
  const x = a.data,
    y = b.data,
    n = x.length,
    out = buffer(n)
  for (let i = 0; i < n; i++) out[i] = x[i]! - y[i]!
  return { shape: a.shape, data: out }
}

/** a * b, element-wise (the Hadamard product; same shapes). */
export const mul = (a: Tensor, b: Tensor): Tensor => {
  checkSame(a, b, 'mul')
  const x = a.data,
    y = b.data,
    n = x.length,
    out = buffer(n)
  for (let i = 0; i < n; i++) out[i] = x[i]! * y[i]!
  return { shape: a.shape, data: out }
}

/** a / b, element-wise (same shapes). */
export const div = (a: Tensor, b: Tensor): Tensor => {
  checkSame(a, b, 'div')
  return zipWith((u, v) => u / v, a, b)
}

/** s * t for a number s. */
export const scale = (s: number, t: Tensor): Tensor => {
  const x = t.data,
    n = x.length,
    out = buffer(n)
  for (let i = 0; i < n; i++) out[i] = s * x[i]!
  return { shape: t.shape, data: out }
}

/** a + s * b (the "axpy" of BLAS), element-wise. */
export const addScaled = (a: Tensor, s: number, b: Tensor): Tensor => {
  checkSame(a, b, 'addScaled')
  const x = a.data,
    y = b.data,
    n = x.length,
    out = buffer(n)
  for (let i = 0; i < n; i++) out[i] = x[i]! + s * y[i]!
  return { shape: a.shape, data: out }
}

/** -t. */
export const neg = (t: Tensor): Tensor => scale(-1, t)

/** t + s for a number s. */
export const addScalar = (s: number, t: Tensor): Tensor => map((v) => v + s)(t)

/** e^t, element-wise. */
export const exp = map(Math.exp)

/** Natural log, element-wise. */
export const log = map(Math.log)

/** t², element-wise. */
export const square = map((v) => v * v)

/** √t, element-wise. */
export const sqrt = map(Math.sqrt)

/** |t|, element-wise. */
export const abs = map(Math.abs)

/**
 * Adds a row vector to every row of a matrix: out[i, j] = m[i, j] + v[j] (a bias).
 * `m` may have any rank >= 1; `v` must match its last axis.
 */
export const addRowVector = (m: Tensor, v: Tensor): Tensor => {
  const cols = m.shape[m.shape.length - 1]
  if (v.shape.length !== 1 || cols === undefined || v.shape[0] !== cols) {
    throw new TensorError(`addRowVector: vector of shape ${showShape(v.shape)} does not match rows of shape ${showShape(m.shape)}`)
  }
  const x = m.data,
    b = v.data,
    n = x.length,
    out = buffer(n)
  for (let i = 0; i < n; i += cols) {
    for (let j = 0; j < cols; j++) out[i + j] = x[i + j]! + b[j]!
  }
  return { shape: m.shape, data: out }
}

/** True when every element is finite (no NaN, no ±Infinity). */
export const allFinite = (t: Tensor): boolean => {
  const x = t.data
  const n = x.length
  // v·0 is 0 for every finite v and NaN for NaN and ±Infinity, so one NaN poisons the sum:
  // a branch-free scan instead of a test per value. Four running sums, so each add need not
  // wait for the one before.
  let p0 = 0
  let p1 = 0
  let p2 = 0
  let p3 = 0
  let i = 0
  for (; i + 4 <= n; i += 4) {
    p0 += x[i]! * 0
    p1 += x[i + 1]! * 0
    p2 += x[i + 2]! * 0
    p3 += x[i + 3]! * 0
  }
  for (; i < n; i++) p0 += x[i]! * 0
  return p0 + p1 + p2 + p3 === 0
}
