/**
 * conv2d with `activation: 'relu'`: one layer that is conv2d followed by relu. It must give the
 * same numbers as pipe(conv2d, relu), bit for bit: y, dx, dW and db, in every kernel family, and
 * on two threads (where the WebAssembly kernels apply relu, and relu's vjp, inside each part).
 */
import * as E from 'fp-ts/Either'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { IO, Kernels, Key, L, type Tensor, Tree } from '../../src/index.ts'
import { configureThreads, splitCount, type ThreadSettings } from '../../src/kernels/wasm/threads.ts'

const seed = Number(process.env['CHAINRULE_SEED'] ?? 42)
const ctx = { mode: 'train' as const, key: Key.fromSeed(0) }

/** The first index where a and b differ (Object.is: −0 and +0 differ), or -1. */
const firstDifference = (a: Float64Array, b: Float64Array): number => {
  if (a.length !== b.length) return -2
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i
  return -1
}

interface Outputs {
  readonly y: Float64Array
  readonly dx: Float64Array
  readonly dp: readonly Float64Array[]
}

/** Forward and vjp of the fused layer and of pipe(conv2d, relu) on the same params, input and dy. */
function both(
  options: L.Conv2dOptions & { filters: number; kernel: number },
  inShape: readonly number[],
  batch: number,
  s: number,
): { fused: Outputs; piped: Outputs } {
  const { filters, kernel, ...rest } = options
  const fused = L.conv2d(filters, kernel, { ...rest, activation: 'relu' })
  const plain = L.conv2d(filters, kernel, rest)
  const init = plain.init(Key.fromSeed(s), inShape)
  const params = init.params
  const x = Key.normal(Key.fromSeed(s + 1), [batch, ...inShape])
  const dy = Key.normal(Key.fromSeed(s + 2), [batch, ...init.outShape])
  const f = fused.forward(params, L.none, x, ctx)
  const fb = fused.vjp(params, f.tape, dy)
  // the two layers one after the other, by hand (a pipe would fuse them itself)
  const z = plain.forward(params, L.none, x, ctx)
  const r = L.relu.forward(L.none, L.none, z.y, ctx)
  const dz = L.relu.vjp(L.none, r.tape, dy).dx
  const zb = plain.vjp(params, z.tape, dz)
  const leaves = (t: unknown): Float64Array[] => Tree.leaves(t as Tree.Tree).map((l: Tensor) => l.data)
  return {
    fused: { y: f.y.data, dx: fb.dx.data, dp: leaves(fb.dp) },
    piped: { y: r.y.data, dx: zb.dx.data, dp: leaves(zb.dp) },
  }
}

function expectSame(a: Outputs, b: Outputs, what: string): void {
  expect(firstDifference(a.y, b.y), `${what}: y`).toBe(-1)
  expect(firstDifference(a.dx, b.dx), `${what}: dx`).toBe(-1)
  expect(a.dp.length).toBe(b.dp.length)
  a.dp.forEach((g, i) => expect(firstDifference(g, b.dp[i]!), `${what}: dp[${i}]`).toBe(-1))
}

const geometry = fc.record({
  filters: fc.integer({ min: 1, max: 6 }),
  kernel: fc.integer({ min: 1, max: 3 }),
  channels: fc.integer({ min: 1, max: 3 }),
  size: fc.integer({ min: 3, max: 9 }),
  stride: fc.integer({ min: 1, max: 2 }),
  padding: fc.constantFrom('valid' as const, 'same' as const, 1),
  bias: fc.boolean(),
  batch: fc.integer({ min: 1, max: 5 }),
  s: fc.integer({ min: 0, max: 1000 }),
})

let before: Readonly<ThreadSettings>
beforeAll(async () => {
  before = configureThreads()
  await Kernels.useThreads(1)
})
afterAll(async () => {
  configureThreads(before)
  await Kernels.useThreads(1)
})

describe("conv2d(…, { activation: 'relu' }) = conv2d(…) then relu, bit for bit", () => {
  for (const family of ['reference', 'js', 'wasm'] as const) {
    test(`${family} kernels, random geometries`, () => {
      fc.assert(
        fc.property(geometry, (c) => {
          const { fused, piped } = Kernels.using(family, () =>
            both(
              { filters: c.filters, kernel: c.kernel, stride: c.stride, padding: c.padding, bias: c.bias },
              [c.channels, c.size, c.size],
              c.batch,
              c.s,
            ),
          )
          expectSame(fused, piped, JSON.stringify(c))
        }),
        { seed, numRuns: family === 'reference' ? 30 : 100 },
      )
    })
  }

  test('the MNIST CNN\'s first layer (batch 64, 8 filters 5x5 "same" on 28x28) on two threads, the worker computing every part', async () => {
    const one = both({ filters: 8, kernel: 5, padding: 2 }, [1, 28, 28], 64, 7)
    expectSame(one.fused, one.piped, 'one thread')
    expect(await Kernels.useThreads(2)).toBe(true)
    try {
      configureThreads({ minFlops: 0, mainComputes: false })
      const splits = splitCount()
      const two = both({ filters: 8, kernel: 5, padding: 2 }, [1, 28, 28], 64, 7)
      expect(splitCount()).toBeGreaterThan(splits)
      expectSame(two.fused, one.fused, 'two threads vs one')
      expectSame(two.fused, two.piped, 'two threads')
    } finally {
      configureThreads(before)
      await Kernels.useThreads(1)
    }
  })
})

