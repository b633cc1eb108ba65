/**
 * Which stored tensor a spec disagrees with, when the spec cannot even take the stored input
 * shape. A spec edited after saving (a dense's units changed) often fails further on: a residual
 * or a reshape after the edited layer cannot take what it now gives. The layers the shape rule
 * reached before it threw have shapes to compare with the file's tensors; the first of them that
 * differs is the real mismatch, and its path (`params[0].W`) is where to look.
 */
import type { AnyLayer, Shapes, ShapeTree } from '../layer.ts'
import { isShapeLeaf, ShapeError, shapesWithin } from '../layer.ts'
import type { Shape } from '../tensor/tensor.ts'
import type { Tree } from '../tree.ts'
import { at, type IoError } from './error.ts'
import { layerAt } from './layer-path.ts'
import { compareShapes } from './tree.ts'

type Rule = (inShape: Shape) => Shapes

const join = (path: string, segment: string): string => (path === '' ? segment : `${path}.${segment}`)

/**
 * The network rebuilt with each leaf's shape rule replaced by `rule(leaf, at)` (`at`: its spec path, `children[1].body`);
 * a combinator that composes no rule from its children counts as a leaf. Fusion is left out: a fused pair is two leaves here.
 */
const withLeafRules = (layer: AnyLayer, specAt: string, rule: (leaf: AnyLayer, specAt: string) => Rule): AnyLayer => {
  const s = layer.structure
  if (s !== undefined) {
    const under = (i: number): string => join(specAt, 'body' in layer.spec ? 'body' : `children[${i}]`)
    const rebuilt = s.rebuild(s.children.map((c, i) => withLeafRules(c.layer, under(i), rule)))
    if (rebuilt.shapes !== undefined) return rebuilt
  }
  const { fuseNext: _fuseNext, ...rest } = layer
  return { ...rest, shapes: rule(layer, specAt) }
}

/** Where each leaf's params (or state) sit in its network's tree: spec path → keys from the root. */
const placesOf = (tree: ShapeTree, keys: readonly (string | number)[], out: Map<string, readonly (string | number)[]>): void => {
  if (isShapeLeaf(tree)) out.set(tree.at ?? '', keys)
  else if (Array.isArray(tree)) tree.forEach((c: ShapeTree, i) => placesOf(c, [...keys, i], out))
  else for (const [k, c] of Object.entries(tree)) placesOf(c, [...keys, k], out)
}

/** The subtree of a stored tree at `keys`, or undefined where the stored tree has no such place. */
const subtree = (tree: Tree, keys: readonly (string | number)[]): Tree | undefined => {
  let t: Tree | undefined = tree
  for (const k of keys) {
    if (t === undefined || typeof t !== 'object' || 'shape' in t) return undefined
    t = (t as Record<string | number, Tree>)[k]
  }
  return t
}

/**
 * The first stored tensor whose shape differs from what the spec makes for it, among the layers
 * the network's rule reached before it threw on `inShape`: a 'shape-mismatch' (or
 * 'structure-mismatch') naming it; undefined when all those agree (the input shape itself is
 * then the problem), when the rule does not throw, or when the network cannot be walked. Never throws.
 */
export const storedMismatch = (network: AnyLayer, inShape: Shape, params: Tree, state: Tree): IoError | undefined => {
  try {
    if (network.structure === undefined) return undefined
    // Each leaf as a marker that keeps its input's shape: the combinators then place every leaf's params and state.
    const marker =
      (_leaf: AnyLayer): Rule =>
      (s) => ({ outShape: s, params: { shape: [] }, state: { shape: [] } })
    const placed = withLeafRules(network, '', marker).shapes?.(inShape)
    if (placed === undefined) return undefined
    const paramsAt = new Map<string, readonly (string | number)[]>()
    const stateAt = new Map<string, readonly (string | number)[]>()
    placesOf(placed.params, [], paramsAt)
    placesOf(placed.state, [], stateAt)
    // The real rules again, recording what each leaf made before the failure.
    const made: { readonly at: string; readonly shapes: Shapes }[] = []
    const recording =
      (leaf: AnyLayer, specAt: string): Rule =>
      (s) => {
        if (leaf.shapes === undefined) throw new Error('a layer without a shape rule: nothing to compare')
        const r = leaf.shapes(s)
        made.push({ at: specAt, shapes: r })
        return r
      }
    try {
      withLeafRules(network, '', recording).shapes?.(inShape)
      return undefined
    } catch (e) {
      if (!(e instanceof ShapeError)) return undefined
    }
    for (const { at: specAt, shapes } of made) {
      for (const [tree, places, root, stored] of [
        [shapes.params, paramsAt, 'params', params],
        [shapes.state, stateAt, 'state', state],
      ] as const) {
        const keys = places.get(specAt)
        const got = keys === undefined ? undefined : subtree(stored, keys)
        if (keys === undefined || got === undefined) continue
        const path = keys.reduce<string>((p, k) => at(p, k), root)
        const d = compareShapes(specAt === '' ? tree : shapesWithin(specAt, tree), got, path, layerAt(network))
        if (d !== undefined) return d
      }
    }
    return undefined
  } catch {
    return undefined
  }
}
