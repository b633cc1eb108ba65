/**
 * Loss laws: the gradient a loss returns is the gradient of the value it returns (central
 * differences), it has the prediction's shape, the loss averages over the batch (a batch
 * repeated twice gives the same value and half the gradient per row), and it is pure.
 */
import fc from 'fast-check'
import { Gradcheck, T, type Shape, type Tensor } from '../src/index.ts'
import type { Loss } from '../src/loss.ts'
import * as A from './arbitraries.ts'
import { close, snapshot, tensorsClose, tensorsIdentical } from './compare.ts'
import { checkLossArguments } from './options.ts'
import { runProperty, type RunOptions } from './run.ts'
import { all, fails, holds, type Verdict } from './verdict.ts'

/** A prediction and a target for a loss. */
export interface LossSample {
  readonly pred: Tensor
  readonly target: Tensor
}

/** The returned gradient equals central differences of the returned value, per coordinate. */
export const gradientMatchesValue = (loss: Loss, s: LossSample, h = 1e-6, tolerance = 1e-6): Verdict => {
  const { grad } = loss(s.pred, s.target)
  const numeric = Gradcheck.numericGradient((p) => loss(p, s.target).value, s.pred, h)
  for (let i = 0; i < numeric.data.length; i++) {
    const a = grad.data[i] as number
    const n = numeric.data[i] as number
    if (!close(a, n, tolerance))
      return fails(`d pred[${i}]: loss gives ${a.toPrecision(10)}, central differences give ${n.toPrecision(10)}`)
  }
  return holds
}

/** The value is finite and the gradient has the prediction's shape. */
export const shapesAndFinite = (loss: Loss, s: LossSample): Verdict => {
  const { value, grad } = loss(s.pred, s.target)
  return all(
    () => (Number.isFinite(value) ? holds : fails(`value is ${value}`)),
    () =>
      T.sameShape(grad.shape, s.pred.shape)
        ? holds
        : fails(`grad shape ${T.showShape(grad.shape)} vs prediction ${T.showShape(s.pred.shape)}`),
    () => (T.allFinite(grad) ? holds : fails('grad has a non-finite value')),
  )
}

/** The loss is a batch mean: the batch repeated twice gives the same value and half the gradient. */
export const averagesOverBatch = (loss: Loss, s: LossSample): Verdict => {
  const one = loss(s.pred, s.target)
  const twice = loss(T.concat(0)([s.pred, s.pred]), T.concat(0)([s.target, s.target]))
  const half = T.scale(0.5, one.grad)
  return all(
    () => (close(one.value, twice.value, 1e-12) ? holds : fails(`value ${one.value} for the batch, ${twice.value} for the batch twice`)),
    () => tensorsClose('gradient of the doubled batch vs half the gradient', twice.grad, T.concat(0)([half, half]), 1e-12),
  )
}

/** The loss leaves its inputs unchanged and gives bit-identical results when repeated. */
export const lossPurity = (loss: Loss, s: LossSample): Verdict => {
  const before = { pred: snapshot(s.pred), target: snapshot(s.target) }
  const a = loss(s.pred, s.target)
  const b = loss(s.pred, s.target)
  return all(
    () => tensorsIdentical('prediction after the loss', s.pred, before.pred),
    () => tensorsIdentical('target after the loss', s.target, before.target),
    () => (Object.is(a.value, b.value) ? holds : fails('two identical calls gave different values')),
    () => tensorsIdentical('gradients of two identical calls', a.grad, b.grad),
  )
}

/** What checkLoss needs: the prediction shape (with batch axis) and how to draw targets. */
export interface CheckLossOptions extends RunOptions {
  /** Per-example prediction shape, e.g. [classes]. */
  readonly predShape: Shape
  /** Targets for a batch of n. */
  readonly target: (n: number) => fc.Arbitrary<Tensor>
  /** Predictions for a batch shape (default: values in [-3, 3]). */
  readonly pred?: (shape: Shape) => fc.Arbitrary<Tensor>
  readonly batch?: { readonly min: number; readonly max: number }
}

/** Runs every loss law; throws on the first failure with the counterexample and replay seed. */
export const checkLoss = (loss: Loss, name: string, options: CheckLossOptions): void => {
  checkLossArguments('checkLoss', loss, name, options)
  const batch = options.batch ?? { min: 1, max: 4 }
  const pred = options.pred ?? ((shape: Shape) => A.tensor(shape, { min: -3, max: 3, awayFromZero: 0 }))
  const sample = fc
    .integer({ min: batch.min, max: batch.max })
    .chain((n) => fc.record({ pred: pred([n, ...options.predShape]), target: options.target(n) }))
  const subject = `loss "${name}"`
  runProperty('gradient = central differences of the value', subject, [sample], (s) => gradientMatchesValue(loss, s), options)
  runProperty('finite value, gradient shaped like the prediction', subject, [sample], (s) => shapesAndFinite(loss, s), options)
  runProperty('averages over the batch', subject, [sample], (s) => averagesOverBatch(loss, s), options)
  runProperty('purity and determinism', subject, [sample], (s) => lossPurity(loss, s), options)
}
