/**
 * The Tensor: a shape and a flat, row-major Float64Array (dtype 'float64', the default) or
 * Float32Array (dtype 'float32'). Tensors are values: no function in chainrule writes into a
 * tensor it did not just create. Every buffer is allocated here (`buffer`, `buffer32`); a reusing
 * training step may hand them memory that a state it has let go of held (see src/train/recycler.ts).
 */

/** Sizes of each axis, outermost first. A scalar has shape []. */
export type Shape = readonly number[]

/** The element types a tensor can hold: 'float64' (the default and the oracle) or 'float32'. */
export type DType = 'float64' | 'float32'

/** The array a tensor of dtype D keeps its elements in. */
export type DataOf<D extends DType> = D extends 'float32' ? Float32Array : Float64Array

/**
 * An n-dimensional array, stored row-major (the last axis varies fastest). Its dtype is the class
 * of its data. `Tensor` is float64; `Tensor<'float32'>` (`Tensor32`) holds a Float32Array.
 * Layers, losses and optimizers are typed on `Tensor` and follow their inputs' dtype at run time.
 */
export interface Tensor<D extends DType = 'float64'> {
  readonly shape: Shape
  readonly data: DataOf<D>
}

/** A float32 tensor. */
export type Tensor32 = Tensor<'float32'>

/** A tensor of either dtype. */
export type AnyTensor = Tensor | Tensor32

/**
 * Thrown when a tensor operation gets shapes or values it cannot work with; inside a layer it becomes a ShapeError naming
 * the layer. Its subclasses `DTypeError` and `NotATensorError` are no shape problem: inside a layer they keep their
 * class, and `path` names the layer (`pipe[2].bad: add: dtypes differ, ...`).
 */
export class TensorError extends Error {
  override readonly name: string = 'TensorError'
  constructor(
    /** What was wrong, e.g. `add: shapes differ, [2, 3] vs [3, 2]`: the message without the path and `where`. */
    readonly detail: string,
    /** The layer whose code threw it, e.g. `['pipe[2]', 'bad']` (shown `pipe[2].bad`); [] outside a layer. */
    readonly path: readonly string[] = [],
    /** Where training was when it was thrown, e.g. `fit: epoch 3, step 1 of 4 (step 9 overall)` (set by fit); undefined otherwise. */
    readonly where?: string,
  ) {
    super(`${where === undefined ? '' : `${where}: `}${path.length === 0 ? '' : `${path.join('.')}: `}${detail}`)
  }
  /** The same error seen from a parent layer: its path gets `segment` in front. */
  within(segment: string): TensorError {
    return new TensorError(this.detail, [segment, ...this.path], this.where)
  }
  /** The same error with `where` (e.g. `fit: epoch 3, step 1 of 4 (step 9 overall)`) in front of its message. */
  during(where: string): TensorError {
    return new TensorError(this.detail, this.path, where)
  }
}

/**
 * Tensors of two dtypes in one operation (never a silent conversion: cast one with `T.cast`), or a dtype that is
 * neither 'float64' nor 'float32'. A TensorError; inside a layer it stays a DTypeError naming the layer in `path`.
 */
export class DTypeError extends TensorError {
  override readonly name: string = 'DTypeError'
  override within(segment: string): DTypeError {
    return new DTypeError(this.detail, [segment, ...this.path], this.where)
  }
  override during(where: string): DTypeError {
    return new DTypeError(this.detail, this.path, where)
  }
}

/**
 * A T function given something that is not a tensor (a number, an array, undefined) where it takes one: names the
 * function and the argument. A TensorError; inside a layer it stays a NotATensorError naming the layer in `path`.
 */
export class NotATensorError extends TensorError {
  override readonly name: string = 'NotATensorError'
  override within(segment: string): NotATensorError {
    return new NotATensorError(this.detail, [segment, ...this.path], this.where)
  }
  override during(where: string): NotATensorError {
    return new NotATensorError(this.detail, this.path, where)
  }
}

/** True for a tensor of either dtype: an object with a shape array and a Float64Array or Float32Array as its data. */
const isTensorValue = (v: unknown): v is AnyTensor =>
  typeof v === 'object' &&
  v !== null &&
  ((v as { data?: unknown }).data instanceof Float64Array || (v as { data?: unknown }).data instanceof Float32Array) &&
  Array.isArray((v as { shape?: unknown }).shape)

