/**
 * The shape rules at compile time, checked by tsc (this file is type-checked with the project and
 * never run): every built-in layer and combinator gives the output shape type init gives at run
 * time, and each mistake marked @ts-expect-error must not compile. test/types/random.test.ts
 * holds the rules to init's run-time shapes on a few hundred generated cases.
 */
import { expectTypeOf } from 'vitest'
import { Key, L, T, type Shape } from 'chainrule'

const key = Key.fromSeed(0)
const init = L.initialize

// ---- an MLP on MNIST images, and the CNN of examples/07-mnist-cnn.ts

expectTypeOf(init(L.pipe(L.flatten, L.dense(128), L.relu, L.dense(10)), key, [1, 28, 28]).outShape).toEqualTypeOf<[10]>()

const cnn = L.pipe(
  L.conv2d(8, 5, { padding: 2 }),
  L.relu,
  L.maxPool2d(2),
  L.conv2d(16, 5, { padding: 2 }),
  L.relu,
  L.maxPool2d(2),
  L.flatten,
  L.dense(10),
)
expectTypeOf(init(cnn, key, [1, 28, 28]).outShape).toEqualTypeOf<[10]>()
const features = L.pipe(L.conv2d(8, 5, { padding: 2 }), L.relu, L.maxPool2d(2), L.conv2d(16, 5, { padding: 2 }), L.relu, L.maxPool2d(2))
expectTypeOf(init(features, key, [1, 28, 28]).outShape).toEqualTypeOf<[16, 7, 7]>()
expectTypeOf(init(L.pipe(features, L.flatten), key, [1, 28, 28]).outShape).toEqualTypeOf<[784]>() // 16·7·7
expectTypeOf<L.OutShape<typeof cnn, [1, 28, 28]>>().toEqualTypeOf<[10]>()

// ---- dense, flatten, reshape

expectTypeOf(init(L.dense(3), key, [5]).outShape).toEqualTypeOf<[3]>()
expectTypeOf(init(L.dense(3, { bias: false }), key, [5]).outShape).toEqualTypeOf<[3]>()
// @ts-expect-error dense wants [features]: flatten first
init(L.dense(3), key, [1, 28, 28]).outShape
// @ts-expect-error dense wants one example's shape, not [N, features]
init(L.dense(3), key, [32, 5]).outShape
expectTypeOf(init(L.flatten, key, [3, 4, 5]).outShape).toEqualTypeOf<[60]>()
expectTypeOf(init(L.flatten, key, [7]).outShape).toEqualTypeOf<[7]>()
// @ts-expect-error flatten needs an axis
init(L.flatten, key, []).outShape
expectTypeOf(init(L.reshape([1, 28, 28]), key, [784]).outShape).toEqualTypeOf<[1, 28, 28]>()
expectTypeOf(init(L.reshape([-1, 7, 7]), key, [784]).outShape).toEqualTypeOf<[16, 7, 7]>()
expectTypeOf(init(L.reshape([-1]), key, [2, 3]).outShape).toEqualTypeOf<[6]>()
// @ts-expect-error 784 values do not make [28, 29]
init(L.reshape([28, 29]), key, [784]).outShape
// @ts-expect-error 784 is not a multiple of 3
init(L.reshape([3, -1]), key, [784]).outShape

// ---- element-wise layers, dropout, batchNorm, identity: the shape passes through

expectTypeOf(init(L.relu, key, [2, 3]).outShape).toEqualTypeOf<[2, 3]>()
expectTypeOf(init(L.leakyRelu(0.1), key, [2, 3]).outShape).toEqualTypeOf<[2, 3]>()
expectTypeOf(init(L.elu(), key, [4]).outShape).toEqualTypeOf<[4]>()
expectTypeOf(init(L.sigmoid, key, [4]).outShape).toEqualTypeOf<[4]>()
expectTypeOf(init(L.tanh, key, [4]).outShape).toEqualTypeOf<[4]>()
expectTypeOf(init(L.softmax, key, [10]).outShape).toEqualTypeOf<[10]>()
expectTypeOf(init(L.dropout({ dropProb: 0.5 }), key, [8, 3, 3]).outShape).toEqualTypeOf<[8, 3, 3]>()
expectTypeOf(init(L.identity, key, [5]).outShape).toEqualTypeOf<[5]>()
expectTypeOf(init(L.batchNorm(), key, [16]).outShape).toEqualTypeOf<[16]>()
expectTypeOf(init(L.batchNorm({ momentum: 0.9 }), key, [8, 5, 5]).outShape).toEqualTypeOf<[8, 5, 5]>()
// @ts-expect-error batchNorm takes [features] or [channels, height, width]
init(L.batchNorm(), key, [2, 3]).outShape

// ---- conv2d: output floor((H + 2p − span) / s) + 1, span = (k − 1)·d + 1; 'same' gives ceil(H / s)

