/**
 * ReLU and max-pooling in WebAssembly (src/kernels/wasm/elementwise.ts): under the 'wasm'
 * kernels, a big enough tensor runs there instead of in the TypeScript loops. Both compute
 * exact results (no rounding), so they must agree bit for bit (the sign of zero included) on
 * special values, ties and NaNs, on one thread and on two, across part boundaries and odd sizes.
 * A reference written from the definition checks the TypeScript side too.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Kernels, Key, L, T, type Tensor } from '../../src/index.ts'
import { maxPoolBackward } from '../../src/kernels/pool.ts'
import { maxPool2x2Wasm, maxPoolBackwardWasm, MIN_ELEMENTS, reluBackwardWasm, reluForwardWasm } from '../../src/kernels/wasm/elementwise.ts'
import { configureThreads, splitCount, type ThreadSettings } from '../../src/kernels/wasm/threads.ts'
import { planWindow } from '../../src/kernels/window.ts'

const ctx = { mode: 'train' as const, key: Key.fromSeed(0) }
const specials = [-Infinity, -Number.MAX_VALUE, -1.5, -5e-324, -0, 0, 5e-324, 1.5, Number.MAX_VALUE, Infinity, NaN]

/** n numbers: the special values at spread-out places (some in the last, odd lane), normals elsewhere. */
function tricky(n: number, seed: number): Float64Array {
  const a = Key.normal(Key.fromSeed(seed), [n]).data.slice()
  for (let i = seed % 7; i < n; i += 13) a[i] = specials[(i * 7 + seed) % specials.length]!
  a[n - 1] = specials[seed % specials.length]!
  return a
}

/** n numbers from a handful of values, so windows are full of ties, zeros of both signs and NaNs. */
function tied(n: number, seed: number): Float64Array {
  const values = [-1, -0, 0, 1, 1, 2, 2, NaN, Infinity, -Infinity]
  let s = seed >>> 0
  return Float64Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return values[s % values.length]!
  })
}

/** The first index where a and b differ (Object.is: −0 and +0 differ), or -1. */
const firstDifference = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  if (a.length !== b.length) return -2
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i
  return -1
}

/** y and dx of a parameterless layer under a kernel family. */
function run(family: 'js' | 'wasm', layer: L.Layer<L.None, L.None, unknown>, x: Tensor, dy: (y: Tensor) => Tensor) {
  return Kernels.using(family, () => {
    const { y, tape } = layer.forward(L.none, L.none, x, ctx)
    return { y: y.data, dx: layer.vjp(L.none, tape, dy(y)).dx.data }
  })
}

/**
 * A 2x2, stride-2 pooling geometry on N × C planes of H × W, and an argmax for it written by hand:
 * for output q, the tap `tap(q)` of its window (0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right).
 */
function pool2x2(C: number, H: number, W: number, N: number, tap: (q: number) => number) {
  const plan = planWindow({ kernel: [2, 2], stride: [2, 2], dilation: [1, 1], padding: 0 }, C, H, W, N)
  if (typeof plan === 'string') throw new Error(plan)
  const g = plan.window
  const outN = g.N * g.C * g.OH * g.OW
  const argmax = Int32Array.from({ length: outN }, (_, q) => {
    const plane = Math.floor(q / (g.OH * g.OW))
    const r = q % (g.OH * g.OW)
    const t = tap(q)
    return plane * g.H * g.W + (2 * Math.floor(r / g.OW) + (t >> 1)) * g.W + 2 * (r % g.OW) + (t & 1)
  })
  return { g, outN, argmax }
}

let before: Readonly<ThreadSettings>
beforeAll(async () => {
  before = configureThreads()
  expect(await Kernels.useThreads(2)).toBe(true)
  await Kernels.useThreads(1)
})
afterAll(async () => {
  configureThreads(before)
  await Kernels.useThreads(1)
})

/**
 * Runs `check` on one thread, then on two with the worker computing every part (this thread
 * none), and checks the second time split its jobs (when `splits`: a job of one part never
 * splits), so the worker's parts were really compared.
 */
async function oneAndTwoThreads(check: () => void, splits = true): Promise<void> {
  await Kernels.useThreads(1)
  check()
  expect(await Kernels.useThreads(2)).toBe(true)
  try {
    configureThreads({ minFlops: 0, mainComputes: false })
    const before = splitCount()
    check()
    if (splits) expect(splitCount()).toBeGreaterThan(before)
  } finally {
    configureThreads(before)
    await Kernels.useThreads(1)
  }
}

