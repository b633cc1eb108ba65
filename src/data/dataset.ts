/**
 * Data sets and mini-batches. A Dataset is a plain value: inputs `x` with the examples along the
 * first axis, and targets `y` with the same number of rows. Nothing here copies the whole data
 * set per epoch: a shuffle is an index permutation, and each batch gathers just its own rows.
 */
import { gatherRows, sliceRows } from '../tensor/layout.ts'
import { asTensor, dtypeOf, showIndex, showShape, sizeOf, type AnyTensor, type DType, type Tensor } from '../tensor/tensor.ts'
import { permutation, type Key } from '../key.ts'
import { DataError } from './error.ts'
import { checkOptions, checkTensor, dtypeOption } from '../options.ts'

/**
 * Examples and their targets, both in dtype D (float64 unless made from float32 tensors): x is
 * [N, ...features] (images are [N, C, H, W]); y is [N] class indices, or [N, ...] regression
 * targets or probability rows.
 */
export interface Dataset<D extends DType = 'float64'> {
  readonly x: Tensor<D>
  readonly y: Tensor<D>
}

/** A data set of either dtype. */
export type AnyDataset = Dataset | Dataset<'float32'>

/** The data set type of ds's dtype: what a function that picks or reorders rows returns. */
export type SameDType<DS extends AnyDataset> = DS extends Dataset<'float32'> ? Dataset<'float32'> : Dataset

/** ds with f applied to x and to y: f picks rows, and picking rows keeps a tensor's dtype, so the result has ds's. */
const mapRows = <DS extends AnyDataset>(ds: DS, f: (t: Tensor) => Tensor): SameDType<DS> =>
  ({ x: f(asTensor(ds.x)), y: f(asTensor(ds.y)) }) as SameDType<DS> // sliceRows and gatherRows keep their input's dtype

/** One mini-batch: the same shape of value as a Dataset, with B rows, in dtype D (float64 unless `batches` is given a dtype). */
export interface Batch<D extends DType = 'float64'> {
  readonly x: Tensor<D>
  readonly y: Tensor<D>
  /** The data set rows the batch holds, in order (set by `batches`; absent on a batch made by hand). */
  readonly rows?: Int32Array
}

/** A batch of either dtype: what a training step takes (it casts the batch to the model's dtype). */
export type AnyBatch = Batch | Batch<'float32'>

/** Throws a DataError naming the first NaN or ±Infinity of `t` (the data argument `name` of `where`) and its example. */
export const checkFinite = (t: AnyTensor, name: string, where = 'make'): void => {
  const v = t.data
  const row = sizeOf(t.shape.slice(1))
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i])) {
      throw new DataError(`${where}: ${name}${showIndex(t.shape, i)} is ${v[i]} (example ${Math.floor(i / row)}); data must be finite`)
    }
  }
}

/**
 * A Dataset from inputs and targets (no copy). Throws a DataError if either has no leading
 * example axis, their numbers of rows differ, or a value is NaN or ±Infinity (naming the first).
 *
 * @example
 * const ds = make(T.tensor([[0, 0], [0, 1], [1, 0], [1, 1]]), T.tensor([0, 1, 1, 0]))
 */
export function make(x: Tensor<'float32'>, y: Tensor<'float32'>): Dataset<'float32'>
export function make(x: Tensor, y: Tensor): Dataset
export function make(x: AnyTensor, y: AnyTensor): AnyDataset {
  checkRows({ x, y }, 'make')
  if (dtypeOf(x) !== dtypeOf(y))
    throw new DataError(`make: x is ${dtypeOf(x)} and y is ${dtypeOf(y)}; a data set holds one dtype (cast one with T.cast)`)
  checkFinite(x, 'x')
  checkFinite(y, 'y')
  return { x: asTensor(x), y: asTensor(y) }
}

/**
 * Throws a DataError unless x and y are well-formed tensors (data a Float64Array or Float32Array of exactly the
 * shape's length) that both have a leading example axis of the same length (what `make` checks first; `fit` and
 * `evaluate` check it too, for data sets built by hand as `{ x, y }`).
 */
