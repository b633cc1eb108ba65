/**
 * float32 convolution kernels (src/kernels/conv32.ts): im2col + each float32 GEMM (TypeScript,
 * WebAssembly on one thread and on two) gives the naive float32 loops' bits, over random shapes,
 * strides, paddings and dilations, across sample groups; and the naive float32 loops stay within
 * the float32 rounding bound of the float64 ones (src/kernels/conv.ts).
 *
 * The bound. Each output is a sum of products on float32 inputs; float32 and float64 evaluate it
 * with one rounding per product and per add. A sum of m rounded products, added in any order
 * (also as a sum of partial sums), is within γ_m·Σ|terms| of the exact value, γ_m = m·u/(1 − m·u)
 * (Higham §3.1), u = 2⁻²⁴ or 2⁻⁵³; so |y32 − y64| ≤ (γ_m(2⁻²⁴) + γ_m(2⁻⁵³))·Σ|terms|, with m the
 * longest chain of roundings: K + 1 for y (the bias and K = C·KH·KW taps), F + KH·KW for a pixel
 * of dx, N·OH·OW for dw and db. Σ|terms| is the float64 naive kernel run on |x|, |w|, |dy|.
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { convBiasGrad, naiveConv } from '../../src/kernels/conv.ts'
import { gemm32Blocked } from '../../src/kernels/gemm32.ts'
import {
  conv32Kernels,
  convBiasGrad32,
  fastConv32,
  fastConv32Wasm,
  makeFastConv32,
  naiveConv32,
  type Conv32Kernels,
} from '../../src/kernels/conv32.ts'
import { useKernels, kernels, useThreads } from '../../src/kernels/backend.ts'
import { configureThreads, splitCount, type ThreadSettings } from '../../src/kernels/wasm/threads.ts'
import { gemm32Wasm, gemm32Wasm2 } from '../../src/kernels/wasm/gemm32.ts'
import { abs, cases, casesUpTo, describeCase, operands, type Case } from '../support/conv-cases.ts'
import { gamma } from '../support/float32-bound.ts'

const seed = Number(process.env['CHAINRULE_SEED'] ?? 42)

/** The first index where x and y differ bit for bit (Object.is), or −1. */
const firstDifference = (x: Float32Array, y: Float32Array): number => {
  for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return i
  return -1
}

/** The case's operands rounded to float32 (and the same values in float64). */
const operands32 = (c: Case) => {
  const o = operands(c)
  const x = Float32Array.from(o.x)
  const w = Float32Array.from(o.w)
  const b = Float32Array.from(o.b)
  const dy = Float32Array.from(o.dy)
  return { x, w, b, dy, x64: Float64Array.from(x), w64: Float64Array.from(w), b64: Float64Array.from(b), dy64: Float64Array.from(dy) }
}

const sizes = (c: Case) => {
  const { N, C, H, W, F, KH, KW, OH, OW } = c.g
  return { x: N * C * H * W, w: F * C * KH * KW, y: N * F * OH * OW }
}

/** Runs a family's three products (y with bias, y with fused relu, dx, dw) on a case; outputs start as NaN so every one must be written. */
const runAll = (k: Conv32Kernels, c: Case): Float32Array[] => {
  const o = operands32(c)
  const n = sizes(c)
  const y = new Float32Array(n.y).fill(NaN)
  const yRelu = new Float32Array(n.y).fill(NaN)
  const yNoBias = new Float32Array(n.y).fill(NaN)
  const dx = new Float32Array(n.x).fill(NaN)
  const dw = new Float32Array(n.w).fill(NaN)
  k.forward(c.g, o.x, o.w, o.b, y)
  k.forward(c.g, o.x, o.w, o.b, yRelu, true)
  k.forward(c.g, o.x, o.w, undefined, yNoBias)
  k.inputGrad(c.g, o.dy, o.w, dx)
  k.kernelGrad(c.g, o.x, o.dy, dw)
  // The whole backward pass of a layer with a fused relu and a bias (dy masked by relu(y) > 0).
  const [dx2, dw2, db2] = [new Float32Array(n.x).fill(NaN), new Float32Array(n.w).fill(NaN), new Float32Array(c.g.F).fill(NaN)]
  k.backward(c.g, o.x, o.dy, o.w, dx2, dw2, db2, yRelu)
  return [y, yRelu, yNoBias, dx, dw, dx2, dw2, db2]
}

const names = ['y', 'relu(y)', 'y without bias', 'dx', 'dw', 'backward dx', 'backward dw', 'backward db']