expectTypeOf(init(L.conv2d(8, 5), key, [1, 28, 28]).outShape).toEqualTypeOf<[8, 24, 24]>()
expectTypeOf(init(L.conv2d(8, 5, { padding: 2 }), key, [1, 28, 28]).outShape).toEqualTypeOf<[8, 28, 28]>()
expectTypeOf(init(L.conv2d(8, 3, { padding: 'same' }), key, [3, 32, 32]).outShape).toEqualTypeOf<[8, 32, 32]>()
expectTypeOf(init(L.conv2d(8, 3, { padding: 'same', stride: 2 }), key, [3, 31, 32]).outShape).toEqualTypeOf<[8, 16, 16]>()
expectTypeOf(init(L.conv2d(4, [3, 5], { stride: [2, 1], padding: [1, 0] }), key, [2, 9, 9]).outShape).toEqualTypeOf<[4, 5, 5]>()
expectTypeOf(init(L.conv2d(4, 3, { dilation: 2 }), key, [2, 9, 9]).outShape).toEqualTypeOf<[4, 5, 5]>()
expectTypeOf(
  init(L.conv2d(4, 3, { stride: 3, padding: 'valid', bias: false, activation: 'relu' }), key, [1, 10, 11]).outShape,
).toEqualTypeOf<[4, 3, 3]>()
// @ts-expect-error conv2d wants [C, H, W]
init(L.conv2d(8, 3), key, [784]).outShape
// @ts-expect-error a 7x7 window does not fit a 5-row input
init(L.conv2d(8, 7), key, [3, 5, 32]).outShape

// ---- pooling

expectTypeOf(init(L.maxPool2d(2), key, [8, 28, 28]).outShape).toEqualTypeOf<[8, 14, 14]>()
expectTypeOf(init(L.maxPool2d(3, { stride: 2 }), key, [8, 28, 28]).outShape).toEqualTypeOf<[8, 13, 13]>()
expectTypeOf(init(L.avgPool2d(2), key, [3, 7, 7]).outShape).toEqualTypeOf<[3, 3, 3]>()
expectTypeOf(init(L.avgPool2d([2, 3], { padding: 'same' }), key, [3, 7, 7]).outShape).toEqualTypeOf<[3, 4, 3]>()
expectTypeOf(init(L.avgPool2d(3, { stride: 1, padding: 1 }), key, [3, 7, 7]).outShape).toEqualTypeOf<[3, 7, 7]>()
expectTypeOf(init(L.globalAvgPool, key, [16, 7, 7]).outShape).toEqualTypeOf<[16]>()
// @ts-expect-error pooling wants [C, H, W]
init(L.maxPool2d(2), key, [28, 28]).outShape
// @ts-expect-error a 4x4 window does not fit a 3x3 input
init(L.maxPool2d(4), key, [2, 3, 3]).outShape
// @ts-expect-error globalAvgPool wants [C, H, W]
init(L.globalAvgPool, key, [10]).outShape

// ---- combinators: pipe, compose, andThen, residual, branches

expectTypeOf(init(L.pipe(), key, [3, 4]).outShape).toEqualTypeOf<[3, 4]>()
expectTypeOf(init(L.pipe(L.pipe(L.dense(8), L.relu), L.pipe(L.dense(4)), L.softmax), key, [2]).outShape).toEqualTypeOf<[4]>()
expectTypeOf(init(L.compose(L.dense(10), L.flatten), key, [2, 5]).outShape).toEqualTypeOf<[10]>()
expectTypeOf(init(L.andThen(L.dense(3))(L.flatten), key, [2, 5]).outShape).toEqualTypeOf<[3]>()
expectTypeOf(init(L.residual(L.pipe(L.dense(8), L.relu, L.dense(8))), key, [8]).outShape).toEqualTypeOf<[8]>()
expectTypeOf(init(L.residual(L.conv2d(4, 3, { padding: 'same' })), key, [4, 6, 6]).outShape).toEqualTypeOf<[4, 6, 6]>()
expectTypeOf(init(L.branches('sum', L.dense(4), L.pipe(L.dense(2), L.dense(4))), key, [3]).outShape).toEqualTypeOf<[4]>()
expectTypeOf(init(L.branches('concat', L.dense(4), L.dense(3)), key, [5]).outShape).toEqualTypeOf<[7]>()
expectTypeOf(init(L.branches('concat', L.conv2d(2, 3), L.conv2d(5, 3, { stride: 2, padding: 1 })), key, [1, 4, 4]).outShape).toEqualTypeOf<
  [7, 2, 2]
>()

// a layer that cannot take what the layers before it give is an error on that argument, input or not
// @ts-expect-error conv2d after flatten: a rank-1 input
L.pipe(L.flatten, L.conv2d(8, 3))
// @ts-expect-error dense(4) gives [4]; maxPool2d wants [C, H, W]
L.compose(L.maxPool2d(2), L.relu, L.dense(4))
// @ts-expect-error pipe[0].dense given an image
init(L.pipe(L.dense(4)), key, [1, 28, 28])
// @ts-expect-error the residual's body changes the shape [8] to [5]
init(L.residual(L.dense(5)), key, [8]).outShape
// @ts-expect-error the residual's body changes the shape, inside a pipe: pipe[1].residual
init(L.pipe(L.relu, L.residual(L.dense(5))), key, [8])
// @ts-expect-error sum needs equal shapes
init(L.branches('sum', L.dense(2), L.dense(3)), key, [4]).outShape
// @ts-expect-error concat needs equal shapes past the first axis
init(L.branches('concat', L.conv2d(2, 3), L.conv2d(2, 1)), key, [1, 4, 4]).outShape
// @ts-expect-error an error inside a branch names it
init(L.branches('sum', L.relu, L.conv2d(2, 3)), key, [4]).outShape
// @ts-expect-error andThen's pipe is checked at initialize
init(L.andThen(L.conv2d(2, 3))(L.dense(4)), key, [4]).outShape

