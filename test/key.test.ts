import { describe, expect, expectTypeOf, it } from 'vitest'
import fc from 'fast-check'
import * as K from '../src/key.ts'
import type { Key } from '../src/key.ts'

const SEED = Number(process.env.CHAINRULE_SEED ?? 42)
const fcParams = { seed: SEED, numRuns: 100 }

const word = fc.integer({ min: 0, max: 0xffffffff })
const arbKey: fc.Arbitrary<Key> = fc.record({ k0: word, k1: word })
const base = K.fromSeed(SEED)

// ---------------------------------------------------------------------------------------------
// Statistics. Every bound is Z standard errors of the estimator, computed from the exact moments
// of the target distribution. Z = 5 puts a correct generator outside the bound with probability
// about 6e-7 per check, so a failure means a bug, not bad luck, whatever CHAINRULE_SEED is.

const Z = 5

const mean = (xs: ArrayLike<number>): number => {
  let s = 0
  for (let i = 0; i < xs.length; i++) s += xs[i]!
  return s / xs.length
}

const variance = (xs: ArrayLike<number>): number => {
  const m = mean(xs)
  let s = 0
  for (let i = 0; i < xs.length; i++) s += (xs[i]! - m) ** 2
  return s / (xs.length - 1)
}

/** Asserts |sample mean - mu| <= Z * sigma / sqrt(n). */
const expectMean = (xs: ArrayLike<number>, mu: number, sigma2: number): void => {
  expect(Math.abs(mean(xs) - mu)).toBeLessThanOrEqual(Z * Math.sqrt(sigma2 / xs.length))
}

/** Asserts the sample variance is within Z standard errors, SE = sqrt((mu4 - sigma^4) / n). */
const expectVariance = (xs: ArrayLike<number>, sigma2: number, mu4: number): void => {
  expect(Math.abs(variance(xs) - sigma2)).toBeLessThanOrEqual(Z * Math.sqrt((mu4 - sigma2 ** 2) / xs.length))
}

/** Asserts a count of hits in n trials is within Z binomial standard errors of n p. */
const expectProportion = (hits: number, n: number, p: number): void => {
  expect(Math.abs(hits / n - p)).toBeLessThanOrEqual(Z * Math.sqrt((p * (1 - p)) / n))
}

/** Pearson's statistic sum (O - E)^2 / E. */
const chiSquare = (observed: readonly number[], expected: number): number =>
  observed.reduce((s, o) => s + (o - expected) ** 2 / expected, 0)

/** The chi-square quantile with `df` degrees of freedom at one-sided normal deviate Z (Wilson-Hilferty). */
const chiSquareBound = (df: number): number => df * (1 - 2 / (9 * df) + Z * Math.sqrt(2 / (9 * df))) ** 3

/** Products of neighbours (x[i] - mu)(x[i+1] - mu): mean 0 and variance sigma^4 when draws are independent. */
const lagProducts = (xs: ArrayLike<number>, mu: number): number[] =>
  Array.from({ length: xs.length - 1 }, (_, i) => (xs[i]! - mu) * (xs[i + 1]! - mu))

const hex = (ws: ArrayLike<number>): string[] => Array.from(ws, (w) => `0x${w.toString(16).padStart(8, '0')}`)
const keyOf = ([k0, k1]: readonly [number, number]): Key => ({ k0, k1 })
const sameKey = (a: Key, b: Key): boolean => a.k0 === b.k0 && a.k1 === b.k1

// ---------------------------------------------------------------------------------------------

