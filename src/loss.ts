/**
 * Losses: one call returns the value and its gradient with respect to the prediction, the
 * cotangent that starts backprop. Every loss averages over the batch (the first axis), so the
 * gradient of a batch of N carries a 1/N.
 *
 * dtypes: the gradient has the prediction's dtype. A target of the same shape (mse,
 * binaryCrossEntropy, probability rows) must have the prediction's dtype too, or the loss throws
 * naming both (cast it with T.cast; fit and evaluate cast each batch to the model's dtype); class
 * indices [N] may be either, being exact integers in both. On float32 predictions the values
 * stay float64 numbers: crossEntropy and binaryCrossEntropy compute theirs in float64 from the
 * float32 inputs, and their gradients round each operation once to float32.
 */
import * as T from './tensor/index.ts'
import type { DType, Tensor } from './tensor/tensor.ts'
import { logistic, logistic32 } from './layers/sigmoid.ts'

/** A loss value and ∂value/∂pred. */
export interface LossResult {
  readonly value: number
  readonly grad: Tensor
}

/** A loss: (prediction, target) → value and gradient. */
export type Loss = (pred: Tensor, target: Tensor) => LossResult

/**
 * A loss typed in dtype D: prediction, target and gradient in D. Losses are written once on `Tensor` and follow the
 * prediction's dtype at run time, so a loss's own type is float64's; `asDType(loss, dtype)` is the view to call one
 * directly on a float32 model's output, as `L.asDType` is for layers. Mixing dtypes stays an error at run time.
 */
export type LossIn<D extends DType> = (pred: Tensor<D>, target: Tensor<D>) => { readonly value: number; readonly grad: Tensor<D> }

/**
 * The loss typed in dtype `dtype` (the same function, not a copy): see LossIn.
 * @example
 * const { grad } = asDType(softmaxCrossEntropy, 'float32')(T.cast(x, 'float32'), T.cast(y, 'float32')) // grad: a Tensor32, typed so
 */
export const asDType = <D extends DType>(loss: Loss, dtype: D): LossIn<D> => {
  if (dtype !== 'float64' && dtype !== 'float32')
    throw new T.TensorError(`asDType: dtype must be 'float64' or 'float32', got ${String(dtype)}`)
  return loss as unknown as LossIn<D> // what losses do at run time: a prediction in D gives a gradient in D
}

/** Thrown for targets a loss cannot use: wrong batch size, labels out of range, non-finite values. */
export class LossError extends Error {
  override readonly name = 'LossError'
  constructor(
    message: string,
    /** The batch row of the offending target or prediction, when one row is to blame (fit maps it to its data set row). */
    readonly row?: number,
    options?: ErrorOptions,
  ) {
    super(message, options)
  }
}

/** A gradient buffer of either dtype as a tensor. */
const wrap = (shape: T.Shape, d: Float32Array | Float64Array): Tensor =>
  d instanceof Float32Array ? T.asTensor(T.fromData32(shape, d)) : T.fromData(shape, d)

const checkFinite = (where: string, what: string, t: Tensor): void => {
  const i = t.data.findIndex((v) => !Number.isFinite(v))
  if (i >= 0) throw new LossError(`${where}: ${what} has a non-finite value (${t.data[i]}) at flat index ${i}`)
}

const checkBatch = (where: string, pred: Tensor, target: Tensor): number => {
  const n = pred.shape[0]
  if (n === undefined) throw new LossError(`${where}: prediction needs a batch axis, got shape ${T.showShape(pred.shape)}`)
  if (target.shape[0] !== n) {
    throw new LossError(`${where}: batch sizes differ, prediction ${T.showShape(pred.shape)} vs target ${T.showShape(target.shape)}`)
  }
  if (n === 0) throw new LossError(`${where}: empty batch`)
  return n
}

const checkSameShape = (where: string, pred: Tensor, target: Tensor): void => {
  if (!T.sameShape(pred.shape, target.shape)) {
    throw new LossError(`${where}: target shape ${T.showShape(target.shape)} must equal prediction shape ${T.showShape(pred.shape)}`)
  }
}

/**
 * Mean squared error over all elements: L = (1/K) Σ (p - t)², ∂L/∂p = 2(p - t)/K, K = number
 * of elements (PyTorch's and Keras's convention).
 */
