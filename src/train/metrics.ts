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
 * The predicted class of each row: argmax of [N, C] scores, or for a single column (binary
 * logits) 1 where the logit is > 0.
 */
export const predictClasses = (pred: Tensor): Int32Array | undefined => {
  if (pred.shape.length !== 2) return undefined
  if (pred.shape[1] === 1) return Int32Array.from(pred.data, (v) => (v > 0 ? 1 : 0))
  return T.argmaxRows(pred)
}

/** The true class of each row: class indices [N], one-hot / probability rows [N, C], or binary [N, 1]. */
export const targetClasses = (target: Tensor): Int32Array | undefined => {
  if (target.shape.length === 1) return Int32Array.from(target.data)
  if (target.shape.length !== 2) return undefined
  if (target.shape[1] === 1) return Int32Array.from(target.data, (v) => (v >= 0.5 ? 1 : 0))
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
