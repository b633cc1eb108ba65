/**
 * dropout (inverted): in train mode each value is dropped with probability p and the survivors
 * are scaled by 1/(1 − p), so the expected output equals the input and eval mode needs no
 * rescaling. In eval mode it is the identity.
 *
 *   train   m = bernoulli(ctx.key, keep = 1 − p) / (1 − p)     (the mask, kept in the tape)
 *           y  = x ⊙ m            dx = dy ⊙ m
 *   eval    y  = x                dx = dy
 *
 * The mask comes from ctx.key alone, so a forward is a pure function of (x, key): the same key
 * drops the same units. In float32 the mask holds fl32(1/(1 − p)) and each product is rounded.
 *
 *   spec      { kind: 'dropout', dropProb }
 */
import * as Key from '../key.ts'
import * as T from '../tensor/index.ts'
import type { Tensor } from '../tensor/tensor.ts'
import { guard, none, type Layer, type None } from '../layer.ts'
import type { Keep } from '../shape-type.ts'
import { UnitInterval } from '../io/codecs.ts'
import { checkSpec, layerKind, specOf } from '../io/kind.ts'
import { checkOptions } from '../options.ts'

/** Options of dropout. */
export interface DropoutOptions {
  /** The probability of dropping each value, in [0, 1) (not the keep probability). */
  readonly dropProb: number
}

/** What dropout's forward keeps: the scaled mask (0 or 1/(1 − p) per value), or null in eval mode. */
export interface DropoutTape {
  readonly mask: Tensor | null
}

const DropoutSpec = specOf('dropout', { dropProb: UnitInterval })

/** The type of `dropout(options)`: it keeps the shape. */
export type Dropout = Layer<None, None, DropoutTape, Keep>

/**
 * Inverted dropout with drop probability `dropProb`.
 * @example pipe(dense(128), relu, dropout({ dropProb: 0.5 }), dense(10))
 */
export const dropout = (options: DropoutOptions): Dropout => {
  checkOptions('dropout', options, ['dropProb'])
  const spec = checkSpec(
    DropoutSpec,
    { kind: 'dropout', dropProb: options?.dropProb },
    { notes: { dropProb: 'the probability of dropping a value, not of keeping it' } },
  )
  const p = spec.dropProb
  const name = 'dropout'
  const scale = 1 / (1 - p)
  return {
    name,
    spec,
    init: (_key, inShape) => ({ outShape: inShape, params: none, state: none }),
    shapes: (inShape) => ({ outShape: inShape, params: none, state: none }),
    forward: (_p, s, x, ctx) => {
      if (ctx.mode === 'eval' || p === 0) return { y: x, state: s, tape: { mask: null } }
      const keep = Key.bernoulli(Key.ctxKey(ctx, name), x.shape, 1 - p).data // 1 = keep, 0 = drop
      const x32 = T.isFloat32(x) // float32: storing into a Float32Array rounds m and y
      const m = x32 ? T.buffer32(keep.length) : T.buffer(keep.length)
      const y = x32 ? T.buffer32(keep.length) : T.buffer(keep.length)
      const v = x.data
      for (let i = 0; i < m.length; i++) {
        m[i] = keep[i]! * scale
        y[i] = v[i]! * m[i]!
      }
      const wrap = (d: Float32Array | Float64Array): Tensor =>
        d instanceof Float32Array ? T.asTensor(T.fromData32(x.shape, d)) : T.fromData(x.shape, d)
      return { y: wrap(y), state: s, tape: { mask: wrap(m) } }
    },
    vjp: (_p, { mask }, dy) => ({ dx: mask === null ? dy : guard(name, () => T.mul(dy, mask)), dp: none }),
  }
}

/** dropout as data: `{ kind: 'dropout', dropProb }` rebuilds `dropout({ dropProb })`. */
export const dropoutKind = layerKind(DropoutSpec, (s) => dropout({ dropProb: s.dropProb }))
