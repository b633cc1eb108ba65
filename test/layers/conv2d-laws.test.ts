/**
 * The layer laws (DESIGN.md 1-7) on every layer of the convolutional-network issue: conv2d,
 * max/avg/global pooling, reshape, dropout and batch-norm; law 10 on random conv stacks; and the
 * directional law on a LeNet-like network with batch-norm and dropout. Shapes are small, so
 * the per-coordinate law runs wherever x and params hold ≤ 300 numbers; the directional law
 * runs everywhere.
 */
import { describe, test } from 'vitest'
import { Kernels, L, type Shape } from '../../src/index.ts'
import { layerLaws, type CheckLayerOptions } from '../../laws/index.ts'
import { checkRandomConvNetworks, distinctValues, jittered } from '../../laws/random-conv-network.ts'

type Case = readonly [string, L.AnyLayer, CheckLayerOptions]

/** Max-pool inputs: distinct values, so the top two of every window are far apart. */
const gapped = { input: (shape: Shape) => distinctValues(shape) }
/**
 * Batch-norm inputs in train mode: spread-out values too. With near-equal values in a feature
 * (σ² ≪ ε), x̂ bends on the scale of the finite-difference step and central differences lose
 * the accuracy the law asks for.
 */
const spread = gapped

const cases: Case[] = [
  // conv2d is affine in x, and linear in (W, b) jointly
  ['conv2d 3x3, 2→3 channels, bias', L.conv2d(3, 3) as L.AnyLayer, { inShape: [2, 5, 5], affineInInput: true, linearInParams: true }],
  ['conv2d [2,3] kernel, stride [2,1], same padding, dilation [1,2], no bias', L.conv2d(2, [2, 3], { stride: [2, 1], padding: 'same', dilation: [1, 2], bias: false }) as L.AnyLayer, { inShape: [1, 6, 5], affineInInput: true, linearInParams: true }],
  ['conv2d 2x2, stride 2, padding [1, 0]', L.conv2d(2, 2, { stride: 2, padding: [1, 0] }) as L.AnyLayer, { inShape: [3, 4, 4], affineInInput: true, linearInParams: true }],
  ['conv2d 1x1 (a per-pixel dense layer)', L.conv2d(3, 1, { init: 'glorot' }) as L.AnyLayer, { inShape: [2, 3, 3], affineInInput: true, linearInParams: true }],
  ['conv2d 3x3 pad 1, 3→4 channels on 8x8 (directional only)', L.conv2d(4, 3, { padding: 1 }) as L.AnyLayer, { inShape: [3, 8, 8], affineInInput: true, linearInParams: true, numRuns: 30 }],
  // conv2d with the fused relu: piecewise linear (random inputs land on a kink with probability ~0)
  ['conv2d 3x3 pad 1, 2→3 channels, activation relu', L.conv2d(3, 3, { padding: 1, activation: 'relu' }) as L.AnyLayer, { inShape: [2, 5, 5] }],
  ['conv2d 2x2 stride 2, no bias, activation relu', L.conv2d(2, 2, { stride: 2, bias: false, activation: 'relu' }) as L.AnyLayer, { inShape: [3, 4, 4] }],
  ['pipe(conv2d, relu, maxPool2d): the pipe fuses conv2d and relu', L.pipe(L.conv2d(3, 3, { padding: 1 }), L.relu, L.maxPool2d(2)) as L.AnyLayer, { inShape: [2, 4, 4], ...gapped }],
  // pooling
  ['maxPool2d 2', L.maxPool2d(2) as L.AnyLayer, { inShape: [2, 4, 4], ...gapped }],
  ['maxPool2d 3, stride 2, padding 1', L.maxPool2d(3, { stride: 2, padding: 1 }) as L.AnyLayer, { inShape: [1, 5, 6], ...gapped }],
  ['maxPool2d [2,3], stride [1,2], same padding', L.maxPool2d([2, 3], { stride: [1, 2], padding: 'same' }) as L.AnyLayer, { inShape: [2, 3, 5], ...gapped }],
  ['avgPool2d 2', L.avgPool2d(2) as L.AnyLayer, { inShape: [2, 4, 4], affineInInput: true }],
  ['avgPool2d 3, stride 1, padding 1', L.avgPool2d(3, { stride: 1, padding: 1 }) as L.AnyLayer, { inShape: [1, 4, 5], affineInInput: true }],
  ['avgPool2d [2,1], stride [2,1], same padding', L.avgPool2d([2, 1], { stride: [2, 1], padding: 'same' }) as L.AnyLayer, { inShape: [2, 5, 3], affineInInput: true }],
  ['globalAvgPool', L.globalAvgPool as L.AnyLayer, { inShape: [3, 2, 4], affineInInput: true }],
  // reshape
  ['reshape [12] → [3, 4]', L.reshape([3, 4]) as L.AnyLayer, { inShape: [12], affineInInput: true }],
  ['reshape [2, 3, 2] → [-1, 3]', L.reshape([-1, 3]) as L.AnyLayer, { inShape: [2, 3, 2], affineInInput: true }],
  // dropout: the laws fix ctx.key per sample, so the mask is fixed and the layer is linear in x
  ['dropout 0.5, train mode', L.dropout({ dropProb: 0.5 }) as L.AnyLayer, { inShape: [3, 4], affineInInput: true }],
  ['dropout 0.2 on images, train mode', L.dropout({ dropProb: 0.2 }) as L.AnyLayer, { inShape: [2, 3, 3], affineInInput: true }],
  ['dropout 0.5, eval mode (identity)', L.dropout({ dropProb: 0.5 }) as L.AnyLayer, { inShape: [5], affineInInput: true, mode: 'eval' }],
  // batch-norm: in train mode the statistics couple the examples, so no batch consistency
  // (on [N, F] a batch of one has no statistics: batchNorm refuses it, so batches of 2 and 3)
  ['batchNorm on [N, F], train mode', L.batchNorm() as L.AnyLayer, { inShape: [4], linearInParams: true, batchIndependent: false, batch: { min: 2, max: 3 }, ...spread }],
  ['batchNorm on [N, C, H, W], train mode', L.batchNorm({ eps: 1e-3 }) as L.AnyLayer, { inShape: [2, 3, 3], linearInParams: true, batchIndependent: false, ...spread }],
  ['batchNorm on [N, F], eval mode', L.batchNorm() as L.AnyLayer, { inShape: [4], mode: 'eval', affineInInput: true, linearInParams: true }],
  ['batchNorm on [N, C, H, W], eval mode', L.batchNorm() as L.AnyLayer, { inShape: [2, 2, 3], mode: 'eval', affineInInput: true, linearInParams: true }],
]

