/**
 * The IDX file format, the one MNIST ships in (http://yann.lecun.com/exdb/mnist/, "file formats"):
 *
 *   bytes 0-1   0x00 0x00                       the magic number's two zero bytes
 *   byte  2     element type                    0x08 ubyte, 0x09 sbyte, 0x0B short (int16),
 *                                               0x0C int (int32), 0x0D float (float32), 0x0E double
 *   byte  3     number of dimensions, r
 *   bytes 4..   r sizes, big-endian uint32      e.g. [10000, 28, 28] for the MNIST test images
 *   then        the elements, big-endian, row-major, nothing after them
 *
 * `decodeIdx` never throws on any bytes: it returns Left(IdxError) naming what is wrong and at
 * which byte offset, or Right of the elements as float64. It checks every length before it
 * allocates, so a corrupt header cannot make it allocate a huge buffer.
 */
import * as E from 'fp-ts/lib/Either.js'
import { buffer, showShape } from '../tensor/tensor.ts'
import { DataError } from './error.ts'
import { checkOptions } from '../options.ts'

/** The element types an IDX file can hold. */
export type IdxType = 'ubyte' | 'sbyte' | 'short' | 'int' | 'float' | 'double'

/** Each element type's type byte and size in bytes. */
export const IDX_TYPES: { readonly [K in IdxType]: { readonly code: number; readonly size: number } } = {
  ubyte: { code: 0x08, size: 1 },
  sbyte: { code: 0x09, size: 1 },
  short: { code: 0x0b, size: 2 },
  int: { code: 0x0c, size: 4 },
  float: { code: 0x0d, size: 4 },
  double: { code: 0x0e, size: 8 },
}

const TYPE_NAMES = Object.keys(IDX_TYPES) as IdxType[]

/**
 * The largest number of dimensions `decodeIdx` accepts. The format allows 255; real files use
 * 1 to 4, and a limit catches a random byte read as a dimension count.
 */
export const MAX_RANK = 16

/** What `decodeIdx` found wrong; each corruption has its own kind. */
export type IdxErrorKind =
  | 'truncated-header' // the file ends before the header (magic + dims) does
  | 'bad-magic' // bytes 0-1 are not 0x00 0x00
  | 'unknown-type' // byte 2 is not a known type code
  | 'bad-rank' // byte 3 (the number of dimensions) is 0 or more than MAX_RANK
  | 'too-large' // the dims multiply to more elements than a double counts exactly (2^53)
  | 'truncated-data' // the file ends before the dims' worth of elements
  | 'trailing-bytes' // bytes left over after the dims' worth of elements
  | 'too-few-items' // `first` asks for more items (rows along dim 0) than the file holds

/** A problem with IDX bytes: its kind, the byte offset where it was found and, for lengths, the expected and actual byte counts. */
export class IdxError extends Error {
  override readonly name = 'IdxError'
  constructor(
    readonly kind: IdxErrorKind,
    readonly offset: number,
    message: string,
    readonly expected?: number,
    readonly got?: number,
  ) {
    super(message)
  }
}

/** What an IDX header says: the element type, the dims, and where the data starts. */
export interface IdxHeader {
  readonly type: IdxType
  readonly shape: readonly number[]
  /** Byte offset of the first element: 4 + 4 × rank. */
  readonly dataOffset: number
  /** Number of elements, the product of the dims. */
  readonly count: number
}

/** A decoded IDX file: a Tensor (shape and float64 values) plus the element type it was stored as. */
export interface IdxFile {
  readonly type: IdxType
  readonly shape: readonly number[]
  readonly data: Float64Array
}

const hex = (b: number): string => `0x${b.toString(16).padStart(2, '0').toUpperCase()}`
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`
const knownTypes = TYPE_NAMES.map((t) => `${hex(IDX_TYPES[t].code)} (${t})`).join(', ')

const fail = (kind: IdxErrorKind, offset: number, message: string, expected?: number, got?: number): E.Either<IdxError, never> =>
  E.left(new IdxError(kind, offset, message, expected, got))

/** The bytes of a Uint8Array (a Node Buffer is one) or of an ArrayBuffer (what `fetch(...).arrayBuffer()` gives). */
const asBytes = (input: Uint8Array | ArrayBuffer, where: string): Uint8Array => {
  if (input instanceof Uint8Array) return input
  if (input instanceof ArrayBuffer) return new Uint8Array(input)
  throw new DataError(
    `${where}: expected the file's bytes as a Uint8Array or an ArrayBuffer, got ${input === null ? 'null' : typeof input}`,
  )
}

/**
 * Reads and checks the header, and checks the file length against it (exactly header + data),
 * without decoding any element.
 */