/**
 * Throws a NotATensorError naming the function `where` and its `argument` (`'second argument'`; `'argument'` for the
 * only one) unless v is a tensor: the check every T function makes of the tensors it is given, a type test, never a
 * pass over the data. `numberFix` says what to write instead when v is a number (by default T.fullLike or T.scalar).
 * @example assertTensor(2, 'T.add', 'second argument') // throws "T.add: its second argument is a number (2), not a tensor; ..."
 */
export const assertTensor = (v: unknown, where: string, argument: string, numberFix?: (n: number) => string): void => {
  if (!isTensorValue(v)) throw notATensor(v, `its ${argument}`, where, numberFix)
}

/**
 * Throws when the first call of a curried T function is given a tensor (`T.reshape(x, [2, 3])`): the tensor goes in the
 * second call, `usage` shows how. Without this the first call would return a function and the next op would be the one to fail.
 */
export const assertConfig = (config: unknown, where: string, what: string, usage: string): void => {
  if (isTensorValue(config))
    throw new TensorError(`${where}: its first call takes ${what}, not a tensor; the tensor goes in a second call: ${usage}`)
}

/** assertTensor for an argument that is an array of tensors (stack's, concat's): the array and each of its elements. */
export const assertTensors = (vs: unknown, where: string, argument: string): void => {
  if (!Array.isArray(vs)) {
    const fix = isTensorValue(vs) ? `pass an array of tensors, e.g. ${where}([t])` : 'pass an array of tensors'
    throw new NotATensorError(`${where}: its ${argument} is ${describeValue(vs)}, not an array of tensors; ${fix}`)
  }
  for (let k = 0; k < vs.length; k++) if (!isTensorValue(vs[k])) throw notATensor(vs[k], `element ${k} of its ${argument}`, where)
}

/** The error assertTensor throws: what v is, and how to make a tensor of it. */
const notATensor = (v: unknown, what: string, where: string, numberFix?: (n: number) => string): NotATensorError => {
  const fix =
    typeof v === 'number'
      ? (numberFix ?? ((n) => `make one, e.g. T.fullLike(x, ${n}) (x's shape and dtype) or T.scalar(${n})`))(v)
      : Array.isArray(v)
        ? 'make one from nested numbers with T.tensor([...])'
        : typeof v === 'function'
          ? 'did you forget to call it?'
          : 'a tensor is { shape, data } with a Float64Array or Float32Array as data, as T.tensor, T.zeros and T.cast make'
  return new NotATensorError(`${where}: ${what} is ${describeValue(v)}, not a tensor; ${fix}`)
}

/** What a value is, for NotATensorError: `a number (2)`, `an array of 3`, `undefined`, `an object {x, y}`, `a tensor [2, 3]`. */
const describeValue = (v: unknown): string => {
  if (v === undefined || v === null) return String(v)
  if (Array.isArray(v)) return `an array of ${v.length}`
  if (typeof v === 'number') return `a number (${v})`
  if (typeof v !== 'object') return `a ${typeof v}`
  if (isTensorValue(v)) return `a tensor ${showShape(v.shape)}`
  if (ArrayBuffer.isView(v)) return `a typed array (${v.constructor.name})`
  const data: unknown = (v as { data?: unknown }).data
  if (data !== undefined) return `an object whose data is ${Array.isArray(data) ? 'an array' : describeValue(data)}`
  const keys = Object.keys(v)
  return keys.length === 0 ? 'an empty object' : `an object {${keys.slice(0, 5).join(', ')}${keys.length > 5 ? ', …' : ''}}`
}

/** A tensor's dtype: 'float32' when its data is a Float32Array, else 'float64'. */
export const dtypeOf = (t: AnyTensor): DType => {
  assertTensor(t, 'T.dtypeOf', 'argument')
  return t.data instanceof Float32Array ? 'float32' : 'float64'
}

/** True when t holds float32s (its data is a Float32Array). */
export const isFloat32 = (t: AnyTensor): t is Tensor32 => {
  assertTensor(t, 'T.isFloat32', 'argument')
  return t.data instanceof Float32Array
}

/** t as a Tensor32 when it holds float32s, else undefined (for code typed on `Tensor` that also runs on float32). */
export const float32Of = (t: AnyTensor): Tensor32 | undefined => {
  assertTensor(t, 'T.float32Of', 'argument')
  return isFloat32(t) ? t : undefined
}

