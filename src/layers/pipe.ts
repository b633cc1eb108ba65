/**
 * pipe and compose: sequential composition, and where backprop's chain rule lives.
 *
 *   forward:  x → f₁ → f₂ → … → fₙ → y, keeping every tape
 *   vjp:      dy → fₙ.vjp → … → f₁.vjp → dx, collecting every dp
 *
 * d(fₙ ∘ … ∘ f₁)ᵀ = d(f₁)ᵀ ∘ … ∘ d(fₙ)ᵀ: the transposed Jacobians compose in reverse order.
 *
 * Operator fusion: where a child offers to run together with the child after it (`fuseNext`:
 * conv2d followed by relu), the pipe runs the pair as that one fused layer, forward and vjp. It
 * computes exactly the same numbers (tested bit for bit), so params, state, tapes' meaning and
 * results are as if the two ran one after the other; only the speed differs.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as Key from '../key.ts'
import type { Shape } from '../tensor/tensor.ts'
import type { Tensor } from '../tensor/tensor.ts'
import type { Tree } from '../tree.ts'
import { none, within, type AnyLayer, type Layer, type ParamsOf, type ShapeError, type StateOf, type TapeOf } from '../layer.ts'

/** The params of a pipe: a tuple of the children's params. */
export type PipeParams<Ls extends readonly AnyLayer[]> = { readonly [i in keyof Ls]: ParamsOf<Ls[i]> }
/** The state of a pipe: a tuple of the children's states. */
export type PipeState<Ls extends readonly AnyLayer[]> = { readonly [i in keyof Ls]: StateOf<Ls[i]> }
/** The tape of a pipe: a tuple of the children's tapes, in forward order. */
export type PipeTape<Ls extends readonly AnyLayer[]> = { readonly [i in keyof Ls]: TapeOf<Ls[i]> }

/** A sequential network. Params, states and tapes are tuples in the order of the layers. */
export type Pipe<Ls extends readonly AnyLayer[]> = Layer<PipeParams<Ls> & Tree, PipeState<Ls> & Tree, PipeTape<Ls>>

/**
 * Runs layers left to right: pipe(f, g, h)(x) = h(g(f(x))).
 * @example const mlp = pipe(dense(128), relu, dense(10))
 */
export const pipe = <Ls extends readonly AnyLayer[]>(...layers: Ls): Pipe<Ls> => {
  const n = layers.length
  const at = (i: number): AnyLayer => layers[i] as AnyLayer
  const label = (i: number): string => `pipe[${i}]`
  // fused[i]: the layer that runs children i and i + 1 together, where child i offers one
  const fused = layers.map((layer, i) => (i + 1 < n ? layer.fuseNext?.(at(i + 1)) : undefined))
  const self: Layer<readonly Tree[], readonly Tree[], readonly unknown[]> = {
    name: 'pipe',
    spec: { kind: 'pipe', children: layers.map((l) => l.spec) },
    structure: { children: layers.map((layer, i) => ({ label: label(i), layer })), rebuild: (children) => pipe(...children) as AnyLayer },
    init: (key, inShape) => {
      const keys = Key.split(key, Math.max(n, 1))
      const params: Tree[] = []
      const state: Tree[] = []
      let shape: Shape = inShape
      for (let i = 0; i < n; i++) {
        const r = at(i).init(keys[i] as Key.Key, shape)
        if (E.isLeft(r)) return E.left<ShapeError>(r.left.within(label(i)))
        params.push(r.right.params)
        state.push(r.right.state)
        shape = r.right.outShape
      }
      return E.right({ outShape: shape, params, state })
    },
    forward: (ps, ss, x, ctx) => {
      const keys = Key.split(ctx.key, Math.max(n, 1))
      const tapes: unknown[] = []
      const state: Tree[] = []
      let h: Tensor = x
      for (let i = 0; i < n; i++) {
        const pair = fused[i]
        const layer = pair ?? at(i)
        const r = within(label(i), () => layer.forward(ps[i] as Tree, ss[i] as Tree, h, { mode: ctx.mode, key: keys[i] as Key.Key }))
        tapes.push(r.tape)
        state.push(r.state)
        h = r.y
        if (pair !== undefined) {
          // child i + 1 ran inside child i: its tape slot says so, its state (none) is unchanged
          tapes.push(FUSED)
          state.push(ss[i + 1] as Tree)
          i++
        }
      }
      return { y: h, state, tape: tapes }
    },
    vjp: (ps, tapes, dy, options) => {
      const dps: Tree[] = new Array<Tree>(n)
      let d: Tensor = dy
      // The chain rule: walk the layers backwards, each turning dy into its dx. Only the first
      // layer's dx leaves the pipe, so only it may skip dx when the caller does not want it.
      for (let i = n - 1; i >= 0; i--) {
        if (tapes[i] === FUSED) {
          dps[i] = none // its vjp runs inside the fused layer of child i − 1
          continue
        }
        const layer = tapes[i + 1] === FUSED ? (fused[i] as AnyLayer) : at(i)
        const { dx, dp } = within(label(i), () => layer.vjp(ps[i] as Tree, tapes[i], d, i === 0 ? options : undefined))
        dps[i] = dp
        d = dx
      }
      return { dx: d, dp: dps }
    },
  }
  return self as unknown as Pipe<Ls>
}

/** The tape slot of a child that ran inside the fused layer of the child before it. */
const FUSED: unique symbol = Symbol('fused into the previous layer')

/** Reversed tuple type, so compose's types read right to left. */
type Reverse<Ls extends readonly unknown[]> = Ls extends readonly [infer H, ...infer R] ? [...Reverse<R>, H] : []

/**
 * Runs layers right to left, like function composition: compose(h, g, f) = pipe(f, g, h).
 * The params are ordered as in the equivalent pipe (first applied first).
 */
export const compose = <Ls extends readonly AnyLayer[]>(...layers: Ls): Pipe<Reverse<Ls> & readonly AnyLayer[]> =>
  pipe(...[...layers].reverse()) as unknown as Pipe<Reverse<Ls> & readonly AnyLayer[]>

/**
 * Data-last composition for fp-ts's pipe: `pipe(dense(8), andThen(relu), andThen(dense(1)))`
 * builds the network pipe(pipe(dense(8), relu), dense(1)), which computes the same function
 * as pipe(dense(8), relu, dense(1)).
 */
export const andThen =
  <B extends AnyLayer>(next: B) =>
  <A extends AnyLayer>(first: A): Pipe<readonly [A, B]> =>
    pipe(first, next)
