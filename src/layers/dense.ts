/**
 * dense: the fully connected layer, y = x·W + b.
 *
 *   forward   y  = x · W + b          x: [N, in]   W: [in, out]   b: [out]
 *   vjp       dx = dy · Wᵀ             (how the loss moves with each input)
 *             dW = xᵀ · dy             (each weight, summed over the batch)
 *             db = Σₙ dy[n, :]         (the bias is added to every row)
 *
 *   spec      { kind: 'dense', units, init, bias }
 */
import * as T from '../tensor/index.ts'
import type { Tensor } from '../tensor/tensor.ts'
import type { Shape } from '../tensor/tensor.ts'
import { checkInput, guard, noDx, none, shapeMismatch, wantsDx, type Layer, type None, type Shapes } from '../layer.ts'
import type { Dense as DenseRule } from '../shape-type.ts'
import { Bool, PositiveInt } from '../io/codecs.ts'
import { checkSpec, layerKind, specOf } from '../io/kind.ts'
import { checkOptions } from '../options.ts'
import { initWeights, InitializerCodec, type Initializer } from './initializers.ts'

/** Dense params: the weight matrix and (unless bias: false) the bias vector. */
export type DenseParams = { readonly W: Tensor; readonly b: Tensor } | { readonly W: Tensor }

/** What dense's forward keeps for its vjp: the input (dW needs it). */
export interface DenseTape {
  readonly x: Tensor
}

/** Options of dense. */
export interface DenseOptions {
  /** 'he' (normal, std √(2/in), for ReLU; default), 'glorot' (uniform ±√(6/(in+out))), 'lecun' (normal, std √(1/in)), 'zeros'. */
  readonly init?: Initializer
  /** Add a learned bias (default true). Biases start at zero. */
  readonly bias?: boolean
}

/** The type of `dense(U)`: its rule maps [features] to [U]. */
export type Dense<U extends number = number> = Layer<DenseParams, None, DenseTape, DenseRule<U>>

const DenseSpec = specOf('dense', { units: PositiveInt, init: InitializerCodec, bias: Bool })

/**
 * A fully connected layer with `units` outputs; its input is a flat [features] per example.
 * @example pipe(flatten, dense(128), relu, dense(10))
 */
export const dense = <U extends number>(units: U, options: DenseOptions = {}): Dense<U> => {
  checkOptions('dense', options, ['init', 'bias'])
  const spec = checkSpec(DenseSpec, { kind: 'dense', units, init: options.init ?? 'he', bias: options.bias ?? true })
  const { init, bias } = spec
  const name = 'dense'
  /** The shape rule: W [in, units] and b [units] for an input [in]; throws a ShapeError for any other input. */
  const shapes = (inShape: Shape): Shapes => {
    if (inShape.length !== 1) {
      // Rank 2 is most often [batch, features] given where init wants one example's shape.
      const hint =
        inShape.length === 2
          ? '(an input shape is per example, without the batch axis: [features], not [N, features]; or flatten first)'
          : '(flatten images first)'
      throw shapeMismatch(name, 'input shape', `[features] ${hint}`, inShape)
    }
    const fanIn = inShape[0]!
    if (!Number.isInteger(fanIn) || fanIn < 1)
      throw shapeMismatch(name, 'input shape', '[features] with features a positive integer', inShape)
    const why = `units ${units} on input [${fanIn}]`
    const W = { shape: [fanIn, units], why }
    return { outShape: [units], params: bias ? { W, b: { shape: [units], why: `units ${units}` } } : { W }, state: none }
  }
  return {
    name,
    spec,
    shapes,
    init: (key, inShape) => {
      shapes(inShape)
      const fanIn = inShape[0]!
      const W = initWeights(key, [fanIn, units], fanIn, units, init)
      const params: DenseParams = bias ? { W, b: T.zeros([units]) } : { W }
      return { outShape: [units], params, state: none }
    },
    forward: (p, s, x) => {
      checkInput(name, x, [p.W.shape[0]!])
      const xW = guard(name, () => T.matmul(x, p.W))
      const y = 'b' in p ? T.addRowVector(xW, p.b) : xW
      return { y, state: s, tape: { x } }
    },
    vjp: (p, { x }, dy, options) => {
      checkInput(name, dy, [units])
      const dx = wantsDx(options) ? T.matmulNT(dy, p.W) : noDx // dy · Wᵀ
      const dW = T.matmulTN(x, dy) //   xᵀ · dy
      const dp: DenseParams = 'b' in p ? { W: dW, b: T.sumAxis(0)(dy) } : { W: dW }
      return { dx, dp }
    },
  }
}

/** dense as data: `{ kind: 'dense', units, init, bias }` rebuilds `dense(units, { init, bias })`. */
export const denseKind = layerKind(DenseSpec, (s) => dense(s.units, { init: s.init, bias: s.bias }))
