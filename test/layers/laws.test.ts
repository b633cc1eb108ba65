import { describe, test } from 'vitest'
import { L } from '../../src/index.ts'
import { layerLaws } from '../../laws/index.ts'

const cases: [string, L.AnyLayer, Parameters<typeof layerLaws>[1]][] = [
  ['dense', L.dense(4) as L.AnyLayer, { inShape: [3], affineInInput: true, linearInParams: true }],
  ['dense without bias, glorot', L.dense(2, { bias: false, init: 'glorot' }) as L.AnyLayer, { inShape: [5], affineInInput: true, linearInParams: true }],
  ['relu', L.relu as L.AnyLayer, { inShape: [2, 3] }],
  ['leakyRelu', L.leakyRelu(0.1) as L.AnyLayer, { inShape: [4] }],
  ['sigmoid', L.sigmoid as L.AnyLayer, { inShape: [4] }],
  ['tanh', L.tanh as L.AnyLayer, { inShape: [4] }],
  ['softmax', L.softmax as L.AnyLayer, { inShape: [5] }],
  ['flatten', L.flatten as L.AnyLayer, { inShape: [2, 3], affineInInput: true }],
  ['identity', L.identity as L.AnyLayer, { inShape: [3], affineInInput: true }],
]

for (const [name, layer, options] of cases) {
  describe(`${name} obeys the layer laws`, () => {
    for (const law of layerLaws(layer, options)) test(law.name, law.check)
  })
}
