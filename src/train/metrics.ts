/** Metrics of a batch: the loss, and for classifiers the accuracy. */
import * as T from '../tensor/index.ts'
import type { Tensor } from '../tensor/tensor.ts'

/** What one step or one evaluation reports. */
export interface Metrics {
  readonly loss: number
  /** Fraction of examples classified correctly, when the task is classification (else undefined). */
  readonly accuracy: number | undefined
  /** Number of examples these metrics are over. */
  readonly count: number
}

/**
 * The predicted class of each row: argmax of [N, C] scores, or for a single column 1 where the
 * value is > 0 (a binary logit, as binaryCrossEntropy takes; after a sigmoid, compare with 0.5 yourself).
 */
export const predictClasses = (pred: Tensor): Int32Array | undefined => {
  if (pred.shape.length !== 2) return undefined
  if (pred.shape[1] === 1) return Int32Array.from(pred.data, (v) => (v > 0 ? 1 : 0))
  return T.argmaxRows(pred)
}

/**
 * The true class of each row, when the targets are classification targets: class indices [N]
 * (non-negative integers), probability rows [N, C] (non-negative, each summing to 1), or binary
 * targets [N, 1] in [0, 1] (class 1 from 0.5). Anything else (regression targets) gives undefined,
 * so no accuracy is reported for it.
 */
export const targetClasses = (target: Tensor): Int32Array | undefined => {
  const v = target.data
  if (target.shape.length === 1) return v.every((c) => Number.isInteger(c) && c >= 0) ? Int32Array.from(v) : undefined
  if (target.shape.length !== 2) return undefined
  const c = target.shape[1]!
  if (c === 1) return v.every((t) => t >= 0 && t <= 1) ? Int32Array.from(v, (t) => (t >= 0.5 ? 1 : 0)) : undefined
  for (let r = 0; r < v.length; r += c) {
    let sum = 0
    for (let j = 0; j < c; j++) {
      const t = v[r + j]!
      if (!(t >= 0)) return undefined
      sum += t
    }
    if (Math.abs(sum - 1) > 1e-6) return undefined
  }
  return T.argmaxRows(target)
}

/** Number of rows whose predicted class equals the true class, or undefined when not a classification. */
export const correctCount = (pred: Tensor, target: Tensor): number | undefined => {
  const p = predictClasses(pred)
  const t = targetClasses(target)
  if (p === undefined || t === undefined || p.length !== t.length) return undefined
  let c = 0
  for (let i = 0; i < p.length; i++) if (p[i] === t[i]) c++
  return c
}
