/**
 * float32 average-pooling (src/kernels/avgpool32.ts): the 2x2 straight-line loops equal the
 * reference loops bit for bit (forward and vjp, odd sizes included), and the reference float32
 * loops stay within the float32 bound of the float64 ones of src/kernels/pool.ts on the same
 * values.
 *
 * The bound (γ_m = m·u/(1 − m·u), u = 2⁻²⁴, plus the same for 2⁻⁵³; Higham §3.1): a forward
 * output is a sum of at most KH·KW taps, then a multiply by s = fl32(1/(KH·KW)), which differs
 * from float64's 1/(KH·KW) by at most u relative: |y32 − y64| ≤ (γ_{KH·KW+2})·s·Σ|taps|. A dx
 * entry is a sum of at most (number of windows covering it) shares, each one rounded product:
 * |dx32 − dx64| ≤ γ_{m+2}·s·Σ|dy| over those windows, m the count; the test uses the float64
 * vjp on |dy| for the magnitude and KH·KW·⌈KH/SH⌉·⌈KW/SW⌉ + 2 for m (generous).
 */
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import {
  avgPool32,
  avgPool32For,
  avgPool32Reference,
  avgPoolBackward32,
  avgPoolBackward32For,
  avgPoolBackward32Reference,
} from '../../src/kernels/avgpool32.ts'
import { kernels, useKernels } from '../../src/kernels/backend.ts'
import { avgPoolBackwardNaive, avgPoolNaive } from '../../src/kernels/pool.ts'
import { planWindow, type Window2d } from '../../src/kernels/window.ts'
import { gamma32 } from '../support/float32-bound.ts'

const seed = Number(process.env['CHAINRULE_SEED'] ?? 42)

const firstDifference = (x: ArrayLike<number>, y: ArrayLike<number>): number => {
  for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return i
  return x.length === y.length ? -1 : x.length
}

/** A random pooling window (2x2 stride 2, or any with padding) with float32 x and dy of wide magnitudes. */
const poolCase = (twoByTwo: boolean) =>
  fc
    .record({
      N: fc.integer({ min: 1, max: 3 }),
      C: fc.integer({ min: 1, max: 3 }),
      H: fc.integer({ min: 1, max: 9 }),
      W: fc.integer({ min: 1, max: 9 }),
      k: fc.integer({ min: 1, max: 3 }),
      s: fc.integer({ min: 1, max: 3 }),
      pad: fc.integer({ min: 0, max: 1 }),
      seed: fc.integer({ min: 0, max: 2 ** 30 }),
    })
    .filter((r) => !twoByTwo || (r.H >= 2 && r.W >= 2))
    .map((r) => {
      const k = twoByTwo ? 2 : Math.min(r.k, r.H + 2 * r.pad, r.W + 2 * r.pad)
      const plan = planWindow(
        { kernel: [k, k], stride: twoByTwo ? [2, 2] : [r.s, r.s], dilation: [1, 1], padding: twoByTwo ? 'valid' : [r.pad, r.pad] },
        r.C,
        r.H,
        r.W,
        r.N,
      )
      if (typeof plan === 'string') throw new Error(plan)
      const g: Window2d = plan.window
      let s = r.seed
      const next = (): number => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32
      const value = (): number => Math.fround((next() * 2 - 1) * 2 ** Math.floor(next() * 12 - 6))
      const x = Float32Array.from({ length: g.N * g.C * g.H * g.W }, value)
      const dy = Float32Array.from({ length: g.N * g.C * g.OH * g.OW }, value)
      return { g, x, dy }
    })

describe('float32 average-pooling', () => {
  test('avgPool32 and avgPoolBackward32 (2x2, stride 2; odd sizes leave a row or column out) give the reference loops bit for bit', () => {
    fc.assert(
      fc.property(poolCase(true), ({ g, x, dy }) => {
        const [y, yRef] = [new Float32Array(dy.length).fill(NaN), new Float32Array(dy.length).fill(NaN)]
        avgPool32(g, x, y)
        avgPool32Reference(g, x, yRef)
        expect(firstDifference(y, yRef)).toBe(-1)
        const [dx, dxRef] = [new Float32Array(x.length).fill(NaN), new Float32Array(x.length).fill(NaN)]
        avgPoolBackward32(g, dy, dx)
        avgPoolBackward32Reference(g, dy, dxRef)
        expect(firstDifference(dx, dxRef)).toBe(-1)
      }),
      { seed, numRuns: 300 },
    )
  })

  test('the reference loops stay within the float32 bound of the float64 ones (any window, padding, overlap)', () => {
    fc.assert(
      fc.property(fc.oneof(poolCase(true), poolCase(false)), ({ g, x, dy }) => {
        const y = new Float32Array(dy.length)
        avgPool32Reference(g, x, y)
        const [y64, yMag] = [new Float64Array(dy.length), new Float64Array(dy.length)]
        avgPoolNaive(g, Float64Array.from(x), y64)
        avgPoolNaive(g, Float64Array.from(x, Math.abs), yMag)
        const taps = g.KH * g.KW
        for (let q = 0; q < y.length; q++) expect(Math.abs(y[q]! - y64[q]!)).toBeLessThanOrEqual(gamma32(taps + 2) * yMag[q]!)
        const dx = new Float32Array(x.length)
        avgPoolBackward32Reference(g, dy, dx)
        const [dx64, dxMag] = [new Float64Array(x.length), new Float64Array(x.length)]
        avgPoolBackwardNaive(g, Float64Array.from(dy), dx64)
        avgPoolBackwardNaive(g, Float64Array.from(dy, Math.abs), dxMag)
        const m = taps * Math.ceil(g.KH / g.SH) * Math.ceil(g.KW / g.SW) + 2
        for (let i = 0; i < dx.length; i++) expect(Math.abs(dx[i]! - dx64[i]!)).toBeLessThanOrEqual(gamma32(m) * dxMag[i]!)
      }),
      { seed, numRuns: 300 },
    )
  })

  test('the kernel switch picks the reference loops under reference; a wrong-sized operand throws naming it', () => {
    const was = kernels()
    try {
      useKernels('reference')
      expect(avgPool32For()).toBe(avgPool32Reference)
      expect(avgPoolBackward32For()).toBe(avgPoolBackward32Reference)
      useKernels('js')
      expect(avgPool32For()).toBe(avgPool32)
      expect(avgPoolBackward32For()).toBe(avgPoolBackward32)
    } finally {
      useKernels(was)
    }
    const g = { N: 1, C: 1, H: 4, W: 4, KH: 2, KW: 2, SH: 2, SW: 2, DH: 1, DW: 1, PT: 0, PL: 0, OH: 2, OW: 2 }
    expect(() => avgPool32(g, new Float32Array(15), new Float32Array(4))).toThrow(/x has 15 values/)
    expect(() => avgPoolBackward32(g, new Float32Array(4), new Float32Array(3))).toThrow(/dx has 3 values/)
  })
})