describe('threefry2x32', () => {
  it('matches the Random123 known-answer vectors for threefry2x32_20', () => {
    // From Random123's kat_vectors, lines "threefry2x32 20 <ctr0> <ctr1> <key0> <key1> <out0> <out1>".
    const kat: readonly (readonly [readonly [number, number], Key, readonly [number, number]])[] = [
      [[0x00000000, 0x00000000], { k0: 0x00000000, k1: 0x00000000 }, [0x6b200159, 0x99ba4efe]],
      [[0xffffffff, 0xffffffff], { k0: 0xffffffff, k1: 0xffffffff }, [0x1cb996fc, 0xbb002be7]],
      [[0x243f6a88, 0x85a308d3], { k0: 0x13198a2e, k1: 0x03707344 }, [0xc4923a9c, 0x483df7a0]],
    ]
    for (const [counter, key, out] of kat) expect(hex(K.threefry2x32(key, counter))).toEqual(hex(out))
  })

  it('fromSeed(s) is threefry2x32 of the counter (lo32 s, hi32 s) under key (0, 0) (seed 0 gives the first KAT output)', () => {
    expect(K.show(K.fromSeed(0))).toBe('Key(0x6b200159, 0x99ba4efe)')
    // -1 is all ones in 64-bit two's complement; 2^32 + 7 has high word 1 and low word 7.
    expect(K.fromSeed(-1)).toEqual(keyOf(K.threefry2x32({ k0: 0, k1: 0 }, [0xffffffff, 0xffffffff])))
    expect(K.fromSeed(2 ** 32 + 7)).toEqual(keyOf(K.threefry2x32({ k0: 0, k1: 0 }, [7, 1])))
  })
})

describe('golden values', () => {
  // Computed once and checked in: they pin cross-platform bit-identity and the stream layout.
  // If one changes, every saved seed and checkpoint in the wild silently changes meaning.
  it('bits(fromSeed(0), 4), split(fromSeed(0)) and foldIn(fromSeed(0), 1) are the checked-in words', () => {
    const k = K.fromSeed(0)
    expect(hex(K.bits(k, 4))).toEqual(['0xf84e8312', '0x2fef64f3', '0x62d8fba1', '0x188dde0d'])
    expect(K.split(k).map(K.show)).toEqual(['Key(0x50afc224, 0x7e1f9c78)', 'Key(0xa0d6e4a4, 0xe5b62047)'])
    expect(K.show(K.foldIn(k, 1))).toBe('Key(0xf306ad99, 0x5825ecca)')
  })

  it('uniform and permutation of fromSeed(0) are the checked-in values (exact arithmetic, no libm)', () => {
    const k = K.fromSeed(0)
    expect(Array.from(K.uniform(k, [3]).data)).toEqual([0.9699479951504365, 0.38612339717086197, 0.4411638468429663])
    expect(Array.from(K.permutation(k, 10))).toEqual([2, 7, 9, 6, 8, 4, 3, 1, 5, 0])
  })
})

describe('determinism and stream layout', () => {
  it('the same key gives identical results from every sampler', () => {
    fc.assert(
      fc.property(arbKey, fc.integer({ min: 0, max: 50 }), (key, n) => {
        expect(K.bits(key, n)).toEqual(K.bits({ ...key }, n))
        expect(K.uniform(key, [n], -1, 2).data).toEqual(K.uniform(key, [n], -1, 2).data)
        expect(K.normal(key, [n]).data).toEqual(K.normal(key, [n]).data)
        expect(K.truncatedNormal(key, [n]).data).toEqual(K.truncatedNormal(key, [n]).data)
        expect(K.permutation(key, n)).toEqual(K.permutation(key, n))
        expect(K.randint(key, [n], -3, 9).data).toEqual(K.randint(key, [n], -3, 9).data)
        expect(K.bernoulli(key, [n], 0.3).data).toEqual(K.bernoulli(key, [n], 0.3).data)
        expect(K.split(key, 3)).toEqual(K.split(key, 3))
        expect(K.foldIn(key, n)).toEqual(K.foldIn(key, n))
      }),
      fcParams,
    )
  })

  it('bits(key, n) is a prefix of bits(key, m) for n <= m, and split(key, n)[i] does not depend on n', () => {
    fc.assert(
      fc.property(arbKey, fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 40 }), (key, a, b) => {
        const [n, m] = a <= b ? [a, b] : [b, a]
        expect(K.bits(key, n)).toEqual(K.bits(key, m).slice(0, n))
        expect(K.split(key, n)).toEqual(K.split(key, m).slice(0, n))
        expect(K.split2(key)).toEqual(K.split(key, 2))
        expect(K.split(key)).toEqual(K.split(key, 2))
      }),
      fcParams,
    )
  })

  it('shapes are kept and sizes follow the shape (a scalar shape [] gives one value)', () => {
    expect(K.uniform(base, [2, 3]).shape).toEqual([2, 3])
    expect(K.normal(base, []).data.length).toBe(1)
    expect(K.randint(base, [4, 0, 2], 0, 5).data.length).toBe(0)
    expect(K.bernoulli(base, [7], 0.5).shape).toEqual([7])
    expect(K.normal(base, [5]).data.slice(0, 4)).toEqual(K.normal(base, [4]).data)
  })
})

