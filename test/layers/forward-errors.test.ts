/**
 * Errors at forward name the real cause where it is: one example given without its batch axis is
 * reported at the input (not after flatten has read it as a batch), and a forward without ctx.key
 * says the key is missing and what to call instead (not a bad argument inside the PRNG); examples of
 * one number (x of shape [N]) get the fix, a features axis.
 */
import { describe, expect, test } from 'vitest'
import { Data, Key, L, Loss, Optim, T, Train } from '../../src/index.ts'
import { thrown } from '../support/thrown.ts'

const key = Key.fromSeed(3)
const eval_ = { mode: 'eval' as const, key }
describe('one example without its batch axis', () => {
  test('through flatten + dense: named at the input (pipe[0]), with the shape to give and how', () => {
    const net = L.pipe(L.flatten, L.dense(3))
    const { params, state } = L.initialize(net, key, [4])
    const e = thrown(Error, () => net.forward(params, state, T.zeros([4]), eval_))
    expect(e).toBeInstanceOf(L.ShapeError)
    expect(e.message).toBe(
      'pipe[0].flatten: the input has shape [4]: forward takes a batch [N, 4]; add a batch axis, e.g. T.reshape([1, 4])',
    )
    // The same input with its batch axis runs.
    expect(net.forward(params, state, T.zeros([1, 4]), eval_).y.shape).toEqual([1, 3])
  })

  test('a dense first layer names the missing batch axis, not a size mismatch', () => {
    const net = L.pipe(L.dense(3), L.relu)
    const { params, state } = L.initialize(net, key, [4])
    expect(thrown(Error, () => net.forward(params, state, T.zeros([4]), eval_)).message).toBe(
      'pipe[0].dense: the input has shape [4]: forward takes a batch [N, 4]; add a batch axis, e.g. T.reshape([1, 4])',
    )
  })

  test('a conv2d first layer names it too', () => {
    const net = L.pipe(L.conv2d(2, 3), L.flatten)
    const { params, state } = L.initialize(net, key, [1, 5, 5])
    expect(thrown(Error, () => net.forward(params, state, T.zeros([1, 5, 5]), eval_)).message).toMatch(
      /^pipe\[0\]\.conv2d: the input has shape \[1, 5, 5\]: forward takes a batch \[N, 1, .*; add a batch axis, e.g. T\.reshape\(\[1, 1, 5, 5\]\)$/,
    )
  })

  test('an image of 2 channels through flatten + dense: named at the input, with what dense found', () => {
    const net = L.pipe(L.flatten, L.dense(2))
    const { params, state } = L.initialize(net, key, [2, 2, 2])
    const e = thrown(Error, () => net.forward(params, state, T.zeros([2, 2, 2]), eval_))
    expect(e).toBeInstanceOf(L.ShapeError)
    expect(e.message).toBe(
      'pipe: the input has shape [2, 2, 2]: forward takes a batch [N, 2, 2, 2]; add a batch axis, e.g. T.reshape([1, 2, 2, 2]) ' +
        "(it holds one example's values, 8: pipe[1].dense got them as [2, 4], the first axis read as the batch)",
    )
    expect(net.forward(params, state, T.zeros([1, 2, 2, 2]), eval_).y.shape).toEqual([1, 2])
  })

  test('a 3-channel 28×28 image through flatten + dense, in a pipe inside a pipe: named at the outer input, with the layer that found it', () => {
    const net = L.pipe(L.relu, L.pipe(L.flatten, L.dense(10)))
    const { params, state } = L.initialize(net, key, [3, 28, 28])
    expect(thrown(Error, () => net.forward(params, state, T.zeros([3, 28, 28]), eval_)).message).toBe(
      'pipe: the input has shape [3, 28, 28]: forward takes a batch [N, 3, 28, 28]; add a batch axis, e.g. T.reshape([1, 3, 28, 28]) ' +
        "(it holds one example's values, 2352: pipe[1].pipe[1].dense got them as [3, 784], the first axis read as the batch)",
    )
  })

  test('a first layer that finds one example cut another way says so itself (it is at the input already)', () => {
    const net = L.pipe(L.dense(2))
    const { params, state } = L.initialize(net, key, [8])
    expect(thrown(Error, () => net.forward(params, state, T.zeros([2, 4]), eval_)).message).toMatch(
      /^pipe\[0\]\.dense: input shape: expected \[N, 8\], got \[2, 4\], which holds one example's values \(8\)/,
    )
  })

  test('a wrong size with the batch axis present is still a plain mismatch', () => {
    const net = L.pipe(L.dense(3))
    const { params, state } = L.initialize(net, key, [4])
    expect(thrown(Error, () => net.forward(params, state, T.zeros([2, 5]), eval_)).message).toBe(
      'pipe[0].dense: input shape: expected [N, 4], got [2, 5]',
    )
  })

  test('flatten refuses a per-example shape with no axis at init', () => {
    // @ts-expect-error the compile-time shape rule rejects this too (test/types); here the run-time check is under test
    expect(thrown(Error, () => L.initialize(L.flatten, key, [])).message).toBe(
      'flatten: input shape: expected at least one axis per example, got []',
    )
  })
})

describe('a forward without ctx.key', () => {
  // What a JavaScript caller (or a cast) can pass: a ctx without its key.
  const noKey = (mode: 'train' | 'eval'): L.Ctx => JSON.parse(JSON.stringify({ mode }))

  test('eval mode through a pipe: says the key is missing and what to call instead', () => {
    const net = L.pipe(L.dense(3), L.relu)
    const { params, state } = L.initialize(net, key, [4])
    const e = thrown(Error, () => net.forward(params, state, T.zeros([2, 4]), noKey('eval')))
    expect(e).toBeInstanceOf(Key.KeyError)
    expect(e.message).toMatch(/^pipe: ctx\.key is missing: /)
    expect(e.message).toContain('Train.predict(model, params, state, x)')
    expect(e.message).toContain("{ mode: 'eval', key }")
    expect(e.message).not.toMatch(/split/)
  })

  test('train mode through dropout alone: the same, naming dropout', () => {
    const drop = L.dropout({ dropProb: 0.5 })
    const e = thrown(Error, () => drop.forward(L.none, L.none, T.ones([2, 3]), noKey('train')))
    expect(e).toBeInstanceOf(Key.KeyError)
    expect(e.message).toMatch(/^dropout: ctx\.key is missing: .*Train\.predict/)
  })

  test('branches: the same, naming branches', () => {
    const net = L.branches('concat', L.dense(2), L.dense(3))
    const { params, state } = L.initialize(net, key, [4])
    expect(thrown(Error, () => net.forward(params, state, T.zeros([1, 4]), noKey('eval'))).message).toMatch(
      /^branches: ctx\.key is missing: /,
    )
  })

  test('a key that is not a Key is named as ctx.key', () => {
    const net = L.pipe(L.dense(3))
    const { params, state } = L.initialize(net, key, [4])
    const bad: L.Ctx = JSON.parse('{ "mode": "eval", "key": 7 }')
    expect(thrown(Error, () => net.forward(params, state, T.zeros([1, 4]), bad)).message).toMatch(/^pipe: ctx\.key: expected a Key/)
  })
})

describe('a layer that leaves its input dtype is named where it does so', () => {
  type ScaleParams = { readonly w: T.Tensor }
  /** The documented layers written with float64-only constructors (T.generate, T.scalar): each leaves float32 once. */
  const outIn64 = L.define({
    name: 'outIn64',
    forward: (_p, x) => ({ y: T.generate(x.shape, (i) => x.data[i]!), tape: null }),
    vjp: (_p, _t, dy) => ({ dx: dy, dp: L.none }),
  })
  const dxIn64 = L.define({
    name: 'dxIn64',
    forward: (_p, x) => ({ y: T.scale(2, x), tape: null }),
    vjp: (_p, _t, dy) => ({ dx: T.generate(dy.shape, (i) => 2 * dy.data[i]!), dp: L.none }),
  })
  const dpIn64 = L.define({
    name: 'dpIn64',
    init: (_k, inShape) => ({ outShape: inShape, params: { w: T.scalar(2) } }),
    forward: ({ w }: ScaleParams, x) => ({ y: T.scale(w.data[0]!, x), tape: x }),
    vjp: ({ w }: ScaleParams, x, dy) => ({ dx: T.scale(w.data[0]!, dy), dp: { w: T.scalar(T.dot(x, dy)) } }),
  })
  const run32 = (layer: L.AnyLayer): Error => {
    const net = L.pipe(L.dense(3), layer, L.dense(2))
    const { params, state } = L.initialize(net, key, [2], { dtype: 'float32' })
    const f = L.asDType(net, 'float32')
    return thrown(Error, () => {
      const { tape } = f.forward(params, state, T.cast(T.ones([2, 2]), 'float32'), eval_)
      f.vjp(params, tape, T.cast(T.ones([2, 2]), 'float32'))
    })
  }
  const KEEP = "a layer keeps its input's dtype: build its results with T's operations (T.fullLike for a number)"

  test.each([
    [outIn64, `pipe[1].outIn64: its forward gave a float64 y for a float32 input; ${KEEP}`],
    [dxIn64, `pipe[1].dxIn64: its vjp gave a float64 dx for a float32 dy; ${KEEP}`],
    [dpIn64, `pipe[1].dpIn64: its vjp gave dp at w in float64 for a float32 dy; ${KEEP}`],
  ] as const)('%#: the pipe names the child and what it returned, a DTypeError (no shape problem) with the path', (layer, message) => {
    const e = run32(layer)
    expect(e).toBeInstanceOf(T.DTypeError)
    expect(e).not.toBeInstanceOf(L.ShapeError)
    expect(e.message).toBe(message)
    expect((e as T.DTypeError).path).toEqual(['pipe[1]', layer.name])
  })

  test('residual and branches name a body or branch that leaves the dtype, as pipe does', () => {
    expect(run32(L.residual(outIn64)).message).toBe(`pipe[1].residual.outIn64: its forward gave a float64 y for a float32 input; ${KEEP}`)
    expect(run32(L.branches('sum', L.identity, dxIn64)).message).toMatch(
      /^pipe\[1\]\.branches\[1\]\.dxIn64: its vjp gave a float64 dx for a float32 dy; /,
    )
  })

  test('T.fullLike gives a scalar gradient in its param’s dtype: the same layer with it runs in float32', () => {
    const scale = L.define({
      name: 'scale',
      init: (_k, inShape) => ({ outShape: inShape, params: { w: T.scalar(2) } }),
      forward: ({ w }: ScaleParams, x) => ({ y: T.scale(w.data[0]!, x), tape: x }),
      vjp: ({ w }: ScaleParams, x, dy) => ({ dx: T.scale(w.data[0]!, dy), dp: { w: T.fullLike(w, T.dot(x, dy)) } }),
    })
    expect(() => run32(scale)).toThrow('but nothing was thrown') // it runs: no error to return
  })
})

describe('examples of one number (x of shape [N])', () => {
  test('fit on 1-D x: dense says each example is one number and how to add the features axis', () => {
    const run = () =>
      Train.fit({
        model: L.pipe(L.dense(4), L.relu, L.dense(3)),
        loss: Loss.softmaxCrossEntropy,
        optimizer: Optim.sgd({ lr: 0.1 }),
        data: Data.make(T.tensor([1, 2, 3, 4]), T.tensor([0, 1, 2, 0])),
        epochs: 1,
        batchSize: 2,
        key: Key.fromSeed(0),
      })
    expect(run).toThrow(
      'pipe[0].dense: input shape: expected [features] (each example is one number here, x of shape [N]: give it a features axis, [N, 1], with T.reshape([N, 1])), got []',
    )
  })
})

describe("dense's params must match its bias setting", () => {
  test('a biased dense given { W } refuses (it used to run without the bias); bias: false given a b likewise', () => {
    const d = L.dense(2)
    const { params } = L.initialize(d, key, [3])
    expect(() => d.forward({ W: params.W }, [], T.zeros([1, 3]), eval_)).toThrow(
      new L.ShapeError(['dense'], 'params lack b: this dense was built with a bias, so its params are { W, b }'),
    )
    const m = L.pipe(L.dense(2, { bias: false }), L.relu)
    const p = L.initialize(m, key, [3]).params
    expect(() => m.forward([{ ...p[0], b: T.zeros([2]) }, p[1]], [[], []], T.zeros([1, 3]), eval_)).toThrow(
      'pipe[0].dense: params hold a b: this dense was built with bias: false, so its params are { W }',
    )
  })
})
