/**
 * ReLU and leaky ReLU on special values (±0, ±∞, NaN, denormals, the largest doubles), forward
 * and vjp, compared bit for bit (the sign of zero included) with the definitions written as
 * plain branches, under every kernel family: 'reference' runs the layers' readable lines, 'js'
 * the branch-free loops (which fix −∞ in forward and non-finite dy in the vjp after the fact,
 * unrolled by 4, so the special values sit both in the unrolled body and in the remainder), and
 * 'wasm' WebAssembly on big arrays. The checks are repeated until V8 has optimised the loops.
 * Law 13: on random arrays mixing special values, every family gives the same bits.
 */
import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { Kernels, Key, L, T, type Tensor } from '../../src/index.ts'
import { MIN_ELEMENTS } from '../../src/kernels/wasm/elementwise.ts'
import { defaultSeed } from '../../laws/index.ts'

const ctx = { mode: 'train' as const, key: Key.fromSeed(0) }

/** Runs the tests of the enclosing describe under one kernel family. */
const useFamily = (family: Kernels.Choice): void => {
  let before: Kernels.Choice
  beforeEach(() => {
    before = Kernels.current()
    Kernels.use(family)
  })
  afterEach(() => Kernels.use(before))
}
const specials = [-Infinity, -Number.MAX_VALUE, -1.5, -5e-324, -0, 0, 5e-324, 2.2250738585072014e-308, 1.5, Number.MAX_VALUE, Infinity, NaN]

/** A number as text that tells −0 from +0. */
const show = (v: number): string => (Object.is(v, -0) ? '-0' : String(v))
const shown = (a: ArrayLike<number>): string[] => Array.from(a, show)

/** Every (x, dy) pair of special values, padded with ordinary numbers to a length that is not a multiple of 4. */
const pairs = (): { x: number[]; dy: number[] } => {
  const x: number[] = []
  const dy: number[] = []
  for (const a of specials) {
    for (const d of specials) {
      x.push(a)
      dy.push(d)
    }
  }
  for (let i = 0; i < 7; i++) (x.push(i - 3), dy.push(i))
  return { x, dy }
}

/** forward and vjp of an element-wise layer on one flat vector. */
const run = (layer: L.Layer<L.None, L.None, { readonly x: Tensor }>, x: number[], dy: number[]) => {
  const { y, tape } = layer.forward(L.none, L.none, T.tensor(x), ctx)
  const { dx } = layer.vjp(L.none, tape, T.tensor(dy))
  return { y: y.data, dx: dx.data }
}

/** The first index where a and b differ (Object.is), or -1. */
const firstDifference = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (!Object.is(a[i], b[i])) return i
  return -1
}

/**
 * Checks forward and vjp against the wanted values, 2000 times: V8 optimises the loops after a
 * few hundred calls, so the optimised code is checked as well as the interpreted one.
 */
const coldAndHot = (
  layer: L.Layer<L.None, L.None, { readonly x: Tensor }>,
  x: number[],
  dy: number[],
  want: { y: number[]; dx: number[] },
): void => {
  for (let round = 0; round < 2000; round++) {
    const got = run(layer, x, dy)
    if (firstDifference(got.y, want.y) >= 0 || firstDifference(got.dx, want.dx) >= 0) {
      expect({ round, y: shown(got.y), dx: shown(got.dx) }).toEqual({ round, y: shown(want.y), dx: shown(want.dx) })
    }
  }
}

const families = ['reference', 'js', 'wasm'] as const