describe('split, foldIn, fromSeed', () => {
  it('split is typed as a tuple of n keys for a literal n up to 16 (destructured keys are Keys, not Key | undefined)', () => {
    const [a, b] = K.split(base)
    const [c, , e] = K.split(base, 3)
    expectTypeOf(a).toEqualTypeOf<Key>()
    expectTypeOf(e).toEqualTypeOf<Key>()
    expectTypeOf(K.split(base, 16)).toMatchTypeOf<{ readonly length: 16 }>()
    expectTypeOf(K.split(base, 17)).toEqualTypeOf<readonly Key[]>()
    const n: number = 4
    expectTypeOf(K.split(base, n)).toEqualTypeOf<readonly Key[]>()
    // and at run time the tuple types hold: n keys, the first ones the same for every n
    expect([a, b]).toEqual(K.split(base, 2))
    expect(K.split(base, 3)).toHaveLength(3)
    expect(c).toEqual(a)
    expect(K.split(base, n)).toHaveLength(4)
  })
  it('split children differ from each other, from the parent and from every block of the parent stream', () => {
    fc.assert(
      fc.property(arbKey, (key) => {
        const children = K.split(key, 32)
        const stream = K.bits(key, 64)
        const seen = new Set<string>([K.show(key)])
        for (let j = 0; j < 32; j++) seen.add(K.show({ k0: stream[2 * j]!, k1: stream[2 * j + 1]! }))
        const firstWords = new Set<number>()
        for (const c of children) {
          expect(seen.has(K.show(c))).toBe(false)
          seen.add(K.show(c))
          firstWords.add(K.bits(c, 1)[0]!)
        }
        expect(seen.size).toBe(1 + 32 + 32)
        // The children's own streams differ too (32 distinct first words; a collision among 32
        // uniform words has probability < 2^-22, so this is a check on the derivation, not luck).
        expect(firstWords.size).toBe(32)
      }),
      fcParams,
    )
  })

  it('foldIn maps distinct integers to distinct keys, none equal to the parent', () => {
    fc.assert(
      fc.property(arbKey, fc.maxSafeInteger(), fc.maxSafeInteger(), (key, a, b) => {
        fc.pre(a !== b)
        expect(sameKey(K.foldIn(key, a), K.foldIn(key, b))).toBe(false)
      }),
      fcParams,
    )
    const steps = new Set(Array.from({ length: 1000 }, (_, i) => K.show(K.foldIn(base, i))))
    expect(steps.size).toBe(1000)
    expect(steps.has(K.show(base))).toBe(false)
  })

  it('fromSeed maps distinct safe integers to distinct keys and uses the high 32 bits', () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), fc.maxSafeInteger(), (a, b) => {
        fc.pre(a !== b)
        expect(sameKey(K.fromSeed(a), K.fromSeed(b))).toBe(false)
      }),
      fcParams,
    )
    expect(sameKey(K.fromSeed(2 ** 32), K.fromSeed(0))).toBe(false)
    expect(sameKey(K.fromSeed(-1), K.fromSeed(2 ** 32 - 1))).toBe(false)
    expect(sameKey(K.fromSeed(Number.MAX_SAFE_INTEGER), K.fromSeed(Number.MIN_SAFE_INTEGER))).toBe(false)
  })

  it('keys are frozen plain values that survive a JSON round trip', () => {
    const k = K.split(base, 3)[2]!
    expect(Object.isFrozen(k)).toBe(true)
    const back: unknown = JSON.parse(JSON.stringify(k))
    expect(K.isKey(back)).toBe(true)
    expect(K.bits(back as Key, 8)).toEqual(K.bits(k, 8))
  })

  it('show prints both words as 8 hex digits', () => {
    expect(K.show({ k0: 0x12345678, k1: 0x9abcdef0 })).toBe('Key(0x12345678, 0x9abcdef0)')
    expect(K.show({ k0: 1, k1: 0 })).toBe('Key(0x00000001, 0x00000000)')
  })
})

