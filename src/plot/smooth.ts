/**
 * Smoothing for noisy per-step curves: the exponential moving average TensorBoard draws, with
 * its start-up bias removed.
 *
 *   m₀ = 0,   mₜ = α·mₜ₋₁ + (1 − α)·vₜ,   smoothedₜ = mₜ / (1 − αᵗ)
 *
 * Without the division the curve would start near 0 (m₀ = 0 pulls the first values down); with
 * it, smoothed₁ = v₁ and every value is a weighted mean of the values so far.
 */
import { PlotError } from './spec.ts'

/**
 * The debiased exponential moving average of a series; `smoothing` is α in [0, 1) (0: no
 * smoothing; 0.9 averages over roughly the last 10 values).
 * @example ema([1, 0, 0], 0.5) // [1, 1/3, 1/7]
 */
export const ema = (values: readonly number[], smoothing: number): number[] => {
  if (!(smoothing >= 0 && smoothing < 1)) throw new PlotError(`ema: smoothing must be in [0, 1), got ${smoothing}`)
  const out: number[] = []
  let m = 0
  let weight = 1 // αᵗ
  for (const v of values) {
    m = smoothing * m + (1 - smoothing) * v
    weight *= smoothing
    out.push(m / (1 - weight))
  }
  return out
}

/**
 * A smoothing factor for n points that averages over about n / 50 of them (at least 1): light
 * for a short run, heavier for a long one, so the trend shows at any length.
 * @example defaultSmoothing(5000) // 0.99 (a window of ~100 steps)
 */
export const defaultSmoothing = (n: number): number => 1 - 1 / Math.max(1, Math.round(n / 50))