export const checkRows = (ds: { readonly x: AnyTensor; readonly y: AnyTensor }, where: string, name = ''): void => {
  const { x, y } = ds
  checkTensor(where, `${name}x`, x, DataError)
  checkTensor(where, `${name}y`, y, DataError)
  if (x.shape.length < 1) throw new DataError(`${where}: ${name}x needs a leading example axis [N, ...], got shape ${showShape(x.shape)}`)
  if (y.shape.length < 1) throw new DataError(`${where}: ${name}y needs a leading example axis [N, ...], got shape ${showShape(y.shape)}`)
  if (x.shape[0] !== y.shape[0]) {
    throw new DataError(
      `${where}: ${name}x has ${x.shape[0]} rows (shape ${showShape(x.shape)}) but ${name}y has ${y.shape[0]} (shape ${showShape(y.shape)}); they must match`,
    )
  }
}

/** The number of examples N. */
export const size = (ds: AnyDataset): number => ds.x.shape[0]!

const checkIndices = (ds: AnyDataset, indices: ArrayLike<number>, where: string): void => {
  const n = size(ds)
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]!
    if (!Number.isInteger(i) || i < 0 || i >= n) {
      throw new DataError(`${where}: index ${i} at position ${k} is out of range for a data set of ${n} examples`)
    }
  }
}

/** The examples at the given indices, in that order (copies just those rows). */
export const take = <DS extends AnyDataset>(ds: DS, indices: ArrayLike<number>): SameDType<DS> => {
  checkIndices(ds, indices, 'take')
  return mapRows(ds, (t) => gatherRows(t, indices))
}

/** Examples start..end-1 (copies those rows). */
export const slice = <DS extends AnyDataset>(ds: DS, start: number, end: number): SameDType<DS> => {
  const n = size(ds)
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > n || start > end) {
    throw new DataError(`slice: rows ${start}..${end} are not a range within 0..${n}`)
  }
  return mapRows(ds, (t) => sliceRows(t, start, end))
}

/** The number of rows `at` stands for in a data set of n: a count 0..n as is, a fraction in (0, 1) rounded. */
const countOf = (at: number, n: number, where: string): number => {
  if (typeof at === 'number' && at > 0 && at < 1) return Math.round(at * n)
  if (Number.isInteger(at) && at >= 0 && at <= n) return at
  throw new DataError(`${where}: expected a fraction strictly between 0 and 1 or a count of rows in 0..${n}, got ${at}`)
}

/**
 * Splits in order into the first `at` rows and the rest; `at` is a count (integer 0..N) or a
 * fraction in (0, 1) of N, rounded. Does not shuffle: for a validation split use shuffleSplit.
 */
export const split = <DS extends AnyDataset>(ds: DS, at: number): readonly [SameDType<DS>, SameDType<DS>] => {
  const n = size(ds)
  const k = countOf(at, n, 'split')
  return [slice(ds, 0, k), slice(ds, k, n)]
}

/** The examples in a random order drawn from the key (one copy of the data set). */
export const shuffle = <DS extends AnyDataset>(key: Key, ds: DS): SameDType<DS> => take(ds, permutation(key, size(ds)))

/**
 * Shuffles, then splits off a validation set of `validation` rows (a fraction in (0, 1) or a
 * count); both parts must be non-empty. The order matters: data sets often come sorted (by
 * class, by date, by source), and a split taken before shuffling, as Keras's and tfjs's
 * `validationSplit` does with the last rows, can hold out a different distribution from the
 * one trained on, e.g. only the last classes. Here the validation rows are a uniform random
 * subset.
 *
 * @example
 * const { train, validation } = shuffleSplit(key, data, 0.1)   // 90% / 10%
 */
export const shuffleSplit = <DS extends AnyDataset>(
  key: Key,
  ds: DS,
  validation: number,
): {
  readonly train: SameDType<DS>
  readonly validation: SameDType<DS>
  readonly trainRows: Int32Array
  readonly validationRows: Int32Array
} => {
  const n = size(ds)
  const v = splitSizes(ds, validation).validation
  const order = permutation(key, n)
  // trainRows[i] and validationRows[i]: the row of ds that row i of each part came from.
  const trainRows = order.slice(v)
  const validationRows = order.slice(0, v)
  return { train: take(ds, trainRows), validation: take(ds, validationRows), trainRows, validationRows }
}

/**
 * The row counts `shuffleSplit(key, ds, validation)` gives its two parts, without splitting:
 * `validation` is a fraction in (0, 1) (rounded) or a count of rows. A DataError unless both
 * parts get at least one row.
 * @example splitSizes(data, 0.1) // { train: 54000, validation: 6000 } for 60,000 rows
 */
export const splitSizes = (ds: AnyDataset, validation: number): { readonly train: number; readonly validation: number } => {
  const n = size(ds)
  const v = countOf(validation, n, 'shuffleSplit')
  if (v < 1 || v > n - 1) {
    throw new DataError(`shuffleSplit: validation = ${validation} gives ${v} of ${n} examples; both parts need at least one`)
  }
  return { train: n - v, validation: v }
}

