/**
 * Trees of tensors as JSON, exactly. A tensor is stored as
 *
 *   { "dtype": "float64", "shape": [2, 3], "data": "<base64 of the 48 little-endian bytes>" }
 *
 * (a float32 tensor: "dtype": "float32" and 4 bytes a value, its float32s as they are, never
 * widened), so every value, NaN payloads and -0 included, comes back bit for bit. Arrays of trees are
 * JSON arrays and records are JSON objects; an object with a `dtype` key is a tensor, so a
 * record may not have a key named `dtype`.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { asTensor, buffer, buffer32, dtypeOf, fromData, showShape, type DType, type Shape, type Tensor } from '../tensor/tensor.ts'
import { isShapeLeaf, type ShapeTree } from '../layer.ts'
import { firstNonFinite, isTensor, leavesWithPaths, type Tree } from '../tree.ts'
import { decodeBase64Into, decodedLength, encodeBase64 } from './base64.ts'
import { showKeys } from '../options.ts'
import { at, describe, IoError, isRecord } from './error.ts'

/** A tensor as stored in a checkpoint. */
export interface EncodedTensor {
  readonly dtype: DType
  readonly shape: readonly number[]
  /** Base64 of the values as little-endian IEEE-754 float64 (or float32, with dtype 'float32'), row-major. */
  readonly data: string
}

/** The bytes one value of each dtype takes in a stored tensor. */
export const BYTES_PER_VALUE: { readonly [D in DType]: number } = { float64: 8, float32: 4 }

/** A tree as stored: encoded tensors nested in arrays and records. */
export type EncodedTree = EncodedTensor | readonly EncodedTree[] | { readonly [key: string]: EncodedTree }

/** Trees deeper than this are rejected (a guard against stack exhaustion on hostile input). */
export const MAX_TREE_DEPTH = 64

/** The largest rank a stored tensor may have. */
export const MAX_RANK = 32

const LITTLE_ENDIAN = new Uint8Array(new Float64Array([1]).buffer)[7] === 0x3f

/** The values of a float64 or float32 buffer as little-endian bytes (a view when the machine is little-endian). */
const toBytes = (data: Float64Array | Float32Array): Uint8Array => {
  if (LITTLE_ENDIAN) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  const out = new Uint8Array(data.byteLength)
  const view = new DataView(out.buffer)
  for (let i = 0; i < data.length; i++)
    if (data instanceof Float32Array) view.setFloat32(4 * i, data[i]!, true)
    else view.setFloat64(8 * i, data[i]!, true)
  return out
}

/**
 * A tensor as { dtype, shape, data }: its values exactly, as base64 of little-endian float64 (float32 for a float32 tensor).
 * @example encodeTensor(T.tensor([1, 2])) // { dtype: 'float64', shape: [2], data: 'AAAAAAAA8D8AAAAAAAAAQA==' }
 */
export const encodeTensor = (x: Tensor): EncodedTensor => ({ dtype: dtypeOf(x), shape: [...x.shape], data: encodeBase64(toBytes(x.data)) })

/** A tree with every tensor encoded; throws an IoError for a value that is not a tree or a record key named `dtype`. */
export const encodeTree = (tree: Tree, path = ''): EncodedTree => {
  if (isTensor(tree)) return encodeTensor(tree)
  if (Array.isArray(tree)) return tree.map((c, i) => encodeTree(c, at(path, i)))
  if (typeof tree === 'object' && tree !== null) {
    const out: Record<string, EncodedTree> = {}
    for (const k of Object.keys(tree)) {
      if (k === 'dtype') throw new IoError('invalid', at(path, k), "a record key may not be named 'dtype' (it marks a stored tensor)")
      out[k] = encodeTree((tree as Record<string, Tree>)[k]!, at(path, k))
    }
    return out
  }
  throw new IoError('invalid', path, `expected a tree (a tensor, an array or a record), got ${describe(tree)}`)
}

const checkShape = (u: unknown, path: string): E.Either<IoError, Shape> => {
  const where = at(path, 'shape')
  if (!Array.isArray(u))
    return E.left(new IoError('invalid', where, `expected a shape (an array of non-negative integers), got ${describe(u)}`))
  if (u.length > MAX_RANK) return E.left(new IoError('invalid', where, `rank ${u.length} is more than the ${MAX_RANK} allowed`))
  for (let i = 0; i < u.length; i++) {
    const d: unknown = u[i]
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      return E.left(new IoError('invalid', at(where, i), `expected a non-negative integer (a dimension), got ${describe(d)}`))
    }
  }
  return E.right(u)
}