for (const [name, layer, options] of cases) {
  describe(`${name} obeys the layer laws`, () => {
    for (const law of layerLaws(layer, options)) test(law.name, law.check)
  })
}

describe('conv2d on the naive reference kernels obeys the layer laws', () => {
  const layer = L.conv2d(2, [3, 2], { stride: [1, 2], padding: 1, dilation: [2, 1] }) as L.AnyLayer
  for (const law of layerLaws(layer, { inShape: [2, 5, 4], affineInInput: true, linearInParams: true, numRuns: 40 })) {
    test(law.name, () => Kernels.using('reference', law.check))
  }
})

describe('a LeNet-like stack with batch-norm and dropout (train mode) passes the directional law', () => {
  const net = jittered(
    L.pipe(
      L.conv2d(3, 3, { padding: 'same', bias: false }),
      L.batchNorm(),
      L.relu,
      L.maxPool2d(2),
      L.conv2d(4, 2),
      L.tanh,
      L.dropout({ dropProb: 0.3 }),
      L.flatten,
      L.dense(3),
    ) as L.AnyLayer,
  )
  const laws = layerLaws(net, { inShape: [1, 6, 6], batch: { min: 2, max: 3 }, batchIndependent: false, input: distinctValues, numRuns: 30 })
  for (const law of laws.filter((l) => !l.name.includes('per coordinate'))) test(law.name, law.check)
})

test('law 10: random conv networks pass the directional gradient check', () => checkRandomConvNetworks({ numRuns: 150 }))
