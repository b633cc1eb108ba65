/**
 * The fused optimizer steps in WebAssembly (src/kernels/wasm/optim.ts): under the 'wasm'
 * kernels, a leaf of MIN_OPTIM_ELEMENTS values or more takes its sgd, adam, adamw, nadam, amsgrad, adamax, rmsprop or
 * adagrad step there instead of in the TypeScript loop. Each lane does the same correctly
 * rounded operations in the same order, so the params, updates and states must be the same
 * numbers (Object.is), special values included, across part boundaries and odd sizes. (The
 * steps always run on this thread.)
 */
import { afterAll, describe, expect, test } from 'vitest'
import { Data, Kernels, Key, L, Loss, Optim, Schedule, T, Train, Tree } from '../../src/index.ts'
import { adamStepWasm, MIN_OPTIM_ELEMENTS, rmsStepWasm, sgdStepWasm } from '../../src/kernels/wasm/optim.ts'
import { Compare } from '../../laws/index.ts'

const specials = [-Infinity, -Number.MAX_VALUE, -1.5, -5e-324, -0, 0, 5e-324, 1.5, Number.MAX_VALUE, Infinity, NaN]

/**
 * n numbers: normals, with the special values at spread-out places and in the last (odd) lane.
 * With `role` 0, 1 or 2, the first 11³ values also run through the specials as the 1st, 2nd or
 * 3rd digit of i in base 11, so arrays of different roles meet every pair and triple of them.
 */
function tricky(n: number, seed: number, role?: 0 | 1 | 2): Float64Array {
  const a = Key.normal(Key.fromSeed(seed), [n]).data.slice()
  for (let i = seed % 11; i < n; i += 17) a[i] = specials[(i * 7 + seed) % specials.length]!
  if (role !== undefined) for (let i = 0; i < Math.min(n - 1, 11 ** 3); i++) a[i] = specials[Math.floor(i / 11 ** role) % 11]!
  a[n - 1] = specials[seed % specials.length]!
  return a
}

type GT = Optim.GradientTransformation

/** Params of a big leaf of n values and a small one (always in TypeScript), and three steps' gradients. */
const sample = (n: number, seed: number) => ({
  params: { W: T.fromData([n], tricky(n, seed, 1)), b: T.fromData([3], tricky(3, seed + 1)) },
  grads: ([0, 2, 0] as const).map((role, k) => ({
    b: T.fromData([3], tricky(3, seed + 10 * k + 1)),
    W: T.fromData([n], tricky(n, seed + 10 * k, role)),
  })),
})

/**
 * Everything a run of three steps gives: each step's updates, state and params (by update +
 * applyUpdates), and the params and state by updateAndApply.
 */
function run(make: () => GT, n: number, seed: number): Tree.Tree {
  const { params, grads } = sample(n, seed)
  const opt = make()
  const out: Tree.Tree[] = []
  let p: Tree.Tree = params
  let s = opt.init(params)
  let pf: Tree.Tree = params
  let sf = opt.init(params)
  for (const g of grads) {
    const [u, next] = opt.update(g, s, p)
    p = Optim.applyUpdates(p, u)
    s = next
    ;[pf, sf] = Optim.updateAndApply(opt, g, sf, pf)
    out.push([u, s, p, pf, sf])
  }
  return out
}

const configs: [string, () => GT][] = [
  ['sgd', () => Optim.sgd({ lr: 0.1 })],
  ['sgd, weight decay', () => Optim.sgd({ lr: 0.1, weightDecay: 5e-4 })],
  ['sgd, momentum', () => Optim.sgd({ lr: 0.05, momentum: 0.9 })],
  [
    'sgd, nesterov + weight decay + cosine lr',
    () => Optim.sgd({ lr: Schedule.cosineDecay({ init: 0.1, steps: 3 }), momentum: 0.9, nesterov: true, weightDecay: 1e-3 }),
  ],
  ['adam', () => Optim.adam({ lr: 1e-3 })],
  ['adam, b1 0.5, b2 0.9, eps 1e-3', () => Optim.adam({ lr: 0.01, b1: 0.5, b2: 0.9, eps: 1e-3 })],
  ['adamw', () => Optim.adamw({ lr: 1e-3 })],
  ['adamw, decay on W only', () => Optim.adamw({ lr: 1e-3, weightDecay: 0.1, mask: (path) => path === 'W' })],
  ['sgd, momentum, decay on b only', () => Optim.sgd({ lr: 0.05, momentum: 0.9, weightDecay: 0.1, mask: (path) => path === 'b' })],
  ['rmsprop', () => Optim.rmsprop({ lr: 1e-3 })],
  ['rmsprop, momentum 0.9, ρ 0.5', () => Optim.rmsprop({ lr: 1e-2, momentum: 0.9, decay: 0.5 })],
  ['adagrad, Σ₀ 0.1', () => Optim.adagrad({ lr: 0.1, initialAccumulator: 0.1 })],
  ['nadam', () => Optim.nadam({ lr: 2e-3 })],
  ['nadam, b1 0.5, b2 0.9, eps 1e-3', () => Optim.nadam({ lr: 0.01, b1: 0.5, b2: 0.9, eps: 1e-3 })],
  ['amsgrad', () => Optim.amsgrad({ lr: 1e-3 })],
  ['amsgrad, b1 0.5, b2 0.9, eps 1e-3', () => Optim.amsgrad({ lr: 0.01, b1: 0.5, b2: 0.9, eps: 1e-3 })],
  ['adamax', () => Optim.adamax({ lr: 2e-3 })],
  ['adamax, b1 0.5, b2 0.9, eps 1e-3', () => Optim.adamax({ lr: 0.01, b1: 0.5, b2: 0.9, eps: 1e-3 })],
  ['adamw, λ 0, warm-up lr', () => Optim.adamw({ lr: Schedule.linearWarmup({ from: 0.001, to: 0.01, steps: 2 }), weightDecay: 0 })],
]
const sizes = [MIN_OPTIM_ELEMENTS, MIN_OPTIM_ELEMENTS + 1, 2 * 32768 + 5] // one part, odd, three parts (the last odd)

