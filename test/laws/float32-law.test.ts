/**
 * Law 14 as chainrule/laws gives it for any layer (`checkLayer(layer, { inShape, float32: true })`):
 * a custom layer written with T's operations passes it; a custom layer that drops to float64, or
 * computes something else in float32, fails it, and the message says which.
 */
import { describe, expect, test } from 'vitest'
import { L, T } from '../../src/index.ts'
import { checkLayer, layerLaws } from '../../laws/index.ts'

const run = { numRuns: 15, float32: true } as const

describe('law 14 for any layer: float32 keeps its dtype and agrees with float64', () => {
  // chainrule's own layers: test/layers/laws.test.ts runs this law on every built-in kind.
  const swish = L.define({
    name: 'swish',
    forward: (_p, x) => {
      const s = T.map((v) => 1 / (1 + Math.exp(-v)))(x)
      return { y: T.mul(x, s), tape: { x, s } }
    },
    vjp: (_p, { x, s }, dy) => ({ dx: T.mul(dy, T.add(s, T.mul(T.mul(x, s), T.map((v) => 1 - v)(s)))), dp: L.none }),
  })

  test('a custom layer written with T’s operations passes (they follow their inputs’ dtype)', () => {
    expect(() => checkLayer(swish, { inShape: [4], ...run })).not.toThrow()
  })

  const law14 = (layer: L.AnyLayer): (() => void) => {
    const law = layerLaws(layer, { inShape: [4], ...run }).find((l) => l.name.includes('14.'))
    expect(law).toBeDefined()
    return law!.check
  }

  test('a custom layer that always answers in float64 fails, naming what it returned', () => {
    const float64Only = L.define({
      name: 'float64Only',
      forward: (_p, x) => ({
        y: T.fromData(
          x.shape,
          Float64Array.from(x.data, (v) => 2 * v),
        ),
        tape: null,
      }),
      vjp: (_p, _tape, dy) => ({ dx: T.scale(2, dy), dp: L.none }),
    })
    expect(law14(float64Only)).toThrow(/in float32, y holds a Float64Array: the layer must keep its inputs' dtype/)
    // and says what makes float64, and what to use instead
    expect(law14(float64Only)).toThrow(/\(T\.generate, T\.tensor, T\.scalar and T\.fromData always make float64; build results with T\.map/)
  })

  test('a custom layer whose float32 path computes something else fails, naming the result and the element', () => {
    const offInFloat32 = L.define({
      name: 'offInFloat32',
      forward: (_p, x) => ({ y: T.scale(T.isFloat32(x) ? 1.001 : 1, x), tape: null }),
      vjp: (_p, _tape, dy) => ({ dx: dy, dp: L.none }),
    })
    expect(law14(offInFloat32)).toThrow(/y, float32 against float64: element \d+ is/)
  })

  test('law 14 is opt in: without float32, checkLayer leaves it out', () => {
    expect(layerLaws(swish, { inShape: [4] }).some((l) => l.name.includes('14.'))).toBe(false)
  })
})