export const mse: Loss = (pred, target) => {
  checkBatch('mse', pred, target)
  checkSameShape('mse', pred, target)
  T.checkDTypes('mse', pred, target)
  checkFinite('mse', 'target', target)
  const k = pred.data.length
  const diff = T.sub(pred, target)
  return { value: T.dot(diff, diff) / k, grad: T.scale(2 / k, diff) }
}

/**
 * Turns a target into probability rows [N, C]: class indices [N] become one-hot rows; rows
 * [N, C] are checked (finite, non-negative, each summing to 1 within C·2⁻²⁰, room for rounding)
 * and used as given.
 */
export const targetRows = (where: string, target: Tensor, n: number, c: number): Tensor => {
  if (target.shape.length === 1) {
    const out = T.buffer(n * c)
    for (let i = 0; i < n; i++) {
      const label = target.data[i]!
      if (!Number.isInteger(label) || label < 0 || label >= c) {
        throw new LossError(`${where}: label ${label} at row ${i} is not a class index in 0..${c - 1}`, i)
      }
      out[i * c + label] = 1
    }
    return T.fromData([n, c], out)
  }
  if (target.shape.length !== 2 || target.shape[1] !== c) {
    throw new LossError(`${where}: target must be class indices [${n}] or probability rows [${n}, ${c}], got ${T.showShape(target.shape)}`)
  }
  checkFinite(where, 'target', target)
  const neg = target.data.findIndex((v) => v < 0)
  if (neg >= 0)
    throw new LossError(`${where}: target probability ${target.data[neg]} at flat index ${neg} is negative`, Math.floor(neg / c))
  for (let i = 0; i < n; i++) {
    let sum = 0
    for (let j = 0; j < c; j++) sum += target.data[i * c + j]!
    if (Math.abs(sum - 1) > c * 2 ** -20) {
      throw new LossError(
        `${where}: target row ${i} sums to ${sum}, not 1: probability rows must each sum to 1 ` +
          '(for several labels per example, use binaryCrossEntropy on one logit per label)',
        i,
      )
    }
  }
  return target
}

/**
 * Softmax cross-entropy on logits, fused and stable:
 * L = -(1/N) Σₙ Σⱼ tₙⱼ log softmax(zₙ)ⱼ, ∂L/∂z = (softmax(z) - t)/N (for rows of t summing to 1).
 * Targets are class indices [N] or probability rows [N, C].
 * @example softmaxCrossEntropy(T.tensor([[2, 0]]), T.tensor([0])).value // log(1 + e⁻²) ≈ 0.127
 */
export const softmaxCrossEntropy: Loss = (logits, target) => {
  const where = 'softmaxCrossEntropy'
  const n = checkBatch(where, logits, target)
  if (logits.shape.length !== 2) throw new LossError(`${where}: logits must be [N, classes], got ${T.showShape(logits.shape)}`)
  const c = logits.shape[1]!
  if (c < 2)
    throw new LossError(
      `${where}: logits need at least 2 classes, got shape ${T.showShape(logits.shape)} (for one output per example, use binaryCrossEntropy)`,
    )
  const t = targetRows(where, target, n, c)
  if (target.shape.length === 2) T.checkDTypes(where, logits, target)
  const z = logits.data
  const td = t.data
  // float32 logits: the same float64 arithmetic on their values, each gradient element rounded once to float32
  const grad = T.isFloat32(logits) ? T.buffer32(n * c) : T.buffer(n * c)
  let total = 0
  for (let i = 0; i < n; i++) {
    const r = i * c
    let m = -Infinity
    for (let j = 0; j < c; j++) m = Math.max(m, z[r + j]!)
    let s = 0
    for (let j = 0; j < c; j++) s += Math.exp(z[r + j]! - m)
    const logZ = m + Math.log(s) // log Σ e^z, computed without overflow
    let tsum = 0
    for (let j = 0; j < c; j++) {
      const tj = td[r + j]!
      tsum += tj
      if (tj !== 0) total -= tj * (z[r + j]! - logZ)
    }
    // ∂/∂zⱼ of -Σ tᵢ(zᵢ - logZ) = softmaxⱼ · Σᵢ tᵢ - tⱼ
    for (let j = 0; j < c; j++) grad[r + j] = (Math.exp(z[r + j]! - logZ) * tsum - td[r + j]!) / n
  }
  return {
    value: total / n,
    grad: grad instanceof Float32Array ? T.asTensor(T.fromData32(logits.shape, grad)) : T.fromData(logits.shape, grad),
  }
}

