/**
 * GEMM kernels: the blocked kernel equals the reference (up to summation-order rounding), the
 * reference equals the textbook, and neither touches what it must not.
 *
 * Tolerance. Both kernels compute the same sum of k + 1 terms, c0 + Σ_p a_ip·b_pj (c0 is the
 * accumulator, or 0), each product rounded once, summed in different orders. For any order the
 * rounding error is at most γ_{k+1}·(|c0| + Σ_p |a_ip·b_pj|), with γ_n = n·u/(1 - n·u) and
 * u = 2^-53 (Higham, Accuracy and Stability of Numerical Algorithms, §3.1). So
 *   |fast - ref| ≤ 2·γ_{k+1}·(|c0| + Σ_p |a_ip·b_pj|),
 * and 2·γ_{k+1} < 1e-12 for every k ≤ 4500 (the largest k here is 300). The bound is relative
 * to the sum of magnitudes, not to |ref|, because cancellation can make ref tiny. The absolute
 * term covers gradual underflow (≤ one subnormal ulp per rounding; values here never get there).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { gemmCases, runs, SENTINEL, values, type Built, type GemmCase, type Operand } from '../support/gemm-data.ts'
import {
  defaultBlockSizes,
  gemmBlocked,
  gemmReference,
  makeGemmBlocked,
  view,
  type BlockSizes,
  type Gemm,
  type MatView,
} from '../../src/kernels/gemm.ts'

// ---------------------------------------------------------------------------------------------
// Test data
// ---------------------------------------------------------------------------------------------

/** How an operand is stored: transposed or not, where it starts, and how many spare elements end each stored row. */
interface Layout {
  readonly transposed: boolean
  readonly offset: number
  readonly pad: number
}

/**
 * Stores a rows×cols matrix as `layout` says: not transposed, row-major with rows `cols + pad`
 * apart; transposed, as its cols×rows transpose row-major with rows `rows + pad` apart, read
 * back through swapped strides. With pad 0 the view comes from `view()` itself.
 */
function operand(rows: number, cols: number, layout: Layout, seed32: number): Operand {
  const { transposed, offset, pad } = layout
  const storedRows = transposed ? cols : rows
  const storedCols = transposed ? rows : cols
  const ld = storedCols + pad
  const data = new Float64Array(offset + storedRows * ld + 2).fill(NaN)
  const vals = values(storedRows * storedCols, seed32)
  for (let r = 0; r < storedRows; r++) {
    for (let q = 0; q < storedCols; q++) data[offset + r * ld + q] = vals[r * storedCols + q]!
  }
  const v: MatView =
    pad === 0
      ? view(data, storedRows, storedCols, transposed, offset)
      : transposed
        ? { data, offset, rowStride: 1, colStride: ld }
        : { data, offset, rowStride: ld, colStride: 1 }
  return { view: v, at: (i, j) => data[v.offset + i * v.rowStride + j * v.colStride]! }
}

type Case = GemmCase<Layout>
const { build, run, firstMismatch } = gemmCases(operand)

/** Asserts the blocked kernel matches the reference on this case. */
function expectBlockedMatchesReference(t: Case, blocked: Gemm = gemmBlocked, poke: (built: Built) => void = () => {}): void {
  const built = build(t)
  poke(built)
  const ref = run(gemmReference, t, built)
  const fast = run(blocked, t, built)
  expect(firstMismatch(t, built, fast, ref)).toBeUndefined()
  // Outside the m×n region nothing is written.
  const end = t.cOffset + t.m * t.n
  for (let i = 0; i < fast.length; i++) {
    if (i < t.cOffset || i >= end) expect(fast[i]).toBe(SENTINEL)
  }
}

// ---------------------------------------------------------------------------------------------
// Arbitraries
// ---------------------------------------------------------------------------------------------

/** A dimension in 1..max, biased toward 1, odd sizes and sizes around the 4x4 tile edge. */
const dim = (max: number): fc.Arbitrary<number> =>
  fc.oneof(fc.constantFrom(...[1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17].filter((d) => d <= max)), fc.integer({ min: 1, max }))

