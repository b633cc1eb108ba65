/** Element-wise operations: each output element depends on the same-index input elements. */
import {
  assertTensor,
  buffer,
  buffer32,
  dtypeMismatch,
  isFloat32,
  showShape,
  sameShape,
  TensorError,
  type AnyTensor,
  type Tensor,
  type Tensor32,
  asTensor,
  knownFinite,
} from './tensor.ts'

/** Applies f to every element (on a float32 tensor, fl32(f(v)): one rounding each). @example map(x => 2 * x)(tensor([1, 2])) // [2, 4] */
export const map = (f: (v: number) => number): Unary => mapNamed('T.map', f)

/** map(f), its errors naming `where` (`T.exp`). */
const mapNamed = (where: string, f: (v: number) => number): Unary => {
  function apply(t: Tensor): Tensor
  function apply(t: Tensor32): Tensor32
  function apply(t: AnyTensor): AnyTensor {
    assertTensor(t, where, 'argument')
    if (isFloat32(t)) return map32(f, t)
    const src = t.data
    const n = src.length
    const out = buffer(n)
    for (let i = 0; i < n; i++) out[i] = f(src[i]!)
    return { shape: t.shape, data: out }
  }
  return apply
}

/** A function of one tensor that keeps its dtype (what `map(f)` gives). */
export interface Unary {
  (t: Tensor): Tensor
  (t: Tensor32): Tensor32
}

/** map on float32: each f(v), computed in float64, rounded once to float32 as it is stored. */
const map32 = (f: (v: number) => number, t: Tensor32): Tensor32 => {
  const out = buffer32(t.data.length)
  for (let i = 0; i < out.length; i++) out[i] = f(t.data[i]!)
  return { shape: t.shape, data: out }
}

/**
 * A binary operation on float32 tensors: out = fl32(f(a, b)) per element, f computed in float64
 * (exact for a product of two float32s; for a sum, difference or quotient, rounding the float64
 * result to float32 gives the correctly rounded float32 result). Both must be float32.
 */
const zip32 = (where: string, a: AnyTensor, b: AnyTensor, f: (u: number, v: number) => number): Tensor32 => {
  if (!isFloat32(a) || !isFloat32(b)) throw dtypeMismatch(where, a, b)
  const x = a.data
  const y = b.data
  const out = buffer32(x.length)
  for (let i = 0; i < out.length; i++) out[i] = f(x[i]!, y[i]!)
  return { shape: a.shape, data: out }
}

/** What to write for x + n, x − n, x·n and x / n (numberFix of assertTensor). */
const plusNumber = (n: number): string => `for x + ${n} use T.addScalar(${n}, x); ${asTensorOf(n)}`
const minusNumber = (n: number): string => `for x − ${n} use T.addScalar(${-n}, x); ${asTensorOf(n)}`
const timesNumber = (n: number): string => `for ${n}·x use T.scale(${n}, x); ${asTensorOf(n)}`
const overNumber = (n: number): string => `for x / ${n} use T.scale(1 / ${n}, x); ${asTensorOf(n)}`
const asTensorOf = (n: number): string => `T.fullLike(x, ${n}) is a tensor of x's shape and dtype`
/** The same for a number given in a tensor's place where the order of arguments is the likely slip. */
const scaleFirst = (n: number): string => `T.scale takes the number first: T.scale(${n}, x)`
const addScalarFirst = (n: number): string => `T.addScalar takes the number first: T.addScalar(${n}, x)`

/** Throws unless s is a number: a tensor there (`T.scale(x, y)`) would make every value NaN. */
const assertNumber = (s: unknown, where: string, tensorsFix: string): void => {
  if (typeof s === 'number') return
  const hint = typeof s === 'object' && s !== null ? `; for two tensors use ${tensorsFix}` : ''
  throw new TensorError(`${where}: its first argument must be a number, got ${s === null ? 'null' : typeof s}${hint}`)
}
const addScaledOrder = (): string => 'T.addScaled(a, s, b) is a + s·b: the number goes second'

