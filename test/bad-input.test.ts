/**
 * The bad-input catalogue: the ways of calling chainrule wrongly, each with
 * the error it gets. Every error is a typed class (or a tagged Either left) whose message says
 * what was wrong and where.
 */
import * as E from 'fp-ts/Either'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, test } from 'vitest'
import { Data, Gradcheck, Key, L, Loss, Optim, Schedule, T, Train, Tree } from '../src/index.ts'
import * as IO from '../src/io/index.ts'
import { checkLayer } from '../laws/index.ts'
import { thrown } from './support/thrown.ts'

const xor = Data.xor(Key.fromSeed(0), 40)
const mlp = L.pipe(L.dense(4), L.relu, L.dense(2))
const fitOptions = {
  model: mlp,
  loss: Loss.softmaxCrossEntropy,
  optimizer: Optim.sgd({ lr: 0.1 }),
  data: xor,
  epochs: 1,
  batchSize: 8,
  key: Key.fromSeed(1),
}

describe('input shape wrong for the network', () => {
  const p = L.initialize(mlp, Key.fromSeed(0), [2])
  const ctx = { mode: 'eval' as const, key: Key.fromSeed(0) }
  test('forward with the wrong number of features: ShapeError naming the layer path and both shapes', () => {
    const e = thrown(L.ShapeError, () => mlp.forward(p.params, p.state, T.zeros([5, 3]), ctx))
    expect(e.message).toBe('pipe[0].dense: input shape: expected [N, 2], got [5, 3]')
    expect(e.path).toEqual(['pipe[0]', 'dense'])
  })
  test('an image given to a dense layer without flatten: init fails with the layer path', () => {
    // @ts-expect-error the compile-time shape rule rejects this too (test/types); here the run-time check is under test
    const e = thrown(L.ShapeError, () => L.initialize(L.pipe(L.dense(4)), Key.fromSeed(0), [1, 28, 28]))
    expect(e.message).toBe('pipe[0].dense: input shape: expected [features] (flatten images first), got [1, 28, 28]')
  })
  test('a batch shape given to init (the batch axis included): the hint says input shapes are per example', () => {
    // @ts-expect-error the compile-time shape rule rejects this too (test/types); here the run-time check is under test
    const e = thrown(L.ShapeError, () => L.initialize(L.pipe(L.dense(4)), Key.fromSeed(0), [32, 2]))
    expect(e.message).toBe(
      'pipe[0].dense: input shape: expected [features] (an input shape is per example, without the batch axis: [features], not [N, features]; or flatten first), got [32, 2]',
    )
  })
  test('a dataset built by hand with x and y of different lengths: fit says so before training', () => {
    const data = { x: T.zeros([10, 2]), y: T.zeros([9]) }
    const e = thrown(Data.DataError, () =>
      Train.fit({
        model: mlp,
        loss: Loss.softmaxCrossEntropy,
        optimizer: Optim.sgd({ lr: 0.1 }),
        data,
        epochs: 1,
        batchSize: 4,
        key: Key.fromSeed(0),
      }),
    )
    expect(e.message).toBe('fit: data.x has 10 rows (shape [10, 2]) but data.y has 9 (shape [9]); they must match')
  })
  test('a flat vector given to a conv layer: the ShapeError names the conv layer', () => {
    // @ts-expect-error the compile-time shape rule rejects this too (test/types); here the run-time check is under test
    const e = thrown(L.ShapeError, () => L.initialize(L.pipe(L.conv2d(2, 3)), Key.fromSeed(0), [784]))
    expect(e.message).toMatch(/^pipe\[0\]\.conv2d: input shape: expected \[channels, height, width\], got \[784\]/)
  })
  test('a loaded model predicting on the wrong shape', () => {
    const ck = IO.parseCheckpoint(IO.encodeCheckpoint(IO.modelCheckpoint(mlp, [2], p.params, p.state)))
    if (E.isLeft(ck)) throw ck.left
    expect(() => Train.predict(ck.right.model, ck.right.params, ck.right.state, T.zeros([3, 5]))).toThrow(
      'pipe[0].dense: input shape: expected [N, 2], got [3, 5]',
    )
  })
})

