/**
 * Convolution kernels: the fast family (im2col + blocked GEMM) equals the naive loops for the
 * forward product and both backward products, over random shapes, strides, paddings and
 * dilations; and the naive loops equal a convolution written out by hand.
 *
 * Tolerance. Both families compute each output as the same sum of products, in different
 * orders (and the fast one also adds exact zeros for padding taps). For any order the rounding
 * error is at most γ_k·Σ|terms| with γ_k = k·u/(1 − k·u), u = 2⁻⁵³ (Higham §3.1), so
 *   |fast − naive| ≤ 1e-12 · Σ|terms|
 * for every sum length here. Σ|terms| per output is the naive kernel run on |x|, |w|, |dy|.
 */
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { Kernels, Key, T } from '../../src/index.ts'
import {
  col2im,
  convBiasGrad,
  convKernels,
  fastConv,
  fastConvWasm,
  im2col,
  makeFastConv,
  naiveConv,
  type ConvKernels,
  type ConvWindow,
} from '../../src/kernels/conv.ts'
import { gemmReference } from '../../src/kernels/gemm.ts'
import { convBackwardWasm, convForwardWasm, convInputGradWasm, convKernelGradWasm } from '../../src/kernels/wasm/conv.ts'
import { abs, cases, casesUpTo, describeCase, operands, type Case } from '../support/conv-cases.ts'

const seed = Number(process.env['CHAINRULE_SEED'] ?? 42)
const RTOL = 1e-12

const expectClose = (what: string, fast: Float64Array, naive: Float64Array, magnitude: Float64Array): void => {
  expect(fast.length).toBe(naive.length)
  for (let i = 0; i < naive.length; i++) {
    const err = Math.abs(fast[i]! - naive[i]!)
    if (err > RTOL * magnitude[i]! + 1e-300) {
      throw new Error(
        `${what}[${i}]: fast ${fast[i]} vs naive ${naive[i]} (error ${err.toExponential(2)}, bound ${(RTOL * magnitude[i]!).toExponential(2)})`,
      )
    }
  }
}

const property = (name: string, check: (c: Case) => void): void => {
  test(name, () => {
    fc.assert(
      fc.property(cases, (c) => {
        try {
          check(c)
        } catch (e) {
          throw new Error(`${describeCase(c)}: ${e instanceof Error ? e.message : String(e)}`)
        }
      }),
      { seed, numRuns: 200 },
    )
  })
}

const fastFamilies: readonly (readonly [string, ConvKernels])[] = [
  ['im2col + blocked GEMM (js)', fastConv],
  ['im2col, GEMM and col2im in WebAssembly (wasm)', fastConvWasm],
]

for (const [family, fast] of fastFamilies) {
  describe(`${family} = naive conv kernels (random shapes, strides, paddings, dilations; 1e-12 relative)`, () => {
    property('forward, with and without bias', (c) => {
      const { x, w, b } = operands(c)
      const n = c.g.N * c.g.F * c.g.OH * c.g.OW
      for (const bias of [b, undefined]) {
        const yNaive = T.buffer(n)
        const yFast = T.buffer(n).fill(Number.NaN) // every output must be written
        const mag = T.buffer(n)
        naiveConv.forward(c.g, x, w, bias, yNaive)
        fast.forward(c.g, x, w, bias, yFast)
        naiveConv.forward(c.g, abs(x), abs(w), bias && abs(bias), mag)
        expectClose('y', yFast, yNaive, mag)
      }
    })

    property('input gradient dx', (c) => {
      const { w, dy } = operands(c)
      const n = c.g.N * c.g.C * c.g.H * c.g.W
      const dxNaive = T.buffer(n)
      const dxFast = T.buffer(n).fill(Number.NaN)
      const mag = T.buffer(n)
      naiveConv.inputGrad(c.g, dy, w, dxNaive)
      fast.inputGrad(c.g, dy, w, dxFast)
      naiveConv.inputGrad(c.g, abs(dy), abs(w), mag)
      expectClose('dx', dxFast, dxNaive, mag)
    })

    property('kernel gradient dW', (c) => {
      const { x, dy } = operands(c)
      const n = c.g.F * c.g.C * c.g.KH * c.g.KW
      const dwNaive = T.buffer(n)
      const dwFast = T.buffer(n).fill(Number.NaN)
      const mag = T.buffer(n)
      naiveConv.kernelGrad(c.g, x, dy, dwNaive)
      fast.kernelGrad(c.g, x, dy, dwFast)
      naiveConv.kernelGrad(c.g, abs(x), abs(dy), mag)
      expectClose('dW', dwFast, dwNaive, mag)
    })
  })
}

