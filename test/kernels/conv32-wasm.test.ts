/**
 * The float32 convolution all in WebAssembly (src/kernels/wasm/conv32.ts, asm/conv32.ts): it
 * runs (returns true, never the TypeScript fallback) and gives the naive float32 loops' bits, on
 * one thread and on two, over random geometries (strides, paddings, dilations, taps that see only
 * padding, one-pixel outputs) and the MNIST CNN's layers; the backward pass with and without dx,
 * db and a fused relu. Filter counts up to 21 reach every register tile of the in-place products
 * (rows in fives, fours and ones; columns in eights, fours and ones), and no input is written.
 * With relu and 2x2 max-pooling fused in, the forward pass gives maxPool32(relu(conv)) (its argmax
 * −1 where the value is not > 0) and the backward pass the conv's gradients of the pool's and
 * relu's vjps, bit for bit.
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { useThreads } from '../../src/kernels/backend.ts'
import { naiveConv32 } from '../../src/kernels/conv32.ts'
import { maxPool32Reference, maxPoolBackward32 } from '../../src/kernels/pool32.ts'
import {
  conv32BackwardWasm,
  conv32ForwardWasm,
  conv32ReluPoolBackwardWasm,
  conv32ReluPoolForwardWasm,
  pooledSize,
} from '../../src/kernels/wasm/conv32.ts'
import { planWindow } from '../../src/kernels/window.ts'
import { configureThreads, splitCount, type ThreadSettings } from '../../src/kernels/wasm/threads.ts'
import { casesUpTo, describeCase, operands, type Case } from '../support/conv-cases.ts'

const seed = Number(process.env['CHAINRULE_SEED'] ?? 42)

const firstDifference = (x: Float32Array, y: Float32Array): number => {
  for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return i
  return -1
}

interface Outputs {
  readonly [name: string]: Float32Array
}

/** Every product through `forward` and `backward` (outputs start as NaN, so each must be written). */
const runAll = (
  c: Case,
  forward: (x: Float32Array, w: Float32Array, b: Float32Array | undefined, y: Float32Array, relu: boolean) => void,
  backward: (
    x: Float32Array,
    dy: Float32Array,
    w: Float32Array,
    dx: Float32Array | undefined,
    dw: Float32Array | undefined,
    db?: Float32Array,
    yRelu?: Float32Array,
  ) => void,
): Outputs => {
  const o = operands(c)
  const x = Float32Array.from(o.x)
  const w = Float32Array.from(o.w)
  const b = Float32Array.from(o.b)
  const dy = Float32Array.from(o.dy)
  const inputs = [x, w, b, dy].map((a) => Float32Array.from(a))
  const { N, C, H, W, F, KH, KW, OH, OW } = c.g
  const nan = (n: number): Float32Array => new Float32Array(n).fill(NaN)
  const [nx, nw, ny] = [N * C * H * W, F * C * KH * KW, N * F * OH * OW]
  const out = { y: nan(ny), yRelu: nan(ny), yNoBias: nan(ny), dx: nan(nx), dw: nan(nw), db: nan(F), dxOnly: nan(nx), dwOnly: nan(nw) }
  const reluDx = nan(nx)
  const reluDw = nan(nw)
  const reluDb = nan(F)
  forward(x, w, b, out.y, false)
  forward(x, w, b, out.yRelu, true)
  forward(x, w, undefined, out.yNoBias, false)
  backward(x, dy, w, out.dx, out.dw, out.db)
  backward(x, dy, w, out.dxOnly, undefined)
  backward(x, dy, w, undefined, out.dwOnly)
  const yRelu = Float32Array.from(out.yRelu)
  backward(x, dy, w, reluDx, reluDw, reluDb, out.yRelu)
  ;[x, w, b, dy].forEach((a, i) => expect(firstDifference(a, inputs[i]!), 'an input was written').toBe(-1))
  expect(firstDifference(out.yRelu, yRelu), 'y was written by the backward pass').toBe(-1)
  return { ...out, reluDx, reluDw, reluDb }
}

const naive = (c: Case): Outputs =>
  runAll(
    c,
    (x, w, b, y, relu) => naiveConv32.forward(c.g, x, w, b, y, relu),
    (x, dy, w, dx, dw, db, yRelu) => {
      if (dw === undefined) return naiveConv32.inputGrad(c.g, dy, w, dx!)
      naiveConv32.backward(c.g, x, dy, w, dx, dw, db, yRelu)
    },
  )