describe('two dtypes mixed inside a layer: a DTypeError with the layer path, not a ShapeError', () => {
  const ctx = { mode: 'eval' as const, key: Key.fromSeed(0) }
  const x32 = T.cast(T.ones([4, 2]), 'float32')
  /** A custom layer adding a float64 tensor (T.generate makes float64) to its input: a dtype mix in a float32 model. */
  const bad = L.define({
    name: 'bad',
    forward: (_p, x) => ({
      y: T.add(
        x,
        T.generate(x.shape, () => 1),
      ),
      tape: null,
    }),
    vjp: (_p, _tape, dy) => ({ dx: dy, dp: L.none }),
  })
  const forward32 = (net: L.AnyLayer, inShape: number[]) => {
    const { params, state } = L.initialize(net, Key.fromSeed(0), inShape, { dtype: 'float32' })
    return () => L.asDType(net, 'float32').forward(params, state, x32, ctx)
  }
  const ADD = "add: dtypes differ, float32 [4, 3] vs float64 [4, 3] (cast one with T.cast(t, 'float32') or T.cast(t, 'float64'))"

  test('in a float32 pipe: pipe[2].bad names the layer, the op and both dtypes', () => {
    const e = thrown(T.DTypeError, forward32(L.pipe(L.dense(3), L.relu, bad), [2]))
    expect(e).not.toBeInstanceOf(L.ShapeError)
    expect(e).toBeInstanceOf(T.TensorError)
    expect(e.message).toBe(`pipe[2].bad: ${ADD}`)
    expect(e.path).toEqual(['pipe[2]', 'bad'])
    expect(e.detail).toBe(ADD)
  })
  test('the path runs the whole way down, through a residual; a bare layer names itself', () => {
    const e = thrown(T.DTypeError, forward32(L.pipe(L.dense(2), L.residual(bad)), [2]))
    expect(e.path).toEqual(['pipe[1]', 'residual', 'bad'])
    expect(e.message).toMatch(/^pipe\[1\]\.residual\.bad: add: dtypes differ, float32 \[4, 2\] vs float64 \[4, 2\] /)
    expect(thrown(T.DTypeError, () => bad.forward([], [], T.asTensor(x32), ctx)).message).toMatch(/^bad: add: dtypes differ, /)
  })
  test('a vjp given a dy of another dtype than its input: a DTypeError naming the layer', () => {
    const net: L.AnyLayer = L.pipe(L.dense(3), L.tanh)
    const { params, state } = L.initialize(net, Key.fromSeed(0), [2], { dtype: 'float32' })
    const { tape } = net.forward(params, state, T.asTensor(x32), ctx)
    const e = thrown(T.DTypeError, () => net.vjp(params, tape, T.ones([4, 3])))
    expect(e.message).toBe(
      "pipe[1].tanh: dtypes differ, float32 [4, 3] vs float64 [4, 3] (cast one with T.cast(t, 'float32') or T.cast(t, 'float64'))",
    )
    expect(e.path).toEqual(['pipe[1]', 'tanh'])
  })
  test('a float64 dy given to a float32 dense: named as dense, with the input dtype (not an inner matmulNT)', () => {
    const net: L.AnyLayer = L.pipe(L.dense(3), L.relu, L.dense(2))
    const { params, state } = L.initialize(net, Key.fromSeed(0), [2], { dtype: 'float32' })
    const { tape } = net.forward(params, state, T.asTensor(x32), ctx)
    const e = thrown(T.DTypeError, () => net.vjp(params, tape, T.ones([4, 2])))
    expect(e.message).toBe(
      "pipe[2].dense: dtypes differ, the input was float32 but dy is float64 [4, 2] (cast one with T.cast(t, 'float32') or T.cast(t, 'float64'))",
    )
    expect(e.path).toEqual(['pipe[2]', 'dense'])
  })
  test('a shape problem inside a custom layer stays a ShapeError', () => {
    const perRow8 = L.define({
      name: 'perRow8',
      forward: (_p, x) => ({ y: T.add(x, T.zeros([8, 2])), tape: null }),
      vjp: (_p, _tape, dy) => ({ dx: dy, dp: L.none }),
    })
    const net = L.pipe(L.dense(2), perRow8)
    const { params, state } = L.initialize(net, Key.fromSeed(0), [2])
    const e = thrown(L.ShapeError, () => net.forward(params, state, T.ones([4, 2]), ctx))
    expect(e).not.toBeInstanceOf(T.TensorError)
    expect(e.message).toBe('pipe[1].perRow8: add: shapes differ, [4, 2] vs [8, 2]')
  })
  test('a bad dtype name is a DTypeError', () => {
    const loose = T.cast as (t: T.Tensor, to: string) => T.Tensor // plain JavaScript's view
    const e = thrown(T.DTypeError, () => loose(T.ones([1]), 'float16'))
    expect(e.message).toBe("cast: dtype must be 'float64' or 'float32', got float16")
  })
})