describe('im2col, col2im and makeFastConv', () => {
  property('im2col + GEMM on any Gemm: makeFastConv(gemmReference) = naive as well', (c) => {
    const { x, w, b, dy } = operands(c)
    const k = makeFastConv(gemmReference)
    const y1 = T.buffer(c.g.N * c.g.F * c.g.OH * c.g.OW)
    const y2 = T.buffer(y1.length)
    const mag = T.buffer(y1.length)
    naiveConv.forward(c.g, x, w, b, y1)
    k.forward(c.g, x, w, b, y2)
    naiveConv.forward(c.g, abs(x), abs(w), abs(b), mag)
    expectClose('y', y2, y1, mag)
    const d1 = T.buffer(w.length)
    const d2 = T.buffer(w.length)
    naiveConv.kernelGrad(c.g, x, dy, d1)
    k.kernelGrad(c.g, x, dy, d2)
    const magW = T.buffer(w.length)
    naiveConv.kernelGrad(c.g, abs(x), abs(dy), magW)
    expectClose('dW', d2, d1, magW)
  })

  property('col2im is the adjoint of im2col: <cols, im2col(x)> = <col2im(cols), x>', (c) => {
    const { x } = operands(c)
    const g = { ...c.g, N: 1 }
    const rows = g.C * g.KH * g.KW * g.OH * g.OW
    const colsOfX = T.buffer(rows)
    im2col(g, x, 0, colsOfX)
    const cols = Key.normal(Key.fromSeed(c.seed ^ 1), [rows]).data
    const back = T.buffer(g.C * g.H * g.W)
    col2im(g, cols, 0, back)
    const lhs = T.dot(T.fromData([rows], cols), T.fromData([rows], colsOfX))
    const rhs = T.dot(T.fromData([back.length], back), T.fromData([back.length], x.subarray(0, back.length)))
    expect(Math.abs(lhs - rhs)).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(lhs)) * rows)
  })
})