const layout: fc.Arbitrary<Layout> = fc.record({
  transposed: fc.boolean(),
  offset: fc.integer({ min: 0, max: 5 }),
  pad: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3 })),
})

const caseOf = (m: fc.Arbitrary<number>, n: fc.Arbitrary<number>, k: fc.Arbitrary<number>): fc.Arbitrary<Case> =>
  fc.record({
    m,
    n,
    k,
    a: layout,
    b: layout,
    cOffset: fc.integer({ min: 0, max: 5 }),
    accumulate: fc.boolean(),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  })

const smallCase = caseOf(dim(70), dim(70), dim(70))

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

describe('gemmReference is the textbook product', () => {
  // [1 2 3]   [ 7  8]   [1·7 + 2·9 + 3·11   1·8 + 2·10 + 3·12]   [ 58  64]
  // [4 5 6] · [ 9 10] = [4·7 + 5·9 + 6·11   4·8 + 5·10 + 6·12] = [139 154]
  //           [11 12]
  const a = new Float64Array([1, 2, 3, 4, 5, 6])
  const b = new Float64Array([7, 8, 9, 10, 11, 12])

  for (const [name, gemm] of [
    ['gemmReference', gemmReference],
    ['gemmBlocked', gemmBlocked],
  ] as const) {
    it(`${name}: 2x3 · 3x2 worked by hand is [[58, 64], [139, 154]]`, () => {
      const c = new Float64Array(4).fill(NaN)
      gemm(2, 2, 3, view(a, 2, 3), view(b, 3, 2), c, 0, false)
      expect([...c]).toEqual([58, 64, 139, 154])
    })

    it(`${name}: accumulating the same product onto ones gives [[59, 65], [140, 155]]`, () => {
      const c = new Float64Array([1, 1, 1, 1])
      gemm(2, 2, 3, view(a, 2, 3), view(b, 3, 2), c, 0, true)
      expect([...c]).toEqual([59, 65, 140, 155])
    })

    it(`${name}: Aᵀ·A through a transposed view is the 3x3 Gram matrix (the doc example)`, () => {
      const g = new Float64Array(9)
      gemm(3, 3, 2, view(a, 2, 3, true), view(a, 2, 3), g, 0, false)
      expect([...g]).toEqual([17, 22, 27, 22, 29, 36, 27, 36, 45])
    })
  }

  it('reading through transposed and padded views equals the product of materialised copies, bit for bit', () => {
    fc.assert(
      fc.property(smallCase, (t) => {
        const built = build(t)
        // Copy A and B into plain row-major arrays and multiply those.
        const a = new Float64Array(t.m * t.k)
        for (let i = 0; i < t.m; i++) for (let p = 0; p < t.k; p++) a[i * t.k + p] = built.a.at(i, p)
        const b = new Float64Array(t.k * t.n)
        for (let p = 0; p < t.k; p++) for (let j = 0; j < t.n; j++) b[p * t.n + j] = built.b.at(p, j)
        const plain = built.c.slice()
        gemmReference(t.m, t.n, t.k, view(a, t.m, t.k), view(b, t.k, t.n), plain, t.cOffset, t.accumulate)
        expect(run(gemmReference, t, built)).toEqual(plain)
      }),
      runs(100),
    )
  })
})

describe('view', () => {
  it('a row-major r×c view has strides (c, 1); its transposed view is c×r with strides (1, c)', () => {
    const data = new Float64Array(2 + 6)
    expect(view(data, 2, 3, false, 2)).toEqual({ data, offset: 2, rowStride: 3, colStride: 1 })
    expect(view(data, 2, 3, true, 2)).toEqual({ data, offset: 2, rowStride: 1, colStride: 3 })
  })

  it('rejects a matrix that does not fit in its data', () => {
    expect(() => view(new Float64Array(5), 2, 3)).toThrow(RangeError)
    expect(() => view(new Float64Array(6), 2, 3, false, 1)).toThrow(/needs 7 elements/)
    expect(() => view(new Float64Array(6), -1, 3)).toThrow(RangeError)
  })
})