describe('a layer error names the path and the layer once, in forward and vjp, fused or not', () => {
  const ctx = { mode: 'train' as const, key: Key.fromSeed(0) }
  /** The error of net's vjp given a float32 dy after a float64 forward pass on x. */
  const vjpWithDy32 = (net: L.AnyLayer, inShape: number[]) => {
    const { params, state } = L.initialize(net, Key.fromSeed(0), inShape)
    const x = T.generate([4, ...inShape], (i) => Math.sin(i + 1))
    const { y, tape } = net.forward(params, state, x, ctx)
    return thrown(T.DTypeError, () => net.vjp(params, tape, T.asTensor(T.cast(T.ones(y.shape), 'float32'))))
  }
  const leaves: readonly [string, L.AnyLayer, number[]][] = [
    ['relu', L.relu, [3]],
    ['tanh', L.tanh, [3]],
    ['sigmoid', L.sigmoid, [3]],
    ['softmax', L.softmax, [3]],
    ['leakyRelu', L.leakyRelu(), [3]],
    ['elu', L.elu(), [3]],
    ['dense', L.dense(3), [2]],
    ['batchNorm', L.batchNorm(), [3]],
    ['conv2d', L.conv2d(2, 3), [1, 4, 4]],
    ['flatten', L.flatten, [2, 2]],
    ['reshape', L.reshape([4]), [2, 2]],
    ['maxPool2d', L.maxPool2d(2), [1, 4, 4]],
    ['avgPool2d', L.avgPool2d(2), [1, 4, 4]],
    ['globalAvgPool', L.globalAvgPool, [1, 4, 4]],
    ['dropout', L.dropout({ dropProb: 0.5 }), [3]],
  ]
  test.each(leaves)('%s: a vjp given a dy of another dtype names it once, bare and in a pipe, in .path', (name, layer, inShape) => {
    const bare = vjpWithDy32(layer, inShape)
    expect(bare.path).toEqual([name])
    expect(bare.message.startsWith(`${name}: `)).toBe(true)
    expect(bare.detail).not.toContain(`${name}:`)
    const piped = vjpWithDy32(L.pipe(L.identity, layer), inShape)
    expect(piped.path).toEqual(['pipe[1]', name])
    expect(piped.message).toBe(`pipe[1].${name}: ${bare.detail}`)
  })
  test('a bare relu: "relu: dtypes differ, ...", not "relu: relu: ..."', () => {
    const e = vjpWithDy32(L.relu, [3])
    expect(e.message).toBe(
      "relu: dtypes differ, float64 [4, 3] vs float32 [4, 3] (cast one with T.cast(t, 'float64') or T.cast(t, 'float32'))",
    )
  })
  test('dense then relu, which a pipe fuses: the vjp names pipe[0].dense, as a dense alone does', () => {
    const fused = vjpWithDy32(L.pipe(L.dense(3), L.relu), [2])
    expect(fused.path).toEqual(['pipe[0]', 'dense'])
    expect(fused.message).toMatch(/^pipe\[0\]\.dense: dtypes differ, float64 \[4, 3\] vs float32 \[4, 3\] /)
  })
  test('conv2d then relu, fused: forward and vjp name pipe[0].conv2d', () => {
    const net = L.pipe(L.conv2d(2, 3), L.relu)
    expect(vjpWithDy32(net, [1, 4, 4]).path).toEqual(['pipe[0]', 'conv2d'])
    const { params, state } = L.initialize(net, Key.fromSeed(0), [1, 4, 4])
    const e = thrown(T.DTypeError, () => net.forward(params, state, T.asTensor(T.cast(T.ones([2, 1, 4, 4]), 'float32')), ctx))
    expect(e.path).toEqual(['pipe[0]', 'conv2d'])
    expect(e.message).toMatch(/^pipe\[0\]\.conv2d: dtypes differ, float32 \[2, 1, 4, 4\] vs float64 \[2, 1, 3, 3\] /)
  })
  test('forward given params of another dtype: batchNorm names itself in .path, and says which tensors', () => {
    const net = L.pipe(L.identity, L.batchNorm())
    const { params, state } = L.initialize(net, Key.fromSeed(0), [3])
    const e = thrown(T.DTypeError, () => net.forward(params, state, T.asTensor(T.cast(T.ones([4, 3]), 'float32')), ctx))
    expect(e.path).toEqual(['pipe[1]', 'batchNorm'])
    expect(e.message).toMatch(/^pipe\[1\]\.batchNorm: x and gamma: dtypes differ, float32 \[4, 3\] vs float64 \[3\] /)
  })
  test('a bias of the wrong size, fused with relu or not: a ShapeError naming pipe[0].dense', () => {
    for (const next of [L.relu, L.sigmoid]) {
      const net = L.pipe(L.dense(3), next)
      const { params, state } = L.initialize(net, Key.fromSeed(0), [2])
      const bad = [{ W: params[0].W, b: T.zeros([5]) }, params[1]] as const
      const e = thrown(L.ShapeError, () => net.forward(bad, state, T.ones([4, 2]), ctx))
      expect(e.path).toEqual(['pipe[0]', 'dense'])
      expect(e.message).toBe('pipe[0].dense: param b has shape [5], but this dense has 3 units: b is [3]')
    }
  })
  test('a bare dense given a W or b of another size, or not a tensor, names itself and the param', () => {
    const d = L.dense(3)
    const { params, state } = L.initialize(d, Key.fromSeed(0), [2])
    const forward = (p: object) => () => d.forward(p as typeof params, state, T.ones([4, 2]), ctx)
    expect(thrown(L.ShapeError, forward({ W: params.W, b: T.zeros([5]) })).message).toBe(
      'dense: param b has shape [5], but this dense has 3 units: b is [3]',
    )
    expect(thrown(L.ShapeError, forward({ W: T.zeros([2, 4]), b: T.zeros([3]) })).message).toBe(
      'dense: param W has shape [2, 4], but this dense has 3 units: W is [features, 3]',
    )
    expect(thrown(T.NotATensorError, forward({ W: params.W, b: 3 })).message).toMatch(/^dense: its param b is a number \(3\), not a tensor/)
  })
  test('a layer record of one’s own whose op fails unnamed is named by the pipe around it', () => {
    const raw: L.Layer<L.None, L.None, null> = {
      name: 'raw',
      spec: { kind: 'raw' },
      init: (_key, inShape) => ({ outShape: inShape, params: L.none, state: L.none }),
      forward: (_p, s, x) => ({ y: T.add(x, T.zeros([1, 1])), state: s, tape: null }),
      vjp: (_p, _tape, dy) => ({ dx: dy, dp: L.none }),
    }
    const e = thrown(L.ShapeError, () => L.pipe(L.identity, raw).forward([[], []], [[], []], T.ones([4, 2]), ctx))
    expect(e.path).toEqual(['pipe[1]', 'raw'])
    expect(e.message).toBe('pipe[1].raw: add: shapes differ, [4, 2] vs [1, 1]')
  })
})

describe('non-finite values in inputs or labels', () => {
  test('Data.make names the first NaN input and its example', () => {
    const e = thrown(Data.DataError, () =>
      Data.make(
        T.tensor([
          [0, 1],
          [2, NaN],
        ]),
        T.tensor([0, 1]),
      ),
    )
    expect(e.message).toBe('make: x[1, 1] is NaN (example 1); data must be finite')
  })
  test('Data.make names an infinite label', () => {
    expect(() => Data.make(T.tensor([[0], [1]]), T.tensor([0, Infinity]))).toThrow(
      'make: y[1] is Infinity (example 1); data must be finite',
    )
  })
  test('losses reject non-finite targets', () => {
    expect(() => Loss.mse(T.tensor([[1]]), T.tensor([[NaN]]))).toThrow(Loss.LossError)
    expect(() => Loss.softmaxCrossEntropy(T.tensor([[1, 2]]), T.tensor([[0.5, NaN]]))).toThrow(
      'softmaxCrossEntropy: target has a non-finite value (NaN) at flat index 1',
    )
  })
  test('a batch with NaN inputs handed straight to trainStep stops with the input stage named', () => {
    const opt = Optim.sgd({ lr: 0.1 })
    const ts = Train.initState(mlp, opt, Key.fromSeed(0), [2])
    const e = thrown(Train.NonFiniteError, () =>
      Train.trainStep(mlp, Loss.softmaxCrossEntropy, opt)(ts, { x: T.tensor([[0, NaN]]), y: T.tensor([1]) }),
    )
    expect(e.stage).toBe('input')
    expect(e.message).toContain('the input batch has x[0, 1] = NaN')
  })
})