describe('the WebAssembly kernels (im2col, GEMM and col2im in WebAssembly)', () => {
  /** Bit for bit (Object.is per element); the first differing index, or -1. */
  const firstDifference = (x: Float64Array, y: Float64Array): number => {
    for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return i
    return x.length === y.length ? -1 : -2
  }

  /**
   * The WebAssembly kernels against fastConv on one case: y and dx bit for bit; dW bit for bit
   * against fastConv's dW of each quarter of the batch (the groups the wasm kernel cuts),
   * added in order; db likewise against convBiasGrad of each quarter; and the one-job backward
   * the same as the separate products.
   */
  const matchesJs = (g: ConvWindow, x: Float64Array, w: Float64Array, b: Float64Array, dy: Float64Array): void => {
    for (const bias of [b, undefined]) {
      const y1 = T.buffer(g.N * g.F * g.OH * g.OW)
      const y2 = T.buffer(y1.length).fill(Number.NaN)
      fastConv.forward(g, x, w, bias, y1)
      expect(convForwardWasm(1, g, x, w, bias, y2)).toBe(true)
      expect(firstDifference(y2, y1)).toBe(-1)
    }
    const dx1 = T.buffer(x.length)
    const dx2 = T.buffer(x.length).fill(Number.NaN)
    fastConv.inputGrad(g, dy, w, dx1)
    expect(convInputGradWasm(1, g, dy, w, dx2)).toBe(true)
    expect(firstDifference(dx2, dx1)).toBe(-1)
    const groups = Math.min(4, g.N)
    const dw1 = T.buffer(w.length)
    const db1 = T.buffer(g.F)
    for (let p = 0; p < groups; p++) {
      const n0 = Math.floor((p * g.N) / groups)
      const n1 = Math.floor(((p + 1) * g.N) / groups)
      const part = T.buffer(w.length)
      const dyPart = dy.subarray(n0 * g.F * g.OH * g.OW, n1 * g.F * g.OH * g.OW)
      fastConv.kernelGrad({ ...g, N: n1 - n0 }, x.subarray(n0 * g.C * g.H * g.W, n1 * g.C * g.H * g.W), dyPart, part)
      for (let i = 0; i < w.length; i++) dw1[i] = p === 0 ? part[i]! : dw1[i]! + part[i]!
      const dbPart = T.buffer(g.F)
      convBiasGrad({ ...g, N: n1 - n0 }, dyPart, dbPart)
      for (let f = 0; f < g.F; f++) db1[f] = p === 0 ? dbPart[f]! : db1[f]! + dbPart[f]!
    }
    const dw2 = T.buffer(w.length).fill(Number.NaN)
    expect(convKernelGradWasm(1, g, x, dy, dw2)).toBe(true)
    expect(firstDifference(dw2, dw1)).toBe(-1)
    const dx3 = T.buffer(x.length).fill(Number.NaN)
    const dw3 = T.buffer(w.length).fill(Number.NaN)
    expect(convBackwardWasm(1, g, x, dy, w, dx3, dw3)).toBe(true)
    expect(firstDifference(dx3, dx1)).toBe(-1)
    expect(firstDifference(dw3, dw1)).toBe(-1)
    for (const wantDx of [true, false]) {
      const dx4 = T.buffer(x.length).fill(Number.NaN)
      const dw4 = T.buffer(w.length).fill(Number.NaN)
      const db4 = T.buffer(g.F).fill(Number.NaN)
      expect(convBackwardWasm(1, g, x, dy, w, wantDx ? dx4 : undefined, dw4, Infinity, db4)).toBe(true)
      if (wantDx) expect(firstDifference(dx4, dx1)).toBe(-1)
      expect(firstDifference(dw4, dw1)).toBe(-1)
      expect(firstDifference(db4, db1)).toBe(-1)
    }
  }

  test('y and dx round exactly as im2col + the plain-TypeScript GEMM (fastConv), bit for bit; dW = its four sample groups added in order (random cases, 1-9 samples)', () => {
    fc.assert(
      fc.property(casesUpTo(9), (c) => {
        const { x, w, b, dy } = operands(c)
        try {
          matchesJs(c.g, x, w, b, dy)
        } catch (e) {
          throw new Error(`${describeCase(c)}: ${e instanceof Error ? e.message : String(e)}`)
        }
      }),
      { seed, numRuns: 200 },
    )
  })

  test('the same on a case past the GEMM blocks (K = 400 > kc, F = 20 not a multiple of 4, 28x28, 6 samples, stride 1 "same")', () => {
    const g: ConvWindow = { N: 6, C: 16, H: 28, W: 28, F: 20, KH: 5, KW: 5, SH: 1, SW: 1, DH: 1, DW: 1, PT: 2, PL: 2, OH: 28, OW: 28 }
    const [k1, k2, k3, k4] = Key.split(Key.fromSeed(11), 4) as [Key.Key, Key.Key, Key.Key, Key.Key]
    matchesJs(
      g,
      Key.normal(k1, [6 * 16 * 28 * 28]).data,
      Key.normal(k2, [20 * 16 * 25]).data,
      Key.normal(k3, [20]).data,
      Key.normal(k4, [6 * 20 * 28 * 28]).data,
    )
  })

  test('an empty batch (N = 0): y and dx are empty, dW is zeros', () => {
    const g: ConvWindow = { N: 0, C: 2, H: 5, W: 5, F: 3, KH: 3, KW: 3, SH: 1, SW: 1, DH: 1, DW: 1, PT: 1, PL: 1, OH: 5, OW: 5 }
    const w = Key.normal(Key.fromSeed(1), [3 * 2 * 9]).data
    const dw = T.buffer(w.length).fill(Number.NaN)
    const db = T.buffer(3).fill(Number.NaN)
    const dx = T.buffer(0)
    expect(convForwardWasm(1, g, T.buffer(0), w, undefined, T.buffer(0))).toBe(true)
    expect(convBackwardWasm(1, g, T.buffer(0), T.buffer(0), w, dx, dw, Infinity, db)).toBe(true)
    expect(Array.from(dw).every((v) => v === 0)).toBe(true)
    expect(Array.from(db).every((v) => v === 0)).toBe(true)
    const dw2 = T.buffer(w.length).fill(Number.NaN)
    fastConvWasm.kernelGrad(g, T.buffer(0), T.buffer(0), dw2)
    expect(Array.from(dw2).every((v) => v === 0)).toBe(true)
  })

  property(
    'backward (dx and dW together, or dW alone) = inputGrad and kernelGrad, in every family; its db = convBiasGrad (within 1e-12 for WebAssembly, which sums groups)',
    (c) => {
      const { x, w, dy } = operands(c)
      const db1 = T.buffer(c.g.F)
      convBiasGrad(c.g, dy, db1)
      for (const k of [naiveConv, fastConv, fastConvWasm]) {
        const dx1 = T.buffer(x.length)
        const dw1 = T.buffer(w.length)
        k.inputGrad(c.g, dy, w, dx1)
        k.kernelGrad(c.g, x, dy, dw1)
        const dx2 = T.buffer(x.length).fill(Number.NaN)
        const dw2 = T.buffer(w.length).fill(Number.NaN)
        k.backward(c.g, x, dy, w, dx2, dw2)
        expect(firstDifference(dx2, dx1)).toBe(-1)
        expect(firstDifference(dw2, dw1)).toBe(-1)
        const dw3 = T.buffer(w.length).fill(Number.NaN)
        k.backward(c.g, x, dy, w, undefined, dw3)
        expect(firstDifference(dw3, dw1)).toBe(-1)
        const dw4 = T.buffer(w.length).fill(Number.NaN)
        const db4 = T.buffer(c.g.F).fill(Number.NaN)
        k.backward(c.g, x, dy, w, undefined, dw4, db4)
        expect(firstDifference(dw4, dw1)).toBe(-1)
        if (k === fastConvWasm)
          db4.forEach((v, f) => expect(Math.abs(v - db1[f]!)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(db1[f]!))))
        else expect(firstDifference(db4, db1)).toBe(-1)
      }
    },
  )

  test('a product over the memory cap writes nothing and returns false (fastConvWasm then runs im2col in TypeScript on the WebAssembly GEMM)', () => {
    const g: ConvWindow = { N: 2, C: 3, H: 9, W: 9, F: 4, KH: 3, KW: 3, SH: 1, SW: 1, DH: 1, DW: 1, PT: 1, PL: 1, OH: 9, OW: 9 }
    const x = Key.normal(Key.fromSeed(1), [2 * 3 * 81]).data
    const w = Key.normal(Key.fromSeed(2), [4 * 27]).data
    const dy = Key.normal(Key.fromSeed(3), [2 * 4 * 81]).data
    const y = T.buffer(2 * 4 * 81).fill(7)
    const dx = T.buffer(x.length).fill(7)
    const dw = T.buffer(w.length).fill(7)
    expect(convForwardWasm(1, g, x, w, undefined, y, 4096)).toBe(false)
    expect(convInputGradWasm(1, g, dy, w, dx, 4096)).toBe(false)
    expect(convKernelGradWasm(1, g, x, dy, dw, 4096)).toBe(false)
    const db = T.buffer(4).fill(7)
    expect(convBackwardWasm(1, g, x, dy, w, dx, dw, 4096, db)).toBe(false)
    for (const a of [y, dx, dw, db]) expect(a.every((v) => v === 7)).toBe(true)
  })
})

