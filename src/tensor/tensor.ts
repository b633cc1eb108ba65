/**
 * The Tensor: a shape and a flat, row-major Float64Array. Tensors are values: no function in
 * chainrule writes into a tensor it did not just create. Every buffer is allocated here
 * (`buffer`), so a second dtype could be added in one place.
 */

/** Sizes of each axis, outermost first. A scalar has shape []. */
export type Shape = readonly number[]

/** An n-dimensional array of float64, stored row-major (the last axis varies fastest). */
export interface Tensor {
  readonly shape: Shape
  readonly data: Float64Array
}

/** A nested array of numbers, as written in source: `[[1, 2], [3, 4]]`. */
export type Nested = number | readonly Nested[]

/** Thrown when a tensor operation gets shapes or values it cannot work with. */
export class TensorError extends Error {
  override readonly name = 'TensorError'
}

/** Number of elements a shape holds (1 for a scalar). */
export const sizeOf = (shape: Shape): number => {
  let n = 1
  for (const d of shape) n *= d
  return n
}

/** `[2,3]` as the string "[2, 3]". */
export const showShape = (shape: Shape): string => `[${shape.join(', ')}]`

/** True when two shapes have the same rank and sizes. */
export const sameShape = (a: Shape, b: Shape): boolean => a.length === b.length && a.every((d, i) => d === b[i])

/** The most elements a tensor may hold: 2^32 − 1, the most a Float64Array can (32 GiB). */
const MAX_ELEMENTS = 2 ** 32 - 1

const checkShape = (shape: Shape, where: string): void => {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new TensorError(`${where}: shape ${showShape(shape)} must hold non-negative integers`)
    }
  }
  const n = sizeOf(shape)
  if (n > MAX_ELEMENTS)
    throw new TensorError(`${where}: shape ${showShape(shape)} holds ${n} elements, more than a tensor can (${MAX_ELEMENTS})`)
}

/** Thrown by `buffer` when an allocation would pass the limit `withAllocationLimit` set (never otherwise). */
export class AllocationLimitError extends RangeError {
  override readonly name = 'AllocationLimitError'
}

/** How many float64s `buffer` may still allocate: Infinity, except while `withAllocationLimit` runs. */
let allowance = Infinity

/** A fresh zero-filled buffer of n float64s: the one place chainrule allocates tensor memory. */
export const buffer = (n: number): Float64Array => {
  if (n > allowance) throw new AllocationLimitError(`${n} values would pass the allocation limit in force (${allowance} values left)`)
  allowance -= n
  return new Float64Array(n)
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

/** Wraps a buffer as a tensor (no copy). The caller hands over the buffer and must not write to it again. */
export const fromData = (shape: Shape, data: Float64Array, where = 'fromData'): Tensor => {
  checkShape(shape, where)
  if (data.length !== sizeOf(shape)) {
    throw new TensorError(`${where}: shape ${showShape(shape)} needs ${sizeOf(shape)} values, got ${data.length}`)
  }
  return { shape: [...shape], data }
}

/** A tensor from a flat list of numbers and a shape (copies). */
export const fromArray = (shape: Shape, values: ArrayLike<number>): Tensor => {
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
    shape.push(probe.length)
    if (probe.length === 0) break
    probe = probe[0]!
  }
  const data = buffer(sizeOf(shape))
  let k = 0
  const walk = (v: Nested, depth: number, path: string): void => {
    if (depth === shape.length) {
      if (typeof v !== 'number')
        throw new TensorError(
          `tensor: expected a number at ${path || 'top'}, got ${Array.isArray(v) ? 'an array' : v === null ? 'null' : typeof v}`,
        )
      data[k++] = v
      return
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) {
      throw new TensorError(
        `tensor: ragged nesting at ${path || 'top'}: expected an array of ${shape[depth]}, got ${Array.isArray(v) ? `an array of ${v.length}` : typeof v}`,
      )
    }
    v.forEach((w: Nested, i: number) => walk(w, depth + 1, `${path}[${i}]`))
  }
  walk(nested, 0, '')
  return { shape, data }
}

/** A tensor of the given shape filled with `value`. */
export const full = (shape: Shape, value: number, where = 'full'): Tensor => {
  checkShape(shape, where)
  return { shape: [...shape], data: buffer(sizeOf(shape)).fill(value) }
}

/** A tensor of zeros. */
export const zeros = (shape: Shape): Tensor => full(shape, 0, 'zeros')

/** A tensor of ones. */
export const ones = (shape: Shape): Tensor => full(shape, 1, 'ones')

/** A rank-0 tensor holding one number. */
export const scalar = (value: number): Tensor => full([], value)

/** A copy with its own buffer (for code that must hand out a tensor it will not share). */
export const copy = (t: Tensor): Tensor => ({ shape: [...t.shape], data: t.data.slice() })

/** The element at a multi-index, bounds-checked. */
export const get = (t: Tensor, index: readonly number[]): number => {
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
  if (!sameShape(t.shape, shape)) {
    throw new TensorError(`${where}: expected shape ${showShape(shape)}, got ${showShape(t.shape)}`)
  }
}