for (const family of families) {
  describe(`relu on special values (${family} kernels)`, () => {
    useFamily(family)
    const reluRef = (a: number): number => (Number.isNaN(a) ? NaN : a > 0 ? a : 0)
    const gradRef = (a: number, d: number): number => (a > 0 ? d : 0)

    test('relu(x) = x for x > 0, +0 otherwise (−0 and −∞ too); NaN propagates', () => {
      const { y } = run(L.relu, specials, specials)
      expect(shown(y)).toEqual([
        '0',
        '0',
        '0',
        '0',
        '0',
        '0',
        '5e-324',
        '2.2250738585072014e-308',
        '1.5',
        String(Number.MAX_VALUE),
        'Infinity',
        'NaN',
      ])
    })

    test('the vjp is dy where x > 0 and exactly +0 elsewhere, even for dy = ±∞ or NaN; dy = −0 passes as −0', () => {
      const { dx } = run(
        L.relu,
        [-1, -1, -1, -0, -Infinity, NaN, 2, 2, 2, 5e-324],
        [Infinity, -Infinity, NaN, NaN, -Infinity, Infinity, -0, NaN, -Infinity, -5e-324],
      )
      expect(shown(dx)).toEqual(['0', '0', '0', '0', '0', '0', '-0', 'NaN', '-Infinity', '-5e-324'])
    })

    test('every pair of special values, in the unrolled loop and its remainder, before and after optimisation', () => {
      const { x, dy } = pairs()
      coldAndHot(L.relu, x, dy, { y: x.map(reluRef), dx: x.map((a, i) => gradRef(a, dy[i]!)) })
      // the last values again, alone in the remainder loop (length 3)
      for (const a of specials) {
        const got = run(L.relu, [1, 2, a], [Infinity, NaN, -Infinity])
        expect(shown(got.y)).toEqual(shown([1, 2, reluRef(a)]))
        expect(shown(got.dx)).toEqual(shown([Infinity, NaN, gradRef(a, -Infinity)]))
      }
    })

    test('a large random tensor: the same values as the branching definition', () => {
      const x = Key.normal(Key.fromSeed(1), [64, 8, 28, 28])
      const dy = Key.normal(Key.fromSeed(2), x.shape)
      const { y, tape } = L.relu.forward(L.none, L.none, x, ctx)
      const { dx } = L.relu.vjp(L.none, tape, dy)
      for (let i = 0; i < x.data.length; i++) {
        if (!Object.is(y.data[i], reluRef(x.data[i]!)) || !Object.is(dx.data[i], gradRef(x.data[i]!, dy.data[i]!)))
          throw new Error(`relu differs at ${i}`)
      }
    })
  })

  describe(`leakyRelu on special values (${family} kernels)`, () => {
    useFamily(family)
    for (const alpha of [0.1, 0, -0.5]) {
      test(`α = ${alpha}: y = x for x > 0, else α·x; dx = dy or α·dy, for every pair of special values`, () => {
        const { x, dy } = pairs()
        coldAndHot(L.leakyRelu(alpha), x, dy, {
          y: x.map((a) => (a > 0 ? a : alpha * a)),
          dx: x.map((a, i) => (a > 0 ? dy[i]! : alpha * dy[i]!)),
        })
      })
    }

    test('NaN propagates and −0 stays −0 (α·(−0))', () => {
      const { y } = run(L.leakyRelu(0.01), [NaN, -0, -Infinity], [1, 1, 1])
      expect(shown(y)).toEqual(['NaN', '-0', '-Infinity'])
    })
  })
}

describe("law 13: every kernel family gives the readable definition's bits, on random arrays mixing special values", () => {
  const specialsAndNormals = fc.oneof(fc.constantFrom(...specials), fc.double({ min: -3, max: 3, noNaN: true }))
  /** x and dy of n values: a random pattern of specials and normals, repeated (arrays past the WebAssembly threshold stay cheap). */
  const arrays = fc
    .tuple(
      fc.array(fc.tuple(specialsAndNormals, specialsAndNormals), { minLength: 1, maxLength: 64 }),
      fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: MIN_ELEMENTS - 3, max: 2 * MIN_ELEMENTS + 5 })),
    )
    .map(([pattern, n]) => ({
      x: T.fromData(
        [n],
        Float64Array.from({ length: n }, (_, i) => pattern[i % pattern.length]![0]),
      ),
      dy: T.fromData(
        [n],
        Float64Array.from({ length: n }, (_, i) => pattern[(i * 7 + 3) % pattern.length]![1]),
      ),
    }))
  const layers = [L.relu, L.leakyRelu(0.1), L.leakyRelu(0), L.leakyRelu(-0.5)]
  test.each(layers.map((l) => [JSON.stringify(l.spec), l] as const))(
    '%s: y and dx of js and wasm equal reference, bit for bit',
    (_name, layer) => {
      fc.assert(
        fc.property(arrays, ({ x, dy }) => {
          const [want, ...others] = families.map((family) =>
            Kernels.using(family, () => run(layer, Array.from(x.data), Array.from(dy.data))),
          )
          for (const [k, got] of others.entries()) {
            expect([families[k + 1], firstDifference(got.y, want!.y), firstDifference(got.dx, want!.dx)]).toEqual([families[k + 1], -1, -1])
          }
        }),
        { seed: defaultSeed(), numRuns: 60 },
      )
    },
  )
})
