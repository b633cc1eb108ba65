/**
 * The WebAssembly GEMM (src/kernels/wasm/gemm.ts, kernel in asm/gemm.ts) equals the reference,
 * the committed module is what the source compiles to, and the backend switch picks it.
 *
 * Tolerance: as in test/kernels/gemm.test.ts, |wasm - ref| ≤ 1e-12·(|c0| + Σ_p |a_ip·b_pj|), a bound
 * that holds for any summation order (Higham §3.1; 2·γ_{k+1} < 1e-12 for k ≤ 4500). The kernel
 * in fact adds the products of each C[i][j] in the reference's order, one rounding per multiply
 * and per add, so the tests also check bit-identity, the stronger property the backend switch
 * documents (today's three GEMMs round identically).
 */
import fc from 'fast-check'
import { readFileSync } from 'node:fs'
import { describe, expect, it, vi } from 'vitest'
import { gemmCases, runs, SENTINEL, values, type Built, type GemmCase, type Operand } from '../support/gemm-data.ts'
import { GENERATED, generatedModule } from '../../scripts/build-wasm.ts'
import {
  currentGemm,
  gemmFor,
  kernels,
  resolveKernels,
  threads,
  useKernels,
  wasmSimdAvailable,
  withKernels,
  type KernelChoice,
} from '../../src/kernels/backend.ts'
import { gemmBlocked, gemmReference, view, type BlockSizes, type Gemm, type MatView } from '../../src/kernels/gemm.ts'
import { gemmWasmBase64 } from '../../src/kernels/wasm/gemm-module.ts'
import { gemmWasm, makeGemmWasm, wasmBlockSizes } from '../../src/kernels/wasm/gemm.ts'
import { Op } from '../../src/kernels/wasm/parts.ts'
import { gemmWasm2 } from '../../src/kernels/wasm/threads.ts'
import { matmul, matmulNT, matmulTN } from '../../src/tensor/matmul.ts'

// ---------------------------------------------------------------------------------------------
// Test data
// ---------------------------------------------------------------------------------------------

/**
 * How an operand is stored. Row-major (or, transposed, column-major) with `pad` spare elements
 * per stored row; `spread` multiplies both strides (spread 4 leaves the view sparse, so the
 * wrapper gathers it instead of copying its span); `flipRows`/`flipCols` make a stride negative;
 * `broadcast` makes the row stride 0 (every row is the same stored row).
 */
interface Layout {
  readonly transposed: boolean
  readonly offset: number
  readonly pad: number
  readonly spread: 1 | 4
  readonly flipRows: boolean
  readonly flipCols: boolean
  readonly broadcast: boolean
}

const plain = (transposed: boolean, offset = 0): Layout => ({
  transposed,
  offset,
  pad: 0,
  spread: 1,
  flipRows: false,
  flipCols: false,
  broadcast: false,
})

function operand(rows: number, cols: number, layout: Layout, seed32: number): Operand {
  const { transposed, offset, pad, spread, flipRows, flipCols, broadcast } = layout
  const ld = (transposed ? rows : cols) + pad
  let rs = (transposed ? 1 : ld) * spread
  let cs = (transposed ? ld : 1) * spread
  if (broadcast) rs = 0
  if (flipRows) rs = -rs
  if (flipCols) cs = -cs
  const origin = offset + (rs < 0 ? (rows - 1) * -rs : 0) + (cs < 0 ? (cols - 1) * -cs : 0)
  const hi = origin + Math.max(0, (rows - 1) * rs) + Math.max(0, (cols - 1) * cs)
  const data = new Float64Array(hi + 3).fill(NaN)
  const vals = values(rows * cols, seed32)
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) data[origin + i * rs + j * cs] = vals[i * cols + j]!
  const v: MatView = { data, offset: origin, rowStride: rs, colStride: cs }
  return { view: v, at: (i, j) => data[origin + i * rs + j * cs]! }
}

type Case = GemmCase<Layout>
const { build, run, firstMismatch } = gemmCases(operand)

