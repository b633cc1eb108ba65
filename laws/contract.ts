/**
 * What a layer promises before any law can judge its numbers: init returns an output shape and
 * trees of tensors; forward returns a y of the declared shape and a state like the one it got;
 * the vjp returns a dx like x and a dp like the params. The laws run a layer under this contract,
 * so a part that throws or returns the wrong thing fails every law with one reason naming that
 * part, instead of each law failing somewhere inside its own arithmetic.
 */
import { L, T, Tree, type Layer, type Shape, type Tensor } from '../src/index.ts'

/** Which part of the layer under test is at fault. */
export type Part = 'init' | 'forward' | 'vjp'

/** A layer that broke its contract: a part threw (the error is the cause) or returned something malformed. */
export class LayerFault extends Error {
  override readonly name = 'LayerFault'
  constructor(
    readonly part: Part,
    detail: string,
    options?: { readonly cause?: unknown },
  ) {
    super(`the layer's ${part} ${detail}`, options)
  }
}

/** Runs one part of the layer; what it throws becomes a LayerFault naming the part, with the error as its cause. */
const attempt = <A>(part: Part, f: () => A): A => {
  try {
    return f()
  } catch (e) {
    throw new LayerFault(part, `threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`, { cause: e })
  }
}

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === 'object' && u !== null

/** What a value is, for a message: `nothing` for undefined, else as Tree describes a node. */
const kind = (u: unknown): string => (u === undefined ? 'nothing' : Tree.describeNode(u))

/** Undefined when `u` is a tree of tensors, else what is wrong with it, to follow "returned" (`what` names it). */
const notATree = (what: string, u: unknown): string | undefined => {
  if (u === undefined) return `no ${what} (undefined; a layer without any returns L.none)`
  try {
    Tree.leaves(u as Tree.Tree) // a walk that throws a TreeError at the first node that is not a tensor, array or record
    return undefined
  } catch (e) {
    if (!(e instanceof Tree.TreeError)) throw e
    return `${what}: not a tree of tensors (${e.message}); make tensors with T.tensor or T.fromArray`
  }
}

/** A checked init result: its outShape is a shape and its params and state are trees of tensors; else a LayerFault. */
export const checkInit = <P extends Tree.Tree, S extends Tree.Tree>(r: L.Init<P, S>): L.Init<P, S> => {
  const u: unknown = r
  if (!isObject(u)) throw new LayerFault('init', `returned ${kind(u)}, not { outShape, params, state }`)
  if (!Array.isArray(u['outShape']) || !u['outShape'].every((d) => Number.isSafeInteger(d) && d >= 0))
    throw new LayerFault('init', `returned an outShape that is not a shape (an array of sizes): ${String(u['outShape'])}`)
  const wrong = notATree('params', u['params']) ?? notATree('state', u['state'])
  if (wrong !== undefined) throw new LayerFault('init', `returned ${wrong}`)
  return r
}

/** The tape of a layer under the contract: the layer's own tape, the input's shape (dx's), and whether x, params and state were finite. */
export interface Kept<Tape> {
  readonly tape: Tape
  readonly xShape: Shape
  readonly finite: boolean
}

/** What a result holds at its first NaN or ±Infinity, e.g. "NaN at element 4 of y", or undefined when it is finite. */
const nonFinite = (what: string, t: Tree.Tree): string | undefined => {
  const at = Tree.firstNonFinite(t, what)
  return at === undefined ? undefined : `${at.value} at element ${at.index} of ${at.path}`
}

const DOMAIN =
  'the laws need a function defined on their inputs: if it is defined on part of them only (a log, a square root), ' +
  'pass input to draw x from there'

/**
 * The layer, each part run under the contract: results pass through unchanged (the laws see the
 * layer's own numbers); a part that throws, or returns what the contract forbids, throws a
 * LayerFault naming the part and what was wrong. `outShape` is what init declared for the
 * laws' input shape.
 */
