/**
 * Walking a network: `instrument` rebuilds a layer with every node (leaf or combinator) wrapped
 * by hooks that see its path (`pipe[3].dense`), its inputs and its results. Combinators expose
 * their children through `Layer.structure`, so the walk needs no registry; a layer without
 * `structure` is a leaf. The wrapped network computes exactly what the original does (same
 * children, same key splits), so a step re-run through it replays the original bit for bit.
 *
 * `diagnose` uses it to find where a training step first went non-finite.
 */
import type { Key } from '../key.ts'
import type { AnyLayer, Backward, Ctx, Forward, Init, VjpOptions } from '../layer.ts'
import type { Loss } from '../loss.ts'
import { showIndex, type Shape, type Tensor } from '../tensor/tensor.ts'
import * as Tree from '../tree.ts'

/** Where a node sits in the network: its path, depth (0 for the root), the original layer, and whether it is a leaf. */
export interface Site {
  readonly path: string
  readonly depth: number
  readonly layer: AnyLayer
  readonly leaf: boolean
}

/** Around-hooks for instrument: each gets the site and a `run` that calls the wrapped layer, and returns its result. */
export interface Hooks {
  readonly init?: (site: Site, inShape: Shape, run: () => Init<Tree.Tree, Tree.Tree>) => Init<Tree.Tree, Tree.Tree>
  readonly forward?: (site: Site, p: Tree.Tree, x: Tensor, run: () => Forward<Tree.Tree, unknown>) => Forward<Tree.Tree, unknown>
  readonly vjp?: (site: Site, p: Tree.Tree, dy: Tensor, run: () => Backward<Tree.Tree>) => Backward<Tree.Tree>
}

/**
 * The same network with every node wrapped by the hooks. Paths follow the error-path convention:
 * the root is its name, and child i of a combinator gets the combinator's label for it
 * (`pipe[i]`) followed by the child's own name: `pipe[3].dense`, `pipe[1].residual.dense`.
 * @example
 * const traced = instrument(net, { forward: (site, _p, _x, run) => { const r = run(); console.log(site.path, r.y.shape); return r } })
 */
export const instrument = (layer: AnyLayer, hooks: Hooks): AnyLayer => {
  const wrap = (node: AnyLayer, segments: readonly string[]): AnyLayer => {
    const st = node.structure
    const inner =
      st === undefined ? node : st.rebuild(st.children.map((c) => wrap(c.layer, [...segments.slice(0, -1), c.label, c.layer.name])))
    const site: Site = { path: segments.join('.'), depth: segments.length - 1, layer: node, leaf: st === undefined }
    const { init, forward, vjp } = hooks
    const wrapped: AnyLayer = {
      name: node.name,
      spec: node.spec,
      init: init === undefined ? inner.init : (key: Key, inShape: Shape) => init(site, inShape, () => inner.init(key, inShape)),
      forward:
        forward === undefined
          ? inner.forward
          : (p: Tree.Tree, s: Tree.Tree, x: Tensor, ctx: Ctx) => forward(site, p, x, () => inner.forward(p, s, x, ctx)),
      vjp:
        vjp === undefined
          ? inner.vjp
          : (p: Tree.Tree, tape: unknown, dy: Tensor, options?: VjpOptions) => vjp(site, p, dy, () => inner.vjp(p, tape, dy, options)),
    }
    return st === undefined ? wrapped : { ...wrapped, structure: inner.structure }
  }
  return wrap(layer, [layer.name])
}

/** The stage of a training step where a value first went non-finite. */
export type Stage = 'input' | 'forward' | 'loss' | 'backward' | 'update'

/** Where a step first produced a non-finite value: the stage, the layer (by path) if one did, and what exactly. */
export interface NonFiniteSite {
  readonly stage: Stage
  /** The first layer whose forward output or vjp result (dx or dp) was non-finite, e.g. `pipe[3].dense`. */
  readonly layerPath: string | undefined
  /** What was non-finite, e.g. `output y[0, 3] = NaN`, `dx[1, 0] = Infinity`, `dp.W[2, 5] = NaN`. */
  readonly detail: string
  /** The row of the batch the value belongs to, when it is in a batch-shaped tensor (the input, an output y, the loss gradient, a dx). */
  readonly row?: number | undefined
}

/** The first non-finite value of a tree (or tensor) as `name.W[i, j] = NaN`, or undefined when all are finite. */
export const showFirstNonFinite = (name: string, tree: Tree.Tree): string | undefined => {
  const bad = Tree.firstNonFinite(tree, name)
  return bad === undefined ? undefined : `${bad.path}${showIndex(bad.leaf.shape, bad.index)} = ${bad.value}`
}

