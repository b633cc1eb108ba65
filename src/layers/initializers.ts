/**
 * Weight initialisers: the scale of a weight tensor's random start, from its fan-in (inputs per
 * output) and fan-out. Biases start at zero.
 *
 *   he      normal, std √(2 / fanIn)              (for ReLU networks; the default)
 *   glorot  uniform in ±√(6 / (fanIn + fanOut))
 *   lecun   normal, std √(1 / fanIn)
 *   zeros   all 0
 */
import * as Key from '../key.ts'
import * as T from '../tensor/index.ts'
import type { Shape, Tensor } from '../tensor/tensor.ts'
import { oneOf } from '../io/codecs.ts'

/** The initialiser names, as options and specs spell them. */
export const initializers = ['he', 'glorot', 'lecun', 'zeros'] as const

/** A weight initialiser: 'he', 'glorot', 'lecun' or 'zeros'. */
export type Initializer = (typeof initializers)[number]

/** The codec of an initialiser field in a spec. */
export const InitializerCodec = oneOf(...initializers)

/** Draws a weight tensor of `shape` with the initialiser's scale for its fan-in and fan-out. */
export const initWeights = (key: Key.Key, shape: Shape, fanIn: number, fanOut: number, init: Initializer): Tensor => {
  switch (init) {
    case 'he':
      return Key.normal(key, shape, 0, Math.sqrt(2 / fanIn))
    case 'lecun':
      return Key.normal(key, shape, 0, Math.sqrt(1 / fanIn))
    case 'glorot': {
      const a = Math.sqrt(6 / (fanIn + fanOut))
      return Key.uniform(key, shape, -a, a)
    }
    case 'zeros':
      return T.zeros(shape)
  }
}
