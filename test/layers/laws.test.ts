/**
 * The layer laws (1-7, 12: the spec round trip through IO.fromSpec, and 14 as chainrule/laws gives it for
 * any layer: float32 keeps its dtype and agrees with float64) on every built-in layer
 * kind, each with the options that say which exact laws apply (affine in x, linear in params,
 * batch-independent). Adding a layer adds one case here; the last test checks every kind of the
 * built-in registry has one. Shapes are small, so the per-coordinate law runs wherever x and
 * params hold ≤ 300 numbers; the directional law runs everywhere.
 */
import { describe, expect, test } from 'vitest'
import { IO, L, type Shape } from '../../src/index.ts'
import { layerLaws, type CheckLayerOptions } from '../../laws/index.ts'
import { distinctValues } from '../../laws/random-conv-network.ts'

/** Max-pool inputs: distinct values, so the top two of every window are far apart. */
const gapped = { input: (shape: Shape) => distinctValues(shape) }
/**
 * Batch-norm inputs in train mode: spread-out values too. With near-equal values in a feature
 * (σ² ≪ ε), x̂ bends on the scale of the finite-difference step and central differences lose
 * the accuracy the law asks for.
 */
const spread = gapped

const cases: [string, L.AnyLayer, CheckLayerOptions][] = [
  // dense is affine in x, and linear in (W, b) jointly
  ['dense', L.dense(4), { inShape: [3], affineInInput: true, linearInParams: true }],
  ['dense without bias, glorot', L.dense(2, { bias: false, init: 'glorot' }), { inShape: [5], affineInInput: true, linearInParams: true }],
  // element-wise activations (random inputs stay 1e-3 away from relu's kink)
  ['relu', L.relu, { inShape: [2, 3] }],
  ['leakyRelu', L.leakyRelu(0.1), { inShape: [4] }],
  ['elu', L.elu(0.7), { inShape: [4] }],
  ['sigmoid', L.sigmoid, { inShape: [4] }],
  ['tanh', L.tanh, { inShape: [4] }],
  ['softmax', L.softmax, { inShape: [5] }],
  ['flatten', L.flatten, { inShape: [2, 3], affineInInput: true }],
  ['identity', L.identity, { inShape: [3], affineInInput: true }],
  // conv2d is affine in x, and linear in (W, b) jointly
  ['conv2d 3x3, 2→3 channels, bias', L.conv2d(3, 3), { inShape: [2, 5, 5], affineInInput: true, linearInParams: true }],
  [
    'conv2d [2,3] kernel, stride [2,1], same padding, dilation [1,2], no bias',
    L.conv2d(2, [2, 3], { stride: [2, 1], padding: 'same', dilation: [1, 2], bias: false }),
    { inShape: [1, 6, 5], affineInInput: true, linearInParams: true },
  ],
  [
    'conv2d 2x2, stride 2, padding [1, 0]',
    L.conv2d(2, 2, { stride: 2, padding: [1, 0] }),
    { inShape: [3, 4, 4], affineInInput: true, linearInParams: true },
  ],
  [
    'conv2d 1x1 (a per-pixel dense layer)',
    L.conv2d(3, 1, { init: 'glorot' }),
    { inShape: [2, 3, 3], affineInInput: true, linearInParams: true },
  ],
  [
    'conv2d 3x3 pad 1, 3→4 channels on 8x8 (directional only)',
    L.conv2d(4, 3, { padding: 1 }),
    { inShape: [3, 8, 8], affineInInput: true, linearInParams: true, numRuns: 30 },
  ],
  // conv2d with the fused relu: piecewise linear (random inputs land on a kink with probability ~0)
  ['conv2d 3x3 pad 1, 2→3 channels, activation relu', L.conv2d(3, 3, { padding: 1, activation: 'relu' }), { inShape: [2, 5, 5] }],
  ['conv2d 2x2 stride 2, no bias, activation relu', L.conv2d(2, 2, { stride: 2, bias: false, activation: 'relu' }), { inShape: [3, 4, 4] }],
  // pooling
  ['maxPool2d 2', L.maxPool2d(2), { inShape: [2, 4, 4], ...gapped }],
  ['maxPool2d 3, stride 2, padding 1', L.maxPool2d(3, { stride: 2, padding: 1 }), { inShape: [1, 5, 6], ...gapped }],
  [
    'maxPool2d [2,3], stride [1,2], same padding',
    L.maxPool2d([2, 3], { stride: [1, 2], padding: 'same' }),
    { inShape: [2, 3, 5], ...gapped },
  ],
  ['avgPool2d 2', L.avgPool2d(2), { inShape: [2, 4, 4], affineInInput: true }],
  ['avgPool2d 3, stride 1, padding 1', L.avgPool2d(3, { stride: 1, padding: 1 }), { inShape: [1, 4, 5], affineInInput: true }],
  [
    'avgPool2d [2,1], stride [2,1], same padding',
    L.avgPool2d([2, 1], { stride: [2, 1], padding: 'same' }),
    { inShape: [2, 5, 3], affineInInput: true },
  ],
  ['globalAvgPool', L.globalAvgPool, { inShape: [3, 2, 4], affineInInput: true }],
  // reshape
  ['reshape [12] → [3, 4]', L.reshape([3, 4]), { inShape: [12], affineInInput: true }],
  ['reshape [2, 3, 2] → [-1, 3]', L.reshape([-1, 3]), { inShape: [2, 3, 2], affineInInput: true }],
  // dropout: the laws fix ctx.key per sample, so the mask is fixed and the layer is linear in x
  ['dropout 0.5, train mode', L.dropout({ dropProb: 0.5 }), { inShape: [3, 4], affineInInput: true }],
  ['dropout 0.2 on images, train mode', L.dropout({ dropProb: 0.2 }), { inShape: [2, 3, 3], affineInInput: true }],
  ['dropout 0.5, eval mode (identity)', L.dropout({ dropProb: 0.5 }), { inShape: [5], affineInInput: true, mode: 'eval' }],
  // batch-norm: in train mode the statistics couple the examples, so no batch consistency
  // (on [N, F] a batch of one has no statistics: batchNorm refuses it, so batches of 2 and 3)
  [
    'batchNorm on [N, F], train mode',
    L.batchNorm(),
    { inShape: [4], linearInParams: true, batchIndependent: false, batch: { min: 2, max: 3 }, ...spread },
  ],
  [
    'batchNorm on [N, C, H, W], train mode',
    L.batchNorm({ eps: 1e-3 }),
    { inShape: [2, 3, 3], linearInParams: true, batchIndependent: false, ...spread },
  ],
  ['batchNorm on [N, F], eval mode', L.batchNorm(), { inShape: [4], mode: 'eval', affineInInput: true, linearInParams: true }],
  ['batchNorm on [N, C, H, W], eval mode', L.batchNorm(), { inShape: [2, 2, 3], mode: 'eval', affineInInput: true, linearInParams: true }],
  // combinators (their own laws, 8 and 9, are in combinators.test.ts)
  ['pipe(dense, tanh, dense)', L.pipe(L.dense(3), L.tanh, L.dense(2)), { inShape: [3] }],
  [
    'pipe(conv2d, relu, maxPool2d): the pipe fuses conv2d and relu',
    L.pipe(L.conv2d(3, 3, { padding: 1 }), L.relu, L.maxPool2d(2)),
    { inShape: [2, 4, 4], ...gapped },
  ],
  ['residual(pipe(dense, tanh))', L.residual(L.pipe(L.dense(3), L.tanh)), { inShape: [3] }],
  ['branches(sum, dense, dense): affine in x', L.branches('sum', L.dense(2), L.dense(2)), { inShape: [3], affineInInput: true }],
  ['branches(concat, dense, tanh)', L.branches('concat', L.dense(2), L.tanh), { inShape: [3] }],
]

for (const [name, layer, options] of cases) {
  describe(`${name} obeys the layer laws`, () => {
    for (const law of layerLaws(layer, { registry: IO.builtins, float32: true, ...options })) test(law.name, law.check)
  })
}

test('every kind of the built-in registry has a law case here', () => {
  const covered = new Set<string>()
  const collect = (spec: unknown): void => {
    if (Array.isArray(spec)) spec.forEach(collect)
    else if (typeof spec === 'object' && spec !== null) {
      if ('kind' in spec && typeof spec.kind === 'string') covered.add(spec.kind)
      Object.values(spec).forEach(collect)
    }
  }
  for (const [, layer] of cases) collect(layer.spec)
  expect(Object.keys(IO.builtins).filter((kind) => !covered.has(kind))).toEqual([])
})