describe('relu in WebAssembly equals the TypeScript loop and the definition, bit for bit', () => {
  // at the threshold, one past it (an odd last element: one part each), and three parts with an odd tail
  for (const n of [MIN_ELEMENTS, MIN_ELEMENTS + 1, 70001]) {
    test(`${n} elements`, async () => {
      const x = T.fromData([n], tricky(n, n))
      const d = T.fromData([n], tricky(n, n + 1))
      const want = {
        y: Array.from(x.data, (a) => (Number.isNaN(a) ? NaN : a > 0 ? a : 0)),
        dx: Array.from(x.data, (a, i) => (a > 0 ? d.data[i]! : 0)),
      }
      await oneAndTwoThreads(() => {
        const js = run('js', L.relu, x, () => d)
        const wasm = run('wasm', L.relu, x, () => d)
        expect(firstDifference(js.y, want.y)).toBe(-1)
        expect(firstDifference(js.dx, want.dx)).toBe(-1)
        expect(firstDifference(wasm.y, js.y)).toBe(-1)
        expect(firstDifference(wasm.dx, js.dx)).toBe(-1)
      }, n > 32768)
    })
  }
})

describe('max-pooling in WebAssembly equals the TypeScript loops, bit for bit (ties, ±0, ±∞, NaN)', () => {
  const cases: [string, number[], L.AnyLayer][] = [
    ['2x2 on [3, 5, 28, 28]', [3, 5, 28, 28], L.maxPool2d(2)],
    ['2x2 on [9, 16, 14, 14] (an odd number of windows per row)', [9, 16, 14, 14], L.maxPool2d(2)],
    ['2x2 on [4, 3, 29, 31] (the odd last row and column in no window)', [4, 3, 29, 31], L.maxPool2d(2)],
    [
      '3x3 stride 2 padding 1 on [8, 8, 15, 16] (the general forward, backward in WebAssembly)',
      [8, 8, 15, 16],
      L.maxPool2d(3, { stride: 2, padding: 1 }),
    ],
  ]
  for (const [name, shape, layer] of cases) {
    test(name, async () => {
      const n = shape.reduce((a, b) => a * b)
      const x = T.fromData(shape, tied(n, n))
      const pool = layer as L.Layer<L.None, L.None, unknown>
      const dy = (y: Tensor): Tensor => T.fromData(y.shape, tricky(y.data.length, 3))
      await oneAndTwoThreads(() => {
        const js = run('js', pool, x, dy)
        const wasm = run('wasm', pool, x, dy)
        expect(firstDifference(wasm.y, js.y)).toBe(-1)
        expect(firstDifference(wasm.dx, js.dx)).toBe(-1)
      })
    })
  }

  test('the WebAssembly backward pass overwrites all of dx', () => {
    const { g, outN, argmax } = pool2x2(5, 29, 30, 4, (q) => (q % 4 === 3 ? 3 : q % 2))
    const dy = tricky(outN, 9)
    const clean = new Float64Array(g.N * g.C * g.H * g.W)
    const dirty = new Float64Array(clean.length).fill(NaN)
    Kernels.using('wasm', () => {
      maxPoolBackward(g, dy, argmax, clean)
      maxPoolBackward(g, dy, argmax, dirty)
    })
    const js = new Float64Array(clean.length).fill(NaN)
    Kernels.using('js', () => maxPoolBackward(g, dy, argmax, js))
    expect(firstDifference(dirty, clean)).toBe(-1)
    expect(firstDifference(clean, js)).toBe(-1)
  })
})

describe('an argmax that maxPoolForward did not write (a foreign tape)', () => {
  test('the WebAssembly backward pass writes only inside its own planes, and skips an index past the end as the TypeScript loop does', () => {
    const { g, outN, argmax } = pool2x2(4, 32, 32, 2, () => 0)
    argmax[5] = 2 ** 30 // far past the end of dx
    argmax[6] = -7
    const dy = tricky(outN, 4)
    const wasm = new Float64Array(g.N * g.C * g.H * g.W).fill(NaN)
    const js = new Float64Array(wasm.length).fill(NaN)
    Kernels.using('wasm', () => maxPoolBackward(g, dy, argmax, wasm))
    Kernels.using('js', () => maxPoolBackward(g, dy, argmax, js))
    expect(firstDifference(wasm, js)).toBe(-1)
  })
})

describe('a pass that does not fit in the memory cap', () => {
  test('writes nothing and returns false (the caller then runs the TypeScript loop)', () => {
    const n = 8192
    const x = tricky(n, 1)
    const d = tricky(n, 2)
    const y = new Float64Array(n).fill(7)
    expect(reluForwardWasm(1, x, y, 4096)).toBe(false)
    expect(reluBackwardWasm(1, x, d, y, 4096)).toBe(false)
    const g = { N: 2, C: 2, H: 32, W: 32, OH: 16, OW: 16 }
    const out = new Float64Array(2 * 2 * 16 * 16).fill(7)
    const argmax = new Int32Array(out.length).fill(7)
    expect(maxPool2x2Wasm(1, g, tricky(4096, 3), out, argmax, 4096)).toBe(false)
    expect(maxPoolBackwardWasm(1, g, out, argmax, y.subarray(0, 4096), 4096)).toBe(false)
    for (const a of [y, out, argmax]) expect(a.every((v) => v === 7)).toBe(true)
    // and with room, the same calls do run
    expect(reluForwardWasm(1, x, y)).toBe(true)
    expect(y.every((v, i) => Object.is(v, Number.isNaN(x[i]!) ? NaN : x[i]! > 0 ? x[i]! : 0))).toBe(true)
  })
})
