/**
 * batchNorm: normalise each feature (dense [N, F]) or channel (conv [N, C, H, W]) over the batch,
 * then scale and shift it by learned γ, β. The statistics run over the m = N (or N·H·W) values
 * of each feature.
 *
 *   train   μ = (1/m) Σ x        σ² = (1/m) Σ (x − μ)²        x̂ = (x − μ) / √(σ² + ε)
 *           y = γ x̂ + β
 *           running ← momentum · running + (1 − momentum) · (μ, σ²)       (in `state`)
 *   vjp     dβ = Σ dy      dγ = Σ dy · x̂      dx̂ = dy · γ
 *           dx = (1/√(σ² + ε)) · (dx̂ − mean(dx̂) − x̂ · mean(dx̂ · x̂))     (μ and σ² depend on x too)
 *   eval    x̂ = (x − running μ) / √(running σ² + ε): a fixed affine map, dx = dy · γ / √(σ² + ε)
 *
 * The running variance is the biased batch variance (as in Keras and Flax). `momentum` is the
 * weight of the old running value (Keras/Flax convention; PyTorch's momentum is 1 − this).
 *
 *   spec      { kind: 'batchNorm', momentum, eps }
 *
 * In float32 (x, γ, β and the running statistics all float32) every operation rounds once to
 * float32: the sums in order from 0, each product, difference and quotient, √, and momentum, 1 −
 * momentum and ε rounded once first. `fl` below is that rounding (Math.fround), and the identity in
 * float64; a store into a Float32Array rounds too.
 */
import * as T from '../tensor/index.ts'
import type { Shape, Tensor } from '../tensor/tensor.ts'
import { checkInput, checkLayerDTypes, ShapeError, type Layer } from '../layer.ts'
import type { Norm } from '../shape-type.ts'
import { PositiveNumber, UnitInterval } from '../io/codecs.ts'
import { checkSpec, layerKind, specOf } from '../io/kind.ts'
import { checkOptions } from '../options.ts'

/** Options of batchNorm. */
export interface BatchNormOptions {
  /** Weight of the old running statistics per train step, in [0, 1) (default 0.99). */
  readonly momentum?: number
  /** Added to the variance before the square root (default 1e-5). */
  readonly eps?: number
}

/** The learned scale γ and shift β, one per feature or channel. */
export type BatchNormParams = {
  readonly gamma: Tensor
  readonly beta: Tensor
}

/** Running mean and (biased) variance per feature or channel: updated in train mode, used in eval mode. */
export type BatchNormState = {
  readonly mean: Tensor
  readonly variance: Tensor
}

/** What forward keeps: x̂, 1/√(σ² + ε) per feature, and the mode (the vjp differs). */
export interface BatchNormTape {
  readonly mode: 'train' | 'eval'
  readonly xhat: Tensor
  readonly invStd: Tensor
}

/** Layout of a batch for batchNorm: N·outer groups of `inner` values for each of F features. */
interface Layout {
  readonly F: number
  /** Values per feature per example: 1 for [N, F], H·W for [N, C, H, W]. */
  readonly inner: number
  readonly N: number
}

const layoutOf = (x: Tensor): Layout => {
  const N = x.shape[0]!
  const F = x.shape[1]!
  return { N, F, inner: x.shape.length === 4 ? x.shape[2]! * x.shape[3]! : 1 }
}

/** The arithmetic of t's dtype: float32 rounds each operation once (fl = Math.fround, and a store into its buffers). */
const arithmetic = (t: Tensor): { fl: (v: number) => number; buffer: (n: number) => Float32Array | Float64Array } =>
  T.isFloat32(t) ? { fl: Math.fround, buffer: T.buffer32 } : { fl: (v) => v, buffer: T.buffer }

/** A buffer of either dtype as a tensor. */
const wrap = (shape: Shape, d: Float32Array | Float64Array): Tensor =>
  d instanceof Float32Array ? T.asTensor(T.fromData32(shape, d)) : T.fromData(shape, d)