/** A nested array of numbers, as written in source: `[[1, 2], [3, 4]]`. */
export type Nested = number | readonly Nested[]

/** Number of elements a shape holds (1 for a scalar). */
export const sizeOf = (shape: Shape): number => {
  let n = 1
  for (const d of shape) n *= d
  return n
}

/** `[2,3]` as the string "[2, 3]". */
export const showShape = (shape: Shape): string => `[${shape.join(', ')}]`

/** The position of flat (row-major) index i in a tensor of this shape, as a message shows it: `[1, 2]`. */
export const showIndex = (shape: Shape, i: number): string => {
  const idx: number[] = []
  let rest = i
  for (let a = shape.length - 1; a >= 0; a--) {
    const d = shape[a]!
    idx.unshift(d === 0 ? 0 : rest % d)
    rest = d === 0 ? 0 : Math.floor(rest / d)
  }
  return `[${idx.join(', ')}]`
}

/** True when two shapes have the same rank and sizes. */
export const sameShape = (a: Shape, b: Shape): boolean => a.length === b.length && a.every((d, i) => d === b[i])

/** The most elements a tensor may hold: 2^32 − 1, the most a Float64Array can (32 GiB). */
const MAX_ELEMENTS = 2 ** 32 - 1

/** The most axes a tensor built from nested arrays may have (deeper nesting is an error, not a stack overflow). */
const MAX_RANK = 64

const checkShape = (shape: Shape, where: string): void => {
  if (!Array.isArray(shape)) {
    const got = typeof shape === 'string' ? `the string '${shape}'` : shape === null ? 'null' : typeof shape
    throw new TensorError(`${where}: a shape is an array of non-negative integers (e.g. [2, 3]), got ${got}`)
  }
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new TensorError(`${where}: shape ${showShape(shape)} must hold non-negative integers`)
    }
  }
  const n = sizeOf(shape)
  if (n > MAX_ELEMENTS)
    throw new TensorError(`${where}: shape ${showShape(shape)} holds ${n} elements, more than a tensor can (${MAX_ELEMENTS})`)
}

/** Throws a TensorError unless n is a number of values a buffer can hold (an integer in 0..MAX_ELEMENTS). */
const checkLength = (n: number, dtype: string): void => {
  if (!(Number.isInteger(n) && n >= 0 && n <= MAX_ELEMENTS))
    throw new TensorError(`cannot allocate ${n} ${dtype} values: a tensor holds an integer number of values in 0..${MAX_ELEMENTS}`)
}

/** Thrown by `buffer` when an allocation would pass the limit `withAllocationLimit` set (never otherwise). */
export class AllocationLimitError extends RangeError {
  override readonly name = 'AllocationLimitError'
}

/** How many float64s `buffer` may still allocate: Infinity, except while `withAllocationLimit` runs. */
let allowance = Infinity

const allow = (n: number): void => {
  if (n > allowance) throw new AllocationLimitError(`${n} values would pass the allocation limit in force (${allowance} values left)`)
  allowance -= n
}

/**
 * Where `buffer` and `buffer32` take memory from while a reusing training step runs (see
 * src/train/recycler.ts): `take` hands over an ArrayBuffer of that many bytes no one else holds,
 * or undefined; `made` is told of every buffer allocated meanwhile.
 */
export interface Allocator {
  readonly take: (byteLength: number) => ArrayBuffer | undefined
  readonly made: (data: Float64Array | Float32Array | Int32Array) => void
}

/** The allocator in force: undefined (fresh memory) except while `withAllocator` runs. */
let allocator: Allocator | undefined

/** Runs f with `buffer` and `buffer32` drawing on `a`, and restores the allocator in force before, even on a throw. */
export const withAllocator = <A>(a: Allocator, f: () => A): A => {
  const outer = allocator
  allocator = a
  try {
    return f()
  } finally {
    allocator = outer
  }
}

/** True while `withAllocator` runs (a reusing training step draws on its recycler). */
export const recycling = (): boolean => allocator !== undefined

/** A fresh zero-filled buffer of n float64s: with `buffer32` and `indexBuffer`, the one place chainrule allocates tensor memory. */
export const buffer = (n: number): Float64Array => {
  checkLength(n, 'float64')
  allow(n)
  if (allocator === undefined) return new Float64Array(n)
  const reused = allocator.take(8 * n)
  const data = reused === undefined ? new Float64Array(n) : new Float64Array(reused).fill(0) // a new view, zero-filled as a fresh one is
  allocator.made(data)
  return data
}