const checkSame = (a: AnyTensor, b: AnyTensor, where: string): void => {
  if (!sameShape(a.shape, b.shape)) {
    throw new TensorError(`${where}: shapes differ, ${showShape(a.shape)} vs ${showShape(b.shape)}`)
  }
}

/** Combines two same-shape tensors element by element with f (float32 in, float32 out: fl32(f(a, b)) each). */
export function zipWith(f: (a: number, b: number) => number, a: Tensor, b: Tensor): Tensor
export function zipWith(f: (a: number, b: number) => number, a: Tensor32, b: Tensor32): Tensor32
export function zipWith(f: (a: number, b: number) => number, a: AnyTensor, b: AnyTensor): AnyTensor {
  assertTensor(a, 'T.zipWith', 'second argument')
  assertTensor(b, 'T.zipWith', 'third argument')
  checkSame(a, b, 'zipWith')
  if (isFloat32(a) || isFloat32(b)) return zip32('zipWith', a, b, f)
  const x = a.data
  const y = b.data
  const n = x.length
  const out = buffer(n)
  for (let i = 0; i < n; i++) out[i] = f(x[i]!, y[i]!)
  return { shape: a.shape, data: out }
}

/** a + b, element-wise (same shapes). */
export function add(a: Tensor, b: Tensor): Tensor
export function add(a: Tensor32, b: Tensor32): Tensor32
export function add(a: AnyTensor, b: AnyTensor): AnyTensor {
  assertTensor(a, 'T.add', 'first argument', plusNumber)
  assertTensor(b, 'T.add', 'second argument', plusNumber)
  checkSame(a, b, 'add')
  if (isFloat32(a) || isFloat32(b)) return zip32('add', a, b, (u, v) => u + v)
  const x = a.data,
    y = b.data,
    n = x.length,
    out = buffer(n)
  for (let i = 0; i < n; i++) out[i] = x[i]! + y[i]!
  return { shape: a.shape, data: out }
}

/** a - b, element-wise (same shapes). */
export function sub(a: Tensor, b: Tensor): Tensor
export function sub(a: Tensor32, b: Tensor32): Tensor32
export function sub(a: AnyTensor, b: AnyTensor): AnyTensor {
  assertTensor(a, 'T.sub', 'first argument')
  assertTensor(b, 'T.sub', 'second argument', minusNumber)
  checkSame(a, b, 'sub')
  if (isFloat32(a) || isFloat32(b)) return zip32('sub', a, b, (u, v) => u - v)
  const x = a.data,
    y = b.data,
    n = x.length,
    out = buffer(n)
  for (let i = 0; i < n; i++) out[i] = x[i]! - y[i]!
  return { shape: a.shape, data: out }
}

/** a * b, element-wise (the Hadamard product; same shapes). */
export function mul(a: Tensor, b: Tensor): Tensor
export function mul(a: Tensor32, b: Tensor32): Tensor32
export function mul(a: AnyTensor, b: AnyTensor): AnyTensor {
  assertTensor(a, 'T.mul', 'first argument', timesNumber)
  assertTensor(b, 'T.mul', 'second argument', timesNumber)
  checkSame(a, b, 'mul')
  if (isFloat32(a) || isFloat32(b)) return zip32('mul', a, b, (u, v) => u * v)
  const x = a.data,
    y = b.data,
    n = x.length,
    out = buffer(n)
  for (let i = 0; i < n; i++) out[i] = x[i]! * y[i]!
  return { shape: a.shape, data: out }
}

/** a / b, element-wise (same shapes). */
export const div = (a: Tensor, b: Tensor): Tensor => {
  assertTensor(a, 'T.div', 'first argument')
  assertTensor(b, 'T.div', 'second argument', overNumber)
  checkSame(a, b, 'div')
  return zipWith((u, v) => u / v, a, b)
}