describe('uniform', () => {
  it('stays in [lo, hi) for any finite lo < hi', () => {
    const bound = fc.double({ min: -1e6, max: 1e6, noNaN: true })
    fc.assert(
      fc.property(arbKey, bound, bound, (key, a, b) => {
        fc.pre(a !== b)
        const [lo, hi] = a < b ? [a, b] : [b, a]
        for (const x of K.uniform(key, [64], lo, hi).data) {
          expect(x).toBeGreaterThanOrEqual(lo)
          expect(x).toBeLessThan(hi)
        }
      }),
      fcParams,
    )
  })

  it('stays below hi even when rounding lo + width * u would reach it (one-ulp interval)', () => {
    const hi = 1 + 2 ** -52
    expect(K.uniform(base, [1000], 1, hi).data.every((x) => x === 1)).toBe(true)
  })

  it('has the mean (lo+hi)/2 and variance (hi-lo)^2/12 of U[lo, hi) within 5 standard errors (n = 100k)', () => {
    const lo = -2
    const hi = 3
    const w = hi - lo
    const xs = K.uniform(base, [100_000], lo, hi).data
    expectMean(xs, (lo + hi) / 2, w ** 2 / 12)
    expectVariance(xs, w ** 2 / 12, w ** 4 / 80)
  })

  it('neighbouring draws are uncorrelated (mean lag-1 product within 5 standard errors of 0)', () => {
    expectMean(lagProducts(K.uniform(K.foldIn(base, 5), [100_000]).data, 0.5), 0, (1 / 12) ** 2)
  })

  it('fills 20 equal bins evenly (chi-square, 19 df, n = 100k)', () => {
    const bins = Array.from({ length: 20 }, () => 0)
    const xs = K.uniform(K.foldIn(base, 1), [100_000]).data
    for (const x of xs) bins[Math.floor(x * 20)]! += 1
    expect(chiSquare(bins, xs.length / 20)).toBeLessThan(chiSquareBound(19))
  })
})

describe('normal', () => {
  it('has the given mean and std within 5 standard errors (n = 100k)', () => {
    const mu = 1.5
    const sigma = 2
    const xs = K.normal(base, [100_000], mu, sigma).data
    expectMean(xs, mu, sigma ** 2)
    expectVariance(xs, sigma ** 2, 3 * sigma ** 4) // normal fourth central moment: 3 sigma^4
  })

  it('puts P(|z| < 1) = 0.6827 of the mass within one std (binomial, n = 100k)', () => {
    const xs = K.normal(K.foldIn(base, 2), [100_000]).data
    const inside = xs.filter((x) => Math.abs(x) < 1).length
    expectProportion(inside, xs.length, 0.6826894921370859) // erf(1 / sqrt 2)
  })

  it('neighbouring draws, including the two halves of each Box-Muller pair, are uncorrelated', () => {
    expectMean(lagProducts(K.normal(K.foldIn(base, 6), [100_000]).data, 0), 0, 1)
  })

  it('is finite everywhere and std = 0 gives the mean', () => {
    expect(K.normal(base, [10_000]).data.every(Number.isFinite)).toBe(true)
    expect(K.normal(base, [5], 3, 0).data.every((x) => x === 3)).toBe(true)
  })
})

describe('truncatedNormal', () => {
  it('stays within mean +- 2 std and has the truncated-normal variance within 5 standard errors', () => {
    const mu = -1
    const sigma = 0.5
    const xs = K.truncatedNormal(base, [100_000], mu, sigma).data
    expect(xs.every((x) => Math.abs(x - mu) <= 2 * sigma)).toBe(true)
    // Standard normal cut to [-a, a]: with P = 2 Phi(a) - 1 and phi the density,
    // E z^2 = 1 - 2 a phi(a) / P and E z^4 = 3 - 2 (a^3 + 3 a) phi(a) / P.
    const a = 2
    const phi = Math.exp(-(a ** 2) / 2) / Math.sqrt(2 * Math.PI)
    const P = 2 * 0.9772498680518208 - 1 // Phi(2)
    const m2 = 1 - (2 * a * phi) / P
    const m4 = 3 - (2 * (a ** 3 + 3 * a) * phi) / P
    expectMean(xs, mu, sigma ** 2 * m2)
    expectVariance(xs, sigma ** 2 * m2, sigma ** 4 * m4)
  })
})

