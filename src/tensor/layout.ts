/** Layout: reshape, transpose, and the row slicing / stacking that batches are made of. */
import {
  asTensor,
  assertConfig,
  assertTensor,
  assertTensors,
  buffer,
  buffer32,
  dtypeMismatch,
  dtypeOf,
  DTypeError,
  isFloat32,
  showShape,
  sizeOf,
  TensorError,
  type DType,
  type Shape,
  type Tensor,
} from './tensor.ts'

/** The same elements under a new shape of equal size; one axis may be -1 (inferred). Shares the buffer (tensors are never written). */
export const reshape = (shape: Shape) => {
  assertConfig(shape, 'T.reshape', 'the new shape', 'T.reshape([2, 3])(x)')
  return (t: Tensor): Tensor => {
    assertTensor(t, 'T.reshape', 'argument')
    const known = shape.filter((d) => d !== -1)
    const unknown = shape.length - known.length
    const n = t.data.length
    let out: number[] = [...shape]
    if (unknown > 1) throw new TensorError(`reshape: at most one -1 allowed in ${showShape(shape)}`)
    if (unknown === 1) {
      const k = sizeOf(known)
      if (k === 0 || n % k !== 0) throw new TensorError(`reshape: cannot reshape ${showShape(t.shape)} to ${showShape(shape)}`)
      out = shape.map((d) => (d === -1 ? n / k : d))
    }
    if (out.some((d) => !Number.isInteger(d) || d < 0) || sizeOf(out) !== n) {
      throw new TensorError(`reshape: cannot reshape ${showShape(t.shape)} (${n} values) to ${showShape(shape)}`)
    }
    return { shape: out, data: t.data }
  }
}

/**
 * Permutes axes: out.shape[i] = t.shape[axes[i]]. With no axes, reverses them (the matrix transpose).
 * @example transpose()(tensor([[1, 2, 3], [4, 5, 6]])) // [[1, 4], [2, 5], [3, 6]]
 */
export const transpose = (axes?: readonly number[]) => {
  assertConfig(axes, 'T.transpose', 'the axes (or nothing)', 'T.transpose()(x)')
  return (t: Tensor): Tensor => {
    assertTensor(t, 'T.transpose', 'argument')
    const r = t.shape.length
    const perm = axes ?? t.shape.map((_, i) => r - 1 - i)
    if (perm.length !== r || [...perm].sort((a, b) => a - b).some((a, i) => a !== i)) {
      throw new TensorError(`transpose: [${perm.join(', ')}] is not a permutation of the axes of ${showShape(t.shape)}`)
    }
    const shape = perm.map((a) => t.shape[a]!)
    const inStrides: number[] = new Array<number>(r).fill(1)
    for (let i = r - 2; i >= 0; i--) inStrides[i] = inStrides[i + 1]! * t.shape[i + 1]!
    const strides = perm.map((a) => inStrides[a]!)
    const n = t.data.length
    const out = isFloat32(t) ? buffer32(n) : buffer(n)
    const idx = new Array<number>(r).fill(0)
    const x = t.data
    let src = 0
    for (let k = 0; k < n; k++) {
      out[k] = x[src]!
      // advance the output multi-index like an odometer, tracking the source offset
      for (let a = r - 1; a >= 0; a--) {
        idx[a] = idx[a]! + 1
        src += strides[a]!
        if (idx[a]! < shape[a]!) break
        src -= strides[a]! * shape[a]!
        idx[a] = 0
      }
    }
    return wrap(shape, out)
  }
}

/** Rows start..end-1 along the first axis (a mini-batch). Copies; with `dtype`, into that dtype (as T.cast: float32 rounds to nearest). */
export const sliceRows = (t: Tensor, start: number, end: number, dtype?: DType): Tensor => {
  assertTensor(t, 'T.sliceRows', 'first argument', () => 'the tensor comes first, not curried: T.sliceRows(x, start, end)')
  const n = t.shape[0]
  if (n === undefined || !Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > n || start > end) {
    throw new TensorError(`sliceRows: rows ${start}..${end} out of range for shape ${showShape(t.shape)}`)
  }
  const row = sizeOf(t.shape.slice(1))
  const shape = [end - start, ...t.shape.slice(1)]
  const to = dtype ?? dtypeOf(t)
  if (to === dtypeOf(t)) return wrap(shape, t.data.slice(start * row, end * row))
  const out = bufferOf(to, (end - start) * row)
  out.set(t.data.subarray(start * row, end * row)) // a typed array's set converts each value, as cast does
  return wrap(shape, out)
}

/**
 * The rows at the given indices along the first axis, in that order (a shuffled batch); with
 * `dtype`, gathered straight into that dtype (each value as T.cast gives it: no copy in the
 * data's dtype first).
 */
export const gatherRows = (t: Tensor, indices: ArrayLike<number>, dtype?: DType): Tensor => {
  assertTensor(t, 'T.gatherRows', 'first argument', () => 'the tensor comes first, not curried: T.gatherRows(x, indices)')
  const n = t.shape[0]
  if (n === undefined) throw new TensorError('gatherRows: cannot gather rows of a scalar')
  const row = sizeOf(t.shape.slice(1))
  const out = bufferOf(dtype ?? dtypeOf(t), indices.length * row)
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]!
    if (!Number.isInteger(i) || i < 0 || i >= n) {
      throw new TensorError(`gatherRows: index ${i} (position ${k}) out of range for ${n} rows`)
    }
  }
  if (out instanceof Float32Array && t.data instanceof Float64Array) gatherRounding(t.data, indices, row, out)
  else for (let k = 0; k < indices.length; k++) out.set(t.data.subarray(indices[k]! * row, (indices[k]! + 1) * row), k * row)
  return wrap([indices.length, ...t.shape.slice(1)], out)
}