// ---- sizes the types do not know degrade to number, and init checks them at run time as before

const n: number = 28
const shape: Shape = [1, 28, 28]
expectTypeOf(init(L.pipe(L.flatten, L.dense(10)), key, shape).outShape).toEqualTypeOf<[10]>()
expectTypeOf(init(L.flatten, key, shape).outShape).toEqualTypeOf<[number]>()
expectTypeOf(init(L.conv2d(8, 3), key, [1, n, 28]).outShape).toEqualTypeOf<[8, number, 26]>()
expectTypeOf(init(L.conv2d(n, 3), key, [1, 28, 28]).outShape).toEqualTypeOf<[number, 26, 26]>()
expectTypeOf(init(L.dense(n), key, [5]).outShape).toEqualTypeOf<[number]>()
expectTypeOf(init(L.relu, key, shape).outShape).toEqualTypeOf<number[]>()
expectTypeOf(init(L.flatten, key, [256, 7, 7]).outShape).toEqualTypeOf<[number]>() // 12544: beyond the arithmetic's range
expectTypeOf(init(L.conv2d(2, 3), key, [1, 2000, 5]).outShape).toEqualTypeOf<[2, number, 3]>()
expectTypeOf(L.initialize(L.dense(3), key, [5]).outShape).toEqualTypeOf<[3]>()
expectTypeOf(L.dense(3).init(key, [5]).outShape).toEqualTypeOf<Shape>() // a layer's own init keeps the plain Shape

// ---- custom layers: Shape-typed unless the author declares a rule

const square = L.define({
  name: 'square',
  forward: (_p, x) => ({ y: T.mul(x, x), tape: x }),
  vjp: (_p, x, dy) => ({ dx: T.scale(2, T.mul(x, dy)), dp: L.none }),
})
expectTypeOf(init(square, key, [3]).outShape).toEqualTypeOf<number[]>()
expectTypeOf(init(L.pipe(L.flatten, square, L.dense(2)), key, [2, 2]).outShape).toEqualTypeOf<[2]>()
const handWritten = {
  name: 'hand',
  spec: { kind: 'hand' },
  init: (_k: Key.Key, inShape: Shape) => ({ outShape: inShape, params: L.none, state: L.none }),
  forward: (_p: L.None, s: L.None, x: T.Tensor) => ({ y: x, state: s, tape: null }),
  vjp: (_p: L.None, _t: null, dy: T.Tensor) => ({ dx: dy, dp: L.none }),
}
expectTypeOf(init(L.pipe(L.dense(4), handWritten), key, [3]).outShape).toEqualTypeOf<number[]>()
// declaring a rule is a type annotation: Keep, or an interface of your own
const squareKeeps: L.Layer<L.None, L.None, T.Tensor, L.Keep> = square
expectTypeOf(init(squareKeeps, key, [3]).outShape).toEqualTypeOf<[3]>()
// a layer that repeats its features, [F] → [2F], with its rule declared beside it
interface Twice extends L.Rule {
  readonly out: this['in'] extends readonly [infer F extends number]
    ? [L.Mul<F, 2>]
    : `twice: expected [features], got ${L.ShowShape<this['in']>}`
}
const twice: L.Layer<L.None, L.None, null, Twice> = L.define({
  name: 'twice',
  outShape: (inShape) => [2 * inShape[0]!],
  forward: (_p, x) => ({ y: T.concat(1)([x, x]), tape: null }),
  vjp: (_p, _tape, dy) => {
    const [a, b] = T.split(1, [dy.shape[1]! / 2, dy.shape[1]! / 2])(dy)
    return { dx: T.add(a!, b!), dp: L.none }
  },
})
expectTypeOf(init(L.pipe(L.dense(5), twice), key, [3]).outShape).toEqualTypeOf<[10]>()
// @ts-expect-error the declared rule rejects a rank-2 input
init(twice, key, [3, 3]).outShape

// ---- options are checked as they are typed: a misspelt one is a compile error, inference kept
expectTypeOf(init(L.conv2d(8, 5, { padding: 2, stride: 1 }), key, [1, 28, 28]).outShape).toEqualTypeOf<[8, 28, 28]>()
// @ts-expect-error foo is not an option of conv2d
L.conv2d(8, 3, { padding: 1, foo: 2 })
// @ts-expect-error strides (PyTorch's spelling) is not an option of maxPool2d
L.maxPool2d(2, { strides: 2 })
// @ts-expect-error pad is not an option of avgPool2d
L.avgPool2d(2, { padding: 'same', pad: 1 })