describe('permutation', () => {
  it('is a permutation of 0..n-1', () => {
    fc.assert(
      fc.property(arbKey, fc.integer({ min: 0, max: 300 }), (key, n) => {
        const p = K.permutation(key, n)
        expect(p.length).toBe(n)
        expect(Array.from(p).sort((x, y) => x - y)).toEqual(Array.from({ length: n }, (_, i) => i))
      }),
      fcParams,
    )
  })

  it('sends every element to every position equally often (chi-square over the 6x6 table, 25 df)', () => {
    const n = 6
    const trials = 12_000
    const counts = Array.from({ length: n * n }, () => 0)
    for (const k of K.split(base, trials)) {
      const p = K.permutation(k, n)
      for (let pos = 0; pos < n; pos++) counts[p[pos]! * n + pos]! += 1
    }
    // Row and column totals are fixed at `trials`, so the statistic has (n - 1)^2 degrees of freedom.
    expect(chiSquare(counts, trials / n)).toBeLessThan(chiSquareBound((n - 1) ** 2))
  })

  it('makes all 24 orderings of 4 elements equally likely (chi-square, 23 df)', () => {
    const trials = 24_000
    const counts = new Map<string, number>()
    for (const k of K.split(K.foldIn(base, 3), trials)) {
      const s = K.permutation(k, 4).join()
      counts.set(s, (counts.get(s) ?? 0) + 1)
    }
    expect(counts.size).toBe(24)
    expect(chiSquare([...counts.values()], trials / 24)).toBeLessThan(chiSquareBound(23))
  })
})

describe('randint', () => {
  it('gives integers in [lo, hi)', () => {
    fc.assert(
      fc.property(arbKey, fc.integer({ min: -1000, max: 1000 }), fc.integer({ min: 1, max: 2 ** 32 }), (key, lo, m) => {
        for (const x of K.randint(key, [32], lo, lo + m).data) {
          expect(Number.isInteger(x)).toBe(true)
          expect(x).toBeGreaterThanOrEqual(lo)
          expect(x).toBeLessThan(lo + m)
        }
      }),
      fcParams,
    )
  })

  it('hits each of 7 values equally often (chi-square, 6 df, n = 100k)', () => {
    const counts = Array.from({ length: 7 }, () => 0)
    const xs = K.randint(base, [100_000], -3, 4).data
    for (const x of xs) counts[x + 3]! += 1
    expect(chiSquare(counts, xs.length / 7)).toBeLessThan(chiSquareBound(6))
  })

  it('has no modulo bias: over [0, 3 * 2^30) the lowest third gets 1/3, not the 1/2 that word % m gives', () => {
    const m = 3 * 2 ** 30
    const xs = K.randint(K.foldIn(base, 4), [100_000], 0, m).data
    expectProportion(xs.filter((x) => x < 2 ** 30).length, xs.length, 1 / 3)
  })

  it('a one-value range always gives lo', () => {
    expect(K.randint(base, [10], 5, 6).data.every((x) => x === 5)).toBe(true)
  })
})

describe('bernoulli', () => {
  it('is 1 with probability p within 5 standard errors (n = 100k)', () => {
    const p = 0.3
    const xs = K.bernoulli(base, [100_000], p).data
    expect(xs.every((x) => x === 0 || x === 1)).toBe(true)
    expectProportion(xs.filter((x) => x === 1).length, xs.length, p)
  })

  it('p = 0 never gives 1 and p = 1 always does', () => {
    expect(K.bernoulli(base, [10_000], 0).data.every((x) => x === 0)).toBe(true)
    expect(K.bernoulli(base, [10_000], 1).data.every((x) => x === 1)).toBe(true)
  })
})

describe('purity', () => {
  it('no function changes its key or shape argument', () => {
    fc.assert(
      fc.property(arbKey, (k) => {
        const key = { k0: k.k0, k1: k.k1 }
        const shape = [3, 2]
        K.bits(key, 5)
        K.split(key, 3)
        K.split2(key)
        K.foldIn(key, 7)
        K.uniform(key, shape)
        K.normal(key, shape)
        K.truncatedNormal(key, shape)
        K.permutation(key, 9)
        K.randint(key, shape, 0, 3)
        K.bernoulli(key, shape, 0.5)
        K.show(key)
        expect(key).toEqual({ k0: k.k0, k1: k.k1 })
        expect(Object.keys(key)).toEqual(['k0', 'k1'])
        expect(shape).toEqual([3, 2])
      }),
      { ...fcParams, numRuns: 20 },
    )
  })
})