const expectSameBits = (c: Case, got: Float32Array[], want: Float32Array[]): void => {
  for (let q = 0; q < want.length; q++) {
    const i = firstDifference(got[q]!, want[q]!)
    if (i !== -1) throw new Error(`${describeCase(c)}: ${names[q]}[${i}] is ${got[q]![i]}, the naive loops give ${want[q]![i]}`)
  }
}

let before: Readonly<ThreadSettings>
beforeAll(async () => {
  before = configureThreads()
  expect(await useThreads(2)).toBe(true)
  configureThreads({ minFlops: 0, wakeFlops: 0, minChunk: 4, cooldownMs: 0 })
})
afterAll(() => {
  configureThreads(before)
})

describe('im2col + a float32 GEMM gives the naive float32 loops bit for bit', () => {
  const families: readonly (readonly [string, Conv32Kernels])[] = [
    ['fastConv32 (TypeScript GEMM)', fastConv32],
    ['fastConv32Wasm (WebAssembly f32x4, two threads)', fastConv32Wasm],
    ['WebAssembly f32x4 on one thread, a group of one or two samples per product', makeFastConv32(() => gemm32Wasm, 60)],
    ['TypeScript GEMM, a group of one or two samples per product', makeFastConv32(() => gemm32Blocked, 60)],
  ]
  for (const [name, family] of families) {
    test(`${name}: y (with and without bias, with fused relu), dx, dw on random geometries`, () => {
      fc.assert(
        fc.property(casesUpTo(4), (c) => expectSameBits(c, runAll(family, c), runAll(naiveConv32, c))),
        { seed, numRuns: 120 },
      )
    })
  }

  test('the MNIST CNN layers (1→8 and 8→16 filters, 5x5, padding 2), two threads splitting the products', () => {
    const splits = splitCount()
    for (const [C, H, F] of [
      [1, 28, 8],
      [8, 14, 16],
    ] as const) {
      const g = { N: 3, C, H, W: H, F, KH: 5, KW: 5, SH: 1, SW: 1, DH: 1, DW: 1, PT: 2, PL: 2, OH: H, OW: H }
      const c: Case = { g, padding: 'same', seed: C + H }
      expectSameBits(
        c,
        runAll(
          makeFastConv32(() => gemm32Wasm2),
          c,
        ),
        runAll(naiveConv32, c),
      )
    }
    expect(splitCount()).toBeGreaterThan(splits)
  })

  test('backward is its pieces: dz = dy where relu(y) > 0, then inputGrad, kernelGrad and convBiasGrad32 on dz', () => {
    fc.assert(
      fc.property(cases, (c) => {
        const o = operands32(c)
        const n = sizes(c)
        const y = new Float32Array(n.y)
        naiveConv32.forward(c.g, o.x, o.w, o.b, y, true)
        const dz = o.dy.map((d, i) => (y[i]! > 0 ? d : 0))
        const [dx, dw, db] = [new Float32Array(n.x), new Float32Array(n.w), new Float32Array(c.g.F)]
        naiveConv32.inputGrad(c.g, dz, o.w, dx)
        naiveConv32.kernelGrad(c.g, o.x, dz, dw)
        convBiasGrad32(c.g, dz, db)
        for (const k of [naiveConv32, fastConv32Wasm]) {
          const [dx2, dw2, db2] = [new Float32Array(n.x), new Float32Array(n.w), new Float32Array(c.g.F)]
          k.backward(c.g, o.x, o.dy, o.w, dx2, dw2, db2, y)
          expect(firstDifference(dx2, dx)).toBe(-1)
          expect(firstDifference(dw2, dw)).toBe(-1)
          expect(firstDifference(db2, db)).toBe(-1)
          const dwOnly = new Float32Array(n.w)
          k.backward(c.g, o.x, o.dy, o.w, undefined, dwOnly) // no dx, no bias, no relu: kernelGrad of dy
          const want = new Float32Array(n.w)
          naiveConv32.kernelGrad(c.g, o.x, o.dy, want)
          expect(firstDifference(dwOnly, want)).toBe(-1)
        }
      }),
      { seed, numRuns: 80 },
    )
  })

  test('conv32Kernels follows the kernel switch', () => {
    const was = kernels()
    try {
      useKernels('reference')
      expect(conv32Kernels()).toBe(naiveConv32)
      useKernels('js')
      expect(conv32Kernels()).toBe(fastConv32)
      useKernels('wasm')
      expect(conv32Kernels()).toBe(fastConv32Wasm)
    } finally {
      useKernels(was)
    }
  })

  test('a wrong-sized operand throws a RangeError naming it', () => {
    const g = { N: 1, C: 1, H: 3, W: 3, F: 1, KH: 2, KW: 2, SH: 1, SW: 1, DH: 1, DW: 1, PT: 0, PL: 0, OH: 2, OW: 2 }
    for (const k of [naiveConv32, fastConv32, fastConv32Wasm]) {
      expect(() => k.forward(g, new Float32Array(8), new Float32Array(4), undefined, new Float32Array(4))).toThrow(/x has 8 values/)
      expect(() => k.kernelGrad(g, new Float32Array(9), new Float32Array(4), new Float32Array(3))).toThrow(/dw has 3 values/)
    }
  })
})

