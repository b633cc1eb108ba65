/**
 * Laws on convolutional networks (the layer cases of conv2d, pooling, reshape, dropout and
 * batch-norm are in laws.test.ts): conv2d on the naive reference kernels, the directional law on
 * a LeNet-like network with batch-norm and dropout, and law 10 on random conv stacks.
 */
import { describe, test } from 'vitest'
import { Kernels, L } from '../../src/index.ts'
import { layerLaws } from '../../laws/index.ts'
import { checkRandomConvNetworks, distinctValues, jittered } from '../../laws/random-conv-network.ts'

describe('conv2d on the naive reference kernels obeys the layer laws', () => {
  const layer = L.conv2d(2, [3, 2], { stride: [1, 2], padding: 1, dilation: [2, 1] })
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
    ),
  )
  const laws = layerLaws(net, {
    inShape: [1, 6, 6],
    batch: { min: 2, max: 3 },
    batchIndependent: false,
    input: distinctValues,
    numRuns: 30,
  })
  for (const law of laws.filter((l) => !l.name.includes('per coordinate'))) test(law.name, law.check)
})

test('law 10: random conv networks pass the directional gradient check', () => checkRandomConvNetworks({ numRuns: 150 }))
