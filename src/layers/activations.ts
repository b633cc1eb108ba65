/**
 * Element-wise activations. Each is y = σ(x) applied to every number, so its Jacobian is
 * diagonal and the vjp is a product: dx = dy ⊙ σ'(x). Where σ' is cheaper from y than from x
 * (sigmoid, tanh), the tape keeps y.
 */
import * as T from '../tensor/index.ts'
import type { Tensor } from '../tensor/tensor.ts'
import { define, none, type Layer, type None } from '../layer.ts'

/** dy must have x's shape (the vjp of an element-wise layer pairs them up index by index). */
const checkSame = (x: Tensor, dy: Tensor): void => {
  if (!T.sameShape(x.shape, dy.shape)) throw new T.TensorError(`dy has shape ${T.showShape(dy.shape)}, x has ${T.showShape(x.shape)}`)
}

// ReLU and leaky ReLU run on every activation of a CNN (hundreds of thousands of values per
// batch), so they are plain loops rather than T.map with a closure, which is several times slower.

/** ReLU: y = max(0, x); dx = dy where x > 0, else 0. */
export const relu: Layer<None, None, { readonly x: Tensor }> = define({
  name: 'relu',
  forward: (_p, x) => {
    const v = x.data
    const y = T.buffer(v.length)
    for (let i = 0; i < v.length; i++) y[i] = v[i]! > 0 ? v[i]! : 0
    return { y: T.fromData(x.shape, y), tape: { x } }
  },
  vjp: (_p, { x }, dy) => {
    checkSame(x, dy)
    const v = x.data
    const d = dy.data
    const dx = T.buffer(v.length)
    for (let i = 0; i < v.length; i++) dx[i] = v[i]! > 0 ? d[i]! : 0
    return { dx: T.fromData(x.shape, dx), dp: none }
  },
})

/** Leaky ReLU: y = x for x > 0, αx otherwise; dx = dy or α·dy. */
export const leakyRelu = (alpha = 0.01): Layer<None, None, { readonly x: Tensor }> => {
  if (!Number.isFinite(alpha)) throw new RangeError(`leakyRelu: alpha must be a finite number, got ${alpha}`)
  return define({
    name: 'leakyRelu',
    spec: { kind: 'leakyRelu', alpha },
    forward: (_p, x) => {
      const v = x.data
      const y = T.buffer(v.length)
      for (let i = 0; i < v.length; i++) y[i] = v[i]! > 0 ? v[i]! : alpha * v[i]!
      return { y: T.fromData(x.shape, y), tape: { x } }
    },
    vjp: (_p, { x }, dy) => {
      checkSame(x, dy)
      const v = x.data
      const d = dy.data
      const dx = T.buffer(v.length)
      for (let i = 0; i < v.length; i++) dx[i] = v[i]! > 0 ? d[i]! : alpha * d[i]!
      return { dx: T.fromData(x.shape, dx), dp: none }
    },
  })
}

/** The logistic function 1/(1+e⁻ˣ), computed without overflow for any x. */
export const logistic = (v: number): number => {
  if (v >= 0) return 1 / (1 + Math.exp(-v))
  const e = Math.exp(v)
  return e / (1 + e)
}

/** Sigmoid: y = 1/(1+e⁻ˣ); dx = dy · y(1-y). */
export const sigmoid: Layer<None, None, { readonly y: Tensor }> = define({
  name: 'sigmoid',
  forward: (_p, x) => {
    const y = T.map(logistic)(x)
    return { y, tape: { y } }
  },
  vjp: (_p, { y }, dy) => ({ dx: T.zipWith((s, d) => d * s * (1 - s), y, dy), dp: none }),
})

/** Tanh: y = tanh x; dx = dy · (1 - y²). */
export const tanh: Layer<None, None, { readonly y: Tensor }> = define({
  name: 'tanh',
  forward: (_p, x) => {
    const y = T.map(Math.tanh)(x)
    return { y, tape: { y } }
  },
  vjp: (_p, { y }, dy) => ({ dx: T.zipWith((t, d) => d * (1 - t * t), y, dy), dp: none }),
})