/**
 * Decodes one stored tensor, checking the dtype, the shape, the base64 and that the data holds
 * exactly the shape's number of values (8 bytes each for float64, 4 for float32) before anything
 * is allocated. Never throws; non-finite values are allowed here (see nonFiniteError).
 */
export const decodeTensor = (u: unknown, path: string): E.Either<IoError, Tensor> => {
  if (!isRecord(u)) return E.left(new IoError('invalid', path, `expected a tensor { dtype, shape, data }, got ${describe(u)}`))
  const dtype = u['dtype']
  if (dtype !== 'float64' && dtype !== 'float32')
    return E.left(new IoError('invalid', at(path, 'dtype'), `expected "float64" or "float32", got ${describe(dtype)}`))
  const extra = Object.keys(u).find((k) => k !== 'dtype' && k !== 'shape' && k !== 'data')
  if (extra !== undefined)
    return E.left(new IoError('invalid', at(path, extra), 'unexpected field in a tensor (a tensor has only dtype, shape and data)'))
  const shape = checkShape(u['shape'], path)
  if (E.isLeft(shape)) return shape
  const data: unknown = u['data']
  if (typeof data !== 'string') return E.left(new IoError('invalid', at(path, 'data'), `expected a base64 string, got ${describe(data)}`))
  let count = 1
  for (const d of shape.right) count *= d
  const bytes = decodedLength(data)
  if (E.isLeft(bytes)) return E.left(new IoError('bad-base64', path, bytes.left))
  const width = BYTES_PER_VALUE[dtype]
  if (bytes.right !== width * count) {
    const got =
      bytes.right % width === 0
        ? `got ${bytes.right / width} (${bytes.right} bytes)`
        : `got ${bytes.right} bytes, not a whole number of ${dtype} values`
    return E.left(
      new IoError(
        'wrong-length',
        path,
        `expected ${count} ${dtype === 'float32' ? 'float32 ' : ''}values (${width * count} bytes) for shape ${showShape(shape.right)}, ` +
          got,
      ),
    )
  }
  const values = dtype === 'float32' ? buffer32(count) : buffer(count)
  const target = LITTLE_ENDIAN ? new Uint8Array(values.buffer) : new Uint8Array(width * count)
  const r = decodeBase64Into(data, target)
  if (E.isLeft(r)) return E.left(new IoError('bad-base64', path, r.left))
  if (!LITTLE_ENDIAN) {
    const view = new DataView(target.buffer)
    for (let i = 0; i < count; i++) values[i] = values instanceof Float32Array ? view.getFloat32(4 * i, true) : view.getFloat64(8 * i, true)
  }
  return E.right(values instanceof Float32Array ? asTensor({ shape: shape.right, data: values }) : fromData(shape.right, values))
}

/**
 * The first place where a tree's leaves are not all of one dtype, as a 'dtype-mismatch' IoError
 * naming both paths and dtypes; undefined when they agree. `trees` are checked together (a
 * model's params and state hold one dtype), `path`s naming each.
 */
export const mixedDTypes = (trees: readonly (readonly [Tree, string])[]): IoError | undefined => {
  let first: { readonly path: string; readonly dtype: DType } | undefined
  for (const [tree, root] of trees)
    for (const { path, leaf } of leavesWithPaths(tree, root)) {
      const dtype = dtypeOf(leaf)
      if (first === undefined) first = { path, dtype }
      else if (dtype !== first.dtype)
        return new IoError(
          'dtype-mismatch',
          path,
          `a ${dtype} tensor, but ${first.path} is ${first.dtype}: a model's params and state (and its optimizer's moments) hold one dtype`,
        )
    }
  return undefined
}

/** The dtype of a tree's first leaf, or undefined for a tree without leaves (a tree of one dtype: see mixedDTypes). */
export const treeDType = (tree: Tree): DType | undefined => {
  const first = leavesWithPaths(tree, '')[0]
  return first === undefined ? undefined : dtypeOf(first.leaf)
}