const wasm = (c: Case, threads: 1 | 2): Outputs =>
  runAll(
    c,
    (x, w, b, y, relu) => expect(conv32ForwardWasm(threads, c.g, x, w, b, y, relu)).toBe(true),
    (x, dy, w, dx, dw, db, yRelu) => expect(conv32BackwardWasm(threads, c.g, x, dy, w, dx, dw, db, yRelu)).toBe(true),
  )

const expectSameBits = (c: Case, got: Outputs, want: Outputs): void => {
  for (const name of Object.keys(want)) {
    const i = firstDifference(got[name]!, want[name]!)
    if (i !== -1) throw new Error(`${describeCase(c)}: ${name}[${i}] is ${got[name]![i]}, the naive loops give ${want[name]![i]}`)
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

describe('the float32 convolution in WebAssembly gives the naive float32 loops bit for bit', () => {
  for (const threads of [1, 2] as const) {
    test(`on ${threads} thread${threads === 1 ? '' : 's'}: y (bias, no bias, fused relu), dx, dw, db, relu backward, random geometries`, () => {
      fc.assert(
        fc.property(casesUpTo(4), (c) => expectSameBits(c, wasm(c, threads), naive(c))),
        { seed, numRuns: 150 },
      )
    })
  }

  for (const threads of [1, 2] as const) {
    test(`on ${threads} thread${threads === 1 ? '' : 's'}: 1 to 21 filters, every register tile and its leftovers`, () => {
      const manyFilters = casesUpTo(3).chain((c) => fc.integer({ min: 1, max: 21 }).map((F): Case => ({ ...c, g: { ...c.g, F } })))
      fc.assert(
        fc.property(manyFilters, (c) => expectSameBits(c, wasm(c, threads), naive(c))),
        { seed, numRuns: 100 },
      )
    })
  }

  test('the MNIST CNN layers (1→8 and 8→16 filters, 5x5, padding 2, batch 5), two threads sharing the parts', () => {
    const splits = splitCount()
    for (const [C, H, F] of [
      [1, 28, 8],
      [8, 14, 16],
    ] as const) {
      const g = { N: 5, C, H, W: H, F, KH: 5, KW: 5, SH: 1, SW: 1, DH: 1, DW: 1, PT: 2, PL: 2, OH: H, OW: H }
      const c: Case = { g, padding: 'same', seed: C + H }
      const want = naive(c)
      expectSameBits(c, wasm(c, 1), want)
      expectSameBits(c, wasm(c, 2), want)
    }
    expect(splitCount()).toBeGreaterThan(splits)
  })

  test('an empty batch declines (false) and writes nothing: the caller runs the TypeScript path', () => {
    const g = { N: 0, C: 1, H: 3, W: 3, F: 2, KH: 2, KW: 2, SH: 1, SW: 1, DH: 1, DW: 1, PT: 0, PL: 0, OH: 2, OW: 2 }
    const dw = new Float32Array(8).fill(7)
    expect(conv32ForwardWasm(1, g, new Float32Array(0), new Float32Array(8), undefined, new Float32Array(0))).toBe(false)
    expect(conv32BackwardWasm(1, g, new Float32Array(0), new Float32Array(0), new Float32Array(8), undefined, dw)).toBe(false)
    expect(dw.every((v) => v === 7)).toBe(true)
  })

  describe('with relu and 2x2 max-pooling fused in', () => {
    /** The readable path: relu(conv) by the naive loops, maxPool32Reference, then the pool's vjp and the conv's with relu's mask. */
    const unfused = (c: Case) => {
      const o = operands(c)
      const [x, w, b, dyFull] = [o.x, o.w, o.b, o.dy].map((a) => Float32Array.from(a)) as [
        Float32Array,
        Float32Array,
        Float32Array,
        Float32Array,
      ]
      const { N, F, OH, OW } = c.g
      const plan = planWindow({ kernel: [2, 2], stride: [2, 2], dilation: [1, 1], padding: 'valid' }, F, OH, OW, N)
      if (typeof plan === 'string') throw new Error(plan)
      const pg = plan.window
      const y = new Float32Array(N * F * OH * OW)
      naiveConv32.forward(c.g, x, w, b, y, true)
      const n = pooledSize(c.g)
      const pooled = { y: new Float32Array(n), argmax: new Int32Array(n) }
      maxPool32Reference(pg, y, pooled.y, pooled.argmax)
      const dy = dyFull.subarray(0, n)
      const dz = new Float32Array(y.length)
      maxPoolBackward32(pg, dy, pooled.argmax, dz)
      const [dx, dw, db] = [new Float32Array(x.length), new Float32Array(w.length), new Float32Array(F)]
      naiveConv32.backward(c.g, x, dz, w, dx, dw, db, y)
      return { x, w, b, dy, pooled, dx, dw, db }
    }

    /** The fused kernels on a case, against `unfused`: pooled values, argmax, dx, dw and db bit for bit, inputs unchanged. */
    const expectFusedSameBits = (c: Case, threads: 1 | 2): void => {
      const want = unfused(c)
      const n = pooledSize(c.g)
      const { x, w, b, dy } = want
      const before = [x, w, b, dy].map((a) => Float32Array.from(a))
      const pooled = { y: new Float32Array(n).fill(NaN), argmax: new Int32Array(n).fill(-7) }
      expect(conv32ReluPoolForwardWasm(threads, c.g, x, w, b, pooled)).toBe(true)
      const same = (got: ArrayLike<number>, wanted: ArrayLike<number>, name: string): void => {
        for (let i = 0; i < wanted.length; i++)
          if (!Object.is(got[i], wanted[i])) throw new Error(`${describeCase(c)}: ${name}[${i}] is ${got[i]}, want ${wanted[i]}`)
      }
      same(pooled.y, want.pooled.y, 'pooled y')
      // the pool's argmax where the pooled value is > 0, else −1: relu's vjp passes nothing back there
      same(
        pooled.argmax,
        want.pooled.argmax.map((k, q) => (want.pooled.y[q]! > 0 ? k : -1)),
        'argmax',
      )
      const pooledBefore = { y: Float32Array.from(pooled.y), argmax: Int32Array.from(pooled.argmax) }
      const [dx, dw, db] = [new Float32Array(x.length).fill(NaN), new Float32Array(w.length).fill(NaN), new Float32Array(c.g.F).fill(NaN)]
      expect(conv32ReluPoolBackwardWasm(threads, c.g, x, dy, w, dx, dw, db, pooled.argmax)).toBe(true)
      same(dx, want.dx, 'dx')
      same(dw, want.dw, 'dw')
      same(db, want.db, 'db')
      const dwOnly = new Float32Array(w.length).fill(NaN)
      expect(conv32ReluPoolBackwardWasm(threads, c.g, x, dy, w, undefined, dwOnly, undefined, pooled.argmax)).toBe(true)
      same(dwOnly, want.dw, 'dw (no dx, no db)')
      ;[x, w, b, dy].forEach((a, i) => same(a, before[i]!, 'an input'))
      same(pooled.y, pooledBefore.y, 'pooled y after the backward pass')
      same(pooled.argmax, pooledBefore.argmax, 'argmax after the backward pass')
    }

    for (const threads of [1, 2] as const) {
      test(`on ${threads} thread${threads === 1 ? '' : 's'}: pooled values, argmax, dx, dw and db are the readable path's bits; inputs unchanged`, () => {
        const poolable = casesUpTo(3)
          .chain((c) => fc.integer({ min: 1, max: 21 }).map((F): Case => ({ ...c, g: { ...c.g, F } })))
          .filter((c) => c.g.OH >= 2 && c.g.OW >= 2)
        fc.assert(
          fc.property(poolable, (c) => expectFusedSameBits(c, threads)),
          { seed, numRuns: 100 },
        )
      })
    }

    /** 'same' convolutions with stride 1 onto OH × OW outputs: with both even and OW ≥ 8, the pool's vjp runs as one vector pass. */
    const wide = fc
      .record({
        N: fc.integer({ min: 1, max: 3 }),
        C: fc.integer({ min: 1, max: 2 }),
        F: fc.integer({ min: 1, max: 17 }),
        k: fc.constantFrom(1, 3, 5),
        OH: fc.integer({ min: 2, max: 30 }),
        OW: fc.integer({ min: 2, max: 30 }),
        seed: fc.integer(),
      })
      .map(({ N, C, F, k, OH, OW, seed: s }): Case => {
        const plan = planWindow({ kernel: [k, k], stride: [1, 1], dilation: [1, 1], padding: 'same' }, C, OH, OW, N)
        if (typeof plan === 'string') throw new Error(plan)
        return { g: { ...plan.window, F }, padding: 'same', seed: s }
      })

    for (const threads of [1, 2] as const) {
      const name = `on ${threads} thread${threads === 1 ? '' : 's'}`
      test(`${name}: outputs 2 to 30 wide and tall, even (four windows a row or more: the vector pass) or odd; the MNIST layers`, () => {
        fc.assert(
          fc.property(wide, (c) => expectFusedSameBits(c, threads)),
          { seed, numRuns: 80 },
        )
        for (const [C, H, F] of [
          [1, 28, 8],
          [8, 14, 16],
        ] as const) {
          const g = { N: 3, C, H, W: H, F, KH: 5, KW: 5, SH: 1, SW: 1, DH: 1, DW: 1, PT: 2, PL: 2, OH: H, OW: H }
          expectFusedSameBits({ g, padding: 'same', seed: C + H }, threads)
        }
      })
    }

    for (const threads of [1, 2] as const) {
      const name = `on ${threads} thread${threads === 1 ? '' : 's'}`
      test(`${name}: a tape whose argmax points outside its window (not the forward's) gives the pool's vjp, then the conv's`, () => {
        const g = { N: 2, C: 2, H: 12, W: 12, F: 3, KH: 3, KW: 3, SH: 1, SW: 1, DH: 1, DW: 1, PT: 1, PL: 1, OH: 12, OW: 12 }
        const o = operands({ g, padding: 'same', seed: 7 })
        const [x, w, b] = [o.x, o.w, o.b].map((a) => Float32Array.from(a)) as [Float32Array, Float32Array, Float32Array]
        const n = pooledSize(g)
        const dy = Float32Array.from(o.dy.subarray(0, n))
        const pooled = { y: new Float32Array(n), argmax: new Int32Array(n) }
        expect(conv32ReluPoolForwardWasm(threads, g, x, w, b, pooled)).toBe(true)
        const P = g.OH * g.OW
        const argmax = Int32Array.from(pooled.argmax)
        argmax[5] = 1 * g.F * P + 0 * P + 3 // sample 1's own filter 0 plane (q = 5 is sample 0's): skipped
        argmax[40] = 0 * g.F * P + 2 * P + 100 // sample 0, filter 1's pooled output 4 pointing into filter 2's plane
        argmax[41] = 0 * g.F * P + 1 * P + 0 // and 41 into its own plane, another window
        argmax[2 * 36 + 36 + 7] = -1 // sample 1, filter 0: nothing
        const plan = planWindow({ kernel: [2, 2], stride: [2, 2], dilation: [1, 1], padding: 'valid' }, g.F, g.OH, g.OW, g.N)
        if (typeof plan === 'string') throw new Error(plan)
        // The pool's vjp per sample (an argmax in another sample's block is skipped), then the conv's without relu's mask.
        const inSample = argmax.map((k, q) => (Math.floor(k / (g.F * P)) === Math.floor(q / (g.F * 36)) ? k : -1))
        const dz = new Float32Array(g.N * g.F * P)
        maxPoolBackward32(plan.window, dy, inSample, dz)
        const want = { dx: new Float32Array(x.length), dw: new Float32Array(w.length), db: new Float32Array(g.F) }
        naiveConv32.backward(g, x, dz, w, want.dx, want.dw, want.db)
        const nan = (length: number): Float32Array => new Float32Array(length).fill(NaN)
        const got = { dx: nan(x.length), dw: nan(w.length), db: nan(g.F) }
        expect(conv32ReluPoolBackwardWasm(threads, g, x, dy, w, got.dx, got.dw, got.db, argmax)).toBe(true)
        for (const name of ['dx', 'dw', 'db'] as const) expect(firstDifference(got[name], want[name])).toBe(-1)
      })
    }

    test('an output smaller than one window declines (false) and writes nothing', () => {
      const g = { N: 1, C: 1, H: 3, W: 1, F: 2, KH: 2, KW: 1, SH: 1, SW: 1, DH: 1, DW: 1, PT: 0, PL: 0, OH: 2, OW: 1 }
      const pooled = { y: new Float32Array(0), argmax: new Int32Array(0) }
      expect(conv32ReluPoolForwardWasm(1, g, new Float32Array(3), new Float32Array(4), undefined, pooled)).toBe(false)
      const dw = new Float32Array(4).fill(7)
      expect(
        conv32ReluPoolBackwardWasm(
          1,
          g,
          new Float32Array(3),
          new Float32Array(0),
          new Float32Array(4),
          undefined,
          dw,
          undefined,
          pooled.argmax,
        ),
      ).toBe(false)
      expect(dw.every((v) => v === 7)).toBe(true)
    })
  })
})
