/**
 * A pipe fuses conv2d, relu and maxPool2d(2) (2x2 windows, stride 2, no padding) into one layer
 * (conv2d's `fuseNext`, twice): law 13, the same numbers as the three layers one after the other
 * (y, dx, every dp, bit for bit), in float32 and float64, in every kernel family, on one thread
 * and two; in float32 under 'wasm' the pooling runs inside the convolution's parts. Other pools
 * (padded, 3x3, stride 1) are not fused, and a float32 CNN trains to the same bits fused or not.
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Kernels, Key, L, Loss, Optim, T, Train, Tree, type Tensor } from '../../src/index.ts'
import { configureThreads, splitCount, type ThreadSettings } from '../../src/kernels/wasm/threads.ts'
import { checkFusion } from '../../laws/index.ts'

const seed = Number(process.env['CHAINRULE_SEED'] ?? 42)
const ctx = { mode: 'train' as const, key: Key.fromSeed(0) }

/** A copy of the relu layer is not the relu layer, so no conv2d fuses it: the three layers run one after the other. */
const reluCopy = { ...L.relu }

const firstDifference = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  if (a.length !== b.length) return -2
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i
  return -1
}

interface Case {
  readonly C: number
  readonly H: number
  readonly W: number
  readonly F: number
  readonly k: number
  readonly stride: number
  readonly padding: number
  readonly bias: boolean
  readonly N: number
  readonly s: number
}

const cases: fc.Arbitrary<Case> = fc
  .record({
    C: fc.integer({ min: 1, max: 3 }),
    H: fc.integer({ min: 0, max: 9 }),
    W: fc.integer({ min: 0, max: 9 }),
    F: fc.integer({ min: 1, max: 18 }),
    k: fc.integer({ min: 1, max: 5 }),
    stride: fc.integer({ min: 1, max: 2 }),
    padding: fc.integer({ min: 0, max: 2 }),
    bias: fc.boolean(),
    N: fc.integer({ min: 1, max: 3 }),
    s: fc.integer({ min: 0, max: 1000 }),
  })
  // an input big enough for the window and for a 2x2 pool of its output
  .map((c) => ({ ...c, H: c.H + c.k + 2 * c.stride, W: c.W + c.k + 2 * c.stride }))

/** Forward and vjp of a [conv2d, relu, pool] pipe on one case, in a dtype; the pool slot's tape says whether the pipe fused it. */
function run(c: Case, relu: typeof L.relu, pool: L.AnyLayer, dtype: 'float32' | 'float64') {
  const net: L.AnyLayer = L.pipe(L.conv2d(c.F, c.k, { stride: c.stride, padding: c.padding, bias: c.bias }), relu, pool)
  const { params, outShape } = L.initialize(net, Key.fromSeed(c.s), [c.C, c.H, c.W], { dtype })
  const x = T.asTensor(T.cast(Key.normal(Key.fromSeed(c.s + 1), [c.N, c.C, c.H, c.W]), dtype))
  const dy = T.asTensor(T.cast(Key.normal(Key.fromSeed(c.s + 2), [c.N, ...outShape]), dtype))
  const f = net.forward(params, [L.none, L.none, L.none], x, ctx)
  const b = net.vjp(params, f.tape, dy)
  const tapes = f.tape as readonly unknown[]
  const fused = typeof tapes[2] === 'symbol'
  const inWasm = fused && typeof tapes[0] === 'object' && tapes[0] !== null && 'argmax' in tapes[0] // the pool ran inside the conv's parts
  return { y: f.y.data, dx: b.dx.data, dp: Tree.leaves(b.dp as Tree.Tree).map((l: Tensor) => l.data), fused, inWasm }
}

function expectSame(c: Case, pool: () => L.AnyLayer, dtype: 'float32' | 'float64', fusedExpected: boolean): void {
  const a = run(c, L.relu, pool(), dtype)
  const b = run(c, reluCopy, pool(), dtype)
  expect(a.fused, 'the pipe fused the pool').toBe(fusedExpected)
  expect(a.inWasm, 'the pool ran inside the WebAssembly conv').toBe(fusedExpected && dtype === 'float32' && Kernels.resolve() === 'wasm')
  expect(b.fused).toBe(false)
  expect(firstDifference(a.y, b.y), 'y').toBe(-1)
  expect(firstDifference(a.dx, b.dx), 'dx').toBe(-1)
  expect(a.dp.length).toBe(b.dp.length)
  a.dp.forEach((g, i) => expect(firstDifference(g, b.dp[i]!), `dp[${i}]`).toBe(-1))
}

let before: Readonly<ThreadSettings>
beforeAll(async () => {
  before = configureThreads()
  expect(await Kernels.useThreads(2)).toBe(true)
  configureThreads({ minFlops: 0, wakeFlops: 0, minChunk: 4, cooldownMs: 0 })
})
afterAll(async () => {
  configureThreads(before)
  await Kernels.useThreads(2)
})