/** Decodes a stored tree (tensors in arrays and records); never throws. */
export const decodeTree = (u: unknown, path: string): E.Either<IoError, Tree> => {
  const rec = (v: unknown, p: string, depth: number): E.Either<IoError, Tree> => {
    if (depth > MAX_TREE_DEPTH) return E.left(new IoError('invalid', p, `the tree is nested more than ${MAX_TREE_DEPTH} levels deep`))
    if (Array.isArray(v)) {
      const out: Tree[] = []
      for (let i = 0; i < v.length; i++) {
        const c = rec(v[i], at(p, i), depth + 1)
        if (E.isLeft(c)) return c
        out.push(c.right)
      }
      return E.right(out)
    }
    if (isRecord(v)) {
      if (Object.prototype.hasOwnProperty.call(v, 'dtype')) return decodeTensor(v, p)
      const out: Record<string, Tree> = {}
      for (const k of Object.keys(v)) {
        if (k === '__proto__') return E.left(new IoError('invalid', at(p, k), "a record key may not be named '__proto__'"))
        const c = rec(v[k], at(p, k), depth + 1)
        if (E.isLeft(c)) return c
        out[k] = c.right
      }
      return E.right(out)
    }
    return E.left(new IoError('invalid', p, `expected a tensor { dtype, shape, data }, an array or a record, got ${describe(v)}`))
  }
  return rec(u, path, 0)
}

/** The first NaN or ±Infinity in a tree (its path under `path` and flat index) as a 'non-finite' IoError, or undefined. */
export const nonFiniteError = (tree: Tree, path: string): IoError | undefined => {
  const bad = firstNonFinite(tree, path)
  return bad === undefined
    ? undefined
    : new IoError('non-finite', bad.path, `value ${bad.index} (flat index) is ${bad.value}; a checkpoint holds only finite numbers`)
}

/**
 * The first place where `got` differs from `expected` in structure ('structure-mismatch'), in a
 * tensor's shape ('shape-mismatch') or dtype ('dtype-mismatch'), as an IoError at that path, or
 * undefined when they match.
 * `made` names where the expected tree comes from, for the message.
 */
export const compareTrees = (expected: Tree, got: Tree, path: string, made: string): IoError | undefined => {
  const kindOf = (v: Tree): string =>
    isTensor(v) ? `a tensor ${showShape(v.shape)}` : Array.isArray(v) ? `an array of ${v.length}` : `a record {${showKeys(Object.keys(v))}}`
  const rec = (e: Tree, g: Tree, p: string): IoError | undefined => {
    if (isTensor(e) && isTensor(g)) {
      if (!(e.shape.length === g.shape.length && e.shape.every((d, i) => d === g.shape[i])))
        return new IoError('shape-mismatch', p, `shape ${showShape(g.shape)} in the checkpoint, but ${made} makes ${showShape(e.shape)}`)
      if (dtypeOf(e) === dtypeOf(g)) return undefined
      return new IoError('dtype-mismatch', p, `${dtypeOf(g)} in the checkpoint, but ${made} makes ${dtypeOf(e)}`)
    }
    if (Array.isArray(e) && Array.isArray(g)) {
      if (e.length !== g.length)
        return new IoError('structure-mismatch', p, `an array of ${g.length} in the checkpoint, but ${made} makes an array of ${e.length}`)
      for (let i = 0; i < e.length; i++) {
        const d = rec(e[i]!, g[i]!, at(p, i))
        if (d !== undefined) return d
      }
      return undefined
    }
    if (!isTensor(e) && !isTensor(g) && !Array.isArray(e) && !Array.isArray(g)) {
      const ke = Object.keys(e)
      const kg = new Set(Object.keys(g)) // the same keys, in any order (as Tree.structureDiff)
      if (ke.length !== kg.size || ke.some((k) => !kg.has(k))) {
        return new IoError('structure-mismatch', p, `${kindOf(g)} in the checkpoint, but ${made} makes ${kindOf(e)}`)
      }
      for (const k of ke) {
        const d = rec((e as Record<string, Tree>)[k]!, (g as Record<string, Tree>)[k]!, at(p, k))
        if (d !== undefined) return d
      }
      return undefined
    }
    return new IoError('structure-mismatch', p, `${kindOf(g)} in the checkpoint, but ${made} makes ${kindOf(e)}`)
  }
  return rec(expected, got, path)
}

/**
 * compareTrees against a shape rule's result (see Layer.shapes), so no init is run: the first
 * place where `got` differs from the `expected` shapes, as an IoError naming the layer (by `name`,
 * from its spec path; default the JSON path alone) and the hyper-parameters that set the expected
 * shape, or undefined when they match.
 */