describe('labels out of range or not integers', () => {
  test.each([
    [3, 'softmaxCrossEntropy: label 3 at row 1 is not a class index in 0..1'],
    [-1, 'softmaxCrossEntropy: label -1 at row 1 is not a class index in 0..1'],
    [0.5, 'softmaxCrossEntropy: label 0.5 at row 1 is not a class index in 0..1'],
  ])('label %d', (label, message) => {
    const e = thrown(Loss.LossError, () => Loss.softmaxCrossEntropy(T.zeros([2, 2]), T.tensor([0, label])))
    expect(e.message).toBe(message)
  })
  test('in training, the first step stops with the bad label named', () => {
    const data = Data.make(xor.x, T.map((v) => v * 2)(xor.y)) // labels 0 and 2 for a 2-class network
    expect(() => Train.fit({ ...fitOptions, data })).toThrow(/label 2 at row \d+ is not a class index in 0\.\.1/)
  })
  test('an MNIST labels file with a label outside 0..9 is a bad-label MnistError naming example and byte', () => {
    const images = Data.encodeIdx({ type: 'ubyte', shape: [2, 2, 2], data: [0, 0, 0, 0, 1, 1, 1, 1] })
    const labels = Data.encodeIdx({ type: 'ubyte', shape: [2], data: [3, 12] })
    const r = Data.Mnist.fromIdx(images, labels)
    expect(E.isLeft(r) && r.left.kind).toBe('bad-label')
    expect(E.isLeft(r) && r.left.message).toBe('labels file: label 12 of example 1 (byte 9) is not a class in 0..9')
  })
})

describe('batch size mismatch between inputs and targets', () => {
  test('Data.make with different row counts', () => {
    expect(() => Data.make(T.zeros([4, 2]), T.zeros([3]))).toThrow(
      'make: x has 4 rows (shape [4, 2]) but y has 3 (shape [3]); they must match',
    )
  })
  test('a loss given predictions and targets of different batch sizes', () => {
    expect(() => Loss.softmaxCrossEntropy(T.zeros([4, 2]), T.zeros([3]))).toThrow(
      'softmaxCrossEntropy: batch sizes differ, prediction [4, 2] vs target [3]',
    )
    expect(() => Loss.mse(T.zeros([4, 1]), T.zeros([3, 1]))).toThrow('mse: batch sizes differ, prediction [4, 1] vs target [3, 1]')
  })
})

describe('empty data', () => {
  const empty = Data.make(T.zeros([0, 2]), T.zeros([0]))
  test('batching or fitting an empty data set', () => {
    expect(() => Data.batches(null, empty, 1)).toThrow('batches: the data set is empty (x has shape [0, 2])')
    expect(() => Train.fit({ ...fitOptions, data: empty })).toThrow(Data.DataError)
  })
  test('evaluating on an empty data set, and a loss on an empty batch', () => {
    const p = L.initialize(mlp, Key.fromSeed(0), [2])
    expect(() => Train.evaluate(mlp, p.params, p.state, empty, { loss: Loss.mse })).toThrow('evaluate: the data set is empty')
    expect(() => Loss.mse(T.zeros([0, 1]), T.zeros([0, 1]))).toThrow('mse: empty batch')
  })
})

describe('batch size 0 or larger than the data', () => {
  test.each([0, -1, 2.5, NaN])('fit with batchSize %d', (batchSize) => {
    expect(() => Train.fit({ ...fitOptions, batchSize })).toThrow(`fit: batchSize must be a positive integer, got ${batchSize}`)
  })
  test('fit with a batch larger than the data set', () => {
    expect(() => Train.fit({ ...fitOptions, batchSize: 41 })).toThrow('fit: batchSize 41 is larger than the 40 training examples')
  })
  test('Data.batches with 0', () => {
    expect(() => Data.batches(null, xor, 0)).toThrow(Data.DataError)
  })
})

describe('invalid hyper-parameters', () => {
  test.each([
    ['sgd lr 0', () => Optim.sgd({ lr: 0 }), 'sgd: lr must be finite and > 0, got 0'],
    ['sgd lr < 0', () => Optim.sgd({ lr: -0.1 }), 'sgd: lr must be finite and > 0, got -0.1'],
    ['sgd lr NaN', () => Optim.sgd({ lr: NaN }), 'sgd: lr must be finite and > 0, got NaN'],
    ['sgd momentum 1', () => Optim.sgd({ lr: 0.1, momentum: 1 }), 'sgd: momentum must be in [0, 1), got 1'],
    ['sgd momentum NaN', () => Optim.sgd({ lr: 0.1, momentum: NaN }), 'sgd: momentum must be in [0, 1), got NaN'],
    ['adam b2 1', () => Optim.adam({ lr: 0.1, b2: 1 }), 'adam: b2 must be in [0, 1), got 1'],
    ['adam eps 0', () => Optim.adam({ lr: 0.1, eps: 0 }), 'adam: eps must be finite and > 0, got 0'],
    ['a schedule starting at NaN', () => Schedule.cosineDecay({ init: NaN, steps: 10 }), 'cosineDecay: init must be'],
  ])('%s: OptimError', (_name, make, message) => {
    const e = thrown(Optim.OptimError, make)
    expect(e.message.startsWith(message)).toBe(true)
  })
  test.each([
    [
      'dropProb 1',
      () => L.dropout({ dropProb: 1 }),
      'dropout: dropProb (the probability of dropping a value, not of keeping it) must be a number in [0, 1), got 1',
    ],
    ['dropProb -0.1', () => L.dropout({ dropProb: -0.1 }), 'got -0.1'],
    ['dropProb NaN', () => L.dropout({ dropProb: NaN }), 'got NaN'],
    ['dense units 0', () => L.dense(0), 'dense: units must be a positive integer, got 0'],
    ['leakyRelu alpha NaN', () => L.leakyRelu(NaN), 'leakyRelu: alpha must be a finite number, got NaN'],
    ['batchNorm momentum 1', () => L.batchNorm({ momentum: 1 }), 'batchNorm: momentum must be a number in [0, 1), got 1'],
    [
      'conv2d kernel 0',
      () => L.conv2d(2, 0),
      'conv2d: kernelSize must be a pair of positive integers [rows, columns], got 0, read as [0, 0]',
    ],
  ])('%s: RangeError from the layer constructor', (_name, make, message) => {
    const e = thrown(RangeError, make)
    expect(e.message).toContain(message)
  })
  test('the same hyper-parameters in a spec are IoErrors at their path', () => {
    const r = IO.fromSpec({ kind: 'pipe', children: [{ kind: 'dropout', dropProb: 1.5 }] })
    expect(E.isLeft(r) && r.left.message).toBe('spec.children[0].dropProb: expected a number in [0, 1), got 1.5')
  })
})