/** A fresh zero-filled buffer of n float32s (counted against the allocation limit as `buffer`'s values are). */
export const buffer32 = (n: number): Float32Array => {
  checkLength(n, 'float32')
  allow(n)
  if (allocator === undefined) return new Float32Array(n)
  const reused = allocator.take(4 * n)
  const data = reused === undefined ? new Float32Array(n) : new Float32Array(reused).fill(0)
  allocator.made(data)
  return data
}

/** A fresh zero-filled buffer of n int32s, for the indices a tape keeps (max-pool's argmax); drawn and counted as `buffer32`'s. */
export const indexBuffer = (n: number): Int32Array => {
  checkLength(n, 'int32')
  allow(n)
  if (allocator === undefined) return new Int32Array(n)
  const reused = allocator.take(4 * n)
  const data = reused === undefined ? new Int32Array(n) : new Int32Array(reused).fill(0)
  allocator.made(data)
  return data
}

/**
 * Buffers a kernel found to hold only finite values while it computed them (the float32 SGD step
 * checks its gradient and its new params as it goes): `allFinite` need not scan them again. A
 * fact about an immutable value, so it never changes a result; weakly held.
 */
const finiteBuffers = new WeakSet<Float64Array | Float32Array>()

/** Records that `data`, a buffer no one writes again, holds only finite values (the caller has checked every one). */
export const markFinite = (data: Float64Array | Float32Array): void => {
  finiteBuffers.add(data)
}

/** True when `markFinite` recorded `data`: every value finite. False means unknown, not non-finite. */
export const knownFinite = (data: Float64Array | Float32Array): boolean => finiteBuffers.has(data)

/**
 * A tensor of either dtype seen as a `Tensor`, the type layers, losses and optimizers are written
 * on (they run on either dtype, following their inputs). The one place a float32 tensor is typed
 * as a float64 one: read its data only through numbers (or `T.dtypeOf` first), never its bytes.
 */
export const asTensor = (t: AnyTensor): Tensor => {
  assertTensor(t, 'T.asTensor', 'argument')
  return t as Tensor
}

/**
 * Throws a DTypeError naming `where` and both dtypes unless a and b have the same dtype: mixing
 * dtypes in one operation is an error, never a silent conversion (cast one with `cast`).
 */
export const checkDTypes = (where: string, a: AnyTensor, b: AnyTensor): void => {
  assertTensor(a, 'T.checkDTypes', 'second argument')
  assertTensor(b, 'T.checkDTypes', 'third argument')
  if (dtypeOf(a) !== dtypeOf(b)) throw dtypeMismatch(where, a, b)
}

/** The error `checkDTypes` throws: where, both dtypes and shapes, and the fix. */
export const dtypeMismatch = (where: string, a: AnyTensor, b: AnyTensor): DTypeError => {
  assertTensor(a, 'T.dtypeMismatch', 'second argument')
  assertTensor(b, 'T.dtypeMismatch', 'third argument')
  const [da, db] = [dtypeOf(a), dtypeOf(b)]
  return new DTypeError(
    `${where}: dtypes differ, ${da} ${showShape(a.shape)} vs ${db} ${showShape(b.shape)} (cast one with T.cast(t, '${da}') or T.cast(t, '${db}'))`,
  )
}

/**
 * The tensor in dtype `to`: float64 → float32 rounds each value to nearest (Math.fround),
 * float32 → float64 is exact; the same dtype returns t itself (tensors are values).
 * @example dtypeOf(cast(tensor([0.1]), 'float32')) // 'float32', holding 0.10000000149011612
 */
export function cast(t: AnyTensor, to: 'float32'): Tensor32
export function cast(t: AnyTensor, to: 'float64'): Tensor
export function cast(t: AnyTensor, to: DType): AnyTensor
export function cast(t: AnyTensor, to: DType): AnyTensor {
  assertTensor(t, 'T.cast', 'first argument')
  if (to !== 'float32' && to !== 'float64') throw new DTypeError(`cast: dtype must be 'float64' or 'float32', got ${String(to)}`)
  if (dtypeOf(t) === to) return t
  const data = to === 'float32' ? buffer32(t.data.length) : buffer(t.data.length)
  data.set(t.data) // a typed array's set converts each value: rounding to nearest into a Float32Array, exactly into a Float64Array
  return data instanceof Float32Array ? { shape: [...t.shape], data } : { shape: [...t.shape], data }
}