/** s * t for a number s. */
export function scale(s: number, t: Tensor): Tensor
export function scale(s: number, t: Tensor32): Tensor32
export function scale(s: number, t: AnyTensor): AnyTensor {
  assertTensor(t, 'T.scale', 'second argument', scaleFirst)
  assertNumber(s, 'T.scale', 'T.mul(x, y)')
  if (isFloat32(t)) {
    const s32 = Math.fround(s) // float32: s rounded first, then each fl32(s·x)
    return map32((v) => s32 * v, t)
  }
  const x = t.data,
    n = x.length,
    out = buffer(n)
  for (let i = 0; i < n; i++) out[i] = s * x[i]!
  return { shape: t.shape, data: out }
}

/** a + s * b (the "axpy" of BLAS), element-wise. */
export function addScaled(a: Tensor, s: number, b: Tensor): Tensor
export function addScaled(a: Tensor32, s: number, b: Tensor32): Tensor32
export function addScaled(a: AnyTensor, s: number, b: AnyTensor): AnyTensor {
  assertTensor(a, 'T.addScaled', 'first argument')
  assertTensor(b, 'T.addScaled', 'third argument', addScaledOrder)
  checkSame(a, b, 'addScaled')
  if (isFloat32(a) || isFloat32(b)) {
    const s32 = Math.fround(s) // float32: fl32(a + fl32(fl32(s)·b)), two float32 operations
    return zip32('addScaled', a, b, (u, v) => u + Math.fround(s32 * v))
  }
  const x = a.data,
    y = b.data,
    n = x.length,
    out = buffer(n)
  for (let i = 0; i < n; i++) out[i] = x[i]! + s * y[i]!
  return { shape: a.shape, data: out }
}

/** -t. */
export const neg = (t: Tensor): Tensor => {
  assertTensor(t, 'T.neg', 'argument')
  return scale(-1, t)
}

/** t + s for a number s. */
export const addScalar = (s: number, t: Tensor): Tensor => {
  assertTensor(t, 'T.addScalar', 'second argument', addScalarFirst)
  assertNumber(s, 'T.addScalar', 'T.add(x, y)')
  return map((v) => v + s)(t)
}

/** e^t, element-wise. */
export const exp = mapNamed('T.exp', Math.exp)

/** Natural log, element-wise. */
export const log = mapNamed('T.log', Math.log)

/** t², element-wise. */
export const square = mapNamed('T.square', (v) => v * v)

/** √t, element-wise. */
export const sqrt = mapNamed('T.sqrt', Math.sqrt)

/** |t|, element-wise. */
export const abs = mapNamed('T.abs', Math.abs)

/**
 * Adds a row vector to every row of a matrix: out[i, j] = m[i, j] + v[j] (a bias).
 * `m` may have any rank >= 1; `v` must match its last axis.
 */
export function addRowVector(m: Tensor, v: Tensor): Tensor
export function addRowVector(m: Tensor32, v: Tensor32): Tensor32
export function addRowVector(m: AnyTensor, v: AnyTensor): AnyTensor {
  assertTensor(m, 'T.addRowVector', 'first argument')
  assertTensor(v, 'T.addRowVector', 'second argument')
  const cols = m.shape[m.shape.length - 1]
  if (v.shape.length !== 1 || cols === undefined || v.shape[0] !== cols) {
    throw new TensorError(`addRowVector: vector of shape ${showShape(v.shape)} does not match rows of shape ${showShape(m.shape)}`)
  }
  if (isFloat32(m) || isFloat32(v)) {
    if (!isFloat32(m) || !isFloat32(v)) throw dtypeMismatch('addRowVector', m, v)
    const x = m.data
    const b = v.data
    const out = buffer32(x.length) // each fl32(x + b): one float32 addition
    for (let i = 0; i < x.length; i += cols) for (let j = 0; j < cols; j++) out[i + j] = x[i + j]! + b[j]!
    return { shape: m.shape, data: out }
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
  assertTensor(t, 'T.allFinite', 'argument')
  const x = t.data
  if (knownFinite(x)) return true // checked by the kernel that computed it
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