export const underContract = <P extends Tree.Tree, S extends Tree.Tree, Tape>(
  layer: Layer<P, S, Tape>,
  outShape: Shape,
): Layer<P, S, Kept<Tape>> => ({
  ...layer,
  init: (key, inShape) => checkInit(attempt('init', () => layer.init(key, inShape))),
  forward: (p, s, x, ctx) => {
    const r = attempt('forward', () => layer.forward(p, s, x, ctx))
    const u: unknown = r
    if (!isObject(u) || Tree.isTensor(u))
      throw new LayerFault('forward', `returned ${kind(u)}, not { y, state, tape } (L.define's forward returns { y, tape })`)
    const want = [x.shape[0]!, ...outShape]
    if (!Tree.isTensor(u['y'])) throw new LayerFault('forward', `returned a y that is not a tensor: ${kind(u['y'])}`)
    if (!T.sameShape(r.y.shape, want))
      throw new LayerFault(
        'forward',
        `returned y of shape ${T.showShape(r.y.shape)} for x of shape ${T.showShape(x.shape)}; ` +
          `init declared the output shape ${T.showShape(outShape)}, so y must be ${T.showShape(want)} (law 5)`,
      )
    const next = notATree('next state', u['state'])
    if (next !== undefined) throw new LayerFault('forward', `returned ${next}`)
    const d = Tree.structureDiff(s, r.state)
    if (d !== undefined)
      throw new LayerFault('forward', `returned a next state that does not match the state it got (given vs returned ${d}) (law 5)`)
    const finite = T.allFinite(x) && Tree.firstNonFinite(p) === undefined && Tree.firstNonFinite(s) === undefined
    const undefinedThere = finite ? (nonFinite('y', r.y) ?? nonFinite('the next state', r.state)) : undefined
    if (undefinedThere !== undefined)
      throw new LayerFault('forward', `returned ${undefinedThere} for a finite x, params and state; ${DOMAIN}`)
    return { y: r.y, state: r.state, tape: { tape: r.tape, xShape: x.shape, finite } }
  },
  vjp: (p, kept, dy, options) => {
    const r = attempt('vjp', () => layer.vjp(p, kept.tape, dy, options))
    const u: unknown = r
    if (!isObject(u) || Tree.isTensor(u)) throw new LayerFault('vjp', `returned ${kind(u)}, not { dx, dp }`)
    const dx: unknown = u['dx']
    if (!Tree.isTensor(dx)) throw new LayerFault('vjp', `returned a dx that is not a tensor: ${kind(dx)}`)
    if (!T.sameShape(dx.shape, kept.xShape) && !(options?.dx === false && isNoDx(dx)))
      throw new LayerFault(
        'vjp',
        `returned dx of shape ${T.showShape(dx.shape)}; dx must have x's shape, ${T.showShape(kept.xShape)} (law 5)`,
      )
    const wrong = notATree('dp', u['dp'])
    if (wrong !== undefined) throw new LayerFault('vjp', `returned ${wrong}`)
    const d = Tree.structureDiff(p, r.dp)
    if (d !== undefined)
      throw new LayerFault(
        'vjp',
        `returned a dp that does not match the params (params vs dp ${d}): dp must have the params' keys and shapes (law 5)`,
      )
    const undefinedThere = kept.finite && T.allFinite(dy) ? (nonFinite('dx', dx) ?? nonFinite('dp', r.dp)) : undefined
    if (undefinedThere !== undefined)
      throw new LayerFault('vjp', `returned ${undefinedThere} for a finite x, params, state and cotangent; ${DOMAIN}`)
    return r
  },
})

/** The empty dx a vjp told `{ dx: false }` may return (L.noDx, or any tensor of shape [0]). */
const isNoDx = (dx: Tensor): boolean => dx === L.noDx || (dx.data.length === 0 && T.sameShape(dx.shape, [0]))

/**
 * Throws a TypeError naming `where` unless `u` is a layer: a record with a name, a spec and the functions init, forward
 * and vjp. A record that lacks some is told which; a factory not called (`L.dense` for `L.dense(4)`) is told so.
 */
export const checkIsLayer = (where: string, u: unknown): void => {
  if (!isObject(u) || Array.isArray(u)) return L.checkChild(where, u)
  const missing = [
    ...(typeof u['name'] === 'string' ? [] : ['a name']),
    ...(isObject(u['spec']) ? [] : ['a spec']),
    ...(['init', 'forward', 'vjp'] as const)
      .filter((f) => typeof u[f] !== 'function')
      .map((f) => `${f === 'init' ? 'an' : 'a'} ${f} function`),
  ]
  if (missing.length === 0) return
  const lacks = missing.length === 1 ? missing[0]! : `${missing.slice(0, -1).join(', ')} and ${missing.at(-1)!}`
  throw new TypeError(
    `${where} is not a layer: it lacks ${lacks} ` +
      '(a layer is { name, spec, init, forward, vjp }; L.define makes one from a name, a forward and a vjp)',
  )
}