/** Asserts `gemm` matches the reference on this case: within the bound, bit for bit, and writing only the m×n region. */
function expectMatchesReference(t: Case, gemm: Gemm = gemmWasm, poke: (built: Built) => void = () => {}): void {
  const built = build(t)
  poke(built)
  const ref = run(gemmReference, t, built)
  const fast = run(gemm, t, built)
  expect(firstMismatch(t, built, fast, ref)).toBeUndefined()
  expect(fast).toEqual(ref) // bit-identical (toEqual treats NaN as equal to NaN)
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

/** Mostly dense layouts (the ones matmul makes), sometimes sparse, reversed or broadcast. */
const layout: fc.Arbitrary<Layout> = fc.record({
  transposed: fc.boolean(),
  offset: fc.integer({ min: 0, max: 5 }),
  pad: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3 })),
  spread: fc.oneof({ weight: 4, arbitrary: fc.constant(1 as const) }, { weight: 1, arbitrary: fc.constant(4 as const) }),
  flipRows: fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  flipCols: fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  broadcast: fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
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

describe('the WebAssembly module', () => {
  it('runs here: this Node has WebAssembly SIMD, so gemmWasm is not silently the fallback', () => {
    expect(wasmSimdAvailable()).toBe(true)
  })

  it('imports only env.memory and exports only gemm and part (and the memory, re-exported)', () => {
    const bytes = Uint8Array.from(atob(gemmWasmBase64), (ch) => ch.charCodeAt(0))
    const module = new WebAssembly.Module(bytes)
    expect(WebAssembly.Module.imports(module)).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }])
    expect(
      WebAssembly.Module.exports(module)
        .map((e) => `${e.kind} ${e.name}`)
        .sort(),
    ).toEqual(['function gemm', 'function part', 'memory memory'])
  })

  it("numbers the ops of `part` as src/kernels/wasm/parts.ts does (asm/index.ts's constants, by name)", () => {
    const source = readFileSync(new URL('../../asm/index.ts', import.meta.url), 'utf8')
    const asm = Object.fromEntries(
      [...source.matchAll(/^const ([A-Z0-9_]+) = (\d+)$/gm)].map((m) => [
        m[1]!.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()),
        Number(m[2]),
      ]),
    )
    // CONV_FORWARD is convForward, MAXPOOL_2X2_FORWARD maxpool2x2Forward (Op says maxPool2x2Forward)
    const ts = Object.fromEntries(Object.entries(Op).map(([k, v]) => [k.replace('maxPool', 'maxpool'), v]))
    expect(asm).toEqual(ts)
    expect(Object.keys(asm).length).toBe(18)
  })

  it('stays small: under 24 KiB', () => {
    // The module is compiled synchronously (new WebAssembly.Module), which Chromium allows on a
    // page's main thread up to 8 MB; older versions allowed only 4 KB, and there compiling throws,
    // the loader returns null and the 'js' kernels run, with no error. That limit is far away: the
    // cap is a tripwire for code growing by accident (a loop unrolled or inlined many times over),
    // raised by hand when a kernel family comes (8 KiB before the optimizer steps, 12 KiB before
    // the float32 convolution, 20 KiB before the float32 max-pooling and the convolution's in-place
    // register tiles, at about 20 KB in all).
    expect(atob(gemmWasmBase64).length).toBeLessThan(24 * 1024)
  })

  it(`rebuilding asm/ (gemm and conv) with asc gives ${GENERATED} byte for byte (the committed module is current)`, async () => {
    const rebuilt = await generatedModule()
    const committed = readFileSync(new URL(`../../${GENERATED}`, import.meta.url), 'utf8')
    // Compare the decoded bytes first for a readable failure, then the whole text.
    const decode = (text: string): string => /'([A-Za-z0-9+/=]+)'/.exec(text)?.[1] ?? ''
    expect(decode(rebuilt).length).toBeGreaterThan(0)
    expect(decode(rebuilt)).toBe(decode(committed))
    expect(rebuilt).toBe(committed)
  }, 120_000)
})

