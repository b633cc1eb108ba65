/**
 * dense: the fully connected layer, y = x·W + b.
 *
 *   forward   y  = x · W + b          x: [N, in]   W: [in, out]   b: [out]
 *   vjp       dx = dy · Wᵀ             (how the loss moves with each input)
 *             dW = xᵀ · dy             (each weight, summed over the batch)
 *             db = Σₙ dy[n, :]         (the bias is added to every row)
 *
 * With `activation: 'relu'`, y = relu(x · W + b), and the vjp first takes dy where y > 0 (relu's
 * vjp): the same numbers as pipe(dense, relu), bit for bit, as one layer (as conv2d's option).
 */
import * as E from 'fp-ts/lib/Either.js'
import * as Key from '../key.ts'
import * as T from '../tensor/index.ts'
import type { Shape, Tensor } from '../tensor/tensor.ts'
import { checkInput, guard, noDx, shapeMismatch, ShapeError, wantsDx, type Layer, type None } from '../layer.ts'
import { reluGrad, reluInPlace } from '../kernels/relu.ts'
import { none } from '../layer.ts'

/** Weight initialisers: the scale of W's random start, from its fan-in and fan-out. */
export type Initializer = 'he' | 'glorot' | 'lecun' | 'zeros'

/** Dense params: the weight matrix and (unless bias: false) the bias vector. */
export type DenseParams = { readonly W: Tensor; readonly b: Tensor } | { readonly W: Tensor }

/** What dense's forward keeps for its vjp: the input (dW needs it), and the output when relu was applied. */
export interface DenseTape {
  readonly x: Tensor
  readonly y?: Tensor
}

/** Options of dense. */
export interface DenseOptions {
  /** 'he' (normal, std √(2/in), for ReLU; default), 'glorot' (uniform ±√(6/(in+out))), 'lecun' (normal, std √(1/in)), 'zeros'. */
  readonly init?: Initializer
  /** Add a learned bias (default true). Biases start at zero. */
  readonly bias?: boolean
  /** 'relu': the layer's output is relu(x · W + b) (default: none). */
  readonly activation?: 'relu'
}

/** Draws W for an in×out layer. */
export const initWeights = (key: Key.Key, shape: Shape, fanIn: number, fanOut: number, init: Initializer): Tensor => {
  switch (init) {
    case 'he':
      return Key.normal(key, shape, 0, Math.sqrt(2 / fanIn))
    case 'lecun':
      return Key.normal(key, shape, 0, Math.sqrt(1 / fanIn))
    case 'glorot': {
      const a = Math.sqrt(6 / (fanIn + fanOut))
      return Key.uniform(key, shape, -a, a)
    }
    case 'zeros':
      return T.zeros(shape)
  }
}

/**
 * A fully connected layer with `units` outputs; its input is a flat [features] per example.
 * @example pipe(flatten, dense(128), relu, dense(10))
 */
export const dense = (units: number, options: DenseOptions = {}): Layer<DenseParams, None, DenseTape> => {
  const init = options.init ?? 'he'
  const bias = options.bias ?? true
  if (!Number.isInteger(units) || units < 1) throw new RangeError(`dense: units must be a positive integer, got ${units}`)
  if (!['he', 'glorot', 'lecun', 'zeros'].includes(init)) throw new RangeError(`dense: unknown init '${String(init)}'`)
  const relu = options.activation === 'relu'
  if (options.activation !== undefined && !relu) throw new RangeError(`dense: unknown activation '${String(options.activation)}' (the one fused activation is 'relu')`)
  const name = 'dense'
  return {
    name,
    spec: { kind: 'dense', units, init, bias, ...(relu ? { activation: 'relu' } : {}) },
    init: (key, inShape) => {
      if (inShape.length !== 1) {
        // Rank 2 is most often [batch, features] given where init wants one example's shape.
        const hint = inShape.length === 2 ? '(an input shape is per example, without the batch axis: [features], not [N, features]; or flatten first)' : '(flatten images first)'
        return E.left(shapeMismatch(name, 'input shape', `[features] ${hint}`, inShape))
      }
      const fanIn = inShape[0] as number
      if (!Number.isInteger(fanIn) || fanIn < 1) return E.left(shapeMismatch(name, 'input shape', '[features] with features a positive integer', inShape))
      const W = initWeights(key, [fanIn, units], fanIn, units, init)
      const params: DenseParams = bias ? { W, b: T.zeros([units]) } : { W }
      return E.right({ outShape: [units], params, state: none })
    },
    forward: (p, s, x) => {
      checkInput(name, x, [p.W.shape[0] as number])
      const xW = guard(name, () => T.matmul(x, p.W))
      const z = 'b' in p ? T.addRowVector(xW, p.b) : xW
      if (!relu) return { y: z, state: s, tape: { x } }
      const data = z.data.slice()
      reluInPlace(data)
      const y = T.fromData(z.shape, data)
      return { y, state: s, tape: { x, y } }
    },
    vjp: (p, { x, y }, dyOut, options) => {
      checkInput(name, dyOut, [units])
      if (relu && y === undefined) throw new ShapeError([name], 'the tape has no output y: the vjp of a relu dense needs the tape of its own forward pass')
      const dy = relu && y !== undefined ? T.fromData(dyOut.shape, reluGrad(dyOut.data, y.data)) : dyOut // relu's vjp first
      const dx = wantsDx(options) ? T.matmulNT(dy, p.W) : noDx // dy · Wᵀ
      const dW = T.matmulTN(x, dy) //   xᵀ · dy
      const dp: DenseParams = 'b' in p ? { W: dW, b: T.sumAxis(0)(dy) } : { W: dW }
      return { dx, dp }
    },
  }
}
