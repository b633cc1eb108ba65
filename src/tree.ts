/**
 * Parameter trees: tensors nested in arrays and records. Params, gradients, optimizer moments
 * and layer states are all trees, so one set of folds serves them all.
 */
import { showKeys } from './options.ts'
import * as T from './tensor/index.ts'
import type { AnyTensor, DType, Tensor } from './tensor/tensor.ts'

/** A tensor of either dtype, an array of trees, or a record of trees. */
export type Tree = AnyTensor | readonly Tree[] | { readonly [key: string]: Tree }

/**
 * The tree type A with every tensor leaf in dtype D, its structure kept: `Cast<{ W: Tensor }, 'float32'>` is `{ W: Tensor32 }`.
 * A type written `X & Tree` (a custom layer may declare its params so) is spread by tsc over Tree's kinds of node; Cast keeps
 * the one that is the node itself and drops the impossible mixes (a record that is a tensor).
 * `any` stays `any` (which also spares tsc expanding Cast where it erases a signature's type parameters), and `Tree` stays `Tree`.
 */
export type Cast<A, D extends DType> = 0 extends 1 & A
  ? A
  : [Tree] extends [A]
    ? A // a tree of unknown structure (e.g. from a checkpoint): either dtype, as Tree says
    : A extends readonly unknown[]
      ? A extends { readonly data: unknown } | { readonly [key: string]: unknown }
        ? never // an array that is also a tensor, or a record of trees: not a node
        : number extends A['length']
          ? [A[number][]] extends [A]
            ? readonly Cast<A[number], D>[]
            : never // an array that is also a record with named fields
          : CastTuple<A, D>
      : A extends { readonly data: unknown }
        ? [Exclude<keyof A, 'shape' | 'data'>] extends [never]
          ? Tensor<D>
          : never // a record that is also a tensor
        : string extends keyof A
          ? [keyof Named<A>] extends [never]
            ? { readonly [key: string]: Cast<A[string & keyof A], D> }
            : { readonly [K in keyof Named<A>]: Cast<Named<A>[K], D> } // a record of named fields that is also `Tree`'s record: the fields
          : { readonly [K in keyof A]: Cast<A[K], D> }
type CastTuple<A extends readonly unknown[], D extends DType, Acc extends readonly unknown[] = []> = Acc['length'] extends A['length']
  ? Readonly<Acc>
  : CastTuple<A, D, [...Acc, Cast<A[Acc['length']], D>]>
/** A record's named fields, without its index signature. */
type Named<A> = { [K in keyof A as string extends K ? never : number extends K ? never : K]: A[K] }

/** A float64 tree type's float32 twin, e.g. a model's params after `L.initialize(model, key, inShape, { dtype: 'float32' })`. */
export type Float32<A> = Cast<A, 'float32'>

/**
 * The params (or state) type A of a model, written on float64 tensors as layers are, in dtype D:
 * A itself for 'float64', `Float32<A>` for 'float32', and either (A | Float32<A>) for the union DType.
 */
export type InDType<A, D extends DType> = [D] extends ['float64'] ? A : [D] extends ['float32'] ? Float32<A> : A | Float32<A>

/** Thrown when two trees that must match (params and grads, say) do not. */
export class TreeError extends Error {
  override readonly name = 'TreeError'
}

/** True for a tensor leaf of either dtype (as opposed to an array or record node). */
export const isTensor = (t: unknown): t is Tensor =>
  typeof t === 'object' &&
  t !== null &&
  ((t as { data?: unknown }).data instanceof Float64Array || (t as { data?: unknown }).data instanceof Float32Array) &&
  Array.isArray((t as { shape?: unknown }).shape)

/** What a tree node is, for error messages: `a tensor [2, 3]`, `an array of 2`, `a record {W, b}`, `number 3`. */
export const describeNode = (t: unknown): string =>
  isTensor(t)
    ? `a tensor ${T.showShape(t.shape)}`
    : Array.isArray(t)
      ? `an array of ${t.length}`
      : typeof t === 'object' && t !== null
        ? `a record {${showKeys(Object.keys(t))}}`
        : `${typeof t} ${String(t)}`

/** Applies f to every leaf, keeping the structure. f also gets the leaf's path, e.g. "[1].W". */
export const map = <A extends Tree>(tree: A, f: (leaf: Tensor, path: string) => Tensor): A => mapUnder(tree, '', f)