afterAll(async () => {
  await Kernels.useThreads(1)
})

describe("the fused optimizer steps in WebAssembly equal the TypeScript loops and the 'reference' chains, bit for bit", () => {
  for (const [name, make] of configs) {
    test(`${name}: updates, states and params of three steps, sizes ${sizes.join(', ')}, one thread selected and two`, async () => {
      for (const [k, n] of sizes.entries()) {
        const js = Kernels.using('js', () => run(make, n, k))
        const reference = Kernels.using('reference', () => run(make, n, k))
        expect(Compare.treesIdentical(`${name}, n ${n}, js vs reference`, js, reference)).toEqual({ holds: true })
        for (const count of [1, 2] as const) {
          expect(await Kernels.useThreads(count)).toBe(true)
          const wasm = Kernels.using('wasm', () => run(make, n, k))
          const what = `${name}, n ${n}, wasm (${count} thread${count > 1 ? 's' : ''}) vs js`
          expect(Compare.treesIdentical(what, wasm, js)).toEqual({ holds: true })
        }
        await Kernels.useThreads(1)
      }
    })
  }

  test("the kernels really run: sgdStepWasm and adamStepWasm take a leaf and give the TypeScript loop's numbers", () => {
    const n = MIN_OPTIM_ELEMENTS + 3
    const [g, p, t] = [tricky(n, 1, 0), tricky(n, 2, 1), tricky(n, 3, 2)]
    // the TypeScript loop, through sgd's update from a state holding the trace t
    const opt = Optim.sgd({ lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-2 })
    const state = [[], { trace: T.fromData([n], t) }, { count: T.scalar(0) }] as const
    const [u, next] = Kernels.using('js', () => opt.update(T.fromData([n], g), state, T.fromData([n], p)))
    const out = new Float64Array(n)
    const tOut = new Float64Array(n)
    expect(sgdStepWasm(g, p, t, out, tOut, { rate: 0.1, lambda: 1e-2, beta: 0.9, nesterov: true, apply: false })).toBe(true)
    expect(Compare.tensorsIdentical('u', T.fromData([n], out), u as T.Tensor)).toEqual({ holds: true })
    const trace = (next[1] as { trace: T.Tensor }).trace
    expect(Compare.tensorsIdentical('trace', T.fromData([n], tOut), trace)).toEqual({ holds: true })

    const v = tricky(n, 4).map(Math.abs)
    const adam = Optim.adamw({ lr: 0.01, weightDecay: 0.1 })
    const adamState = [{ count: T.scalar(4), mu: T.fromData([n], t), nu: T.fromData([n], v) }, [], { count: T.scalar(4) }] as const
    const [pa, sa] = Kernels.using('js', () => Optim.updateAndApply(adam, T.fromData([n], g), adamState, T.fromData([n], p)))
    const mu = new Float64Array(n)
    const nu = new Float64Array(n)
    const c1 = 1 - 0.9 ** 5
    const c2 = 1 - 0.999 ** 5
    const c1Next = 1 - 0.9 ** 6
    const settings = { rate: 0.01, b1: 0.9, b2: 0.999, eps: 1e-8, c1, c2, c1Next, lambda: 0.1, apply: true, variant: 'adam' } as const
    expect(adamStepWasm(g, p, t, v, undefined, out, mu, nu, undefined, settings)).toBe(true)
    expect(Compare.tensorsIdentical('p + u', T.fromData([n], out), pa)).toEqual({ holds: true })
    expect(Compare.tensorsIdentical('mu', T.fromData([n], mu), sa[0].mu as T.Tensor)).toEqual({ holds: true })
    expect(Compare.tensorsIdentical('nu', T.fromData([n], nu), sa[0].nu as T.Tensor)).toEqual({ holds: true })
  })

  test('a trace without an array for the new trace (or the reverse) is refused before anything runs', () => {
    const n = MIN_OPTIM_ELEMENTS
    const settings = { rate: 0.1, lambda: 0, beta: 0.9, nesterov: false, apply: false }
    expect(() => sgdStepWasm(tricky(n, 1), tricky(n, 2), tricky(n, 3), new Float64Array(n), undefined, settings)).toThrow(
      'sgdStepWasm: give both the trace and the array for the new trace, or neither',
    )
    expect(() => sgdStepWasm(tricky(n, 1), tricky(n, 2), undefined, new Float64Array(n), new Float64Array(n), settings)).toThrow(
      /give both/,
    )
  })

  test("the kernels really run: rmsStepWasm gives the TypeScript loop's numbers for RMSprop with momentum and for Adagrad", () => {
    const n = MIN_OPTIM_ELEMENTS + 5
    const [g, p, t] = [tricky(n, 4, 0), tricky(n, 5, 1), tricky(n, 6, 2)]
    const acc = tricky(n, 7).map(Math.abs)
    const rms = Optim.rmsprop({ lr: 0.01, momentum: 0.9, decay: 0.8, eps: 1e-6 })
    const rmsState = [{ nu: T.fromData([n], acc) }, { trace: T.fromData([n], t) }, { count: T.scalar(2) }] as const
    const [u, next] = Kernels.using('js', () => rms.update(T.fromData([n], g), rmsState, T.fromData([n], p)))
    const out = new Float64Array(n),
      accOut = new Float64Array(n),
      tOut = new Float64Array(n)
    expect(rmsStepWasm(g, p, acc, t, out, accOut, tOut, { rate: 0.01, decay: 0.8, eps: 1e-6, beta: 0.9, apply: false })).toBe(true)
    const states = next as readonly Tree.Tree[]
    expect(Compare.tensorsIdentical('u', T.fromData([n], out), u as T.Tensor)).toEqual({ holds: true })
    expect(Compare.tensorsIdentical('nu', T.fromData([n], accOut), (states[0] as { nu: T.Tensor }).nu)).toEqual({ holds: true })
    expect(Compare.tensorsIdentical('trace', T.fromData([n], tOut), (states[1] as { trace: T.Tensor }).trace)).toEqual({ holds: true })
    const ada = Optim.adagrad({ lr: 0.1 })
    const adaState = [{ sum: T.fromData([n], acc) }, { count: T.scalar(0) }] as const
    const [pa, sa] = Kernels.using('js', () => Optim.updateAndApply(ada, T.fromData([n], g), adaState, T.fromData([n], p)))
    const adaSettings = { rate: 0.1, decay: undefined, eps: 1e-10, beta: 0, apply: true }
    expect(rmsStepWasm(g, p, acc, undefined, out, accOut, undefined, adaSettings)).toBe(true)
    expect(Compare.tensorsIdentical('p + u', T.fromData([n], out), pa)).toEqual({ holds: true })
    expect(Compare.tensorsIdentical('sum', T.fromData([n], accOut), sa[0].sum as T.Tensor)).toEqual({ holds: true })
  })

  test('a step that does not fit in the memory cap writes nothing and says so (the caller runs the TypeScript loop)', () => {
    const n = MIN_OPTIM_ELEMENTS
    const out = new Float64Array(n).fill(7)
    const tOut = new Float64Array(n).fill(7)
    const settings = { rate: 0.1, lambda: 0, beta: 0.9, nesterov: false, apply: true }
    expect(sgdStepWasm(tricky(n, 1), tricky(n, 2), tricky(n, 3), out, tOut, settings, 1024)).toBe(false)
    expect(out.every((x) => x === 7) && tOut.every((x) => x === 7)).toBe(true)
  })

  test('an MLP trains to the same params on the js and wasm kernels, bit for bit (sgd and adamw)', () => {
    const labels = T.fromData(
      [96],
      Float64Array.from({ length: 96 }, (_, i) => i % 10),
    )
    const data = Data.make(T.scale(0.1, Key.normal(Key.fromSeed(5), [96, 64 * 80])), labels)
    const net = L.pipe(L.dense(64), L.relu, L.dense(10)) // W1 has 5120·64 values: the big leaf
    for (const optimizer of [Optim.sgd({ lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 5e-4 }), Optim.adamw({ lr: 1e-3 })]) {
      const fit = () =>
        Train.fit({ model: net, loss: Loss.softmaxCrossEntropy, optimizer, data, epochs: 2, batchSize: 32, key: Key.fromSeed(3) }).state
      const a = Kernels.using('js', fit)
      const b = Kernels.using('wasm', fit)
      expect(Compare.treesIdentical('params', a.params, b.params)).toEqual({ holds: true })
      expect(Compare.treesIdentical('optimizer state', a.optState, b.optState)).toEqual({ holds: true })
    }
  })
})