describe("a layer's init that returns numbers where tensors go", () => {
  test('initialize (and so fit) names the leaf and says how to make tensors; the layers after never see it', () => {
    const plain = L.define({
      name: 'plain',
      init: (_key, inShape) => ({ outShape: inShape, params: { w: [1, 2, 3] as unknown as T.Tensor } }),
      forward: (_p, x) => ({ y: x, tape: null }),
      vjp: (p, _tape, dy) => ({ dx: dy, dp: p }),
    })
    const e = thrown(Tree.TreeError, () => L.initialize(L.pipe(L.dense(3), plain), Key.fromSeed(0), [2]))
    expect(e.message).toBe(
      "initialize: pipe's init returned params that are not a tree of tensors (Tree.map: number 1 at [1].w[0] is not a tree); " +
        'make each leaf a tensor: T.tensor, T.zeros, L.initWeights',
    )
  })
})

describe('a grads tree whose structure differs from the params tree', () => {
  const params = L.initialize(mlp, Key.fromSeed(0), [2]).params
  const opt = Optim.sgd({ lr: 0.1, momentum: 0.9 })
  test('a missing leaf: TreeError naming the first differing path', () => {
    const grads = [params[0], [], { W: params[2].W }]
    const e = thrown(Tree.TreeError, () => opt.update(grads, opt.init(params), params))
    expect(e.message).toBe(
      "sgd.update: the gradients do not have the params' structure, at [2]: a record {W, b} vs a record {W} (params vs gradients)",
    )
  })
  test('a leaf of the wrong shape', () => {
    const grads = Tree.map(params, (p, path) => (path === '[0].W' ? T.zeros([4, 2]) : p))
    expect(() => Optim.applyUpdates(params, grads)).toThrow(
      "applyUpdates: the updates do not have the params' structure, at [0].W: shape [2, 4] vs [4, 2] (params vs updates)",
    )
  })
  test('an optimizer state from another model', () => {
    const other = L.initialize(L.pipe(L.dense(3), L.relu, L.dense(2)), Key.fromSeed(0), [2]).params
    expect(() => opt.update(params, opt.init(other), params)).toThrow(Tree.TreeError)
  })
})

describe('corrupt, truncated or mislabelled IDX files', () => {
  const good = Data.encodeIdx({ type: 'ubyte', shape: [2, 2, 2], data: [1, 2, 3, 4, 5, 6, 7, 8] })
  const idxError = (bytes: Uint8Array): Data.IdxError => {
    const r = Data.decodeIdx(bytes)
    if (E.isRight(r)) throw new Error('expected an IdxError')
    return r.left
  }
  test('truncated data: the kind, the offset and both lengths', () => {
    const e = idxError(good.subarray(0, good.length - 3))
    expect(e.kind).toBe('truncated-data')
    expect(e.offset).toBe(good.length - 3)
    expect(e.expected).toBe(good.length)
  })
  test('a truncated header, a bad magic number, a gzip file, an unknown type, trailing bytes', () => {
    expect(idxError(good.subarray(0, 6)).kind).toBe('truncated-header')
    expect(idxError(Uint8Array.from([1, 0, 8, 1, 0, 0, 0, 0])).kind).toBe('bad-magic')
    expect(idxError(Uint8Array.from([0x1f, 0x8b, 8, 0])).message).toContain('this looks like a gzip file: decompress it first')
    expect(idxError(Uint8Array.from([0, 0, 0x42, 1, 0, 0, 0, 0])).kind).toBe('unknown-type')
    expect(idxError(Uint8Array.from([...good, 0])).kind).toBe('trailing-bytes')
  })
  test('mislabelled files: images and labels swapped is a wrong-rank MnistError naming the file', () => {
    const labels = Data.encodeIdx({ type: 'ubyte', shape: [2], data: [1, 2] })
    const r = Data.Mnist.fromIdx(labels, good)
    expect(E.isLeft(r) && r.left.kind).toBe('wrong-rank')
    expect(E.isLeft(r) && r.left.file).toBe('images')
  })
  test('images and labels of different lengths: count-mismatch', () => {
    const labels = Data.encodeIdx({ type: 'ubyte', shape: [3], data: [1, 2, 3] })
    const r = Data.Mnist.fromIdx(good, labels)
    expect(E.isLeft(r) && r.left.message).toBe('the images file holds 2 images but the labels file holds 3 labels')
  })
})