describe('gemmBlocked equals gemmReference up to summation-order rounding', () => {
  it('for m, n, k in 1..70, A or Aᵀ, B or Bᵀ, offsets, row padding, accumulate or not', () => {
    fc.assert(
      fc.property(smallCase, (t) => expectBlockedMatchesReference(t)),
      runs(200),
    )
  })

  it('for every transpose combination at sizes straddling the 4x4 tile edge', () => {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        for (const [m, n, k] of [
          [3, 5, 7],
          [4, 4, 4],
          [5, 3, 9],
          [8, 9, 1],
          [13, 6, 11],
        ] as const) {
          for (const accumulate of [false, true]) {
            expectBlockedMatchesReference({
              m,
              n,
              k,
              accumulate,
              cOffset: 1,
              seed: m * 100 + n * 10 + k,
              a: { transposed: transA, offset: 2, pad: 0 },
              b: { transposed: transB, offset: 3, pad: 0 },
            })
          }
        }
      }
    }
  })

  it('with tiny block sizes, so every mc, kc and nc block edge is crossed', () => {
    const blocks: fc.Arbitrary<BlockSizes> = fc.record({
      mc: fc.constantFrom(4, 8, 12),
      kc: fc.constantFrom(1, 2, 3, 5, 8),
      nc: fc.constantFrom(4, 8, 12),
    })
    fc.assert(
      fc.property(blocks, caseOf(dim(40), dim(40), dim(40)), (bs, t) => {
        expectBlockedMatchesReference(t, makeGemmBlocked(bs))
      }),
      runs(100),
    )
  })

  it('for sizes up to 300, crossing the default mc and kc block edges', () => {
    const big = fc.oneof(fc.constantFrom(127, 128, 129, 255, 256, 257, 300), fc.integer({ min: 1, max: 300 }))
    fc.assert(
      fc.property(caseOf(big, big, big), (t) => expectBlockedMatchesReference(t)),
      runs(20),
    )
  })

  it('at 257x130 · 130x300 and 150x40 · 300x40ᵀ, just past the default mc and kc', () => {
    // These sizes only cross block edges if the defaults stay below them.
    expect(defaultBlockSizes.mc).toBeLessThan(150)
    expect(defaultBlockSizes.kc).toBeLessThan(300)
    expectBlockedMatchesReference({
      m: 257,
      n: 130,
      k: 300,
      accumulate: false,
      cOffset: 0,
      seed: 7,
      a: { transposed: false, offset: 0, pad: 0 },
      b: { transposed: false, offset: 0, pad: 0 },
    })
    expectBlockedMatchesReference({
      m: 150,
      n: 300,
      k: 40,
      accumulate: true,
      cOffset: 2,
      seed: 8,
      a: { transposed: true, offset: 1, pad: 0 },
      b: { transposed: true, offset: 0, pad: 1 },
    })
  })
})

describe('gemmBlocked adds each C[i][j] in the reference order', () => {
  // Stronger than the contract (which allows any summation order, above): the current kernel
  // starts every register tile from C and adds products for p ascending across kc slices, so
  // it is bit-identical to the reference. If a faster kernel reorders sums, drop this test.
  it('so its output is bit-identical to gemmReference, with default and with tiny block sizes', () => {
    const blocks = fc.option(fc.record({ mc: fc.constantFrom(4, 8), kc: fc.constantFrom(1, 3, 16), nc: fc.constantFrom(4, 12) }))
    fc.assert(
      fc.property(blocks, smallCase, (bs, t) => {
        const built = build(t)
        const fast = run(bs === null ? gemmBlocked : makeGemmBlocked(bs), t, built)
        expect(fast).toEqual(run(gemmReference, t, built))
      }),
      runs(100),
    )
  })
})

describe('non-finite inputs', () => {
  it('gemmBlocked propagates Inf and NaN in A and B exactly as gemmReference does (and zero-padded edges add none)', () => {
    const special = fc.constantFrom(Infinity, -Infinity, NaN)
    const pokes = fc.array(fc.record({ inA: fc.boolean(), at: fc.nat(), value: special }), { minLength: 1, maxLength: 4 })
    fc.assert(
      fc.property(smallCase, pokes, (t, ps) => {
        expectBlockedMatchesReference(t, gemmBlocked, (built) => {
          for (const { inA, at, value } of ps) {
            const [op, rows, cols] = inA ? [built.a, t.m, t.k] : [built.b, t.k, t.n]
            const i = Math.floor(at / cols) % rows
            const j = at % cols
            const v = op.view
            v.data[v.offset + i * v.rowStride + j * v.colStride] = value
          }
        })
      }),
      runs(100),
    )
  })
})