describe("the module's gemm export, called directly (the contract asm/gemm.ts states)", () => {
  /** A fresh instance of the module on a memory of `pages` 64 KiB pages, and a Float64Array on it. */
  function instance(pages: number): { gemm: (...args: number[]) => void; heap: Float64Array } {
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages })
    const module = new WebAssembly.Module(Uint8Array.from(atob(gemmWasmBase64), (ch) => ch.charCodeAt(0)))
    const exports = new WebAssembly.Instance(module, { env: { memory } }).exports
    return { gemm: exports['gemm'] as (...args: number[]) => void, heap: new Float64Array(memory.buffer) }
  }

  /** C[i][j] (+)= Σ_p A[i][p]·B[p][j] in the reference's order, A and B row-major. */
  function plainProduct(m: number, n: number, k: number, a: Float64Array, b: Float64Array, c0: Float64Array | null): Float64Array {
    const c = new Float64Array(m * n)
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = c0 === null ? 0 : c0[i * n + j]!
        for (let p = 0; p < k; p++) s += a[i * k + p]! * b[p * n + j]!
        c[i * n + j] = s
      }
    }
    return c
  }

  it('writes only the m×n entries of C for any row length ldc ≥ n, and past row m only the first n columns of rows up to the next multiple of 4', () => {
    const { gemm, heap } = instance(4)
    // Regions in f64 elements: A, B, C (with sentinels around it), then the packing workspaces.
    const A = 0,
      B = 1024,
      C = 2048,
      PACK_A = 8192,
      PACK_B = 16384
    const shape = fc.record({
      m: fc.integer({ min: 1, max: 21 }),
      n: fc.integer({ min: 1, max: 21 }),
      k: fc.integer({ min: 1, max: 9 }),
      extra: fc.integer({ min: 0, max: 3 }),
      accumulate: fc.boolean(),
      transA: fc.boolean(),
      transB: fc.boolean(),
      // mc ≥ m and kc ≥ k read A in place; smaller blocks pack it.
      mc: fc.constantFrom(4, 8, 12, 128),
      kc: fc.constantFrom(1, 2, 5, 256),
      nc: fc.constantFrom(4, 8, 2048),
      seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    })
    fc.assert(
      fc.property(shape, ({ m, n, k, extra, accumulate, transA, transB, mc, kc, nc, seed: s }) => {
        const ldc = n + extra
        const a = values(m * k, s)
        const b = values(k * n, s + 1)
        const c0 = values(m * n, s + 2)
        heap.fill(SENTINEL)
        // A row-major (rows k apart) or stored transposed (column-major); likewise B.
        for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) heap[A + (transA ? p * m + i : i * k + p)] = a[i * k + p]!
        for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) heap[B + (transB ? j * k + p : p * n + j)] = b[p * n + j]!
        for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) heap[C + i * ldc + j] = c0[i * n + j]!
        gemm(
          m,
          n,
          k,
          A * 8,
          transA ? 1 : k,
          transA ? m : 1,
          B * 8,
          transB ? 1 : n,
          transB ? k : 1,
          C * 8,
          ldc,
          accumulate ? 1 : 0,
          mc,
          kc,
          nc,
          PACK_A * 8,
          PACK_B * 8,
        )
        const want = plainProduct(m, n, k, a, b, accumulate ? c0 : null)
        const scratchEnd = C + Math.ceil(m / 4) * 4 * ldc
        for (let x = C - 8; x < scratchEnd + 8; x++) {
          const row = Math.floor((x - C) / ldc)
          const col = x - C - row * ldc
          if (x >= C && row < m && col < n) expect(Object.is(heap[x], want[row * n + col]!)).toBe(true)
          else if (x < C || col >= n || x >= scratchEnd) expect(heap[x]).toBe(SENTINEL) // before C, past column n (scratch rows too), past the scratch rows
        }
      }),
      runs(400),
    )
  })

  it('never reads past the last element of A when reading it in place (A ends where the memory ends)', () => {
    const { gemm, heap } = instance(1) // 8192 f64
    for (const [m, n, k] of [
      [5, 4, 3],
      [6, 2, 7],
      [7, 10, 5],
      [9, 1, 4],
      [13, 6, 2],
    ] as const) {
      const A = heap.length - m * k // A's last element is the memory's last f64: one more would trap
      const a = values(m * k, m),
        b = values(k * n, n)
      heap.set(a, A)
      heap.set(b, 0)
      expect(() => gemm(m, n, k, A * 8, k, 1, 0, n, 1, 1024 * 8, n, 0, 128, 256, 2048, 2048 * 8, 4096 * 8)).not.toThrow()
      expect(heap.subarray(1024, 1024 + m * n)).toEqual(plainProduct(m, n, k, a, b, null))
    }
  })
})