/** map, with the paths starting at `root`: "params[1].W". */
const mapUnder = <A extends Tree>(tree: A, root: string, f: (leaf: Tensor, path: string) => Tensor): A => {
  const rec = (t: Tree, path: string): Tree => {
    if (isTensor(t)) return f(t, path)
    if (Array.isArray(t)) return t.map((c, i) => rec(c, `${path}[${i}]`))
    if (typeof t === 'object' && t !== null) {
      const data: unknown = 'data' in t ? t.data : undefined
      // A tensor but for its data's class (made by hand, or by another library): say so, not "number 2 at .shape[0]".
      if (ArrayBuffer.isView(data))
        throw new TreeError(
          `Tree.map: ${path || 'root'} has a data of class ${data.constructor.name}: a tensor's data is a Float64Array or a Float32Array`,
        )
      const out: Record<string, Tree> = {}
      for (const k of Object.keys(t)) out[k] = rec((t as Record<string, Tree>)[k]!, path ? `${path}.${k}` : k)
      return out
    }
    throw new TreeError(`Tree.map: ${describeNode(t)} at ${path || 'root'} is not a tree`)
  }
  return rec(tree, root) as A
}

/**
 * Combines two trees of the same structure leaf by leaf; a structure or shape mismatch is a
 * TreeError naming the first path where they differ.
 * @example map2(params, grads, (p, g) => T.addScaled(p, -0.1, g)) // one gradient step
 */
export const map2 = <A extends Tree>(a: A, b: Tree, f: (x: Tensor, y: Tensor, path: string) => Tensor): A => {
  assertSameStructure(a, b, 'Tree.map2')
  const leavesB = leavesLike(a, b)
  let i = 0
  return map(a, (x, path) => f(x, leavesB[i++]!, path))
}

/** The leaves in a fixed order (depth first; arrays by index, records by key order). */
export const leaves = (tree: Tree): Tensor[] => {
  const out: Tensor[] = []
  map(tree, (t) => {
    out.push(t)
    return t
  })
  return out
}

/**
 * The leaves of `tree` in the order of `like`'s leaves: a record's fields are visited in
 * `like`'s key order, so two records with the same keys pair up field by field whatever order
 * their keys were written in ({ W, b } and { b, W }). A TreeError if the two differ in
 * structure or leaf shapes (structureDiff).
 */
export const leavesLike = (like: Tree, tree: Tree): Tensor[] => {
  assertSameStructure(like, tree, 'Tree.leavesLike')
  const out: Tensor[] = []
  const rec = (l: Tree, t: Tree): void => {
    if (isTensor(l)) out.push(t as Tensor)
    else if (Array.isArray(l)) l.forEach((c, i) => rec(c, (t as readonly Tree[])[i]!))
    else for (const k of Object.keys(l)) rec((l as Record<string, Tree>)[k]!, (t as Record<string, Tree>)[k]!)
  }
  rec(like, tree)
  return out
}

/** The leaves with their paths, which start at `root` if given: "[1].W", or "params[1].W". */
export const leavesWithPaths = (tree: Tree, root = ''): { path: string; leaf: Tensor }[] => {
  const out: { path: string; leaf: Tensor }[] = []
  mapUnder(tree, root, (leaf, path) => {
    out.push({ path, leaf })
    return leaf
  })
  return out
}

/** Where a tree first holds a NaN or ±Infinity: the leaf's path, the leaf, and the flat index and value there. */
export interface NonFinite {
  readonly path: string
  readonly leaf: Tensor
  readonly index: number
  readonly value: number
}

/**
 * The first NaN or ±Infinity in a tree (leaves in order), or undefined when every value is
 * finite. Paths start at `root`: `firstNonFinite({ W }, 'params')?.path` is `params.W`.
 */
export const firstNonFinite = (tree: Tree, root = ''): NonFinite | undefined => {
  if (allLeavesFinite(tree)) return undefined // the common case, without building the paths
  for (const { path, leaf } of leavesWithPaths(tree, root)) {
    if (T.allFinite(leaf)) continue
    const index = leaf.data.findIndex((v) => v - v !== 0)
    return { path, leaf, index, value: leaf.data[index]! }
  }
  return undefined
}

/** True when every leaf is finite; false for a non-finite value or a node that is not a tree (then firstNonFinite walks with paths). */
const allLeavesFinite = (t: Tree): boolean => {
  if (isTensor(t)) return T.allFinite(t)
  if (Array.isArray(t)) return t.every(allLeavesFinite)
  if (typeof t !== 'object' || t === null) return false
  for (const k of Object.keys(t)) if (!allLeavesFinite((t as Record<string, Tree>)[k]!)) return false
  return true
}

/** Folds over the leaves in order. */
export const reduce = <B>(tree: Tree, init: B, f: (acc: B, leaf: Tensor) => B): B => leaves(tree).reduce(f, init)

/** Total number of numbers in the tree. */
export const size = (tree: Tree): number => reduce(tree, 0, (n, t) => n + t.data.length)

/** The tree with every leaf cast to `dtype` (T.cast: float32 rounds to nearest, float64 is exact; a leaf already in it is kept), typed so. */
export const castTree = <A extends Tree, D extends T.DType>(tree: A, dtype: D): Cast<A, D> =>
  map(tree, (t) => T.asTensor(T.cast(t, dtype))) as Cast<A, D> // map keeps A's structure; the leaves are now in D