/** Rows `indices` of src (rows of `row` values) into out, each value rounded to float32 as it is stored (set's rounding, in a loop). */
const gatherRounding = (src: Float64Array, indices: ArrayLike<number>, row: number, out: Float32Array): void => {
  for (let k = 0; k < indices.length; k++) {
    const from = indices[k]! * row
    const to = k * row
    for (let j = 0; j < row; j++) out[to + j] = src[from + j]!
  }
}

/** A fresh buffer of n values in `dtype`. */
const bufferOf = (dtype: DType, n: number): Float64Array | Float32Array => {
  if (dtype !== 'float32' && dtype !== 'float64') throw new DTypeError(`dtype must be 'float64' or 'float32', got ${String(dtype)}`)
  return dtype === 'float32' ? buffer32(n) : buffer(n)
}

/** A buffer of n values of the first tensor's dtype; every other tensor must have it (a TensorError naming both otherwise). */
const likeFirst = (ts: readonly Tensor[], n: number, where: string): Float64Array | Float32Array => {
  const first = ts[0]!
  ts.forEach((t, k) => {
    if (dtypeOf(t) !== dtypeOf(first)) throw dtypeMismatch(`${where}: tensor ${k} against tensor 0`, t, first)
  })
  return isFloat32(first) ? buffer32(n) : buffer(n)
}

/** A tensor of either dtype, typed as layers see it. */
const wrap = (shape: Shape, data: Float64Array | Float32Array): Tensor =>
  data instanceof Float32Array ? asTensor({ shape, data }) : { shape, data }

/** Stacks same-shape tensors along a new first axis. */
export const stack = (ts: readonly Tensor[]): Tensor => {
  assertTensors(ts, 'T.stack', 'argument')
  const first = ts[0]
  if (first === undefined) throw new TensorError('stack: nothing to stack')
  const row = first.data.length
  const out = likeFirst(ts, ts.length * row, 'stack')
  ts.forEach((t, k) => {
    if (t.shape.length !== first.shape.length || t.shape.some((d, i) => d !== first.shape[i])) {
      throw new TensorError(`stack: tensor ${k} has shape ${showShape(t.shape)}, tensor 0 has ${showShape(first.shape)}`)
    }
    out.set(t.data, k * row)
  })
  return wrap([ts.length, ...first.shape], out)
}

/** Joins tensors along an existing axis; all other axes must agree. */
export const concat = (axis: number) => {
  assertConfig(axis, 'T.concat', 'the axis', 'T.concat(0)([a, b])')
  return (ts: readonly Tensor[]): Tensor => {
    assertTensors(ts, 'T.concat', 'argument')
    const first = ts[0]
    if (first === undefined) throw new TensorError('concat: nothing to concatenate')
    const r = first.shape.length
    const a = axis < 0 ? axis + r : axis
    if (!Number.isInteger(a) || a < 0 || a >= r)
      throw new TensorError(`concat: axis ${axis} must be an integer in -${r}..${r - 1} for shape ${showShape(first.shape)}`)
    ts.forEach((t, k) => {
      if (t.shape.length !== r || t.shape.some((d, i) => i !== a && d !== first.shape[i])) {
        throw new TensorError(
          `concat: tensor ${k} has shape ${showShape(t.shape)}, incompatible with ${showShape(first.shape)} along axis ${a}`,
        )
      }
    })
    const outer = sizeOf(first.shape.slice(0, a))
    const inner = sizeOf(first.shape.slice(a + 1))
    const total = ts.reduce((s, t) => s + t.shape[a]!, 0)
    const out = likeFirst(ts, outer * total * inner, 'concat')
    let at = 0
    for (const t of ts) {
      const w = t.shape[a]! * inner
      for (let o = 0; o < outer; o++) out.set(t.data.subarray(o * w, (o + 1) * w), o * total * inner + at)
      at += w
    }
    return wrap([...first.shape.slice(0, a), total, ...first.shape.slice(a + 1)], out)
  }
}

/** Splits along an axis into pieces of the given sizes (the inverse of concat). */
export const split =
  (axis: number, sizes: readonly number[]) =>
  (t: Tensor): Tensor[] => {
    assertTensor(t, 'T.split', 'argument')
    const r = t.shape.length
    const a = axis < 0 ? axis + r : axis
    if (!Number.isInteger(a) || a < 0 || a >= r)
      throw new TensorError(`split: axis ${axis} must be an integer in -${r}..${r - 1} for shape ${showShape(t.shape)}`)
    const d = t.shape[a]!
    const bad = sizes.findIndex((s) => !Number.isInteger(s) || s < 0)
    if (bad >= 0) throw new TensorError(`split: sizes must be non-negative integers, got ${sizes[bad]} at position ${bad}`)
    if (sizes.reduce((s, v) => s + v, 0) !== d) {
      throw new TensorError(
        `split: sizes [${sizes.join(', ')}] add up to ${sizes.reduce((s, v) => s + v, 0)}, not to ${d}, the size of axis ${axis} of ${showShape(t.shape)}`,
      )
    }
    const outer = sizeOf(t.shape.slice(0, a))
    const inner = sizeOf(t.shape.slice(a + 1))
    let at = 0
    return sizes.map((s) => {
      const out = isFloat32(t) ? buffer32(outer * s * inner) : buffer(outer * s * inner)
      for (let o = 0; o < outer; o++) {
        out.set(t.data.subarray(o * d * inner + at, o * d * inner + at + s * inner), o * s * inner)
      }
      at += s * inner
      return wrap([...t.shape.slice(0, a), s, ...t.shape.slice(a + 1)], out)
    })
  }