describe('the naive forward is the convolution written out by hand', () => {
  test('1 channel, 3x3 input, 2x2 kernel, stride 1, no padding', () => {
    // y[i][j] = x[i][j]·1 + x[i][j+1]·2 + x[i+1][j]·3 + x[i+1][j+1]·4
    const x = Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9])
    const w = Float64Array.from([1, 2, 3, 4])
    const g: ConvWindow = { N: 1, C: 1, H: 3, W: 3, F: 1, KH: 2, KW: 2, SH: 1, SW: 1, DH: 1, DW: 1, PT: 0, PL: 0, OH: 2, OW: 2 }
    const y = T.buffer(4)
    naiveConv.forward(g, x, w, undefined, y)
    expect(Array.from(y)).toEqual([1 + 4 + 12 + 20, 2 + 6 + 15 + 24, 4 + 10 + 21 + 32, 5 + 12 + 24 + 36])
  })
})

describe('the kernel switch', () => {
  test("useKernels selects the conv kernels: 'reference' the naive loops, 'js' and 'wasm' im2col + that GEMM", () => {
    const fastest = Kernels.wasmSimdAvailable() ? fastConvWasm : fastConv
    expect(convKernels()).toBe(fastest) // 'fast', the default
    Kernels.using('reference', () => expect(convKernels()).toBe(naiveConv))
    Kernels.using('js', () => expect(convKernels()).toBe(fastConv))
    Kernels.using('wasm', () => expect(convKernels()).toBe(fastest))
    Kernels.use('reference')
    try {
      expect(convKernels()).toBe(naiveConv)
    } finally {
      Kernels.use('fast')
    }
    expect(convKernels()).toBe(fastest)
  })

  test('the kernels reject arrays that do not match the geometry', () => {
    const g: ConvWindow = { N: 1, C: 1, H: 3, W: 3, F: 1, KH: 2, KW: 2, SH: 1, SW: 1, DH: 1, DW: 1, PT: 0, PL: 0, OH: 2, OW: 2 }
    for (const k of [naiveConv, fastConv, fastConvWasm]) {
      expect(() => k.forward(g, T.buffer(8), T.buffer(4), undefined, T.buffer(4))).toThrow(/x has 8 values, the geometry needs 9/)
      expect(() => k.inputGrad(g, T.buffer(4), T.buffer(3), T.buffer(9))).toThrow(/w has 3 values/)
      expect(() => k.kernelGrad(g, T.buffer(9), T.buffer(4), T.buffer(5))).toThrow(/dw has 5 values/)
    }
  })
})