describe('zero-size products', () => {
  // m, n, k in 0..6 with at least one of them 0.
  const zeroCase = caseOf(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 6 })).chain((t) =>
    fc.constantFrom<Case>({ ...t, m: 0 }, { ...t, n: 0 }, { ...t, k: 0 }),
  )

  for (const [name, gemm] of [
    ['gemmReference', gemmReference],
    ['gemmBlocked', gemmBlocked],
  ] as const) {
    it(`${name}: k = 0 gives zeros (or leaves C unchanged when accumulating); m or n = 0 writes nothing`, () => {
      fc.assert(
        fc.property(zeroCase, (t) => {
          const built = build(t)
          const out = run(gemm, t, built)
          const expected = built.c.slice()
          if (!t.accumulate) expected.fill(0, t.cOffset, t.cOffset + t.m * t.n)
          expect(out).toEqual(expected)
        }),
        runs(100),
      )
    })
  }
})

describe('purity and determinism', () => {
  for (const [name, gemm] of [
    ['gemmReference', gemmReference],
    ['gemmBlocked', gemmBlocked],
  ] as const) {
    it(`${name}: A's and B's arrays are unchanged bit for bit (padding included)`, () => {
      fc.assert(
        fc.property(smallCase, (t) => {
          const built = build(t)
          const aBefore = built.a.view.data.slice()
          const bBefore = built.b.view.data.slice()
          run(gemm, t, built)
          expect(built.a.view.data).toEqual(aBefore)
          expect(built.b.view.data).toEqual(bBefore)
        }),
        runs(100),
      )
    })
  }

  it('gemmBlocked: the shared packing workspace never changes results (same call, bit-identical output, before and after an unrelated call)', () => {
    fc.assert(
      fc.property(smallCase, smallCase, (t, other) => {
        const built = build(t)
        const first = run(gemmBlocked, t, built)
        run(gemmBlocked, other, build(other))
        expect(run(gemmBlocked, t, built)).toEqual(first)
      }),
      runs(100),
    )
  })
})

describe('bad arguments throw a RangeError before anything is written', () => {
  const a = new Float64Array(6)
  const b = new Float64Array(6)
  for (const [name, gemm] of [
    ['gemmReference', gemmReference],
    ['gemmBlocked', gemmBlocked],
  ] as const) {
    it(`${name}: views reaching outside their data, a short C, non-integer sizes`, () => {
      const c = new Float64Array(4).fill(3)
      expect(() => gemm(2, 2, 3, view(a, 2, 3), { data: b, offset: 1, rowStride: 2, colStride: 1 }, c, 0, false)).toThrow(
        /B view .* addresses indices 1\.\.6, but its data has length 6/,
      )
      expect(() => gemm(2, 2, 3, { data: a, offset: 0, rowStride: -3, colStride: 1 }, view(b, 3, 2), c, 0, false)).toThrow(/A view/)
      expect(() => gemm(2, 2, 3, view(a, 2, 3), view(b, 3, 2), c, 1, false)).toThrow(/needs 5 elements, but c has length 4/)
      expect(() => gemm(2.5, 2, 3, view(a, 2, 3), view(b, 3, 2), c, 0, false)).toThrow(/non-negative integers/)
      expect([...c]).toEqual([3, 3, 3, 3])
    })
  }

  it('makeGemmBlocked rejects block sizes that are not positive multiples of the 4x4 tile', () => {
    expect(() => makeGemmBlocked({ mc: 6, kc: 8, nc: 8 })).toThrow(RangeError)
    expect(() => makeGemmBlocked({ mc: 8, kc: 0, nc: 8 })).toThrow(RangeError)
    expect(() => makeGemmBlocked({ mc: 8, kc: 8, nc: 10 })).toThrow(RangeError)
  })
})