/**
 * Runs f allowing every tensor it allocates (through `buffer`), together, at most `values`
 * float64s (a number ≥ 0, or Infinity), within any outer limit; past it, `buffer` throws an
 * AllocationLimitError before allocating. The checkpoint loader runs a custom layer's init so,
 * bounded by the values the file holds.
 */
export const withAllocationLimit = <A>(values: number, f: () => A): A => {
  if (typeof values !== 'number' || !(values >= 0))
    throw new RangeError(`withAllocationLimit: values must be a number >= 0 (or Infinity), got ${String(values)}`)
  const outer = allowance
  const start = Math.min(outer, values)
  allowance = start
  try {
    return f()
  } finally {
    allowance = start === Infinity ? outer : outer - (start - allowance) // what f allocated counts against the outer limit
  }
}

/** Throws a TensorError naming `where` unless data is an instance of `kind` (a type test, never a pass over the values). */
const checkData = (data: unknown, kind: typeof Float64Array | typeof Float32Array, where: string): void => {
  if (data instanceof kind) return
  const got = ArrayBuffer.isView(data) ? `a ${data.constructor.name}` : Array.isArray(data) ? 'an array' : describeValue(data)
  const make = kind === Float64Array ? 'Float64Array.from(values), or T.fromArray(shape, values)' : 'Float32Array.from(values)'
  throw new TensorError(`${where}: data must be a ${kind.name}, got ${got} (copy the values into one: ${make})`)
}

/** Wraps a buffer as a tensor (no copy). The caller hands over the buffer and must not write to it again. */
export const fromData = (shape: Shape, data: Float64Array, where = 'fromData'): Tensor => {
  checkShape(shape, where)
  checkData(data, Float64Array, where)
  if (data.length !== sizeOf(shape)) {
    throw new TensorError(`${where}: shape ${showShape(shape)} needs ${sizeOf(shape)} values, got ${data.length}`)
  }
  return { shape: [...shape], data }
}

/** Wraps a Float32Array as a float32 tensor (no copy), as `fromData` does a Float64Array. */
export const fromData32 = (shape: Shape, data: Float32Array, where = 'fromData32'): Tensor32 => {
  checkShape(shape, where)
  checkData(data, Float32Array, where)
  if (data.length !== sizeOf(shape)) {
    throw new TensorError(`${where}: shape ${showShape(shape)} needs ${sizeOf(shape)} values, got ${data.length}`)
  }
  return { shape: [...shape], data }
}

/** A tensor from a flat list of numbers and a shape (copies). */
export const fromArray = (shape: Shape, values: ArrayLike<number>): Tensor => {
  checkShape(shape, 'fromArray')
  if (values.length !== sizeOf(shape))
    throw new TensorError(`fromArray: shape ${showShape(shape)} needs ${sizeOf(shape)} values, got ${values.length}`)
  const data = buffer(values.length)
  for (let i = 0; i < values.length; i++) data[i] = values[i]!
  return fromData(shape, data, 'fromArray')
}

/** A tensor of `shape` where element i is f(i), i the flat row-major index. */
export const generate = (shape: Shape, f: (i: number) => number): Tensor => {
  checkShape(shape, 'generate')
  const data = buffer(sizeOf(shape))
  for (let i = 0; i < data.length; i++) data[i] = f(i)
  return { shape: [...shape], data }
}

/** A tensor from nested arrays; the shape is read from the nesting and must be rectangular.
 *
 * @example tensor([[1, 2, 3], [4, 5, 6]]).shape // [2, 3]
 */
