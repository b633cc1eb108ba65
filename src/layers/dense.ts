/**
 * dense: the fully connected layer, y = x·W + b.
 *
 *   forward   y  = x · W + b          x: [N, in]   W: [in, out]   b: [out]
 *   vjp       dx = dy · Wᵀ             (how the loss moves with each input)
 *             dW = xᵀ · dy             (each weight, summed over the batch)
 *             db = Σₙ dy[n, :]         (the bias is added to every row)
 *
 *   spec      { kind: 'dense', units, init, bias }
 *
 * Followed by the relu layer, a pipe runs the pair as one layer (`fuseNext`): y = max(x·W + b, 0)
 * with the bias and relu applied in one pass over the fresh product, and dy·[y > 0] (y > 0 exactly
 * where x·W + b > 0) before the vjp above: the numbers of dense then relu, bit for bit (law 13).
 */
import * as T from '../tensor/index.ts'
import { dtypeOf, float32Of, type Tensor } from '../tensor/tensor.ts'
import type { Shape } from '../tensor/tensor.ts'
import { resolveKernels } from '../kernels/backend.ts'
import {
  checkDyDType,
  checkInput,
  guard,
  noDx,
  none,
  shapeMismatch,
  ShapeError,
  wantsDx,
  type AnyLayer,
  type Layer,
  type None,
  type Shapes,
} from '../layer.ts'
import { relu as reluLayer, reluOf, reluVjpOf } from './relu.ts'
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
          : inShape.length === 0
            ? '(each example is one number here, x of shape [N]: give it a features axis, [N, 1], with T.reshape([N, 1]))'
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
  /**
   * Throws a ShapeError unless p holds W [features, units], and b [units] exactly when this dense has a bias (a b missing
   * would drop it silently; one of another size would fail inside the sum, far from its cause).
   */
  const checkParams = (p: DenseParams): void => {
    if (!('W' in p)) throw new ShapeError([name], "params lack W: a dense layer's params are { W, b } ({ W } with bias: false)")
    if ('b' in p !== bias)
      throw new ShapeError(
        [name],
        bias
          ? 'params lack b: this dense was built with a bias, so its params are { W, b }'
          : 'params hold a b: this dense was built with bias: false, so its params are { W }',
      )
    T.assertTensor(p.W, name, 'param W')
    if (p.W.shape.length !== 2 || p.W.shape[1] !== units)
      throw new ShapeError(
        [name],
        `param W has shape [${p.W.shape.join(', ')}], but this dense has ${units} units: W is [features, ${units}]`,
      )
    if ('b' in p) {
      T.assertTensor(p.b, name, 'param b')
      if (p.b.shape.length !== 1 || p.b.shape[0] !== units)
        throw new ShapeError([name], `param b has shape [${p.b.shape.join(', ')}], but this dense has ${units} units: b is [${units}]`)
    }
  }
  const self: Dense<U> = {
    name,
    spec,
    shapes,
    // followed by the relu layer, a pipe runs this dense with the relu fused in (the same numbers)
    fuseNext: (next: AnyLayer) => (next === reluLayer ? withRelu : undefined),
    init: (key, inShape) => {
      shapes(inShape)
      const fanIn = inShape[0]!
      const W = initWeights(key, [fanIn, units], fanIn, units, init)
      const params: DenseParams = bias ? { W, b: T.zeros([units]) } : { W }
      return { outShape: [units], params, state: none }
    },
    forward: (p, s, x) => {
      checkParams(p)
      checkInput(name, x, [p.W.shape[0]!])
      const xW = guard(name, () => T.matmul(x, p.W))
      return { y: plusBias(xW, p, false), state: s, tape: { x } } // x·W + b
    },
    vjp: (p, { x }, dy, options) => {
      checkInput(name, dy, [units])
      checkDyDType(name, dtypeOf(x), dy)
      const dx = wantsDx(options) ? T.matmulNT(dy, p.W) : noDx // dy · Wᵀ
      const dW = T.matmulTN(x, dy) //   xᵀ · dy
      const dp: DenseParams = 'b' in p ? { W: dW, b: T.sumAxis(0)(dy) } : { W: dW }
      return { dx, dp }
    },
  }
  /** dense then relu as one layer: y = max(x·W + b, 0); the tape keeps y, whose sign is the relu's mask. */
  const withRelu: Layer<DenseParams, None, DenseReluTape> = {
    name,
    spec,
    shapes,
    init: (key, inShape) => self.init(key, inShape),
    forward: (p, s, x) => {
      checkParams(p)
      checkInput(name, x, [p.W.shape[0]!])
      const y = plusBias(
        guard(name, () => T.matmul(x, p.W)),
        p,
        true,
      ) // max(x·W + b, 0)
      return { y, state: s, tape: { x, y } }
    },
    vjp: (p, { x, y }, dy, options) => self.vjp(p, { x }, reluVjpOf(y, dy), options),
  }
  return self
}

