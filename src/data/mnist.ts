/**
 * MNIST from its IDX bytes (browser-safe: you fetch the bytes, this decodes them). In Node,
 * `loadMnist` from 'chainrule/node' reads the files for you.
 *
 * The result is a Dataset with x [N, 1, H, W] (NCHW, so a conv net takes it as is; an MLP puts
 * L.flatten first) holding pixels scaled to [0, 1], and y [N] holding the digit labels.
 */
import * as E from 'fp-ts/lib/Either.js'
import { buffer, buffer32, fromData, fromData32, showShape, type DType } from '../tensor/tensor.ts'
import type { AnyDataset, Dataset } from './dataset.ts'
import { DataError } from './error.ts'
import { decodeIdx, decodeIdxHeader, type IdxError, type IdxFile, type IdxHeader } from './idx.ts'
import { checkOptions, dtypeOption } from '../options.ts'

/** The number of examples in the standard MNIST files. */
export const MNIST_SIZES = { train: 60000, test: 10000 } as const

/** What `fromIdx` found wrong. */
export type MnistErrorKind =
  | 'idx' // a file is not valid IDX; `cause` holds the IdxError
  | 'wrong-type' // a file's elements are not ubyte
  | 'wrong-rank' // images are not [N, H, W] or labels not [N]
  | 'count-mismatch' // the images and labels files hold different numbers of examples
  | 'bad-label' // a label is not a class index 0..classes-1
  | 'too-few-items' // `first` asks for more examples than the files hold

/** A problem with a pair of MNIST-style IDX files; `file` says which one, `cause` holds the IdxError for kind 'idx'. */
export class MnistError extends Error {
  override readonly name = 'MnistError'
  constructor(
    readonly kind: MnistErrorKind,
    readonly file: 'images' | 'labels' | 'both',
    message: string,
    override readonly cause?: IdxError,
  ) {
    super(message)
  }
}

/** Options for `fromIdx`. */
export interface FromIdxOptions {
  /** Decode only the first `first` examples (both files' headers and lengths are still checked in full; labels only over those examples). */
  readonly first?: number
  /** Labels must be in 0..classes-1 (default 10, the digits). */
  readonly classes?: number
  /** The data set's dtype (default float64). In float32 the pixels are the float64 ones rounded, half the memory. */
  readonly dtype?: DType
}

const header = (bytes: Uint8Array, file: 'images' | 'labels', rank: number): E.Either<MnistError, IdxHeader> => {
  const h = decodeIdxHeader(bytes)
  if (E.isLeft(h)) return E.left(new MnistError('idx', file, `${file} file: ${h.left.message}`, h.left))
  const { type, shape } = h.right
  if (type !== 'ubyte') return E.left(new MnistError('wrong-type', file, `${file} file: expected ubyte elements (type 0x08), got ${type}`))
  if (shape.length !== rank) {
    const want = rank === 3 ? '3 dims [N, height, width]' : '1 dim [N]'
    return E.left(new MnistError('wrong-rank', file, `${file} file: expected ${want}, got dims ${showShape(shape)}`))
  }
  return E.right(h.right)
}

const decode = (bytes: Uint8Array, first: number): IdxFile => {
  const r = decodeIdx(bytes, { first })
  if (E.isLeft(r)) throw new DataError(`fromIdx: unreachable, the header was checked: ${r.left.message}`)
  return r.right
}

/**
 * Decodes an MNIST images file (ubyte, [N, H, W]) and labels file (ubyte, [N]) into a Dataset
 * with x [N, 1, H, W] in [0, 1] and y [N] of labels. Works for any images of the same layout
 * (Fashion-MNIST, KMNIST). Returns Left(MnistError) naming the file and the problem; a
 * corrupt file's IdxError is its `cause`.
 *
 * @example
 * const bytes = async (url: string) => new Uint8Array(await (await fetch(url)).arrayBuffer())
 * const test = Mnist.fromIdx(await bytes('t10k-images-idx3-ubyte'), await bytes('t10k-labels-idx1-ubyte'))
 */
export function fromIdx(
  imagesBytes: Uint8Array,
  labelsBytes: Uint8Array,
  options: FromIdxOptions & { readonly dtype: 'float32' },
): E.Either<MnistError, Dataset<'float32'>>
export function fromIdx(
  imagesBytes: Uint8Array,
  labelsBytes: Uint8Array,
  options?: FromIdxOptions & { readonly dtype?: 'float64' },
): E.Either<MnistError, Dataset>
export function fromIdx(imagesBytes: Uint8Array, labelsBytes: Uint8Array, options?: FromIdxOptions): E.Either<MnistError, AnyDataset>
export function fromIdx(imagesBytes: Uint8Array, labelsBytes: Uint8Array, options: FromIdxOptions = {}): E.Either<MnistError, AnyDataset> {
  checkOptions('fromIdx', options, ['first', 'classes', 'dtype'], { unknown: DataError, notObject: DataError })
  const dtype = dtypeOption('fromIdx', options.dtype, 'float64', DataError)
  const classes = options.classes ?? 10
  if (!Number.isInteger(classes) || classes < 1 || classes > 256) {
    throw new DataError(`fromIdx: classes must be an integer in 1..256, got ${classes}`)
  }
  if (options.first !== undefined && (!Number.isSafeInteger(options.first) || options.first < 0)) {
    throw new DataError(`fromIdx: first must be a non-negative integer, got ${options.first}`)
  }
  const hi = header(imagesBytes, 'images', 3)
  if (E.isLeft(hi)) return hi
  const hl = header(labelsBytes, 'labels', 1)
  if (E.isLeft(hl)) return hl
  const [n, height, width] = hi.right.shape as [number, number, number]
  const nLabels = hl.right.shape[0]!
  if (n !== nLabels) {
    return E.left(new MnistError('count-mismatch', 'both', `the images file holds ${n} images but the labels file holds ${nLabels} labels`))
  }
  const first = options.first ?? n
  if (first > n) return E.left(new MnistError('too-few-items', 'both', `asked for the first ${first} examples, but the files hold ${n}`))

  const labels = decode(labelsBytes, first)
  const y = labels.data
  for (let i = 0; i < y.length; i++) {
    if (y[i]! >= classes) {
      return E.left(
        new MnistError(
          'bad-label',
          'labels',
          `labels file: label ${y[i]} of example ${i} (byte ${hl.right.dataOffset + i}) is not a class in 0..${classes - 1}`,
        ),
      )
    }
  }
  // One pass from bytes to scaled pixels (the header and file length are checked above).
  // Dividing by 255 (not multiplying by 1/255) makes 255 exactly 1 and every pixel correctly rounded.
  // In float32 the store rounds that quotient once: fl32(b / 255), as T.cast of the float64 pixels gives.
  const pixels = dtype === 'float32' ? buffer32(first * height * width) : buffer(first * height * width)
  const at = hi.right.dataOffset
  for (let i = 0; i < pixels.length; i++) pixels[i] = imagesBytes[at + i]! / 255
  // Not `make`: these values are finite by construction and the row counts agree.
  const xShape = [first, 1, height, width]
  return E.right(
    pixels instanceof Float32Array
      ? { x: fromData32(xShape, pixels), y: fromData32([first], Float32Array.from(y)) }
      : { x: fromData(xShape, pixels), y: fromData([first], y) },
  )
}