describe('checkpoints (full catalogue in test/io/checkpoint.test.ts)', () => {
  const p = L.initialize(mlp, Key.fromSeed(0), [2])
  const doc: Record<string, unknown> = JSON.parse(IO.encodeCheckpoint(IO.modelCheckpoint(mlp, [2], p.params, p.state)))
  const fail = (u: unknown): IO.IoError => {
    const r = IO.decodeCheckpoint(u)
    if (E.isRight(r)) throw new Error('expected an IoError')
    return r.left
  }
  test.each([
    ['wrong format', { ...doc, format: 'onnx' }, 'wrong-format', 'format'],
    ['wrong version', { ...doc, version: 0 }, 'unsupported-version', 'version'],
    [
      'truncated tensor',
      { ...doc, params: [{ W: { dtype: 'float64', shape: [2, 4], data: 'AAAA' } }, [], (doc['params'] as unknown[])[2]] },
      'wrong-length',
      'params[0].W',
    ],
    [
      'spec/params mismatch',
      {
        ...doc,
        spec: {
          kind: 'pipe',
          children: [
            { kind: 'dense', units: 5, init: 'he', bias: true },
            { kind: 'relu' },
            { kind: 'dense', units: 2, init: 'he', bias: true },
          ],
        },
      },
      'shape-mismatch',
      'params[0].W',
    ],
  ])('%s', (_name, u, kind, path) => {
    const e = fail(u)
    expect([e.kind, e.path]).toEqual([kind, path])
  })
})

describe('more bad input found in review', () => {
  test('predict with a batch size that is not a positive integer', () => {
    const p = L.initialize(mlp, Key.fromSeed(0), [2])
    for (const b of [0, -1, NaN, 1.5])
      expect(() => Train.predict(mlp, p.params, p.state, T.zeros([3, 2]), b)).toThrow(
        `predict: batchSize must be a positive integer, got ${b}`,
      )
  })
  test('softmax cross-entropy on a single logit column points to binaryCrossEntropy', () => {
    expect(() => Loss.softmaxCrossEntropy(T.zeros([2, 1]), T.tensor([0, 0]))).toThrow(
      'softmaxCrossEntropy: logits need at least 2 classes, got shape [2, 1] (for one output per example, use binaryCrossEntropy)',
    )
  })
  test('branches with an unknown merge', () => {
    expect(() => L.branches('mean' as L.Merge, L.dense(2))).toThrow(`branches: merge must be one of 'sum', 'concat', got "mean"`)
  })
  test('dense initialised on an input with no features', () => {
    expect(() => L.initialize(L.dense(2), Key.fromSeed(0), [0])).toThrow(
      'dense: input shape: expected [features] with features a positive integer, got [0]',
    )
    expect(() => L.initialize(L.dense(2), Key.fromSeed(0), [2.5])).toThrow(
      'dense: input shape: expected [features] with features a positive integer, got [2.5]',
    )
  })
})