describe('bad inputs', () => {
  const key = base
  const bad = (x: unknown): Key => x as Key
  const cases: readonly (readonly [string, () => unknown, RegExp])[] = [
    ['fromSeed(1.5)', () => K.fromSeed(1.5), /^fromSeed: seed must be a safe integer.*got 1\.5/],
    ['fromSeed(NaN)', () => K.fromSeed(NaN), /^fromSeed: seed must be a safe integer.*got NaN/],
    ['fromSeed(2^53)', () => K.fromSeed(2 ** 53), /^fromSeed: seed must be a safe integer/],
    ['split(key, 1.5)', () => K.split(key, 1.5), /^split: n must be an integer in \[0, 4294967296\], got 1\.5/],
    ['split(key, -1)', () => K.split(key, -1), /^split: n must be an integer/],
    [
      'split({ k0: -1 })',
      () => K.split(bad({ k0: -1, k1: 0 })),
      /^split: expected a Key \{ k0, k1 \} of two uint32 words, got \{"k0":-1,"k1":0\}/,
    ],
    ['split2({ k0: 1 })', () => K.split2(bad({ k0: 1 })), /^split2: expected a Key/],
    ['bits(null)', () => K.bits(bad(null), 2), /^bits: expected a Key.*got null/],
    ['bits(2^32 word)', () => K.bits(bad({ k0: 2 ** 32, k1: 0 }), 2), /^bits: expected a Key/],
    ['bits(key, -1)', () => K.bits(key, -1), /^bits: n must be an integer/],
    ['foldIn(key, 0.5)', () => K.foldIn(key, 0.5), /^foldIn: data must be a safe integer/],
    ['uniform lo = hi', () => K.uniform(key, [2], 1, 1), /^uniform: need lo < hi, got lo = 1, hi = 1/],
    ['uniform lo NaN', () => K.uniform(key, [2], NaN, 1), /^uniform: lo must be a finite number, got NaN/],
    ['uniform hi Infinity', () => K.uniform(key, [2], 0, Infinity), /^uniform: hi must be a finite number/],
    ['uniform width overflow', () => K.uniform(key, [2], -1e308, 1e308), /^uniform: hi - lo overflows/],
    ['uniform shape [-1]', () => K.uniform(key, [-1]), /^uniform: shape must be an array of non-negative integers, got \[-1\]/],
    ['normal shape [1.5]', () => K.normal(key, [1.5]), /^normal: shape must be/],
    ['normal std -1', () => K.normal(key, [2], 0, -1), /^normal: std must be >= 0, got -1/],
    ['normal mean NaN', () => K.normal(key, [2], NaN), /^normal: mean must be a finite number/],
    ['truncatedNormal std NaN', () => K.truncatedNormal(key, [2], 0, NaN), /^truncatedNormal: std must be a finite/],
    ['permutation(key, -1)', () => K.permutation(key, -1), /^permutation: n must be an integer/],
    ['permutation(key, 2.5)', () => K.permutation(key, 2.5), /^permutation: n must be an integer.*got 2\.5/],
    ['randint lo = hi', () => K.randint(key, [2], 0, 0), /^randint: need lo < hi/],
    ['randint lo 0.5', () => K.randint(key, [2], 0.5, 3), /^randint: lo must be a safe integer/],
    ['randint range 2^33', () => K.randint(key, [2], 0, 2 ** 33), /^randint: the range hi - lo = 8589934592 exceeds 2\^32/],
    ['bernoulli p 1.5', () => K.bernoulli(key, [2], 1.5), /^bernoulli: p must be a probability in \[0, 1\], got 1\.5/],
    ['bernoulli p -0.1', () => K.bernoulli(key, [2], -0.1), /^bernoulli: p must be a probability/],
    ['bernoulli p NaN', () => K.bernoulli(key, [2], NaN), /^bernoulli: p must be a probability.*got NaN/],
    ['show("key")', () => K.show(bad('key')), /^show: expected a Key.*got "key"/],
    ['threefry2x32 bad counter', () => K.threefry2x32(key, [1, -1]), /^threefry2x32: counter must be/],
  ]
  it.each(cases)('%s throws a KeyError naming the function and the problem', (_, thunk, message) => {
    expect(thunk).toThrow(K.KeyError)
    expect(thunk).toThrow(message)
  })
})