/**
 * Cross-entropy on probabilities (e.g. after a softmax layer), with p clipped below at ε so
 * log 0 never happens: L = -(1/N) Σ t log max(p, ε). Where p was clipped, its gradient is 0.
 * A p outside [0, 1] is not a probability (most often a logit: the softmax layer is missing) and
 * throws. In float32 the gradient is fl32(fl32(−t/p)/N).
 */
export const crossEntropy = (eps = 1e-12): Loss => {
  if (typeof eps === 'object')
    throw new LossError(
      'crossEntropy: given a tensor, but Loss.crossEntropy makes the loss: call it first, Loss.crossEntropy()(pred, target) ' +
        '(or Loss.crossEntropy(eps) for another clip)',
    )
  if (!(eps > 0 && eps < 1)) throw new LossError(`crossEntropy: eps must be in (0, 1), got ${eps}`)
  return (probs, target) => {
    const where = 'crossEntropy'
    const n = checkBatch(where, probs, target)
    if (probs.shape.length !== 2) throw new LossError(`${where}: probabilities must be [N, classes], got ${T.showShape(probs.shape)}`)
    checkFinite(where, 'prediction', probs)
    const c = probs.shape[1]!
    const t = targetRows(where, target, n, c)
    if (target.shape.length === 2) T.checkDTypes(where, probs, target)
    const p = probs.data
    const td = t.data
    const grad = T.isFloat32(probs) ? T.buffer32(n * c) : T.buffer(n * c) // a store into a Float32Array rounds
    const fl = T.isFloat32(probs) ? Math.fround : (v: number) => v
    let total = 0
    for (let k = 0; k < n * c; k++) {
      const pk = p[k]!
      const tk = td[k]!
      if (!(pk >= 0 && pk <= 1)) throw notProbability(pk, Math.floor(k / c), k % c)
      if (tk !== 0) total -= tk * Math.log(pk < eps ? eps : pk)
      grad[k] = pk >= eps ? fl(-tk / pk) / n : 0
    }
    return { value: total / n, grad: wrap(probs.shape, grad) }
  }
}

const notProbability = (p: number, row: number, column: number): LossError =>
  new LossError(
    `crossEntropy: prediction ${p} at row ${row}, class ${column} is not a probability in [0, 1]: ` +
      'end the network with L.softmax, or give the logits to Loss.softmaxCrossEntropy instead',
    row,
  )

/**
 * Binary cross-entropy on logits, averaged over all elements: per element
 * ℓ = log(1 + eˣ) - t·x (stable form max(x,0) - t·x + log(1 + e^-|x|)), ∂ℓ/∂x = σ(x) - t.
 * Targets in [0, 1], same shape and dtype as the logits. In float32 the gradient is
 * fl32(fl32(σ₃₂(x) − t)/K), σ₃₂ the float32 logistic of the sigmoid layer.
 */
export const binaryCrossEntropy: Loss = (logits, target) => {
  const where = 'binaryCrossEntropy'
  checkBatch(where, logits, target)
  checkSameShape(where, logits, target)
  T.checkDTypes(where, logits, target)
  checkFinite(where, 'target', target)
  const bad = target.data.findIndex((v) => v < 0 || v > 1)
  if (bad >= 0) throw new LossError(`${where}: target ${target.data[bad]} at flat index ${bad} is outside [0, 1]`)
  const k = logits.data.length
  const x = logits.data
  const t = target.data
  const x32 = T.isFloat32(logits)
  const grad = x32 ? T.buffer32(k) : T.buffer(k) // a store into a Float32Array rounds
  let total = 0
  for (let i = 0; i < k; i++) {
    const xi = x[i]!
    const ti = t[i]!
    total += Math.max(xi, 0) - ti * xi + Math.log1p(Math.exp(-Math.abs(xi)))
    grad[i] = x32 ? Math.fround(logistic32(xi) - ti) / k : (logistic(xi) - ti) / k
  }
  return { value: total / k, grad: wrap(logits.shape, grad) }
}