export const decodeIdxHeader = (input: Uint8Array | ArrayBuffer): E.Either<IdxError, IdxHeader> => {
  const bytes = asBytes(input, 'decodeIdxHeader')
  const len = bytes.length
  if (len < 4) {
    return fail(
      'truncated-header',
      len,
      `truncated header: an IDX file starts with a 4-byte magic number, but the file has only ${plural(len, 'byte')}`,
      4,
      len,
    )
  }
  const b0 = bytes[0]!
  const b1 = bytes[1]!
  if (b0 !== 0 || b1 !== 0) {
    const gzip = b0 === 0x1f && b1 === 0x8b ? ' (this looks like a gzip file: decompress it first)' : ''
    return fail(
      'bad-magic',
      b0 !== 0 ? 0 : 1,
      `bad magic number at bytes 0-1: an IDX file starts with 0x00 0x00, got ${hex(b0)} ${hex(b1)}${gzip}`,
    )
  }
  const code = bytes[2]!
  const type = TYPE_NAMES.find((t) => IDX_TYPES[t].code === code)
  if (type === undefined) {
    return fail('unknown-type', 2, `unknown element type ${hex(code)} at byte 2: expected one of ${knownTypes}`)
  }
  const rank = bytes[3]!
  if (rank < 1 || rank > MAX_RANK) {
    return fail('bad-rank', 3, `bad number of dimensions ${rank} at byte 3: expected 1 to ${MAX_RANK}`)
  }
  const dataOffset = 4 + 4 * rank
  if (len < dataOffset) {
    return fail(
      'truncated-header',
      len,
      `truncated header: ${plural(rank, 'dimension')} need a ${dataOffset}-byte header (4 + 4 × ${rank}), but the file has only ${plural(len, 'byte')}`,
      dataOffset,
      len,
    )
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const size = IDX_TYPES[type].size
  const shape: number[] = []
  for (let a = 0; a < rank; a++) shape.push(view.getUint32(4 + 4 * a, false))
  // A zero dim makes the file empty whatever the others say; otherwise the product must stay exact.
  let count = shape.includes(0) ? 0 : 1
  for (let a = 0; a < rank && count > 0; a++) {
    count *= shape[a]!
    if (count * size > Number.MAX_SAFE_INTEGER) {
      return fail(
        'too-large',
        4 + 4 * a,
        `dims too large: the sizes at bytes 4..${3 + 4 * rank} (${shape.slice(0, a + 1).join(' × ')} × ...) overflow 2^53 bytes`,
      )
    }
  }
  const expected = dataOffset + count * size
  const what = `dims ${showShape(shape)} of ${type} (${size} ${size === 1 ? 'byte' : 'bytes'} each) need ${plural(count * size, 'data byte')} from byte ${dataOffset}`
  if (len < expected) {
    return fail(
      'truncated-data',
      len,
      `truncated data: ${what}, so the file should be ${expected} bytes long, but it has only ${len}, ${plural(expected - len, 'byte')} short (the file was cut short, or the dims in the header are too big)`,
      expected,
      len,
    )
  }
  if (len > expected) {
    return fail(
      'trailing-bytes',
      expected,
      `trailing bytes: ${what}, so the file should be ${expected} bytes long, but it has ${len}: ${plural(len - expected, 'byte')} too many from byte ${expected} on (the dims in the header are too small, or data was appended)`,
      expected,
      len,
    )
  }
  return E.right({ type, shape, dataOffset, count })
}

/** Decodes `count` elements of `type` starting at byte `start` into a fresh float64 buffer. */
const decodeElements = (bytes: Uint8Array, type: IdxType, start: number, count: number): Float64Array => {
  const out = buffer(count)
  switch (type) {
    case 'ubyte':
      out.set(bytes.subarray(start, start + count))
      return out
    case 'sbyte':
      out.set(new Int8Array(bytes.buffer, bytes.byteOffset + start, count))
      return out
    default: {
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
      const size = IDX_TYPES[type].size
      const read =
        type === 'short'
          ? (at: number) => view.getInt16(at, false)
          : type === 'int'
            ? (at: number) => view.getInt32(at, false)
            : type === 'float'
              ? (at: number) => view.getFloat32(at, false)
              : (at: number) => view.getFloat64(at, false)
      for (let i = 0, at = start; i < count; i++, at += size) out[i] = read(at)
      return out
    }
  }
}

/** Options for `decodeIdx`. */
export interface DecodeOptions {
  /** Decode only the first `first` items (rows along dim 0); the whole file is still checked. */
  readonly first?: number
}

/**
 * Decodes IDX bytes to their element type, shape and values as float64 (in a fresh buffer the
 * caller owns). Never throws on bad bytes: every problem is a Left(IdxError).
 *
 * @example
 * const r = decodeIdx(bytes)
 * if (E.isLeft(r)) console.error(r.left.message) // "truncated data: dims [10000] of ubyte need ..."
 * else r.right.shape                           // [10000, 28, 28]
 */
export const decodeIdx = (input: Uint8Array | ArrayBuffer, options: DecodeOptions = {}): E.Either<IdxError, IdxFile> => {
  checkOptions('decodeIdx', options, ['first'], { unknown: DataError, notObject: DataError })
  const bytes = asBytes(input, 'decodeIdx')
  const { first } = options
  if (first !== undefined && (!Number.isSafeInteger(first) || first < 0)) {
    throw new DataError(`decodeIdx: first must be a non-negative integer, got ${String(first)}`)
  }
  const header = decodeIdxHeader(bytes)
  if (E.isLeft(header)) return header
  const h = header.right
  const items = h.shape[0]!
  if (first === undefined) return E.right({ type: h.type, shape: [...h.shape], data: decodeElements(bytes, h.type, h.dataOffset, h.count) })
  if (first > items) {
    return fail(
      'too-few-items',
      4,
      `too few items: asked for the first ${first}, but dim 0 at byte 4 says the file holds ${items}`,
      first,
      items,
    )
  }
  const perItem = items === 0 ? 0 : h.count / items
  return E.right({ type: h.type, shape: [first, ...h.shape.slice(1)], data: decodeElements(bytes, h.type, h.dataOffset, first * perItem) })
}

const inRange = (type: IdxType, v: number): boolean => {
  switch (type) {
    case 'ubyte':
      return Number.isInteger(v) && v >= 0 && v <= 0xff
    case 'sbyte':
      return Number.isInteger(v) && v >= -0x80 && v <= 0x7f
    case 'short':
      return Number.isInteger(v) && v >= -0x8000 && v <= 0x7fff
    case 'int':
      return Number.isInteger(v) && v >= -0x80000000 && v <= 0x7fffffff
    case 'float':
    case 'double':
      return typeof v === 'number'
  }
}

/**
 * Encodes values as an IDX file of the given element type (big-endian, as the format says).
 * Throws a DataError if the shape does not fit the format or a value does not fit the type
 * (floats are rounded to float32 for 'float'). `decodeIdx(encodeIdx(f))` gives f back.
 *
 * @example encodeIdx({ type: 'ubyte', shape: [3], data: [7, 2, 1] }) // 00 00 08 01 00 00 00 03 07 02 01
 */
export const encodeIdx = (file: {
  readonly type: IdxType
  readonly shape: readonly number[]
  readonly data: ArrayLike<number>
}): Uint8Array => {
  const { type, shape, data } = file
  if (!TYPE_NAMES.includes(type))
    throw new DataError(`encodeIdx: unknown element type ${String(type)}; expected one of ${TYPE_NAMES.join(', ')}`)
  const info = IDX_TYPES[type]
  if (!Array.isArray(shape)) throw new DataError(`encodeIdx: shape must be an array of dims, got ${typeof shape}`)
  if (shape.length < 1 || shape.length > MAX_RANK) {
    throw new DataError(`encodeIdx: an IDX file has 1 to ${MAX_RANK} dimensions, got shape ${showShape(shape)}`)
  }
  let count = 1
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0 || d > 0xffffffff)
      throw new DataError(`encodeIdx: dims must be integers in [0, 2^32), got shape ${showShape(shape)}`)
    count *= d
  }
  if (data.length !== count) throw new DataError(`encodeIdx: shape ${showShape(shape)} needs ${count} values, got ${data.length}`)
  if (count * info.size > 2 ** 32)
    throw new DataError(
      `encodeIdx: shape ${showShape(shape)} of ${type} needs ${count * info.size} bytes, more than one array holds (2^32)`,
    )
  const dataOffset = 4 + 4 * shape.length
  const out = new Uint8Array(dataOffset + count * info.size)
  const view = new DataView(out.buffer)
  out[2] = info.code
  out[3] = shape.length
  shape.forEach((d, a) => view.setUint32(4 + 4 * a, d, false))
  for (let i = 0, at = dataOffset; i < count; i++, at += info.size) {
    const v = data[i]!
    if (!inRange(type, v)) throw new DataError(`encodeIdx: value ${v} at index ${i} does not fit type ${type}`)
    switch (type) {
      case 'ubyte':
        view.setUint8(at, v)
        break
      case 'sbyte':
        view.setInt8(at, v)
        break
      case 'short':
        view.setInt16(at, v, false)
        break
      case 'int':
        view.setInt32(at, v, false)
        break
      case 'float':
        view.setFloat32(at, v, false)
        break
      case 'double':
        view.setFloat64(at, v, false)
        break
    }
  }
  return out
}