/** What dense's forward with relu fused in keeps: the input, and the output (its vjp needs y > 0). */
interface DenseReluTape {
  readonly x: Tensor
  readonly y: Tensor
}

/**
 * xW + b (b added to every row) and, with `relu`, max(·, 0): under the 'reference' kernels
 * addRowVector then relu, one after the other; otherwise written over xW, the product the layer
 * has just made and shared with no one, in one pass: the same bits (a float32 sum rounded once as
 * it is stored) without two fresh tensors. A bias that does not fit goes to addRowVector, which
 * names the problem.
 */
const plusBias = (xW: Tensor, p: DenseParams, relu: boolean): Tensor => {
  const b = 'b' in p ? p.b : undefined
  const cols = xW.shape[xW.shape.length - 1]!
  const fits = b === undefined || (b.shape.length === 1 && b.shape[0] === cols && T.dtypeOf(b) === T.dtypeOf(xW))
  if (resolveKernels() === 'reference' || !fits) {
    const y = b === undefined ? xW : T.addRowVector(xW, b)
    return relu ? reluOf(y) : y
  }
  if (b === undefined && !relu) return xW
  const y32 = float32Of(xW)
  if (y32 !== undefined) biasRelu32(y32.data, b === undefined ? undefined : float32Of(b)!.data, cols, relu)
  else biasRelu64(xW.data, b?.data, cols, relu)
  return xW
}

const biasRelu64 = (y: Float64Array, b: Float64Array | undefined, cols: number, relu: boolean): void => {
  const n = y.length
  if (b === undefined) for (let i = 0; i < n; i++) y[i] = reluOne(y[i]!)
  else if (!relu) for (let i = 0; i < n; i += cols) for (let j = 0; j < cols; j++) y[i + j] = y[i + j]! + b[j]!
  else for (let i = 0; i < n; i += cols) for (let j = 0; j < cols; j++) y[i + j] = reluOfSum(y[i + j]! + b[j]!)
}

/**
 * As biasRelu64 on float32: the float64 sum s of two float32s, stored, is their float32 sum (one
 * rounding), and s > 0 exactly when that float32 sum is (a nonzero sum of float32s is at least
 * 2⁻¹⁴⁹ in size, so it never rounds to zero): the relu can test s before the store rounds it.
 */
const biasRelu32 = (y: Float32Array, b: Float32Array | undefined, cols: number, relu: boolean): void => {
  const n = y.length
  if (b === undefined) for (let i = 0; i < n; i++) y[i] = reluOne(y[i]!)
  else if (!relu) for (let i = 0; i < n; i += cols) for (let j = 0; j < cols; j++) y[i + j] = y[i + j]! + b[j]!
  else for (let i = 0; i < n; i += cols) for (let j = 0; j < cols; j++) y[i + j] = reluOfSum(y[i + j]! + b[j]!)
}

/** max(v, 0) as relu defines it (NaN stays NaN, −0 and −∞ give +0), without Math.max's −0 and NaN tests. */
const reluOne = (v: number): number => (v > 0 || v !== v ? v : 0)

/**
 * reluOne without a branch on v's sign (a sum's sign is random, so that branch mispredicts half
 * the time): v·[v > 0] + 0 (+ 0 turns −0 into +0; NaN·0 stays NaN), and −∞ (whose product with 0
 * is NaN) tested first, a branch that is almost never taken.
 */
const reluOfSum = (v: number): number => (v === -Infinity ? 0 : v * +(v > 0) + 0)

/** dense as data: `{ kind: 'dense', units, init, bias }` rebuilds `dense(units, { init, bias })`. */
export const denseKind = layerKind(DenseSpec, (s) => dense(s.units, { init: s.init, bias: s.bias }))