export const tensor = (nested: Nested): Tensor => {
  const shape: number[] = []
  let probe: Nested = nested
  while (Array.isArray(probe)) {
    if (shape.length === MAX_RANK)
      throw new TensorError(`tensor: the arrays are nested more than ${MAX_RANK} deep (a tensor has at most ${MAX_RANK} axes)`)
    shape.push(probe.length)
    if (probe.length === 0) break
    probe = probe[0]!
  }
  checkShape(shape, 'tensor')
  const data = buffer(sizeOf(shape))
  let k = 0
  const walk = (v: Nested, depth: number, path: string): void => {
    if (depth === shape.length) {
      if (typeof v !== 'number')
        throw new TensorError(
          `tensor: expected a number at ${path || 'top'}, got ${Array.isArray(v) ? 'an array' : v === null ? 'null' : ArrayBuffer.isView(v) ? `a ${v.constructor.name} (use T.fromData for typed arrays)` : typeof v}`,
        )
      data[k++] = v
      return
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) {
      throw new TensorError(
        `tensor: ragged nesting at ${path || 'top'}: expected an array of ${shape[depth]}, got ${Array.isArray(v) ? `an array of ${v.length}` : typeof v}`,
      )
    }
    // An index loop, not forEach: forEach skips the holes of a sparse array, which would leave zeros in their place.
    for (let i = 0; i < v.length; i++) {
      if (!(i in v)) throw new TensorError(`tensor: expected a number at ${path}[${i}], got a hole (an empty slot of a sparse array)`)
      walk(v[i]!, depth + 1, `${path}[${i}]`)
    }
  }
  walk(nested, 0, '')
  return { shape, data }
}

/** A tensor of the given shape filled with `value`. */
export const full = (shape: Shape, value: number, where = 'full'): Tensor => {
  checkShape(shape, where)
  const data = buffer(sizeOf(shape)) // zero-filled: +0 needs no second pass
  return { shape: [...shape], data: Object.is(value, 0) ? data : data.fill(value) }
}

/**
 * A tensor of t's shape and dtype filled with `value` (rounded to float32 in float32): what a
 * layer builds from a number when its result must follow its input's dtype.
 * @example fullLike(x, 0) // zeros shaped like x, in x's dtype
 */
export function fullLike(t: Tensor32, value: number): Tensor32
export function fullLike(t: Tensor, value: number): Tensor
export function fullLike(t: AnyTensor, value: number): AnyTensor {
  assertTensor(t, 'T.fullLike', 'first argument')
  if (!isFloat32(t)) return full(t.shape, value, 'fullLike')
  const data = buffer32(t.data.length)
  return { shape: [...t.shape], data: Object.is(value, 0) ? data : data.fill(value) }
}

/** A tensor of zeros. */
export const zeros = (shape: Shape): Tensor => full(shape, 0, 'zeros')

/** A float32 tensor of zeros. */
export const zeros32 = (shape: Shape): Tensor32 => {
  checkShape(shape, 'zeros32')
  return { shape: [...shape], data: buffer32(sizeOf(shape)) }
}

/** A tensor of ones. */
export const ones = (shape: Shape): Tensor => full(shape, 1, 'ones')

/** A rank-0 tensor holding one number. */
export const scalar = (value: number): Tensor => full([], value)

/** A copy with its own buffer (for code that must hand out a tensor it will not share). */
export const copy = (t: Tensor): Tensor => {
  assertTensor(t, 'T.copy', 'argument')
  return { shape: [...t.shape], data: t.data.slice() }
}

/** The element at a multi-index, bounds-checked. */
export const get = (t: Tensor, index: readonly number[]): number => {
  assertTensor(t, 'T.get', 'first argument')
  if (index.length !== t.shape.length) {
    throw new TensorError(`get: index of rank ${index.length} for a tensor of shape ${showShape(t.shape)}`)
  }
  let flat = 0
  for (let a = 0; a < index.length; a++) {
    const i = index[a]!
    const d = t.shape[a]!
    if (!Number.isInteger(i) || i < 0 || i >= d) {
      throw new TensorError(`get: index ${i} out of range for axis ${a} of shape ${showShape(t.shape)}`)
    }
    flat = flat * d + i
  }
  return t.data[flat]!
}

/** The tensor as nested arrays (the inverse of `tensor`). */
export const toNested = (t: Tensor): Nested => {
  assertTensor(t, 'T.toNested', 'argument')
  const rec = (axis: number, offset: number): Nested => {
    if (axis === t.shape.length) return t.data[offset]!
    const d = t.shape[axis]!
    const stride = sizeOf(t.shape.slice(axis + 1))
    return Array.from({ length: d }, (_, i) => rec(axis + 1, offset + i * stride))
  }
  return rec(0, 0)
}

/** Throws a TensorError naming `where` unless `t` has exactly `shape`. */
export const assertShape = (t: Tensor, shape: Shape, where: string): void => {
  assertTensor(t, 'T.assertShape', 'first argument')
  if (!sameShape(t.shape, shape)) {
    throw new TensorError(`${where}: expected shape ${showShape(shape)}, got ${showShape(t.shape)}`)
  }
}