/** Options for `batches`. */
export interface BatchOptions {
  /** Drop the last batch when it is smaller than batchSize (default false: keep it). */
  readonly dropLast?: boolean
  /** The batches' dtype (default: the data's): each batch is gathered straight into it, as T.cast would give it (fit: the model's). */
  readonly dtype?: DType
}

const checkBatching = (ds: AnyDataset, batchSize: number, where: string, dropLast: unknown): number => {
  if (dropLast !== undefined && typeof dropLast !== 'boolean') {
    const got = typeof dropLast === 'string' ? `the string '${dropLast}'` : String(dropLast)
    throw new DataError(`${where}: dropLast must be true or false, got ${got}`) // a config file's "true" read as false
  }
  const n = size(ds)
  if (n === 0) throw new DataError(`${where}: the data set is empty (x has shape ${showShape(ds.x.shape)})`)
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > n) {
    throw new DataError(`${where}: batchSize must be an integer in 1..${n} (the data set size), got ${batchSize}`)
  }
  return n
}

/** How many batches one pass of `batches` yields: ceil(N / batchSize), or floor with dropLast. */
export const numBatches = (ds: AnyDataset, batchSize: number, options: BatchOptions = {}): number => {
  checkOptions('numBatches', options, ['dropLast', 'dtype'], { unknown: DataError }) // dtype: batches' (it does not change the count)
  const n = checkBatching(ds, batchSize, 'numBatches', options.dropLast)
  return options.dropLast === true ? Math.floor(n / batchSize) : Math.ceil(n / batchSize)
}

/**
 * One epoch of mini-batches: with a key, in an order shuffled by it (the same key gives the same
 * order); with null, in the stored order (for evaluation). Each batch copies only its own rows.
 * The result can be iterated any number of times and gives the same batches each time; use a
 * fresh key per epoch (e.g. Key.foldIn(key, epoch)) for a fresh order.
 * Throws a DataError at once if the data set is empty or batchSize is not an integer in 1..N.
 *
 * @example
 * for (const { x, y } of batches(Key.foldIn(key, epoch), train, 128)) console.log(x.shape, y.shape) // [128, ...] [128], the last maybe fewer
 */
export function batches(
  key: Key | null,
  ds: AnyDataset,
  batchSize: number,
  options: BatchOptions & { readonly dtype: 'float32' },
): Iterable<Batch<'float32'>>
export function batches(
  key: Key | null,
  ds: AnyDataset,
  batchSize: number,
  options: BatchOptions & { readonly dtype: 'float64' },
): Iterable<Batch>
export function batches(
  key: Key | null,
  ds: Dataset<'float32'>,
  batchSize: number,
  options?: BatchOptions & { readonly dtype?: undefined },
): Iterable<Batch<'float32'>>
export function batches(
  key: Key | null,
  ds: Dataset,
  batchSize: number,
  options?: BatchOptions & { readonly dtype?: undefined },
): Iterable<Batch>
export function batches(key: Key | null, ds: AnyDataset, batchSize: number, options?: BatchOptions): Iterable<AnyBatch>
export function batches(key: Key | null, ds: AnyDataset, batchSize: number, options: BatchOptions = {}): Iterable<AnyBatch> {
  checkOptions('batches', options, ['dropLast', 'dtype'], { unknown: DataError })
  const n = checkBatching(ds, batchSize, 'batches', options.dropLast)
  const count = numBatches(ds, batchSize, { dropLast: options.dropLast })
  const dtype = dtypeOption('batches', options.dtype, undefined, DataError)
  const order = key === null ? null : permutation(key, n)
  const x = asTensor(ds.x) // typed as the float64 batches below; each keeps its data's dtype, or `dtype`
  const y = asTensor(ds.y)
  return {
    *[Symbol.iterator]() {
      for (let b = 0; b < count; b++) {
        const start = b * batchSize
        const end = Math.min(start + batchSize, n)
        if (order === null) {
          const rows = Int32Array.from({ length: end - start }, (_, i) => start + i)
          yield { x: sliceRows(x, start, end, dtype), y: sliceRows(y, start, end, dtype), rows }
        } else {
          const rows = order.subarray(start, end)
          yield { x: gatherRows(x, rows, dtype), y: gatherRows(y, rows, dtype), rows }
        }
      }
    },
  }
}
