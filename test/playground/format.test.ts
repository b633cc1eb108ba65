import { describe, expect, test } from 'vitest'
import fc from 'fast-check'
import { distinct, num } from '../../playground/ui/format.ts'

describe('format: how the page writes numbers', () => {
  test('distinct writes two numbers with the fewest digits at which they differ, so where they part is on the page', () => {
    // a vjp and a central difference that agree to 7 digits: at 6 they read alike, so both get 8
    const [a, b] = distinct(0.012345678, 0.012345691)
    expect([a, b]).toEqual(['0.01234568', '0.01234569'])
    expect(a).not.toBe(b)
    // trailing zeros are kept past the first 6 digits, so the two line up digit under digit
    expect(distinct(0.12345678, 0.12345699)).toEqual(['0.1234568', '0.1234570'])
    // numbers that differ at 6 digits look as num writes them
    expect(distinct(0.5, -0.25)).toEqual([num(0.5, 6), num(-0.25, 6)])
    expect(distinct(1.5e-7, 0)).toEqual(['1.5e-7', '0'])
    // numbers equal to 10 digits read alike, at 6: the error column says how close they are
    expect(distinct(0.1234567891, 0.12345678912)).toEqual(['0.123457', '0.123457'])
    expect(distinct(3, 3)).toEqual(['3', '3'])
  })

  test('every pair that differs in its first 10 significant digits reads differently; the digits shown are the numbers’ own', () => {
    const finite = fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }).filter((v) => v !== 0)
    const pairs = fc.tuple(finite, fc.integer({ min: 0, max: 12 }), fc.double({ min: -0.5, max: 0.5, noNaN: true }))
    fc.assert(
      fc.property(pairs, ([a, k, t]) => {
        const b = a * (1 + t * 10 ** -k) // b agrees with a to about k digits
        const [sa, sb] = distinct(a, b)
        if (a.toPrecision(10) !== b.toPrecision(10)) expect(sa).not.toBe(sb)
        for (const [v, s] of [
          [a, sa],
          [b, sb],
        ] as const)
          expect(Math.abs(Number(s) - v)).toBeLessThanOrEqual(Math.abs(v) * 5e-6)
      }),
    )
  })
})