const BatchNormSpec = specOf('batchNorm', { momentum: UnitInterval, eps: PositiveNumber })

/** The type of `batchNorm(options)`: it keeps a [features] or [channels, height, width] shape. */
export type BatchNorm = Layer<BatchNormParams, BatchNormState, BatchNormTape, Norm>

/**
 * Batch normalisation for [F] (after dense) or [C, H, W] (after conv) inputs.
 * @example pipe(conv2d(16, 3, { padding: 'same', bias: false }), batchNorm(), relu)
 */
export const batchNorm = (options: BatchNormOptions = {}): BatchNorm => {
  checkOptions('batchNorm', options, ['momentum', 'eps'])
  const spec = checkSpec(BatchNormSpec, { kind: 'batchNorm', momentum: options.momentum ?? 0.99, eps: options.eps ?? 1e-5 })
  const { momentum, eps } = spec
  const name = 'batchNorm'
  /** The number of features (channels) of a per-example input [F] or [C, H, W]; a ShapeError for any other rank. */
  const features = (inShape: Shape): number => {
    if (inShape.length !== 1 && inShape.length !== 3) {
      throw new ShapeError([name], `input shape: expected [features] or [channels, height, width], got ${T.showShape(inShape)}`)
    }
    return inShape[0]!
  }
  return {
    name,
    spec,
    shapes: (inShape) => {
      const F = features(inShape)
      const leaf = { shape: [F], why: `input ${T.showShape(inShape)}` }
      return { outShape: inShape, params: { gamma: leaf, beta: leaf }, state: { mean: leaf, variance: leaf } }
    },
    // A running variance is a mean of squares: a negative one (an edited or corrupted state) would make eval mode's √(v + ε)
    // NaN, or, above −ε, quietly wrong.
    stateProblem: (s) => {
      const v = s.variance?.data ?? []
      const i = v.findIndex((value) => value < 0)
      if (i < 0) return undefined
      return { path: `variance[${i}]`, layer: [name], value: v[i]!, why: 'a running variance is a mean of squares, never negative' }
    },
    init: (_key, inShape) => {
      const F = features(inShape)
      return {
        outShape: inShape,
        params: { gamma: T.ones([F]), beta: T.zeros([F]) },
        state: { mean: T.zeros([F]), variance: T.ones([F]) },
      }
    },
    forward: (p, s, x, ctx) => {
      for (const [what, t] of [
        ['gamma', p.gamma],
        ['beta', p.beta],
        ['running mean', s.mean],
        ['running variance', s.variance],
      ] as const)
        checkLayerDTypes(name, x, t, `x and ${what}`)
      const F = p.gamma.shape[0]!
      checkInput(name, x, x.shape.length === 2 ? [F] : [F, null, null])
      const { N, inner } = layoutOf(x)
      const m = N * inner
      const v = x.data
      const { fl, buffer } = arithmetic(x)
      const mean = buffer(F)
      const variance = buffer(F)
      if (ctx.mode === 'train') {
        // One value per feature has variance 0: every output would be beta and the running
        // variance would be pulled toward 0. PyTorch refuses this too.
        if (m < 2) {
          throw new ShapeError(
            [name],
            `train mode needs more than one value per feature to take batch statistics, got input ${T.showShape(x.shape)} (a batch of one? use batches of 2 or more, fit's dropLast, or eval mode)`,
          )
        }
        for (let n = 0; n < N; n++) {
          for (let f = 0; f < F; f++) {
            const base = (n * F + f) * inner
            for (let k = 0; k < inner; k++) mean[f] = mean[f]! + v[base + k]!
          }
        }
        for (let f = 0; f < F; f++) mean[f] = mean[f]! / m
        for (let n = 0; n < N; n++) {
          for (let f = 0; f < F; f++) {
            const base = (n * F + f) * inner
            for (let k = 0; k < inner; k++) {
              const d = fl(v[base + k]! - mean[f]!)
              variance[f] = variance[f]! + fl(d * d)
            }
          }
        }
        for (let f = 0; f < F; f++) variance[f] = variance[f]! / m
      } else {
        mean.set(s.mean.data)
        variance.set(s.variance.data)
      }
      const invStd = buffer(F)
      const epsilon = fl(eps)
      for (let f = 0; f < F; f++) invStd[f] = 1 / fl(Math.sqrt(fl(variance[f]! + epsilon)))
      const xhat = buffer(v.length)
      const y = buffer(v.length)
      const gamma = p.gamma.data
      const beta = p.beta.data
      for (let n = 0; n < N; n++) {
        for (let f = 0; f < F; f++) {
          const base = (n * F + f) * inner
          for (let k = base; k < base + inner; k++) {
            xhat[k] = fl(v[k]! - mean[f]!) * invStd[f]!
            y[k] = fl(gamma[f]! * xhat[k]!) + beta[f]!
          }
        }
      }
      const [keep, take] = [fl(momentum), fl(1 - momentum)]
      const running = (old: Tensor, batch: Float32Array | Float64Array): Tensor => {
        const out = buffer(F)
        for (let f = 0; f < F; f++) out[f] = fl(keep * old.data[f]!) + fl(take * batch[f]!)
        return wrap([F], out)
      }
      const state: BatchNormState = ctx.mode === 'train' ? { mean: running(s.mean, mean), variance: running(s.variance, variance) } : s
      return { y: wrap(x.shape, y), state, tape: { mode: ctx.mode, xhat: wrap(x.shape, xhat), invStd: wrap([F], invStd) } }
    },
    vjp: (p, { mode, xhat, invStd }, dy) => {
      const { N, F, inner } = layoutOf(xhat)
      checkInput(name, dy, xhat.shape.slice(1))
      checkLayerDTypes(name, xhat, dy, 'x and dy')
      const m = N * inner
      const g = dy.data
      const h = xhat.data
      const { fl, buffer } = arithmetic(dy)
      const dgamma = buffer(F) // Σ dy · x̂
      const dbeta = buffer(F) //  Σ dy
      for (let n = 0; n < N; n++) {
        for (let f = 0; f < F; f++) {
          const base = (n * F + f) * inner
          for (let k = base; k < base + inner; k++) {
            dbeta[f] = dbeta[f]! + g[k]!
            dgamma[f] = dgamma[f]! + fl(g[k]! * h[k]!)
          }
        }
      }
      const gamma = p.gamma.data
      const inv = invStd.data
      const dx = buffer(g.length)
      for (let n = 0; n < N; n++) {
        for (let f = 0; f < F; f++) {
          const base = (n * F + f) * inner
          const a = fl(gamma[f]! * inv[f]!)
          if (mode === 'eval') {
            for (let k = base; k < base + inner; k++) dx[k] = a * g[k]!
          } else {
            // mean(dx̂) = γ·Σdy/m and mean(dx̂·x̂) = γ·Σdy·x̂/m
            const meanDy = fl(dbeta[f]! / m)
            const meanDyXhat = fl(dgamma[f]! / m)
            for (let k = base; k < base + inner; k++) dx[k] = a * fl(fl(g[k]! - meanDy) - fl(h[k]! * meanDyXhat))
          }
        }
      }
      return { dx: wrap(xhat.shape, dx), dp: { gamma: wrap([F], dgamma), beta: wrap([F], dbeta) } }
    },
  }
}

/** batchNorm as data: `{ kind: 'batchNorm', momentum, eps }` rebuilds `batchNorm({ momentum, eps })`. */
export const batchNormKind = layerKind(BatchNormSpec, (s) => batchNorm({ momentum: s.momentum, eps: s.eps }))