/** The dtype of a tree's leaves ('float64' for a tree without leaves); leaves of two dtypes are a TreeError naming both paths. */
export const dtypeOfTree = (tree: Tree): T.DType => {
  const one = singleDType(tree)
  if (one !== undefined) return one
  // Two dtypes, or a node that is not a tree: walk again with paths, for the error.
  let first: { path: string; dtype: T.DType } | undefined
  map(tree, (t, path) => {
    const dtype = T.dtypeOf(t)
    if (first === undefined) first = { path, dtype }
    else if (dtype !== first.dtype) throw new TreeError(`dtypes differ: ${first.path || 'the root'} is ${first.dtype}, ${path} is ${dtype}`)
    return t
  })
  return first?.dtype ?? 'float64'
}

/** The one dtype of a tree's leaves ('float64' without leaves), found without building anything; undefined for two dtypes or a bad node. */
const singleDType = (tree: Tree): T.DType | undefined => {
  let found: T.DType | 'none' | undefined = 'none'
  const rec = (t: Tree): void => {
    if (found === undefined) return
    if (isTensor(t)) {
      const d = T.dtypeOf(t)
      found = found === 'none' || found === d ? d : undefined
    } else if (Array.isArray(t)) for (const c of t) rec(c)
    else if (typeof t === 'object' && t !== null) for (const k of Object.keys(t)) rec((t as Record<string, Tree>)[k]!)
    else found = undefined
  }
  rec(tree)
  return found === 'none' ? 'float64' : found
}

/** A tree of the same structure with every leaf zero. */
export const zerosLike = <A extends Tree>(tree: A): A =>
  map(tree, (t) => (T.isFloat32(t) ? T.asTensor(T.zeros32(t.shape)) : T.zeros(t.shape)))

/** Σ over leaves of <a, b>: the inner product of two same-structure trees. */
export const dot = (a: Tree, b: Tree): number => {
  assertSameStructure(a, b, 'Tree.dot')
  const lb = leavesLike(a, b)
  return leaves(a).reduce((s, t, i) => s + T.dot(t, lb[i]!), 0)
}

/** A tree of shapes, as a layer's shape rule gives it (`Layer.shapes`): `{ shape }` in place of each tensor. */
export type ShapesTree = { readonly shape: readonly number[] } | readonly ShapesTree[] | { readonly [key: string]: ShapesTree }

/** A leaf of a ShapesTree: an object with a `shape` array of numbers and no data (a tensor's `data` would make it a tensor). */
const isShapesLeaf = (v: unknown): v is { readonly shape: readonly number[] } =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !('data' in v) && 'shape' in v && Array.isArray(v.shape)

/**
 * The first place two trees differ in structure or leaf shape, or undefined when they match.
 * Records match when they have the same keys, in any order. `a` may be a tree of shapes (what a
 * shape rule says the tree must be), compared with the tensors of `b` by shape alone. With `shapes`
 * false, leaves match whatever their shapes: the structure alone is compared.
 */
export const structureDiff = (a: Tree | ShapesTree, b: Tree, shapes = true): string | undefined => {
  const show = (v: unknown): string => (isShapesLeaf(v) ? `a tensor ${T.showShape(v.shape)}` : describeNode(v))
  const rec = (x: unknown, y: unknown, path: string): string | undefined => {
    const at = path || 'root'
    const leafX = isTensor(x) || isShapesLeaf(x)
    if (leafX || isTensor(y)) {
      if (!leafX || !isTensor(y)) return `at ${at}: ${show(x)} vs ${show(y)}`
      return !shapes || T.sameShape(x.shape, y.shape) ? undefined : `at ${at}: shape ${T.showShape(x.shape)} vs ${T.showShape(y.shape)}`
    }
    if (Array.isArray(x) || Array.isArray(y)) {
      if (!Array.isArray(x) || !Array.isArray(y) || x.length !== y.length) return `at ${at}: ${show(x)} vs ${show(y)}`
      for (let i = 0; i < x.length; i++) {
        const d = rec(x[i], y[i], `${path}[${i}]`)
        if (d !== undefined) return d
      }
      return undefined
    }
    if (typeof x !== 'object' || x === null || typeof y !== 'object' || y === null) {
      return `at ${at}: ${show(x)} vs ${show(y)}`
    }
    const kx = Object.keys(x)
    const ky = new Set(Object.keys(y))
    if (kx.length !== ky.size || kx.some((k) => !ky.has(k))) return `at ${at}: ${show(x)} vs ${show(y)}`
    for (const k of kx) {
      const d = rec((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k], path ? `${path}.${k}` : k)
      if (d !== undefined) return d
    }
    return undefined
  }
  return rec(a, b, '')
}

/** Throws a TreeError unless a and b have the same structure and leaf shapes. */
export const assertSameStructure = (a: Tree, b: Tree, where: string): void => {
  const d = structureDiff(a, b)
  if (d !== undefined) throw new TreeError(`${where}: trees differ ${d}`)
}