describe('the naive float32 loops stay within the float32 bound of the float64 ones', () => {
  const bound = (m: number): number => (gamma(m, 2 ** -24) + gamma(m, 2 ** -53)) * (1 + 1e-12)
  const expectWithin = (c: Case, what: string, got: Float32Array, want: Float64Array, magnitude: Float64Array, m: number): void => {
    for (let i = 0; i < want.length; i++) {
      const err = Math.abs(got[i]! - want[i]!)
      if (err > bound(m) * magnitude[i]!) {
        throw new Error(
          `${describeCase(c)}: ${what}[${i}] float32 ${got[i]} vs float64 ${want[i]}, error ${err} > ${bound(m) * magnitude[i]!}`,
        )
      }
    }
  }

  test('y, dx, dw and db on random geometries', () => {
    fc.assert(
      fc.property(cases, (c) => {
        const o = operands32(c)
        const n = sizes(c)
        const { N, C, F, KH, KW, OH, OW } = c.g
        const y = new Float32Array(n.y)
        const y64 = new Float64Array(n.y)
        const yMag = new Float64Array(n.y)
        naiveConv32.forward(c.g, o.x, o.w, o.b, y)
        naiveConv.forward(c.g, o.x64, o.w64, o.b64, y64)
        naiveConv.forward(c.g, abs(o.x64), abs(o.w64), abs(o.b64), yMag)
        expectWithin(c, 'y', y, y64, yMag, C * KH * KW + 1)
        const dx = new Float32Array(n.x)
        const dx64 = new Float64Array(n.x)
        const dxMag = new Float64Array(n.x)
        naiveConv32.inputGrad(c.g, o.dy, o.w, dx)
        naiveConv.inputGrad(c.g, o.dy64, o.w64, dx64)
        naiveConv.inputGrad(c.g, abs(o.dy64), abs(o.w64), dxMag)
        expectWithin(c, 'dx', dx, dx64, dxMag, F + KH * KW)
        const dw = new Float32Array(n.w)
        const dw64 = new Float64Array(n.w)
        const dwMag = new Float64Array(n.w)
        naiveConv32.kernelGrad(c.g, o.x, o.dy, dw)
        naiveConv.kernelGrad(c.g, o.x64, o.dy64, dw64)
        naiveConv.kernelGrad(c.g, abs(o.x64), abs(o.dy64), dwMag)
        expectWithin(c, 'dw', dw, dw64, dwMag, N * OH * OW)
        const db = new Float32Array(F)
        const db64 = new Float64Array(F)
        const dbMag = new Float64Array(F)
        convBiasGrad32(c.g, o.dy, db)
        convBiasGrad(c.g, o.dy64, db64)
        convBiasGrad(c.g, abs(o.dy64), dbMag)
        expectWithin(c, 'db', db, db64, dbMag, N * OH * OW)
      }),
      { seed, numRuns: 150 },
    )
  })

  test('convBiasGrad32 adds in the stated order: samples, then positions, each add rounded to float32', () => {
    // One filter, two samples of one position each, then a third: (2²⁴ + 1) is not a float32.
    const g = { N: 3, C: 1, H: 1, W: 1, F: 1, KH: 1, KW: 1, SH: 1, SW: 1, DH: 1, DW: 1, PT: 0, PL: 0, OH: 1, OW: 1 }
    const db = new Float32Array(1)
    convBiasGrad32(g, Float32Array.of(2 ** 24, 1, 1), db)
    expect(db[0]).toBe(2 ** 24) // (2²⁴ + 1) rounds to 2²⁴ (ties to even), twice
    convBiasGrad32(g, Float32Array.of(1, 1, 2 ** 24), db)
    expect(db[0]).toBe(2 ** 24 + 2)
  })
})
