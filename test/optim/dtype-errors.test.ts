/**
 * An optimizer given a gradient in another dtype than its param names the param by its path and both dtypes, under
 * every alias, in the readable chain and in the fused pass; a bare custom layer whose vjp leaves float32 (no pipe
 * around it to stop it earlier) reaches the optimizer with such a gradient.
 */
import { describe, expect, test } from 'vitest'
import { Key, Kernels, L, Loss, Optim, T, Train } from '../../src/index.ts'

const f32 = (values: number[]) => T.asTensor(T.cast(T.tensor(values), 'float32'))

const aliases: [string, () => Optim.GradientTransformation][] = [
  ['sgd', () => Optim.sgd({ lr: 0.1 })],
  ['sgd', () => Optim.sgd({ lr: 0.1, momentum: 0.9, nesterov: true })],
  ['adam', () => Optim.adam({ lr: 0.01 })],
  ['adamw', () => Optim.adamw({ lr: 0.01 })],
  ['nadam', () => Optim.nadam({ lr: 0.01 })],
  ['amsgrad', () => Optim.amsgrad({ lr: 0.01 })],
  ['adamax', () => Optim.adamax({ lr: 0.01 })],
  ['rmsprop', () => Optim.rmsprop({ lr: 0.01, momentum: 0.5 })],
  ['adagrad', () => Optim.adagrad({ lr: 0.1 })],
]

describe('a gradient in another dtype than its param', () => {
  // float32 params of a two-layer model; the gradient of the second layer's bias is float64
  const params = [{ W: f32([1, 2]), b: f32([0]) }, [], { W: f32([3, 4]), b: f32([0, 1]) }]
  const grads = [{ W: f32([1, 1]), b: f32([1]) }, [], { W: f32([1, 1]), b: T.tensor([1, 1]) }]

  test.each(aliases)('%s: a DTypeError naming params[2].b and both dtypes, in the chain and in the fused pass', (name, make) => {
    const opt = make()
    for (const family of ['reference', 'js', 'fast'] as const) {
      for (const run of [
        () => opt.update(grads, opt.init(params), params),
        () => Optim.updateAndApply(opt, grads, opt.init(params), params),
      ]) {
        const step = () => Kernels.using(family, run)
        expect(step).toThrow(T.DTypeError)
        const at = `^${name}\\.(update|updateAndApply): dtypes differ at params\\[2\\]\\.b: `
        expect(step).toThrow(new RegExp(`${at}the gradient is float64 \\[2\\], the param float32 \\[2\\] \\(`))
      }
    }
  })

  test('a chain built by hand names the param too', () => {
    const opt = Optim.chain(Optim.traceMomentum({ decay: 0.9 }), Optim.scaleByLearningRate(0.1))
    expect(() => opt.update(grads, opt.init(params), params)).toThrow(/^chain\.update: dtypes differ at params\[2\]\.b: /)
  })

  test('a bare tensor as the params is named params', () => {
    const opt = Optim.sgd({ lr: 0.1 })
    const p = f32([1, 2])
    expect(() => opt.update(T.tensor([1, 1]), opt.init(p), p)).toThrow(
      /^sgd\.update: dtypes differ at params: the gradient is float64 \[2\], the param float32 \[2\] /,
    )
  })

  test('gradients in their params’ dtype pass, in both dtypes', () => {
    const opt = Optim.adam({ lr: 0.01 })
    expect(() => opt.update(params, opt.init(params), params)).not.toThrow()
    const p64 = { W: T.tensor([1, 2]) }
    expect(() => opt.update(p64, opt.init(p64), p64)).not.toThrow()
  })
})

describe('a bare custom layer whose vjp gives a float64 gradient for float32 params', () => {
  type ScaleParams = { readonly w: T.Tensor }
  const scale = L.define({
    name: 'scale',
    init: (_key, inShape) => ({ outShape: inShape, params: { w: T.scalar(2) } }),
    forward: ({ w }: ScaleParams, x) => ({ y: T.scale(w.data[0]!, x), tape: x }),
    vjp: ({ w }: ScaleParams, x, dy) => ({ dx: T.scale(w.data[0]!, dy), dp: { w: T.scalar(T.dot(x, dy)) } }), // T.scalar: float64
  })

  test.each(aliases)('%s in trainStep: the optimizer names params.w and both dtypes', (name, make) => {
    const opt = make()
    const ts = Train.initState(scale, opt, Key.fromSeed(0), [2], { dtype: 'float32' })
    const batch = { x: T.ones([3, 2]), y: T.zeros([3, 2]) }
    const step = () => Train.trainStep(scale, Loss.mse, opt)(ts, batch)
    expect(step).toThrow(T.DTypeError)
    expect(step).toThrow(
      new RegExp(`^${name}\\.updateAndApply: dtypes differ at params\\.w: the gradient is float64 \\[\\], the param float32 \\[\\] \\(`),
    )
  })

  test('with T.fullLike the gradient follows the param and the step runs', () => {
    const fixed = L.define({
      name: 'scale',
      init: (_key, inShape) => ({ outShape: inShape, params: { w: T.scalar(2) } }),
      forward: ({ w }: ScaleParams, x) => ({ y: T.scale(w.data[0]!, x), tape: x }),
      vjp: ({ w }: ScaleParams, x, dy) => ({ dx: T.scale(w.data[0]!, dy), dp: { w: T.fullLike(w, T.dot(x, dy)) } }),
    })
    const opt = Optim.sgd({ lr: 0.1 })
    const ts = Train.initState(fixed, opt, Key.fromSeed(0), [2], { dtype: 'float32' })
    const [next] = Train.trainStep(fixed, Loss.mse, opt)(ts, { x: T.ones([3, 2]), y: T.zeros([3, 2]) })
    expect(T.dtypeOf(next.params.w)).toBe('float32')
  })
})