export const compareShapes = (
  expected: ShapeTree,
  got: Tree,
  path: string,
  name: (specAt: string | undefined) => string = (a) => (a === undefined || a === '' ? 'spec' : `spec.${a}`),
): IoError | undefined => {
  const kindOf = (v: ShapeTree | Tree): string =>
    isTensor(v) || isShapeLeaf(v)
      ? `a tensor ${showShape(v.shape)}`
      : Array.isArray(v)
        ? `an array of ${v.length}`
        : `a record {${showKeys(Object.keys(v))}}`
  // The layer whose params (or state) `e` is: a tensor's, or a record's whose tensors all belong to one layer (an array
  // is a combinator's list, whose children without params leave no trace).
  const owner = (e: ShapeTree): string => {
    if (Array.isArray(e)) return ''
    const ats = new Set<string | undefined>()
    const walk = (t: ShapeTree): void => {
      if (isShapeLeaf(t)) ats.add(t.at)
      else (Array.isArray(t) ? t : Object.values(t)).forEach(walk)
    }
    walk(e)
    const [only] = ats
    return ats.size === 1 && only !== undefined ? ` (${name(only)})` : ''
  }
  const mismatch = (e: ShapeTree, g: Tree, p: string): IoError =>
    new IoError('structure-mismatch', p, `${kindOf(g)} in the checkpoint, but the spec makes ${kindOf(e)}${owner(e)}`)
  const rec = (e: ShapeTree, g: Tree, p: string): IoError | undefined => {
    if (isShapeLeaf(e)) {
      if (!isTensor(g)) return mismatch(e, g, p)
      if (e.shape.length === g.shape.length && e.shape.every((d, i) => d === g.shape[i])) return undefined
      const input =
        e.inputFrom === undefined
          ? ''
          : `; that input's size is set by ${e.inputFrom.map((f) => `${name(f.at)}, ${f.spec}`).join(', on an input set by ')}`
      const from = e.why === undefined && input === '' ? '' : ` (${name(e.at)}: ${e.why ?? 'its shape'}${input})`
      return new IoError(
        'shape-mismatch',
        p,
        `shape ${showShape(g.shape)} in the checkpoint, but the spec makes ${showShape(e.shape)}${from}`,
      )
    }
    if (isTensor(g)) return mismatch(e, g, p)
    if (Array.isArray(e) || Array.isArray(g)) {
      if (!Array.isArray(e) || !Array.isArray(g) || e.length !== g.length) return mismatch(e, g, p)
      for (let i = 0; i < e.length; i++) {
        const d = rec(e[i]!, g[i]!, at(p, i))
        if (d !== undefined) return d
      }
      return undefined
    }
    const ke = Object.keys(e)
    const kg = new Set(Object.keys(g))
    if (ke.length !== kg.size || ke.some((k) => !kg.has(k))) return mismatch(e, g, p)
    for (const k of ke) {
      // Array.isArray does not narrow readonly arrays away, so the records are read as compareTrees reads them.
      const d = rec((e as Record<string, ShapeTree>)[k]!, (g as Record<string, Tree>)[k]!, at(p, k))
      if (d !== undefined) return d
    }
    return undefined
  }
  return rec(expected, got, path)
}

const isTree = (u: unknown, depth: number): boolean =>
  depth <= MAX_TREE_DEPTH &&
  (isTensor(u) ||
    (Array.isArray(u) ? u.every((c) => isTree(c, depth + 1)) : isRecord(u) && Object.values(u).every((c) => isTree(c, depth + 1))))

/** io-ts codec of a stored tensor: decodes { dtype, shape, data } to a Tensor (exactly) and encodes back. */
export const TensorCodec: t.Type<Tensor, EncodedTensor, unknown> = new t.Type<Tensor, EncodedTensor, unknown>(
  'Tensor',
  isTensor,
  (u, c) => {
    const r = decodeTensor(u, '')
    return E.isRight(r) ? t.success(r.right) : t.failure(u, c, r.left.message)
  },
  encodeTensor,
)

/** io-ts codec of a stored tree of tensors. */
export const TreeCodec: t.Type<Tree, EncodedTree, unknown> = new t.Type<Tree, EncodedTree, unknown>(
  'Tree',
  (u): u is Tree => isTree(u, 0),
  (u, c) => {
    const r = decodeTree(u, '')
    return E.isRight(r) ? t.success(r.right) : t.failure(u, c, r.left.message)
  },
  (tree) => encodeTree(tree),
)