/** The batch row (leading index) of a tensor's first non-finite value, or undefined when all are finite. */
const firstBadRow = (x: Tensor): number | undefined => {
  const bad = Tree.firstNonFinite(x)
  const rows = x.shape[0]
  return bad === undefined || rows === undefined || rows === 0 ? undefined : Math.floor(bad.index / (x.data.length / rows))
}

const maxAbs = (ts: readonly Tensor[]): number => {
  let m = 0
  for (const t of ts) for (let i = 0; i < t.data.length; i++) m = Math.max(m, Math.abs(t.data[i]!))
  return m
}

/** "max |x| = 3.1e+2, max |param| = 1.2e+155": the sizes that usually explain an overflow. */
const magnitudes = (x: Tensor, p: Tree.Tree): string => {
  const ps = Tree.leaves(p)
  const fmt = (v: number): string => v.toExponential(2)
  return ps.length === 0 ? `max |x| = ${fmt(maxAbs([x]))}` : `max |x| = ${fmt(maxAbs([x]))}, max |param| = ${fmt(maxAbs(ps))}`
}

/** What diagnose needs to replay a step. */
export interface Replay {
  readonly model: AnyLayer
  readonly loss: Loss
  readonly params: Tree.Tree
  readonly state: Tree.Tree
  readonly x: Tensor
  readonly y: Tensor
  readonly ctx: Ctx
  /** The params after the update, when the step got that far. */
  readonly updated?: Tree.Tree
}

/**
 * Replays a training step's forward, loss and vjp through an instrumented copy of the model and
 * returns where a value first went non-finite, in the order they were computed: the input
 * batch, each layer's forward output (in forward order), the loss and its gradient, each
 * layer's dx and dp (in backward order), and finally the optimizer update. Only runs when a
 * step has already failed, so a healthy step pays nothing for it.
 */
export const diagnose = (r: Replay): NonFiniteSite => {
  const badInput = showFirstNonFinite('x', r.x)
  if (badInput !== undefined)
    return { stage: 'input', layerPath: undefined, detail: `the input batch has ${badInput}`, row: firstBadRow(r.x) }
  let first: NonFiniteSite | undefined
  const owner = new Map<Tensor, { readonly path: string; readonly param: string }>()
  const note = (site: NonFiniteSite): void => {
    if (first === undefined) first = site
  }
  const traced = instrument(r.model, {
    forward: (site, p, x, run) => {
      if (site.leaf) for (const { path, leaf } of Tree.leavesWithPaths(p)) owner.set(leaf, { path: site.path, param: path })
      const out = run()
      const badY = showFirstNonFinite('output y', out.y)
      const bad = badY ?? showFirstNonFinite('state', out.state)
      if (bad !== undefined) {
        const row = badY === undefined ? undefined : firstBadRow(out.y)
        note({ stage: 'forward', layerPath: site.path, detail: `${bad} from a finite input (${magnitudes(x, p)})`, row })
      }
      return out
    },
    vjp: (site, _p, _dy, run) => {
      const out = run()
      const badDx = showFirstNonFinite('dx', out.dx)
      const bad = badDx ?? showFirstNonFinite('dp', out.dp)
      if (bad !== undefined)
        note({ stage: 'backward', layerPath: site.path, detail: bad, row: badDx === undefined ? undefined : firstBadRow(out.dx) })
      return out
    },
  })
  try {
    const fwd = traced.forward(r.params, r.state, r.x, r.ctx)
    if (first !== undefined) return first
    const { value, grad } = r.loss(fwd.y, r.y)
    if (!Number.isFinite(value)) return { stage: 'loss', layerPath: undefined, detail: `the loss value is ${value} on finite predictions` }
    const badGrad = showFirstNonFinite('gradient', grad)
    if (badGrad !== undefined)
      return { stage: 'loss', layerPath: undefined, detail: `the loss's ${badGrad} on finite predictions`, row: firstBadRow(grad) }
    traced.vjp(r.params, fwd.tape, grad, { dx: false }) // as the step itself ran it
    if (first !== undefined) return first
  } catch (e) {
    if (first !== undefined) return first
    throw e
  }
  // Forward and backward were finite, so the optimizer's update overflowed a param.
  if (r.updated !== undefined) {
    const before = Tree.leavesWithPaths(r.params)
    const after = Tree.leavesLike(r.params, r.updated)
    for (let i = 0; i < before.length; i++) {
      const bad = showFirstNonFinite('', after[i]!)
      if (bad === undefined) continue
      const o = owner.get((before[i] as { leaf: Tensor }).leaf)
      const where = o === undefined ? `params ${before[i]?.path}` : `its param ${o.param || '(root)'}`
      return {
        stage: 'update',
        layerPath: o?.path,
        detail: `the optimizer update made ${where}${bad} non-finite from finite gradients (is the learning rate too large?)`,
      }
    }
  }
  return { stage: 'update', layerPath: undefined, detail: 'no non-finite value reappeared when the step was replayed' }
}