describe('law 13: pipe(conv2d, relu, maxPool2d(2)) fused equals the three layers in turn, bit for bit', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    for (const family of ['wasm', 'js', 'reference'] as const) {
      for (const threads of family === 'wasm' ? ([1, 2] as const) : ([1] as const)) {
        test(`${dtype}, '${family}', ${threads} thread${threads === 1 ? '' : 's'}: y, dx and dp over random shapes, strides, paddings`, async () => {
          await Kernels.useThreads(threads)
          const splits = splitCount()
          Kernels.using(family, () =>
            fc.assert(
              fc.property(cases, (c) => expectSame(c, () => L.maxPool2d(2), dtype, true)),
              { seed, numRuns: family === 'reference' ? 15 : 40 },
            ),
          )
          if (family === 'wasm' && threads === 2) expect(splitCount()).toBeGreaterThan(splits)
        })
      }
    }
  }

  test("float32: a tape of the WebAssembly forward pass, its vjp run under 'js' or 'reference' (the pool's vjp, then the conv's): the same bits", () => {
    const c: Case = { C: 3, H: 11, W: 10, F: 9, k: 3, stride: 1, padding: 1, bias: true, N: 2, s: 11 }
    const net: L.AnyLayer = L.pipe(L.conv2d(c.F, c.k, { padding: c.padding }), L.relu, L.maxPool2d(2))
    const plain: L.AnyLayer = L.pipe(L.conv2d(c.F, c.k, { padding: c.padding }), reluCopy, L.maxPool2d(2))
    const { params, outShape } = L.initialize(net, Key.fromSeed(c.s), [c.C, c.H, c.W], { dtype: 'float32' })
    const x = T.asTensor(T.cast(Key.normal(Key.fromSeed(1), [c.N, c.C, c.H, c.W]), 'float32'))
    const dy = T.asTensor(T.cast(Key.normal(Key.fromSeed(2), [c.N, ...outShape]), 'float32'))
    const f = Kernels.using('wasm', () => net.forward(params, [L.none, L.none, L.none], x, ctx))
    expect('argmax' in ((f.tape as readonly object[])[0] ?? {})).toBe(true)
    const want = Kernels.using('reference', () => plain.vjp(params, plain.forward(params, [L.none, L.none, L.none], x, ctx).tape, dy))
    for (const family of ['js', 'reference', 'wasm'] as const) {
      const got = Kernels.using(family, () => net.vjp(params, f.tape, dy))
      expect(firstDifference(got.dx.data, want.dx.data), `${family}: dx`).toBe(-1)
      const [g, w] = [Tree.leaves(got.dp as Tree.Tree), Tree.leaves(want.dp as Tree.Tree)]
      g.forEach((l, i) => expect(firstDifference(l.data, w[i]!.data), `${family}: dp[${i}]`).toBe(-1))
    }
  })

  test("the law kit's checkFusion (law 13) holds for a relu conv2d and maxPool2d(2)", () => {
    checkFusion(L.conv2d(3, 3, { padding: 1, activation: 'relu' }), L.maxPool2d(2), { inShape: [2, 6, 7], numRuns: 30 })
  })

  test('other pools are not fused into the conv (padded, 3x3, stride 1), and give the same numbers', () => {
    const c: Case = { C: 2, H: 9, W: 8, F: 5, k: 3, stride: 1, padding: 1, bias: true, N: 2, s: 7 }
    for (const dtype of ['float32', 'float64'] as const) {
      expectSame(c, () => L.maxPool2d(2, { padding: 1 }), dtype, false)
      expectSame(c, () => L.maxPool2d(3), dtype, false)
      expectSame(c, () => L.maxPool2d(2, { stride: 1 }), dtype, false)
      expectSame(c, () => L.maxPool2d(2, { padding: 'valid' }), dtype, true)
    }
  })
})

test('a float32 LeNet-like CNN trains to the same bits with the pools fused or not, on two threads', async () => {
  await Kernels.useThreads(2)
  const net = (relu: typeof L.relu) =>
    L.pipe(
      L.conv2d(4, 5, { padding: 2 }),
      relu,
      L.maxPool2d(2),
      L.conv2d(6, 3, { padding: 1 }),
      relu,
      L.maxPool2d(2),
      L.flatten,
      L.dense(10),
    )
  const x = Key.normal(Key.fromSeed(3), [32, 1, 14, 14])
  const y = Key.randint(Key.fromSeed(4), [32], 0, 10)
  const train = (relu: typeof L.relu) => {
    const model = net(relu)
    const optimizer = Optim.sgd({ lr: 0.05, momentum: 0.9, nesterov: true })
    let ts = Train.initState(model, optimizer, Key.fromSeed(5), [1, 14, 14], { dtype: 'float32' })
    const step = Train.trainStep(model, Loss.softmaxCrossEntropy, optimizer)
    for (let i = 0; i < 4; i++) [ts] = step(ts, { x, y })
    return Tree.leaves(ts.params).map((l: Tensor) => l.data)
  }
  const fused = train(L.relu)
  const plain = train(reluCopy)
  fused.forEach((p, i) => expect(firstDifference(p, plain[i]!), `param ${i}`).toBe(-1))
})