describe('the activation option', () => {
  test('rejects an unknown activation', () => {
    expect(() => L.conv2d(4, 3, { activation: 'tanh' as 'relu' })).toThrow(`conv2d: activation must be one of 'relu', got "tanh"`)
  })

  test('is in the spec, and a saved model with it loads back (a spec without it is a plain conv2d)', () => {
    const model = L.pipe(L.conv2d(2, 3, { padding: 1, activation: 'relu' }), L.flatten, L.dense(3))
    expect((model.spec as unknown as { children: { activation?: string }[] }).children[0]!.activation).toBe('relu')
    expect('activation' in L.conv2d(2, 3).spec).toBe(false)
    const init = model.init(Key.fromSeed(1), [1, 4, 4])
    const loaded = IO.parseCheckpoint(IO.encodeCheckpoint(IO.modelCheckpoint(model, [1, 4, 4], init.params, init.state)))
    if (E.isLeft(loaded)) throw loaded.left
    const x = Key.normal(Key.fromSeed(2), [2, 1, 4, 4])
    const a = model.forward(init.params, init.state, x, ctx).y.data
    const b = loaded.right.model.forward(loaded.right.params, loaded.right.state, x, ctx).y.data
    expect(firstDifference(a, b)).toBe(-1)
    expect(a.some((v) => v !== 0)).toBe(true)
    // a spec written before the option existed has no activation field: a plain conv2d
    const old = IO.fromSpec({
      kind: 'conv2d',
      filters: 2,
      kernelSize: [3, 3],
      stride: [1, 1],
      padding: [1, 1],
      dilation: [1, 1],
      bias: true,
      init: 'he',
    })
    expect(E.isRight(old) && !('activation' in old.right.spec)).toBe(true)
    const bad = IO.fromSpec({
      kind: 'conv2d',
      filters: 2,
      kernelSize: [3, 3],
      stride: [1, 1],
      padding: [1, 1],
      dilation: [1, 1],
      bias: true,
      init: 'he',
      activation: 'tanh',
    })
    expect(E.isLeft(bad) && bad.left.path).toBe('spec.activation')
  })
})

describe('dense has no activation option', () => {
  test('a dense spec with an activation field is rejected at that field (pipe(dense, relu) is the way to write it)', () => {
    const r = IO.fromSpec({ kind: 'dense', units: 3, init: 'he', bias: true, activation: 'relu' })
    expect(E.isLeft(r) && r.left.path).toBe('spec.activation')
  })
})

describe('a pipe fuses conv2d with the relu layer after it', () => {
  /** The CNN of example 07, with the relu layer given, so a copy of it (which no conv2d fuses) turns fusion off. */
  const cnn = (relu: L.AnyLayer) =>
    L.pipe(
      L.conv2d(8, 5, { padding: 2 }),
      relu,
      L.maxPool2d(2),
      L.conv2d(16, 5, { padding: 2 }),
      relu,
      L.maxPool2d(2),
      L.flatten,
      L.dense(10),
    )

  for (const family of ['reference', 'js', 'wasm'] as const) {
    test(`and computes exactly what the unfused pipe computes (${family} kernels): y, dx, every gradient`, () => {
      const fusedNet = cnn(L.relu)
      const plainNet = cnn({ ...L.relu })
      const { params, state } = fusedNet.init(Key.fromSeed(5), [1, 28, 28])
      const batch = family === 'reference' ? 2 : 16
      const x = Key.normal(Key.fromSeed(6), [batch, 1, 28, 28])
      const dy = Key.normal(Key.fromSeed(7), [batch, 10])
      Kernels.using(family, () => {
        const a = fusedNet.forward(params, state, x, ctx)
        const b = plainNet.forward(params, state, x, ctx)
        expect(typeof a.tape[1]).toBe('symbol') // the first relu ran inside the conv before it
        expect(typeof a.tape[4]).toBe('symbol')
        expect(b.tape.some((t) => typeof t === 'symbol')).toBe(false)
        expect(firstDifference(a.y.data, b.y.data)).toBe(-1)
        const ga = fusedNet.vjp(params, a.tape, dy)
        const gb = plainNet.vjp(params, b.tape, dy)
        expect(firstDifference(ga.dx.data, gb.dx.data)).toBe(-1)
        const la = Tree.leaves(ga.dp)
        const lb = Tree.leaves(gb.dp)
        expect(la.length).toBe(lb.length)
        la.forEach((t, i) => expect(firstDifference(t.data, lb[i]!.data)).toBe(-1))
        expect(ga.dp).toHaveLength(8)
        expect(ga.dp[1]).toEqual(L.none)
      })
    })
  }

  test('a conv2d that already has its relu, or is followed by something else, fuses nothing', () => {
    expect(L.conv2d(2, 3, { activation: 'relu' }).fuseNext?.(L.relu)).toBeUndefined()
    expect(L.conv2d(2, 3).fuseNext?.(L.tanh)).toBeUndefined()
    expect(L.conv2d(2, 3).fuseNext?.(L.relu)?.spec).toMatchObject({ kind: 'conv2d', activation: 'relu' })
  })
})