describe('plain-JS mistakes (no compiler to catch them) get an error naming what and where, with the fix', () => {
  /** f with its parameter types erased, as a JavaScript caller sees it. */
  const untyped = (f: unknown) => f as (...args: unknown[]) => unknown
  const p = L.initialize(mlp, Key.fromSeed(0), [2])
  test.each([
    ['pipe', () => untyped(L.pipe)(L.dense, L.relu), 'pipe[0] is not a layer: did you forget to call dense(…)?'],
    ['pipe, a later child', () => untyped(L.pipe)(L.dense(4), L.dropout), 'pipe[1] is not a layer: did you forget to call dropout(…)?'],
    ['compose', () => untyped(L.compose)(L.relu, L.dense), 'compose[1] is not a layer: did you forget to call dense(…)?'],
    ['andThen', () => untyped(L.andThen)(L.dense), 'andThen: its argument is not a layer: did you forget to call dense(…)?'],
    ['residual', () => untyped(L.residual)(L.dense), 'residual: its body is not a layer: did you forget to call dense(…)?'],
    [
      "a user's layer factory, not called: named as itself, not as an L export",
      () =>
        untyped(L.pipe)(L.dense(4), function layerNorm() {
          return L.relu
        }),
      'pipe[1] is not a layer: did you forget to call layerNorm(…)?',
    ],
    ['branches', () => untyped(L.branches)('concat', L.dense(2), L.dense), 'branches[1] is not a layer: did you forget to call dense(…)?'],
    ['pipe given a number', () => untyped(L.pipe)(L.relu, 3), 'pipe[1] is not a layer, got number'],
  ])('a combinator given a layer factory or a non-layer (%s) says which child, when it is built', (_, f, message) => {
    expect(thrown(TypeError, f).message).toBe(message)
  })
  test('Data.make with nested arrays: a DataError naming the argument and T.tensor', () => {
    expect(thrown(Data.DataError, () => untyped(Data.make)([[0, 1]], [0])).message).toBe(
      'make: x must be a Tensor, got an array (make one from nested arrays with T.tensor(x))',
    )
    expect(thrown(Data.DataError, () => untyped(Data.make)(T.tensor([[0, 1]]), [0])).message).toBe(
      'make: y must be a Tensor, got an array (make one from nested arrays with T.tensor(y))',
    )
  })
  test('Train.predict with nested arrays: a TypeError naming x', () => {
    expect(thrown(TypeError, () => untyped(Train.predict)(mlp, p.params, p.state, [[1, 2]])).message).toBe(
      'predict: x must be a Tensor, got an array (make one from nested arrays with T.tensor(x))',
    )
  })
  test('Train.predict takes { batchSize } as evaluate does, and the number still works', () => {
    const x = T.tensor([
      [0, 1],
      [1, 0],
      [1, 1],
    ])
    const whole = Train.predict(mlp, p.params, p.state, x)
    expect(Train.predict(mlp, p.params, p.state, x, { batchSize: 2 })).toEqual(whole)
    expect(Train.predict(mlp, p.params, p.state, x, 2)).toEqual(whole)
    expect(thrown(RangeError, () => untyped(Train.predict)(mlp, p.params, p.state, x, { batch_size: 2 })).message).toMatch(
      /^predict: unknown option 'batch_size' \(here batchSize\)/,
    )
    expect(thrown(RangeError, () => Train.predict(mlp, p.params, p.state, x, { batchSize: 0 })).message).toBe(
      'predict: batchSize must be a positive integer, got 0',
    )
  })
  test.each([
    [
      'a loss by name',
      { loss: 'softmaxCrossEntropy' },
      "fit: loss must be a function such as Loss.softmaxCrossEntropy, got the string 'softmaxCrossEntropy'",
    ],
    [
      'a loss factory not called',
      { loss: Loss.crossEntropy },
      'fit: loss is Loss.crossEntropy itself, which makes a loss: call it, Loss.crossEntropy()',
    ],
    ['an optimizer alias not called', { optimizer: Optim.adam }, 'fit: optimizer is Optim.adam itself: call it, Optim.adam({ lr })'],
    [
      'an optimizer by name',
      { optimizer: 'adam' },
      "fit: optimizer must be a gradient transformation { init, update } such as Optim.adam({ lr: 1e-3 }), got the string 'adam'",
    ],
    ['a layer factory as the model', { model: L.dense }, 'fit: model is not a layer: did you forget to call dense(…)?'],
  ])('fit given %s: a TypeError with the fix', (_, bad, message) => {
    expect(thrown(TypeError, () => untyped(Train.fit)({ ...fitOptions, ...bad })).message).toBe(message)
  })
  test('fit without key: a KeyError naming the option', () => {
    const { key: _, ...noKey } = fitOptions
    expect(thrown(Key.KeyError, () => untyped(Train.fit)(noKey)).message).toBe(
      "fit: the option key must be a Key such as Key.fromSeed(0) (it seeds the initial params and each epoch's order), got undefined",
    )
  })
  test('checkLayer with a misspelt or missing inShape, or no options: the option is named', () => {
    expect(thrown(RangeError, () => untyped(checkLayer)(L.relu, { inshape: [3] })).message).toMatch(
      /^checkLayer: unknown option 'inshape' \(did you mean 'inShape'\?\); the options are numRuns, seed, path, inShape,/,
    )
    expect(thrown(TypeError, () => untyped(checkLayer)(L.relu, { numRuns: 5 })).message).toBe(
      'checkLayer: inShape must be the per-example input shape, an array of positive integers such as { inShape: [4] }, got undefined',
    )
    expect(thrown(TypeError, () => untyped(checkLayer)(L.relu)).message).toMatch(
      /^checkLayer: expected an options object \{ numRuns, seed, path, inShape,/,
    )
  })
})

describe('docs/errors.md lists every error the public API throws', () => {
  const read = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
      d.isDirectory() ? read(join(dir, d.name)) : d.name.endsWith('.ts') ? [readFileSync(join(dir, d.name), 'utf8')] : [],
    )
  const src = fileURLToPath(new URL('../src', import.meta.url))
  const table = readFileSync(fileURLToPath(new URL('../docs/errors.md', import.meta.url)), 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('| `'))
  // SpecFailure carries an IoError inside the spec decoder and never leaves it.
  const internal = new Set(['SpecFailure'])
  const thrownClasses = new Set(
    read(src)
      .flatMap((text) => [...text.matchAll(/throw new (?:[A-Za-z]+\.)?([A-Za-z]+)\(/g)].map((m) => m[1]!))
      .filter((name) => !internal.has(name)),
  )
  test.each([...thrownClasses].sort())('%s has a row in the table', (name) => {
    const named = new RegExp(`\`(?:[A-Za-z]+\\.)*${name}\``)
    const row = table.find((line) => named.test(line.split('|')[1]!))
    expect(row, `docs/errors.md has no row for ${name}`).toBeDefined()
  })
  test('the RangeError row names batchSize: 0 and L.dense(0), which throw it', () => {
    const row = table.find((line) => line.startsWith('| `RangeError`'))
    expect(row).toContain('`batchSize: 0`')
    expect(row).toContain('`L.dense(0)`')
    thrown(RangeError, () => Train.fit({ ...fitOptions, batchSize: 0 }))
    thrown(RangeError, () => L.dense(0))
  })
})

describe('unknown options are errors naming the function and the key, with the other library’s name hinted', () => {
  const loose = <A extends unknown[], R>(f: (...args: A) => R) => f as (...args: unknown[]) => R
  const trained = L.initialize(mlp, Key.fromSeed(0), [2])
  test.each([
    [
      'Train.fit lr (Keras/PyTorch habit)',
      RangeError,
      () => loose(Train.fit)({ ...fitOptions, lr: 0.1 }),
      "fit: unknown option 'lr' (the learning rate goes in the optimizer: Optim.sgd({ lr })); the options are model, loss,",
    ],
    [
      'Train.fit validation_split',
      RangeError,
      () => loose(Train.fit)({ ...fitOptions, validation_split: 0.1 }),
      "fit: unknown option 'validation_split' (here validation: a fraction, split off after a shuffle)",
    ],
    [
      'Train.fit shuffle',
      RangeError,
      () => loose(Train.fit)({ ...fitOptions, shuffle: false }),
      "fit: unknown option 'shuffle' (fit always shuffles each epoch, from the key)",
    ],
    [
      'fit earlyStopping.mode',
      RangeError,
      () => loose(Train.fit)({ ...fitOptions, validation: 0.2, earlyStopping: { monitor: 'valLoss', patience: 1, mode: 'min' } }),
      "fit: earlyStopping: unknown option 'mode'; the options are monitor, patience, minDelta, restoreBest",
    ],
    [
      'Train.evaluate batch_size',
      RangeError,
      () => loose(Train.evaluate)(mlp, trained.params, trained.state, xor, { loss: Loss.mse, batch_size: 8 }),
      "evaluate: unknown option 'batch_size' (here batchSize); the options are loss, batchSize",
    ],
    [
      'Train.stepsPerEpoch drop_last',
      RangeError,
      () => loose(Train.stepsPerEpoch)({ data: xor, batchSize: 8, drop_last: true }),
      "stepsPerEpoch: unknown option 'drop_last' (here dropLast)",
    ],
    [
      'L.dense activation',
      RangeError,
      () => loose(L.dense)(4, { activation: 'relu' }),
      "dense: unknown option 'activation' (apply the activation as a layer after it: L.pipe(L.dense(n), L.relu)); the options are init, bias",
    ],
    ['L.dropout rate', RangeError, () => loose(L.dropout)({ rate: 0.5 }), "dropout: unknown option 'rate' (here dropProb"],
    ['L.conv2d strides', RangeError, () => loose(L.conv2d)(4, 3, { strides: 2 }), "conv2d: unknown option 'strides' (here stride)"],
    ['L.batchNorm epsilon', RangeError, () => loose(L.batchNorm)({ epsilon: 1e-3 }), "batchNorm: unknown option 'epsilon' (here eps)"],
    [
      'L.maxPool2d pool_size',
      RangeError,
      () => loose(L.maxPool2d)(2, { pool_size: 2 }),
      "maxPool2d: unknown option 'pool_size' (a window size is an argument: L.maxPool2d(size, options))",
    ],
    [
      'Data.batches drop_last',
      Data.DataError,
      () => [...loose(Data.batches)(null, xor, 8, { drop_last: true })],
      "batches: unknown option 'drop_last'",
    ],
    [
      'Data.spirals samples',
      Data.DataError,
      () => loose(Data.spirals)(Key.fromSeed(0), { samples: 10 }),
      "spirals: unknown option 'samples'",
    ],
    [
      'Optim.sgd betas',
      Optim.OptimError,
      () => loose(Optim.sgd)({ lr: 0.1, betas: [0.9, 0.99] }),
      "sgd: unknown option 'betas' (b1 and b2 belong to the Adam family: Optim.adam({ lr, b1, b2 }))",
    ],
    ['T.toString decimals', RangeError, () => loose(T.toString)(T.zeros([2]), { decimals: 2 }), "T.toString: unknown option 'decimals'"],
    [
      'Gradcheck.format top',
      RangeError,
      () => loose(Gradcheck.format)({ rows: [], maxError: 0, tolerance: 1e-6, ok: true }, { top: 3 }),
      "Gradcheck.format: unknown option 'top'",
    ],
    [
      'Data.decodeIdx limit',
      Data.DataError,
      () => loose(Data.decodeIdx)(new Uint8Array(4), { limit: 1 }),
      "decodeIdx: unknown option 'limit'",
    ],
    [
      'Data.Mnist.fromIdx first_n',
      Data.DataError,
      () => loose(Data.Mnist.fromIdx)(new Uint8Array(4), new Uint8Array(4), { first_n: 1 }),
      "fromIdx: unknown option 'first_n'",
    ],
    [
      'IO.parseCheckpoint registries',
      RangeError,
      () => loose(IO.parseCheckpoint)('{}', { registries: IO.builtins }),
      "parseCheckpoint: unknown option 'registries'; the options are registry",
    ],
    [
      'IO.decodeCheckpoint custom',
      RangeError,
      () => loose(IO.decodeCheckpoint)({}, { custom: IO.builtins }),
      "decodeCheckpoint: unknown option 'custom'; the options are registry",
    ],
    ['Train.fit given no options object', TypeError, () => loose(Train.fit)(7), 'fit: expected an options object { model, loss,'],
  ] as const)('%s', (_name, cls, f, message) => {
    const e = thrown(cls, f)
    expect(e.message.startsWith(message)).toBe(true)
  })
  test('Plot.* and the Node helpers check theirs too', async () => {
    const { Plot } = await import('../src/index.ts')
    const { progress, lineChart } = await import('../src/node/index.ts')
    const history: Train.History = { steps: [{ step: 1, epoch: 1, loss: 1, accuracy: undefined }], epochs: [] }
    expect(thrown(Plot.PlotError, () => loose(Plot.stepHistory)(history, { smooth: 0.5 })).message).toMatch(
      /^stepHistory: unknown option 'smooth'; the options are title, smoothing/,
    )
    expect(thrown(RangeError, () => loose(progress)({ verbose: 1 })).message).toMatch(
      /^progress: unknown option 'verbose' \(progress is a callback/,
    )
    expect(thrown(RangeError, () => loose(lineChart)([1, 2], { logScale: true })).message).toMatch(/^lineChart: unknown option 'logScale'/)
    const { loadCheckpoint } = await import('../src/node/index.ts')
    expect(thrown(RangeError, () => loose(loadCheckpoint)('/nonexistent/x.json', { registries: {} })).message).toMatch(
      /^loadCheckpoint: unknown option 'registries'/,
    )
  })
})

test('IO.trainingCheckpoint and saveModel check their options too', async () => {
  const { saveModel } = await import('../src/node/index.ts')
  const p = L.initialize(mlp, Key.fromSeed(0), [2])
  const loose = <A extends unknown[], R>(f: (...args: A) => R) => f as (...args: unknown[]) => R
  expect(
    thrown(RangeError, () => loose(IO.trainingCheckpoint)({ model: mlp, inShape: [2], state: p, key: Key.fromSeed(0) })).message,
  ).toMatch(/^trainingCheckpoint: unknown option 'key'; the options are model, inShape, state, runKey, optimizer, metadata/)
  expect(thrown(RangeError, () => loose(saveModel)('/nonexistent/x.json', { ...p, model: mlp, inShape: [2] })).message).toMatch(
    /^saveModel: unknown option 'outShape'/,
  )
})