describe('gemmWasm worked by hand', () => {
  const a = new Float64Array([1, 2, 3, 4, 5, 6])
  const b = new Float64Array([7, 8, 9, 10, 11, 12])

  it('2x3 · 3x2 is [[58, 64], [139, 154]]', () => {
    const c = new Float64Array(4).fill(NaN)
    gemmWasm(2, 2, 3, view(a, 2, 3), view(b, 3, 2), c, 0, false)
    expect([...c]).toEqual([58, 64, 139, 154])
  })

  it('accumulating the same product onto ones gives [[59, 65], [140, 155]]', () => {
    const c = new Float64Array([1, 1, 1, 1])
    gemmWasm(2, 2, 3, view(a, 2, 3), view(b, 3, 2), c, 0, true)
    expect([...c]).toEqual([59, 65, 140, 155])
  })

  it('Aᵀ·A through a transposed view is the 3x3 Gram matrix', () => {
    const g = new Float64Array(9)
    gemmWasm(3, 3, 2, view(a, 2, 3, true), view(a, 2, 3), g, 0, false)
    expect([...g]).toEqual([17, 22, 27, 22, 29, 36, 27, 36, 45])
  })
})

describe('gemmWasm equals gemmReference (within 1e-12 of the magnitude sum, and in fact bit for bit)', () => {
  it('for m, n, k in 1..70, A or Aᵀ, B or Bᵀ, offsets, padded, sparse, reversed and broadcast views, accumulate or not', () => {
    fc.assert(
      fc.property(smallCase, (t) => expectMatchesReference(t)),
      runs(300),
    )
  })

  it('for every transpose combination at sizes straddling the 4x4 tile edge', () => {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        for (const [m, n, k] of [
          [1, 1, 1],
          [3, 5, 7],
          [4, 4, 4],
          [5, 3, 9],
          [8, 9, 1],
          [13, 6, 11],
          [1, 17, 3],
          [17, 1, 2],
        ] as const) {
          for (const accumulate of [false, true]) {
            expectMatchesReference({
              m,
              n,
              k,
              accumulate,
              cOffset: 1,
              seed: m * 100 + n * 10 + k,
              a: plain(transA, 2),
              b: plain(transB, 3),
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
        expectMatchesReference(t, makeGemmWasm({ blocks: bs }))
      }),
      runs(100),
    )
  })

  it('for sizes up to 300, crossing the default mc and kc block edges', () => {
    const big = fc.oneof(fc.constantFrom(127, 128, 129, 255, 256, 257, 300), fc.integer({ min: 1, max: 300 }))
    fc.assert(
      fc.property(caseOf(big, big, big), (t) => expectMatchesReference(t)),
      runs(15),
    )
  })

  it('at 257x130 · 130x300 and 150x40 · 300x40ᵀ, just past the default mc and kc', () => {
    expect(wasmBlockSizes.mc).toBeLessThan(150)
    expect(wasmBlockSizes.kc).toBeLessThan(300)
    expectMatchesReference({ m: 257, n: 130, k: 300, accumulate: false, cOffset: 0, seed: 7, a: plain(false), b: plain(false) })
    expectMatchesReference({
      m: 150,
      n: 300,
      k: 40,
      accumulate: true,
      cOffset: 2,
      seed: 8,
      a: plain(true, 1),
      b: { ...plain(true), pad: 1 },
    })
  })

  it('at the batch-64 MLP shapes, forward and backward (transposed operands)', () => {
    const shapes = [
      [64, 128, 784, false, false],
      [64, 64, 128, false, false],
      [64, 10, 64, false, false],
      [784, 128, 64, true, false],
      [64, 784, 128, false, true],
      [128, 64, 64, true, false],
      [64, 128, 64, false, true],
      [64, 10, 64, true, false],
      [64, 64, 10, false, true],
    ] as const
    for (const [m, n, k, ta, tb] of shapes) {
      expectMatchesReference({ m, n, k, accumulate: false, cOffset: 0, seed: m + n + k, a: plain(ta), b: plain(tb) })
    }
  })

  it('propagates Inf and NaN in A and B exactly as gemmReference does (zero-padded tile edges add none)', () => {
    const special = fc.constantFrom(Infinity, -Infinity, NaN)
    const pokes = fc.array(fc.record({ inA: fc.boolean(), at: fc.nat(), value: special }), { minLength: 1, maxLength: 4 })
    fc.assert(
      fc.property(smallCase, pokes, (t, ps) => {
        expectMatchesReference(t, gemmWasm, (built) => {
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

  it('k = 1 with any row stride of B (only row 0 exists): a huge stride is not walked (B read in place, m ≤ 16)', () => {
    const a = Float64Array.from({ length: 4 }, (_, i) => i + 1)
    const b = Float64Array.from({ length: 20 }, (_, j) => j - 7.5)
    // near 2²⁹ elements, b + 8·rowStride is just under 2³² bytes: the later strips' ends would wrap
    for (const rowStride of [20, 2 ** 20, 2 ** 29 - 24, 2 ** 29 - 16, 2 ** 29 - 9, 2 ** 29, 2 ** 30, 2 ** 31 - 1]) {
      const B: MatView = { data: b, offset: 0, rowStride, colStride: 1 }
      const A: MatView = { data: a, offset: 0, rowStride: 1, colStride: 1 }
      const want = new Float64Array(80)
      gemmReference(4, 20, 1, A, B, want, 0, false)
      for (const gemm of [gemmWasm, gemmWasm2]) {
        const got = new Float64Array(80)
        gemm(4, 20, 1, A, B, got, 0, false)
        expect(got, `row stride ${rowStride}`).toEqual(want)
      }
    }
  })
  it('k = 0 gives zeros (or leaves C unchanged when accumulating); m or n = 0 writes nothing', () => {
    const zeroCase = caseOf(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 6 })).chain((t) =>
      fc.constantFrom<Case>({ ...t, m: 0 }, { ...t, n: 0 }, { ...t, k: 0 }),
    )
    fc.assert(
      fc.property(zeroCase, (t) => {
        const built = build(t)
        const expected = built.c.slice()
        if (!t.accumulate) expected.fill(0, t.cOffset, t.cOffset + t.m * t.n)
        expect(run(gemmWasm, t, built)).toEqual(expected)
      }),
      runs(100),
    )
  })
})

describe('gemmWasm memory and state', () => {
  it('grows its memory across calls of increasing size (from one 64 KiB page to ~3 MB) and stays exact', () => {
    const gemm = makeGemmWasm() // a fresh memory of one page
    for (const s of [3, 20, 90, 200, 333, 17]) {
      expectMatchesReference(
        { m: s, n: s + 1, k: s + 2, accumulate: s % 2 === 0, cOffset: 1, seed: s, a: plain(false), b: plain(true) },
        gemm,
      )
    }
  })

  it('results do not depend on call order: same call, bit-identical output, before and after unrelated calls', () => {
    const gemm = makeGemmWasm()
    fc.assert(
      fc.property(smallCase, fc.array(smallCase, { minLength: 1, maxLength: 3 }), (t, others) => {
        const built = build(t)
        const first = run(gemm, t, built)
        for (const o of others) run(gemm, o, build(o))
        expect(run(gemm, t, built)).toEqual(first)
      }),
      runs(60),
    )
  })

  it("leaves A's and B's arrays unchanged bit for bit (padding included)", () => {
    fc.assert(
      fc.property(smallCase, (t) => {
        const built = build(t)
        const aBefore = built.a.view.data.slice()
        const bBefore = built.b.view.data.slice()
        run(gemmWasm, t, built)
        expect(built.a.view.data).toEqual(aBefore)
        expect(built.b.view.data).toEqual(bBefore)
      }),
      runs(100),
    )
  })

  it('a product over the memory cap runs in gemmBlocked, with the same result', () => {
    const capped = makeGemmWasm({ maxBytes: 64 * 1024 })
    for (const s of [10, 100]) {
      expectMatchesReference({ m: s, n: s, k: s, accumulate: true, cOffset: 0, seed: s, a: plain(true), b: plain(false) }, capped)
    }
  })
})

describe('without WebAssembly SIMD, gemmWasm falls back to gemmBlocked, with no error and the same results', () => {
  it('makeGemmWasm({ supported: () => false })', () => {
    let asked = 0
    const fallback = makeGemmWasm({ supported: () => (asked++, false) })
    fc.assert(
      fc.property(smallCase, (t) => expectMatchesReference(t, fallback)),
      runs(50),
    )
    expect(asked).toBe(1) // checked once, at the first call
  })

  it('when WebAssembly.validate rejects the module (a fresh import of the backend)', async () => {
    vi.resetModules()
    const validate = vi.spyOn(WebAssembly, 'validate').mockReturnValue(false)
    try {
      const wasm = await import('../../src/kernels/wasm/gemm.ts')
      const backend = await import('../../src/kernels/backend.ts')
      expect(wasm.wasmSimdAvailable()).toBe(false)
      expect(backend.resolveKernels('fast')).toBe('js')
      expect(backend.resolveKernels('wasm')).toBe('js')
      expect(validate).toHaveBeenCalled()
      fc.assert(
        fc.property(smallCase, (t) => expectMatchesReference(t, backend.gemmFor('fast'))),
        runs(30),
      )
    } finally {
      validate.mockRestore()
      vi.resetModules()
    }
  })
})

describe('bad arguments throw the same RangeErrors as the other kernels, before anything is written', () => {
  const a = new Float64Array(6)
  const b = new Float64Array(6)
  it('views reaching outside their data, a short C, non-integer sizes: same messages as gemmBlocked, C untouched', () => {
    const c = new Float64Array(4).fill(3)
    const calls: ((gemm: Gemm) => void)[] = [
      (gemm) => gemm(2, 2, 3, view(a, 2, 3), { data: b, offset: 1, rowStride: 2, colStride: 1 }, c, 0, false),
      (gemm) => gemm(2, 2, 3, { data: a, offset: 0, rowStride: -3, colStride: 1 }, view(b, 3, 2), c, 0, false),
      (gemm) => gemm(2, 2, 3, view(a, 2, 3), view(b, 3, 2), c, 1, false),
      (gemm) => gemm(2.5, 2, 3, view(a, 2, 3), view(b, 3, 2), c, 0, false),
      (gemm) => gemm(2, 2, 3, { data: a, offset: 0, rowStride: 1.5, colStride: 1 }, view(b, 3, 2), c, 0, false),
    ]
    const message = (f: () => void): string => {
      try {
        f()
      } catch (e) {
        return e instanceof RangeError ? e.message : `not a RangeError: ${String(e)}`
      }
      return 'no error'
    }
    for (const call of calls) {
      const expected = message(() => call(gemmBlocked))
      expect(expected).toMatch(/^gemm: /)
      expect(message(() => call(gemmWasm))).toBe(expected)
    }
    expect([...c]).toEqual([3, 3, 3, 3])
  })

  it('makeGemmWasm rejects block sizes that are not positive multiples of the 4x4 tile', () => {
    expect(() => makeGemmWasm({ blocks: { mc: 6, kc: 8, nc: 8 } })).toThrow(RangeError)
    expect(() => makeGemmWasm({ blocks: { mc: 8, kc: 0, nc: 8 } })).toThrow(RangeError)
    expect(() => makeGemmWasm({ blocks: { mc: 8, kc: 8, nc: 10 } })).toThrow(RangeError)
  })
})

describe('the backend switch', () => {
  it("gemmFor maps 'reference' to gemmReference, 'js' to gemmBlocked, 'wasm' and 'fast' to gemmWasm on one thread and gemmWasm2 on two (the default)", () => {
    expect(threads()).toBe(2) // nothing in this file changes the default
    expect(gemmFor('reference')).toBe(gemmReference)
    expect(gemmFor('js')).toBe(gemmBlocked)
    expect(gemmFor('wasm')).toBe(gemmWasm2)
    expect(gemmFor('fast')).toBe(gemmWasm2)
    expect(gemmFor('wasm', 1)).toBe(gemmWasm)
    expect(gemmFor('fast', 1)).toBe(gemmWasm)
  })

  it("'fast' is the default, currentGemm follows the choice, withKernels restores it", () => {
    expect(kernels()).toBe('fast')
    expect(resolveKernels()).toBe('wasm')
    for (const choice of ['reference', 'js', 'wasm', 'fast'] as const) {
      withKernels(choice, () => {
        expect(kernels()).toBe(choice)
        expect(currentGemm()).toBe(gemmFor(choice))
      })
    }
    expect(kernels()).toBe('fast')
    expect(resolveKernels('js')).toBe('js')
    expect(resolveKernels('reference')).toBe('reference')
  })

  it('useKernels rejects an unknown family and keeps the current one', () => {
    expect(() => useKernels('gpu' as KernelChoice)).toThrow(/expected one of 'reference', 'js', 'wasm', 'fast', got gpu/)
    expect(kernels()).toBe('fast')
  })

  it('matmul, matmulTN and matmulNT give bit-identical results under every family', () => {
    const x = { shape: [64, 30], data: values(64 * 30, 1) }
    const w = { shape: [30, 17], data: values(30 * 17, 2) }
    const dy = { shape: [64, 17], data: values(64 * 17, 3) }
    const outs = (['reference', 'js', 'wasm', 'fast'] as const).map((choice) =>
      withKernels(choice, () => [matmul(x, w), matmulTN(x, dy), matmulNT(dy, w)].map((t) => [...t.data])),
    )
    for (const o of outs) expect(o).toEqual(outs[0])
  })
})
