import { describe, expect, test } from 'vitest'
import { Kernels, Optim, Schedule, T, Tree } from '../../src/index.ts'
import { checkSgd, checkTransform, sgdLaws, transformLaws, type CheckTransformOptions } from '../../laws/optimizer-laws.ts'
import * as OptimizerLaws from '../../laws/optimizer-laws.ts'
import { Compare, runProperty } from '../../laws/index.ts'

type GT = Optim.GradientTransformation

// ---------------------------------------------------------------------------------------------
// Every law on every built-in transform and alias

// Descent settings, each derived from the optimizer's known behaviour on the quadratics of the
// law, f(p) = ½ Σ aᵢ (pᵢ - cᵢ)² with aᵢ in [0.5, 2] and every |p0ᵢ - cᵢ| in [0.5, 2]:
//
// - Plain SGD with lr = 1/L = 0.5 multiplies each error pᵢ - cᵢ by 1 - lr·aᵢ, in [0, 0.75], so f
//   shrinks by 0.75² = 0.5625 per step or better and never rises: ⌈ln 0.1 / ln 0.5625⌉ = 5 steps.
// - Heavy ball / Nesterov with β = 0.9, lr = 0.1: lr·aᵢ in [0.05, 0.2] lies inside
//   [(1-√β)², (1+√β)²], where the error oscillates with modulus √β per step, so f shrinks like
//   βᵏ up to a transient factor. βᵏ = 0.01 at k = ⌈ln 0.01 / ln 0.9⌉ = 44: a factor 10 to spare.
// - Adam, AdamW, RMSprop move each coordinate by about lr per step whatever the gradient's size
//   (sign-like), so reaching a minimum 2 away takes 2/lr steps; we allow 4·2/lr, the rest for
//   the overshoot to settle (Adam lr 0.05: 160; RMSprop lr 0.02: 400). NAdam and Adamax move
//   the same way (Adamax divides by max |g| rather than the RMS: still about lr per step), so
//   they get Adam's 160. AMSGrad moves as Adam does while ν grows; once the gradients shrink
//   near the minimum its denominator stays at the largest √ν̂ seen, so it settles like gradient
//   descent at a rate of about lr/max|g| ≥ 0.05/8 per unit of a·(p - c): slower than Adam there,
//   but the law's 10x reduction is reached well before that phase matters, and 160 steps pass.
// - RMSprop with momentum β = 0.9 moves about lr/(1-β) = 0.1 per step: 4·2/0.1 = 80 steps.
// - Adagrad lr 0.5: the first step moves each coordinate by lr; after it, the effective rate
//   lr/√Σg² is at most lr/|g₁| and shrinks slowly, which makes it a stable gradient descent:
//   50 steps (its measured worst case is below 1e-7 of f(p0)).
const sgdSteps = Math.ceil(Math.log(0.1) / Math.log(0.75 ** 2))
const momentumSteps = Math.ceil(Math.log(0.01) / Math.log(0.9))

const transforms: [string, () => GT, CheckTransformOptions][] = [
  ['identity', () => Optim.identity, {}],
  ['scale(-0.5)', () => Optim.scale(-0.5), {}],
  ['scaleByLearningRate(0.1)', () => Optim.scaleByLearningRate(0.1), {}],
  ['scaleByLearningRate(cosine schedule)', () => Optim.scaleByLearningRate(Schedule.cosineDecay({ init: 0.1, steps: 2 })), {}],
  ['traceMomentum(0.9)', () => Optim.traceMomentum({ decay: 0.9 }), {}],
  ['traceMomentum(0.9, nesterov)', () => Optim.traceMomentum({ decay: 0.9, nesterov: true }), {}],
  ['scaleByAdam', () => Optim.scaleByAdam(), {}],
  ['scaleByAmsgrad', () => Optim.scaleByAmsgrad(), {}],
  ['scaleByNadam', () => Optim.scaleByNadam(), {}],
  ['scaleByAdamax', () => Optim.scaleByAdamax(), {}],
  ['scaleByRms', () => Optim.scaleByRms(), {}],
  ['scaleByAdagrad', () => Optim.scaleByAdagrad({ initialAccumulator: 0.1 }), {}],
  ['addL2(0.01)', () => Optim.addL2(0.01), { zeroGradientsChangeNothing: false }],
  ['addDecayedWeights(0.01)', () => Optim.addDecayedWeights(0.01), { zeroGradientsChangeNothing: false }],
  ['clipByGlobalNorm(1)', () => Optim.clipByGlobalNorm(1), {}],
  ['clipByValue(0.5)', () => Optim.clipByValue(0.5), {}],
  [
    'masked(addDecayedWeights(0.1), weights only)',
    () => Optim.masked(Optim.addDecayedWeights(0.1), (path) => path.endsWith('W')),
    { zeroGradientsChangeNothing: false },
  ],
  [
    'masked(traceMomentum(0.9), leaves of rank 2)',
    () => Optim.masked(Optim.traceMomentum({ decay: 0.9 }), (_path, shape) => shape.length === 2),
    {},
  ],
  [
    'adam with decay masked to the weights',
    () =>
      Optim.chain(
        Optim.scaleByAdam(),
        Optim.masked(Optim.addDecayedWeights(1e-3), (path) => path.endsWith('W')),
        Optim.scaleByLearningRate(0.05),
      ),
    { zeroGradientsChangeNothing: false, descent: { steps: 160 } },
  ],
  ['chain()', () => Optim.chain(), {}],
  [
    'chain(clipByValue, traceMomentum, scale)',
    () => Optim.chain(Optim.clipByValue(1), Optim.traceMomentum({ decay: 0.5 }), Optim.scale(-0.1)),
    {},
  ],
  ['sgd', () => Optim.sgd({ lr: 0.5 }), { descent: { steps: sgdSteps, monotone: true } }],
  [
    'sgd, cosine-decayed lr',
    () => Optim.sgd({ lr: Schedule.cosineDecay({ init: 0.5, steps: 100, floor: 0.25 }) }),
    { descent: { steps: 2 * sgdSteps, monotone: true } },
  ],
  [
    'sgd + clipByGlobalNorm',
    () => Optim.chain(Optim.clipByGlobalNorm(10), Optim.sgd({ lr: 0.5 })),
    { descent: { steps: 50, monotone: true } },
  ],
  ['sgd, momentum', () => Optim.sgd({ lr: 0.1, momentum: 0.9 }), { descent: { steps: momentumSteps } }],
  ['sgd, nesterov', () => Optim.sgd({ lr: 0.1, momentum: 0.9, nesterov: true }), { descent: { steps: momentumSteps } }],
  [
    'sgd, weight decay',
    () => Optim.sgd({ lr: 0.5, weightDecay: 1e-3 }),
    { zeroGradientsChangeNothing: false, descent: { steps: sgdSteps } },
  ],
  ['adam', () => Optim.adam({ lr: 0.05 }), { descent: { steps: 160 } }],
  [
    'adam, warm-up + cosine lr',
    () => Optim.adam({ lr: Schedule.warmupCosine({ peak: 0.05, warmupSteps: 10, decaySteps: 1000 }) }),
    { descent: { steps: 170 } },
  ],
  ['adamw', () => Optim.adamw({ lr: 0.05, weightDecay: 1e-3 }), { zeroGradientsChangeNothing: false, descent: { steps: 160 } }],
  ['amsgrad', () => Optim.amsgrad({ lr: 0.05 }), { descent: { steps: 160 } }],
  ['nadam', () => Optim.nadam({ lr: 0.05 }), { descent: { steps: 160 } }],
  ['adamax', () => Optim.adamax({ lr: 0.05 }), { descent: { steps: 160 } }],
  ['rmsprop', () => Optim.rmsprop({ lr: 0.02 }), { descent: { steps: 400 } }],
  ['rmsprop, momentum', () => Optim.rmsprop({ lr: 0.01, momentum: 0.9 }), { descent: { steps: 80 } }],
  ['adagrad', () => Optim.adagrad({ lr: 0.5 }), { descent: { steps: 50 } }],
]

for (const [name, make, options] of transforms) {
  describe(`${name} obeys the optimizer laws`, () => {
    for (const law of transformLaws(make, { name, ...options })) test(law.name, law.check)
  })
}

describe('Optim.sgd obeys the SGD laws', () => {
  for (const law of sgdLaws(Optim.sgd)) test(law.name, law.check)
})

// ---------------------------------------------------------------------------------------------
// Worked examples, by hand

const run = (opt: GT, params: Tree.Tree, grads: readonly Tree.Tree[]): Tree.Tree[] => {
  let p = params
  let s = opt.init(p)
  const out: Tree.Tree[] = []
  for (const g of grads) {
    const [u, next] = opt.update(g, s, p)
    p = Optim.applyUpdates(p, u)
    s = next
    out.push(p)
  }
  return out
}
const value = (t: Tree.Tree): number => Tree.leaves(t)[0]!.data[0]!

describe('worked examples', () => {
  test('one SGD step is p - lr·g: 1 - 0.1·2 = 0.8', () => {
    expect(run(Optim.sgd({ lr: 0.1 }), T.tensor([1]), [T.tensor([2])]).map(value)).toEqual([1 - 0.1 * 2])
  })

  test('heavy ball, β = 0.9, lr = 0.1, g = 2 then 1, from p = 1', () => {
    // step 1: t = 2 + 0.9·0 = 2;         p = 1 - 0.1·2 = 0.8
    // step 2: t = 1 + 0.9·2 = 2.8;       p = 0.8 - 0.1·2.8 = 0.52
    const [p1, p2] = run(Optim.sgd({ lr: 0.1, momentum: 0.9 }), T.tensor([1]), [T.tensor([2]), T.tensor([1])]).map(value)
    expect(p1).toBeCloseTo(0.8, 14)
    expect(p2).toBeCloseTo(0.52, 14)
  })

  test('Nesterov, β = 0.9, lr = 0.1, g = 2 then 1, from p = 1', () => {
    // step 1: t = 2;  u = g + β·t = 2 + 1.8 = 3.8;          p = 1 - 0.38 = 0.62
    // step 2: t = 1 + 0.9·2 = 2.8;  u = 1 + 0.9·2.8 = 3.52;  p = 0.62 - 0.352 = 0.268
    const [p1, p2] = run(Optim.sgd({ lr: 0.1, momentum: 0.9, nesterov: true }), T.tensor([1]), [T.tensor([2]), T.tensor([1])]).map(value)
    expect(p1).toBeCloseTo(0.62, 14)
    expect(p2).toBeCloseTo(0.268, 14)
  })

  test('Adam, two steps: lr 0.1, β₁ 0.9, β₂ 0.999, ε 1e-8, g = 0.5 then -0.2, from p = 1', () => {
    // step 1 (t = 1): μ = 0.1·0.5 = 0.05;  ν = 0.001·0.25 = 0.00025
    //   μ̂ = 0.05/(1 - 0.9) = 0.5;  ν̂ = 0.00025/(1 - 0.999) = 0.25;  √ν̂ = 0.5
    //   u = 0.5/(0.5 + 1e-8) = 0.99999998;  p = 1 - 0.1·0.99999998 = 0.900000002
    // step 2 (t = 2): μ = 0.9·0.05 + 0.1·(-0.2) = 0.025;  ν = 0.999·0.00025 + 0.001·0.04 = 0.00028975
    //   μ̂ = 0.025/(1 - 0.81) = 0.131578947…;  ν̂ = 0.00028975/(1 - 0.998001) = 0.144947474…
    //   √ν̂ = 0.380719679…;  u = 0.131578947/0.380719689 = 0.345605839…
    //   p = 0.900000002 - 0.0345605839 = 0.865439418…
    const opt = Optim.adam({ lr: 0.1 })
    const [p1, p2] = run(opt, T.tensor([1]), [T.tensor([0.5]), T.tensor([-0.2])]).map(value)
    expect(p1).toBeCloseTo(0.900000002, 14)
    expect(p2).toBeCloseTo(0.8654394181165, 12)
    const [, s] = opt.update(T.tensor([0.5]), opt.init(T.tensor([1])), T.tensor([1]))
    expect(T.get(s[0].mu as T.Tensor, [0])).toBeCloseTo(0.05, 15)
    expect(T.get(s[0].nu as T.Tensor, [0])).toBeCloseTo(0.00025, 15)
    expect(T.get(s[0].count, [])).toBe(1)
    expect(T.get(s[1].count, [])).toBe(1)
  })

  test('AMSGrad keeps the largest ν: lr 0.1, β₁ 0.9, β₂ 0.999, ε 1e-8, g = 0.5 then 0.01, from p = 1', () => {
    // step 1 (t = 1): as Adam: μ = 0.05, ν = ν_max = 0.00025, u = 0.5/(0.5 + 1e-8);  p = 0.900000002
    // step 2 (t = 2): μ = 0.045 + 0.001 = 0.046;  ν = 0.999·0.00025 + 0.001·0.0001 = 0.00024985 < ν_max
    //   so ν_max stays 0.00025;  μ̂ = 0.046/0.19 = 0.2421052631…;  √(ν_max/0.001999) = 0.3536412473…
    //   u = 0.6846058583…;  p = 0.900000002 - 0.06846058583… = 0.8315394161677…
    //   (Adam, with ν itself: u = 0.6848113325…, p = 0.8315188687457…)
    const opt = Optim.amsgrad({ lr: 0.1 })
    const [p1, p2] = run(opt, T.tensor([1]), [T.tensor([0.5]), T.tensor([0.01])]).map(value)
    expect(p1).toBeCloseTo(0.900000002, 14)
    expect(p2).toBeCloseTo(0.8315394161677112, 13)
    const s0 = opt.init(T.tensor([1]))
    const s1 = opt.update(T.tensor([0.5]), s0, T.tensor([1]))[1]
    const s2 = opt.update(T.tensor([0.01]), s1, T.tensor([1]))[1]
    expect(T.get(s2[0].nu as T.Tensor, [0])).toBeCloseTo(0.00024985, 16)
    expect(T.get(s2[0].nuMax as T.Tensor, [0])).toBeCloseTo(0.00025, 16)
  })

  test('NAdam looks one momentum step ahead: lr 0.1, β₁ 0.9, β₂ 0.999, ε 1e-8, g = 0.5 then -0.2, from p = 1', () => {
    // step 1 (t = 1): μ = 0.05, ν = 0.00025;  μ̃ = 0.9·0.05/(1 - 0.9²) + 0.1·0.5/(1 - 0.9) = 0.2368421… + 0.5
    //   = 0.7368421052…;  √(ν/0.001) = 0.5;  u = 1.4736841810…;  p = 0.8526315818947…
    // step 2 (t = 2): μ = 0.025, ν = 0.00028975;  μ̃ = 0.9·0.025/(1 - 0.9³) + 0.1·(-0.2)/(1 - 0.9²)
    //   = 0.0830258… - 0.1052631… = -0.0222373276…;  √(ν/0.001999) = 0.3807196…
    //   u = -0.0584086620…;  p = 0.8526315818947 + 0.00584086620… = 0.8584724481008…
    const [p1, p2] = run(Optim.nadam({ lr: 0.1 }), T.tensor([1]), [T.tensor([0.5]), T.tensor([-0.2])]).map(value)
    expect(p1).toBeCloseTo(0.8526315818947368, 13)
    expect(p2).toBeCloseTo(0.8584724481008762, 13)
  })

  test('Adamax divides by a decaying max of |g|: lr 0.1, β₁ 0.9, β₂ 0.999, ε 1e-8, g = 0.5 then -0.2, from p = 1', () => {
    // step 1 (t = 1): μ = 0.05;  ν∞ = max(0, 0.5 + 1e-8) = 0.50000001;  u = (0.05/0.1)/0.50000001 = 0.99999998
    //   p = 0.900000002
    // step 2 (t = 2): μ = 0.025;  ν∞ = max(0.999·0.50000001, 0.2 + 1e-8) = 0.49950000999
    //   u = (0.025/0.19)/0.49950000999 = 0.2634213107…;  p = 0.900000002 - 0.02634213107… = 0.8736578709…
    const opt = Optim.adamax({ lr: 0.1 })
    const [p1, p2] = run(opt, T.tensor([1]), [T.tensor([0.5]), T.tensor([-0.2])]).map(value)
    expect(p1).toBeCloseTo(0.900000002, 14)
    expect(p2).toBeCloseTo(0.8736578709215531, 13)
    const s1 = opt.update(T.tensor([0.5]), opt.init(T.tensor([1])), T.tensor([1]))[1]
    expect(T.get(s1[0].nuInf as T.Tensor, [0])).toBe(0.5 + 1e-8)
  })

  test('Adam and its variants match plain loops written from their formulas, over 20 steps of 5 coordinates', () => {
    const b1 = 0.8,
      b2 = 0.95,
      eps = 1e-6,
      lr = 0.03
    const grads = Array.from({ length: 20 }, (_, k) =>
      Float64Array.from({ length: 5 }, (_, i) => Math.sin(3 * k + 7 * i) * (k % 4 === 3 ? 0.01 : 1)),
    )
    // one coordinate at a time: μ, ν and the variant's extra moment, then p -= lr·u
    type Rule = (g: number, t: number, m: { mu: number; nu: number; extra: number }) => number
    const rules: [string, GT, Rule][] = [
      ['adam', Optim.adam({ lr, b1, b2, eps }), (_g, t, m) => m.mu / (1 - b1 ** t) / (Math.sqrt(m.nu / (1 - b2 ** t)) + eps)],
      [
        'amsgrad',
        Optim.amsgrad({ lr, b1, b2, eps }),
        (_g, t, m) => {
          m.extra = Math.max(m.extra, m.nu)
          return m.mu / (1 - b1 ** t) / (Math.sqrt(m.extra / (1 - b2 ** t)) + eps)
        },
      ],
      [
        'nadam',
        Optim.nadam({ lr, b1, b2, eps }),
        (g, t, m) => (b1 * (m.mu / (1 - b1 ** (t + 1))) + (1 - b1) * (g / (1 - b1 ** t))) / (Math.sqrt(m.nu / (1 - b2 ** t)) + eps),
      ],
      [
        'adamax',
        Optim.adamax({ lr, b1, b2, eps }),
        (g, t, m) => {
          m.extra = Math.max(b2 * m.extra, Math.abs(g) + eps)
          return m.mu / (1 - b1 ** t) / m.extra
        },
      ],
    ]
    for (const [name, opt, rule] of rules) {
      const expected = Float64Array.from({ length: 5 }, (_, i) => {
        let p = 1 - i / 4
        const m = { mu: 0, nu: 0, extra: 0 }
        grads.forEach((gs, k) => {
          const g = gs[i]!
          m.mu = b1 * m.mu + (1 - b1) * g
          m.nu = b2 * m.nu + (1 - b2) * g * g
          p -= lr * rule(g, k + 1, m)
        })
        return p
      })
      const got = run(
        opt,
        T.generate([5], (i) => 1 - i / 4),
        grads.map((g) => T.fromData([5], g)),
      ).at(-1) as T.Tensor
      got.data.forEach((v, i) =>
        expect(Math.abs(v - expected[i]!), `${name}, coordinate ${i}`).toBeLessThan(1e-13 * Math.max(1, Math.abs(expected[i]!))),
      )
    }
  })

  test('masked: weight decay on W only; b, gamma and beta pass through; the inner state holds only the picked leaves', () => {
    const params = {
      layers: [
        { W: T.tensor([[1, 2]]), b: T.tensor([3]) },
        { gamma: T.tensor([4]), beta: T.tensor([5]) },
      ] as const,
    }
    const grads = {
      layers: [
        { b: T.tensor([0.5]), W: T.tensor([[1, 1]]) },
        { beta: T.tensor([0.25]), gamma: T.tensor([2]) },
      ] as const,
    }
    const opt = Optim.chain(
      Optim.masked(Optim.addDecayedWeights(0.5), (path) => path.endsWith('.W')),
      Optim.scaleByLearningRate(0.1),
    )
    const [u] = opt.update(grads, opt.init(params), params)
    const l = u as typeof params
    // W: -0.1·(g + 0.5·W) = -0.1·[1.5, 2];  b, gamma, beta: -0.1·g
    expect([...l.layers[0].W.data]).toEqual([-0.1 * 1.5, -0.1 * 2])
    expect([...l.layers[0].b.data, ...l.layers[1].gamma.data, ...l.layers[1].beta.data]).toEqual([-0.1 * 0.5, -0.1 * 2, -0.1 * 0.25])
    const momentum = Optim.masked(Optim.traceMomentum({ decay: 0.9 }), (path) => path.endsWith('.W'))
    const s0 = momentum.init(params) as { trace: Tree.Tree }
    expect(Tree.leaves(s0.trace).map((t) => t.shape)).toEqual([[1, 2]]) // one trace, for W alone
  })

  test("adamw's mask: the masked-out leaves take Adam's step exactly, the others AdamW's", () => {
    const params = { W: T.tensor([[1, -2]]), b: T.tensor([3]) }
    const grads = { W: T.tensor([[0.5, 0.25]]), b: T.tensor([-1]) }
    const step = (opt: GT) => Optim.updateAndApply(opt, grads, opt.init(params), params)[0] as typeof params
    const masked = step(Optim.adamw({ lr: 0.1, weightDecay: 0.5, mask: (_path, shape) => shape.length >= 2 }))
    const all = step(Optim.adamw({ lr: 0.1, weightDecay: 0.5 }))
    const none = step(Optim.adam({ lr: 0.1 }))
    expect(Compare.tensorsIdentical('W', masked.W, all.W)).toEqual({ holds: true })
    expect(Compare.tensorsIdentical('b', masked.b, none.b)).toEqual({ holds: true })
    expect(masked.b.data[0]).not.toBe(all.b.data[0])
  })
  test('masked pairs its inner state with leaves by path: params whose records list their keys in another order get the same steps', () => {
    const opt = Optim.masked(Optim.traceMomentum({ decay: 0.5 }), () => true)
    const p1 = { a: T.tensor([0]), b: T.tensor([0]) }
    const p2 = { b: T.tensor([0]), a: T.tensor([0]) } // the same params, keys in the other order
    const g = { a: T.tensor([1]), b: T.tensor([100]) }
    const s1 = opt.update(g, opt.init(p1), p1)[1]
    const [u2] = opt.update(g, s1, p2) // trace: a 1 + 0.5·1 = 1.5, b 100 + 0.5·100 = 150
    expect((u2 as typeof g).a.data[0]).toBe(1.5)
    expect((u2 as typeof g).b.data[0]).toBe(150)
    expect(Object.keys(u2 as object)).toEqual(['a', 'b']) // the gradients' layout
  })
  test("an error inside a masked transform says which leaf each of its array's positions is", () => {
    const opt = Optim.masked(Optim.traceMomentum({ decay: 0.5 }), (path) => path.endsWith('W'))
    const p = { layers: [{ W: T.zeros([2, 2]), b: T.zeros([2]) }, { W: T.zeros([2, 3]) }] as const }
    const otherModel = { layers: [{ W: T.zeros([2, 2]), b: T.zeros([2]) }, { W: T.zeros([2, 4]) }] as const }
    expect(() => opt.update(p, opt.init(otherModel), p)).toThrow(
      new RegExp(
        String.raw`traceMomentum\.update: the trace does not have the gradients' structure, at \[1\].*` +
          String.raw`\(inside Optim\.masked, whose transform sees the picked leaves as an array: ` +
          String.raw`\[0\] = layers\[0\]\.W, \[1\] = layers\[1\]\.W\)`,
      ),
    )
  })
  test('masked clipByGlobalNorm measures the picked leaves only', () => {
    const params = { W: T.tensor([0, 0]), b: T.tensor([0]) }
    const grads = { W: T.tensor([3, 4]), b: T.tensor([100]) }
    const [u] = Optim.masked(Optim.clipByGlobalNorm(1), (path) => path === 'W').update(grads, [], params)
    expect([...(u as typeof grads).W.data]).toEqual([3 * (1 / 5), 4 * (1 / 5)]) // ‖W‖ = 5, not ‖(W, b)‖
    expect([...(u as typeof grads).b.data]).toEqual([100])
  })

  test('masked: a select that is not a function, or returns no boolean, is a clear error', () => {
    expect(() => Optim.masked(Optim.identity, 'W' as never)).toThrow(
      'masked: select must be a function (path, shape) => boolean, got string',
    )
    expect(() => Optim.masked(Optim.identity, (() => 1) as never).init({ W: T.zeros([1]) })).toThrow(
      'masked: select must return true or false, got number 1 for W',
    )
    expect(() => Optim.masked({} as never, () => true)).toThrow(
      'masked: the transform to mask must be a gradient transformation { init, update }',
    )
  })

  test('AdamW decays p by lr·λ·p on top of the Adam step', () => {
    // step 1: Adam's u = 0.5/(0.5 + 1e-8);  p = 1 - 0.1·(u + 0.01·1) = 0.899000002
    const [p1] = run(Optim.adamw({ lr: 0.1, weightDecay: 0.01 }), T.tensor([1]), [T.tensor([0.5])]).map(value)
    expect(p1).toBeCloseTo(1 - 0.1 * (0.5 / (0.5 + 1e-8) + 0.01), 15)
  })

  test('SGD weight decay adds λ·p to the gradient: 2 - 0.1·(1 + 0.5·2) = 1.8', () => {
    expect(value(run(Optim.sgd({ lr: 0.1, weightDecay: 0.5 }), T.tensor([2]), [T.tensor([1])])[0]!)).toBeCloseTo(1.8, 15)
  })

  test('RMSprop, one step: ρ 0.9, lr 0.01, g = 2 → ν = 0.4, p = 1 - 0.01·2/√0.4', () => {
    // ν = 0.1·4 = 0.4;  u = 2/(0.632455532 + 1e-8) = 3.16227761;  p = 0.968377224
    expect(value(run(Optim.rmsprop({ lr: 0.01 }), T.tensor([1]), [T.tensor([2])])[0]!)).toBeCloseTo(0.9683772238983, 12)
  })

  test('Adagrad, two steps: lr 0.1, g = 3 then 4 → Σ = 9 then 25', () => {
    // step 1: u = 3/√9 = 1 (less 1e-10/3);  p = 0.9.   step 2: u = 4/√25 = 0.8;  p = 0.82
    const [p1, p2] = run(Optim.adagrad({ lr: 0.1 }), T.tensor([1]), [T.tensor([3]), T.tensor([4])]).map(value)
    expect(p1).toBeCloseTo(0.9, 10)
    expect(p2).toBeCloseTo(0.82, 10)
  })

  test('clipByGlobalNorm rescales [3, 4] (norm 5) to norm 1 across leaves, and leaves a short gradient alone', () => {
    const params = { a: T.tensor([0]), b: T.tensor([0]) }
    const [u] = Optim.clipByGlobalNorm(1).update({ a: T.tensor([3]), b: T.tensor([4]) }, [], params)
    expect(Tree.leaves(u).map((t) => t.data[0])).toEqual([0.6000000000000001, 0.8])
    const short = { a: T.tensor([0.3]), b: T.tensor([0.4]) }
    expect(Optim.clipByGlobalNorm(1).update(short, [], params)[0]).toBe(short)
    expect(Optim.globalNorm({ a: T.tensor([3]), b: T.tensor([[4]]) })).toBe(5)
  })

  test('clipByValue clamps each coordinate', () => {
    expect(Array.from((Optim.clipByValue(1).update(T.tensor([-3, 0.5, 2]), [], T.zeros([3]))[0] as T.Tensor).data)).toEqual([-1, 0.5, 1])
  })

  test('a scheduled lr is read at the step count kept in the state: 0.1 for 2 steps, then 0.01', () => {
    const opt = Optim.sgd({ lr: Schedule.piecewiseConstant([2], [0.1, 0.01]) })
    const ps = run(opt, T.tensor([1]), [T.tensor([1]), T.tensor([1]), T.tensor([1])]).map(value)
    expect(ps[0]).toBeCloseTo(0.9, 15)
    expect(ps[1]).toBeCloseTo(0.8, 15)
    expect(ps[2]).toBeCloseTo(0.79, 15)
  })

  test('chain states are typed tuples; sgd without momentum keeps only the step count', () => {
    const p = T.tensor([1, 2])
    const opt = Optim.chain(Optim.traceMomentum({ decay: 0.9 }), Optim.scaleByLearningRate(0.1))
    const [trace, count]: readonly [Optim.TraceState, Optim.CountState] = opt.init(p)
    expect(Tree.leaves(trace.trace).map((t) => Array.from(t.data))).toEqual([[0, 0]])
    expect(T.get(count.count, [])).toBe(0)
    expect(Optim.sgd({ lr: 0.1 }).init(p)).toEqual([{ count: T.scalar(0) }])
  })
})

// ---------------------------------------------------------------------------------------------
// Bad hyper-parameters and mismatched trees

describe('bad hyper-parameters throw an OptimError naming the optimizer, the parameter and the value', () => {
  const cases: [string, () => unknown, string][] = [
    ['sgd lr 0', () => Optim.sgd({ lr: 0 }), 'sgd: lr must be finite and > 0, got 0'],
    ['sgd lr NaN', () => Optim.sgd({ lr: NaN }), 'sgd: lr must be finite and > 0, got NaN'],
    ['sgd lr Infinity', () => Optim.sgd({ lr: Infinity }), 'sgd: lr must be finite and > 0, got Infinity'],
    [
      'sgd lr a string',
      () => Optim.sgd({ lr: '0.1' as unknown as number }),
      'sgd: lr must be a number or a schedule (step => number), got string',
    ],
    ['sgd momentum 1', () => Optim.sgd({ lr: 0.1, momentum: 1 }), 'sgd: momentum must be in [0, 1), got 1'],
    ['sgd momentum -0.1', () => Optim.sgd({ lr: 0.1, momentum: -0.1 }), 'sgd: momentum must be in [0, 1), got -0.1'],
    ['sgd nesterov without momentum', () => Optim.sgd({ lr: 0.1, nesterov: true }), 'sgd: nesterov needs momentum > 0, got momentum 0'],
    ['sgd weightDecay -1', () => Optim.sgd({ lr: 0.1, weightDecay: -1 }), 'sgd: weightDecay must be finite and >= 0, got -1'],
    ['adam b1 1', () => Optim.adam({ lr: 0.1, b1: 1 }), 'adam: b1 must be in [0, 1), got 1'],
    ['adam b2 1.5', () => Optim.adam({ lr: 0.1, b2: 1.5 }), 'adam: b2 must be in [0, 1), got 1.5'],
    ['adam eps 0', () => Optim.adam({ lr: 0.1, eps: 0 }), 'adam: eps must be finite and > 0, got 0'],
    ['adam lr -1', () => Optim.adam({ lr: -1 }), 'adam: lr must be finite and > 0, got -1'],
    ['adamw weightDecay NaN', () => Optim.adamw({ lr: 0.1, weightDecay: NaN }), 'adamw: weightDecay must be finite and >= 0, got NaN'],
    ['rmsprop decay 1', () => Optim.rmsprop({ lr: 0.1, decay: 1 }), 'rmsprop: decay must be in [0, 1), got 1'],
    ['rmsprop momentum 2', () => Optim.rmsprop({ lr: 0.1, momentum: 2 }), 'rmsprop: momentum must be in [0, 1), got 2'],
    ['adagrad eps -1', () => Optim.adagrad({ lr: 0.1, eps: -1 }), 'adagrad: eps must be finite and > 0, got -1'],
    ['traceMomentum decay 1', () => Optim.traceMomentum({ decay: 1 }), 'traceMomentum: decay must be in [0, 1), got 1'],
    ['scaleByAdam b1 NaN', () => Optim.scaleByAdam({ b1: NaN }), 'scaleByAdam: b1 must be in [0, 1), got NaN'],
    ['amsgrad b2 1', () => Optim.amsgrad({ lr: 0.1, b2: 1 }), 'amsgrad: b2 must be in [0, 1), got 1'],
    [
      "adam with PyTorch's betas",
      () => Optim.adam({ lr: 0.1, betas: [0.9, 0.99] } as never),
      "adam: unknown option 'betas' (here b1 and b2); the options are lr, b1, b2, eps",
    ],
    [
      'rmsprop with a misspelt option',
      () => Optim.rmsprop({ lr: 0.1, momentun: 0.9 } as never),
      "rmsprop: unknown option 'momentun' (did you mean 'momentum'?); the options are lr, decay, eps, momentum",
    ],
    [
      'sgd with no options',
      () => (Optim.sgd as (o?: unknown) => unknown)(),
      'sgd: expected an options object { lr, momentum, nesterov, weightDecay, mask }, got undefined',
    ],
    [
      'adagrad with a number',
      () => Optim.adagrad(0.1 as never),
      'adagrad: expected an options object { lr, eps, initialAccumulator }, got number',
    ],
    [
      'scaleByAdam with an unknown option',
      () => Optim.scaleByAdam({ eps_root: 0 } as never),
      "scaleByAdam: unknown option 'eps_root' (not supported); the options are b1, b2, eps",
    ],
    [
      'chain given sgd uncalled',
      () => Optim.chain(Optim.sgd as never),
      'chain: transform 0 is not a gradient transformation { init, update }, got function ' +
        '(a function: call it with its options first, e.g. sgd({ lr: 0.1 }), not sgd)',
    ],
    [
      'chain given undefined',
      () => Optim.chain(Optim.identity, undefined as never),
      'chain: transform 1 is not a gradient transformation { init, update }, got undefined',
    ],
    [
      'chain given an array',
      () => Optim.chain([Optim.identity] as never),
      'chain: transform 0 is not a gradient transformation { init, update }, got an array ' +
        '(an array: pass the transforms as separate arguments, chain(a, b), not chain([a, b]))',
    ],
    [
      'cosineDecay without steps',
      () => Schedule.cosineDecay({ init: 1 } as never),
      'cosineDecay: steps must be an integer >= 1, got nothing (is the option missing?)',
    ],
    [
      'adamw with a mask that is not a function',
      () => Optim.adamw({ lr: 0.1, mask: 'W' as never }),
      'adamw: mask must be a function (path, shape) => boolean, got string',
    ],
    [
      'sgd with a mask that is not a function',
      () => Optim.sgd({ lr: 0.1, mask: 'W' as never }),
      'sgd: mask must be a function (path, shape) => boolean, got string',
    ],
    ['nadam eps -1', () => Optim.nadam({ lr: 0.1, eps: -1 }), 'nadam: eps must be finite and > 0, got -1'],
    ['adamax lr 0', () => Optim.adamax({ lr: 0 }), 'adamax: lr must be finite and > 0, got 0'],
    ['scaleByAdamax b1 -0.1', () => Optim.scaleByAdamax({ b1: -0.1 }), 'scaleByAdamax: b1 must be in [0, 1), got -0.1'],
    ['scaleByNadam b2 NaN', () => Optim.scaleByNadam({ b2: NaN }), 'scaleByNadam: b2 must be in [0, 1), got NaN'],
    ['scaleByRms eps 0', () => Optim.scaleByRms({ eps: 0 }), 'scaleByRms: eps must be finite and > 0, got 0'],
    [
      'scaleByAdagrad initialAccumulator -1',
      () => Optim.scaleByAdagrad({ initialAccumulator: -1 }),
      'scaleByAdagrad: initialAccumulator must be finite and >= 0, got -1',
    ],
    ['scaleByLearningRate 0', () => Optim.scaleByLearningRate(0), 'scaleByLearningRate: lr must be finite and > 0, got 0'],
    ['clipByGlobalNorm 0', () => Optim.clipByGlobalNorm(0), 'clipByGlobalNorm: maxNorm must be finite and > 0, got 0'],
    ['clipByValue -1', () => Optim.clipByValue(-1), 'clipByValue: limit must be finite and > 0, got -1'],
    ['addL2 -1', () => Optim.addL2(-1), 'addL2: l2 must be finite and >= 0, got -1'],
    [
      'addDecayedWeights Infinity',
      () => Optim.addDecayedWeights(Infinity),
      'addDecayedWeights: weightDecay must be finite and >= 0, got Infinity',
    ],
    ['scale NaN', () => Optim.scale(NaN), 'scale: s must be a finite number, got NaN'],
    [
      'a schedule with lr(0) = NaN, at init',
      () => Optim.adam({ lr: () => NaN }).init(T.zeros([1])),
      'adam: lr(0) must be finite and >= 0, got NaN',
    ],
  ]
  for (const [name, thunk, message] of cases) {
    test(name, () => {
      expect(thunk).toThrow(Optim.OptimError)
      expect(thunk).toThrow(message)
    })
  }

  test('a schedule that goes negative later fails at the step that uses it', () => {
    const opt = Optim.sgd({ lr: (step) => 0.1 - 0.1 * step })
    const p = T.zeros([1])
    const s1 = opt.update(T.ones([1]), opt.init(p), p)[1]
    const s2 = opt.update(T.ones([1]), s1, p)[1]
    expect(() => opt.update(T.ones([1]), s2, p)).toThrow('sgd: lr(2) must be finite and >= 0, got -0.1')
  })
})

describe('trees that do not match fail with a TreeError naming the first differing path', () => {
  const params = {
    layers: [
      { W: T.zeros([2, 2]), b: T.zeros([2]) },
      { W: T.zeros([2, 1]), b: T.zeros([1]) },
    ],
  }
  const transposed = {
    layers: [
      { W: T.zeros([2, 2]), b: T.zeros([2]) },
      { W: T.zeros([1, 2]), b: T.zeros([1]) },
    ],
  }
  const missing: Tree.Tree = { layers: [{ W: T.zeros([2, 2]), b: T.zeros([2]) }, { W: T.zeros([2, 1]) }] }
  const all: [string, GT][] = [
    ['sgd', Optim.sgd({ lr: 0.1, momentum: 0.9 })],
    ['adam', Optim.adam({ lr: 0.1 })],
    ['adamw', Optim.adamw({ lr: 0.1 })],
    ['amsgrad', Optim.amsgrad({ lr: 0.1 })],
    ['nadam', Optim.nadam({ lr: 0.1 })],
    ['adamax', Optim.adamax({ lr: 0.1 })],
    ['rmsprop', Optim.rmsprop({ lr: 0.1 })],
    ['adagrad', Optim.adagrad({ lr: 0.1 })],
    ['traceMomentum', Optim.traceMomentum({ decay: 0.9 })],
    ['scaleByAdam', Optim.scaleByAdam()],
    ['scaleByAmsgrad', Optim.scaleByAmsgrad()],
    ['clipByGlobalNorm', Optim.clipByGlobalNorm(1)],
    ['chain', Optim.chain(Optim.identity)],
  ]
  for (const [name, opt] of all) {
    test(`${name}: grads with a transposed leaf`, () => {
      const go = () => opt.update(transposed, opt.init(params), params)
      expect(go).toThrow(Tree.TreeError)
      expect(go).toThrow(
        `${name}.update: the gradients do not have the params' structure, at layers[1].W: shape [2, 1] vs [1, 2] (params vs gradients)`,
      )
    })
    test(`${name}: grads with a missing leaf`, () => {
      expect(() => opt.update(missing, opt.init(params), params)).toThrow(
        `${name}.update: the gradients do not have the params' structure, at layers[1]: a record {W, b} vs a record {W}`,
      )
    })
  }

  test('applyUpdates names the path', () => {
    expect(() => Optim.applyUpdates(params, transposed)).toThrow(
      "applyUpdates: the updates do not have the params' structure, at layers[1].W: shape [2, 1] vs [1, 2] (params vs updates)",
    )
  })

  test('a state built for other params names the state and the path', () => {
    const opt = Optim.adam({ lr: 0.1 })
    expect(() => opt.update(transposed, opt.init(params), transposed)).toThrow(
      "adam.update: mu does not have the gradients' structure, at layers[1].W: shape [1, 2] vs [2, 1] (gradients vs mu)",
    )
  })

  test('a chain given a state tuple of the wrong length says so', () => {
    const opt = Optim.chain(Optim.identity, Optim.scale(2))
    expect(() => opt.update(params, [[]] as unknown as readonly [[], []], params)).toThrow(
      'chain.update: expected a state tuple of 2 (one per transform), got a tuple of 1',
    )
  })
})

// ---------------------------------------------------------------------------------------------
// The laws can fail: broken transforms are rejected

/** Momentum that writes the new trace into the old state's buffers (an in-place update). */
const mutatingMomentum = (decay: number): Optim.GradientTransformation<{ readonly trace: Tree.Tree }> => ({
  init: (params) => ({ trace: Tree.zerosLike(params) }),
  update: (grads, state) => {
    const traces = Tree.leaves(state.trace)
    Tree.leaves(grads).forEach((g, i) => {
      const t = traces[i]!
      for (let j = 0; j < t.data.length; j++) t.data[j] = g.data[j]! + decay * t.data[j]!
    })
    return [state.trace, state]
  },
})

/** SGD with the sign flipped: ascent. */
const ascent = (): GT => Optim.chain(Optim.scale(0.5))

/** A state that grows a key after the first step. */
const growingState: GT = {
  init: () => ({ count: T.scalar(0) }),
  update: (grads) => [Tree.map(grads, (g) => T.scale(-0.1, g)), { count: T.scalar(1), extra: T.scalar(0) }],
}

/** Updates flattened to a list of leaves: the wrong structure for any record of params. */
const flattenedUpdates: GT = {
  init: () => [],
  update: (grads, state) => [[...Tree.leaves(grads).map((g) => T.scale(-0.1, g)), T.scalar(0)], state],
}

/** A step counter hidden in a closure instead of the state: the same call gives different answers. */
const hiddenCounter = (): GT => {
  let step = 0
  return { init: () => [], update: (grads, state) => [Tree.map(grads, (g) => T.scale(-0.1 / ++step, g)), state] }
}

/** An update that creeps even at zero gradient. */
const creeping: GT = {
  init: () => [],
  update: (grads, state) => [
    Tree.map(
      grads,
      T.map((v) => -0.1 * v + 1e-9),
    ),
    state,
  ],
}

/** sgd({ lr: 0.1, momentum: 0.9 }) with a planted bug in its fused step, the update left correct. */
const brokenFusion = (bug: 'stale state' | 'heavy ball for nesterov' | 'writes into params' | "gradients' layout"): GT => {
  const options = { lr: 0.1, momentum: 0.9, nesterov: bug === 'heavy ball for nesterov' }
  const sgd: GT = Optim.sgd(options)
  return {
    init: sgd.init,
    update: sgd.update,
    updateAndApply: <P extends Tree.Tree>(grads: Tree.Tree, state: Tree.Tree, params: P): readonly [P, Tree.Tree] => {
      switch (bug) {
        case 'stale state':
          return [Optim.applyUpdates(params, sgd.update(grads, state, params)[0]), state]
        case 'heavy ball for nesterov': {
          const heavyBall: GT = Optim.sgd({ lr: 0.1, momentum: 0.9 })
          const [u, next] = heavyBall.update(grads, state, params)
          return [Optim.applyUpdates(params, u), next]
        }
        case 'writes into params': {
          const [u, next] = sgd.update(grads, state, params)
          const ls = Tree.leavesLike(params, u)
          Tree.leaves(params).forEach((p, k) => p.data.forEach((v, i) => (p.data[i] = v + ls[k]!.data[i]!)))
          return [params, next]
        }
        case "gradients' layout": {
          const [u, next] = sgd.update(grads, state, params)
          return [Tree.map2(u, params, T.add) as unknown as P, next]
        }
      }
    },
  }
}

describe('the laws reject broken transforms', () => {
  test('a fused updateAndApply that returns the old state fails the fusion law', () => {
    expect(() => checkTransform(() => brokenFusion('stale state'), { name: 'stale' })).toThrow(
      /1 law\(s\) failed[\s\S]*updateAndApply = update, then applyUpdates[\s\S]*state after step 1: updateAndApply vs update/,
    )
  })
  test('a fused updateAndApply that computes other numbers fails the fusion law', () => {
    expect(() => checkTransform(() => brokenFusion('heavy ball for nesterov'), { name: 'heavy' })).toThrow(
      /1 law\(s\) failed[\s\S]*params after step \d: updateAndApply vs update \+ applyUpdates/,
    )
  })
  test('a fused updateAndApply that writes into the params fails the fusion law', () => {
    expect(() => checkTransform(() => brokenFusion('writes into params'), { name: 'inplace' })).toThrow(
      /updateAndApply = update, then applyUpdates[\s\S]*after updateAndApply of step 1 \(should be untouched\)/,
    )
  })
  test('a fused updateAndApply that lays the params out like the gradients fails the fusion law', () => {
    expect(() => checkTransform(() => brokenFusion("gradients' layout"), { name: 'layout' })).toThrow(
      /updateAndApply = update, then applyUpdates[\s\S]*the leaves come in a different order/,
    )
  })

  test('momentum that mutates its state fails purity (and nothing else)', () => {
    expect(() => checkTransform(() => mutatingMomentum(0.9), { name: 'mutatingMomentum' })).toThrow(
      /1 law\(s\) failed[\s\S]*purity[\s\S]*state after update \(should be untouched\)/,
    )
  })
  test('a sign error (ascent) fails descent', () => {
    expect(() => checkTransform(ascent, { name: 'ascent', descent: { steps: 10 } })).toThrow(
      /descent on a convex quadratic[\s\S]*expected at most 0.1/,
    )
  })
  test('SGD with lr above 2/L (so 1 - lr·a < -1 for the stiffest coordinates) fails descent', () => {
    expect(() => checkTransform(() => Optim.sgd({ lr: 1.5 }), { name: 'sgd lr 1.5', descent: { steps: 20, monotone: true } })).toThrow(
      /descent on a convex quadratic/,
    )
  })
  test('a state that changes structure fails the state law', () => {
    expect(() => checkTransform(() => growingState, { name: 'growingState' })).toThrow(
      /state keeps the structure[\s\S]*differs from init's at root: a record \{count\} vs a record \{count, extra\}/,
    )
  })
  test("updates without the params' structure fail the updates law", () => {
    expect(() => checkTransform(() => flattenedUpdates, { name: 'flattenedUpdates' })).toThrow(/updates have the params' structure/)
  })
  test('a counter hidden in a closure fails determinism', () => {
    expect(() => checkTransform(hiddenCounter, { name: 'hiddenCounter' })).toThrow(/updates of the same update run twice/)
  })
  test('an update that moves at zero gradient fails the zero-gradient law', () => {
    expect(() => checkTransform(() => creeping, { name: 'creeping' })).toThrow(/zero gradients change nothing[\s\S]*non-zero update 1e-9/)
  })
  test('an SGD that multiplies by 1/(1/lr) instead of lr fails both SGD laws', () => {
    const sloppy = ({ lr }: { readonly lr: number }): GT => Optim.scale(-1 / (1 / lr))
    expect(() => checkSgd(sloppy, { name: 'sloppy' })).toThrow(
      /2 law\(s\) failed[\s\S]*momentum 0 = scaleByLearningRate[\s\S]*one step is p - lr·g exactly/,
    )
  })
  test('an SGD whose momentum 0 still keeps a (slightly leaky) trace fails the momentum-0 law', () => {
    const leaky = ({ lr }: { readonly lr: number }): GT => Optim.chain(Optim.traceMomentum({ decay: 1e-3 }), Optim.scaleByLearningRate(lr))
    expect(() => checkSgd(leaky, { name: 'leaky' })).toThrow(/momentum 0 = scaleByLearningRate, bit for bit" failed/)
  })
})

/** The kernel families under which the aliases run their fused passes. */
const FAST: readonly Kernels.Choice[] = ['js', 'wasm']

/** Params and six steps' gradients, of random structure. */
const sample6 = OptimizerLaws.transformSample(6)

describe("13. fast equals readable: each alias gives, under the 'js' and 'wasm' kernels, its chain's numbers under 'reference'", () => {
  const configs: [string, () => GT][] = [
    ['adam, defaults', () => Optim.adam({ lr: 0.05 })],
    [
      'adam, b1 0.5, b2 0.9, eps 1e-3, warm-up + cosine lr',
      () => Optim.adam({ lr: Schedule.warmupCosine({ peak: 0.1, warmupSteps: 2, decaySteps: 4 }), b1: 0.5, b2: 0.9, eps: 1e-3 }),
    ],
    ['adam, b1 0', () => Optim.adam({ lr: 0.01, b1: 0 })],
    ['adamw, defaults', () => Optim.adamw({ lr: 0.05 })],
    ['adamw, λ 0', () => Optim.adamw({ lr: 0.05, weightDecay: 0 })],
    ['adamw, λ 0.1, b2 0.99', () => Optim.adamw({ lr: 0.02, weightDecay: 0.1, b2: 0.99 })],
    [
      'adamw, λ 0.1, decay masked to leaves of rank 2',
      () => Optim.adamw({ lr: 0.02, weightDecay: 0.1, mask: (_p, shape) => shape.length === 2 }),
    ],
    ['nadam, defaults', () => Optim.nadam({ lr: 0.05 })],
    [
      'nadam, b1 0.5, b2 0.9, eps 1e-3, cosine lr',
      () => Optim.nadam({ lr: Schedule.cosineDecay({ init: 0.1, steps: 4 }), b1: 0.5, b2: 0.9, eps: 1e-3 }),
    ],
    ['amsgrad, defaults', () => Optim.amsgrad({ lr: 0.05 })],
    [
      'amsgrad, b1 0.5, b2 0.9, eps 1e-3, cosine lr',
      () => Optim.amsgrad({ lr: Schedule.cosineDecay({ init: 0.1, steps: 4 }), b1: 0.5, b2: 0.9, eps: 1e-3 }),
    ],
    ['adamax, defaults', () => Optim.adamax({ lr: 0.05 })],
    [
      'adamax, b1 0.5, b2 0.9, eps 1e-3, cosine lr',
      () => Optim.adamax({ lr: Schedule.cosineDecay({ init: 0.1, steps: 4 }), b1: 0.5, b2: 0.9, eps: 1e-3 }),
    ],
    [
      'sgd, nesterov, decay masked to W',
      () => Optim.sgd({ lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.05, mask: (path) => path.endsWith('W') }),
    ],
    ['rmsprop, defaults', () => Optim.rmsprop({ lr: 0.01 })],
    [
      'rmsprop, momentum 0.9, ρ 0.5, ε 1e-3, cosine lr',
      () => Optim.rmsprop({ lr: Schedule.cosineDecay({ init: 0.1, steps: 4 }), momentum: 0.9, decay: 0.5, eps: 1e-3 }),
    ],
    ['adagrad, defaults', () => Optim.adagrad({ lr: 0.1 })],
    ['adagrad, Σ₀ 0.1, ε 1e-3', () => Optim.adagrad({ lr: 0.1, initialAccumulator: 0.1, eps: 1e-3 })],
  ]
  for (const [name, make] of configs) {
    for (const family of FAST) {
      test(`${name}: '${family}' gives the updates, states and params of 'reference' at every step`, () =>
        runProperty('13. fast equals readable', name, [sample6], (s) => OptimizerLaws.fastEqualsReadable(make(), family, s)))
    }
    test(`${name}: updateAndApply gives the params and state of update + applyUpdates, bit for bit`, () =>
      runProperty('updateAndApply = update + applyUpdates', name, [sample6], (s) =>
        OptimizerLaws.updateAndApplyIsUpdateThenApply(make(), s),
      ))
  }
  test("the kernel switch picks the path: the chain under 'reference', the fused pass under the others and by default", () => {
    // the two paths check a wrong state each in its own words, so the message tells which one ran
    const p = { W: T.zeros([2]) }
    const opt = Optim.adam({ lr: 0.1 })
    const wrong = Optim.sgd({ lr: 0.1, momentum: 0.9 }).init(p) as never
    expect(Kernels.current()).toBe('fast')
    expect(() => Kernels.using('reference', () => opt.update(p, wrong, p))).toThrow(
      'adam.update: the state should hold the step count {count: a tensor []}, got {trace: a record {W}}',
    )
    for (const family of ['js', 'wasm', 'fast'] as const) {
      expect(() => Kernels.using(family, () => opt.update(p, wrong, p))).toThrow("adam.update: state[0] should be Adam's moments")
      expect(() => Kernels.using(family, () => opt.updateAndApply!(p, wrong, p))).toThrow(
        "adam.updateAndApply: state[0] should be Adam's moments",
      )
    }
    expect(() => opt.update(p, wrong, p)).toThrow("adam.update: state[0] should be Adam's moments")
  })
  test('bad hyper-parameters fail as the chain fails, naming the alias', () => {
    expect(() => Optim.adam({ lr: 0.1, b1: 1 })).toThrow(/^adam: b1 must be in \[0, 1\), got 1$/)
    expect(() => Optim.adamw({ lr: -1 })).toThrow(/^adamw: lr must be/)
    expect(() => Optim.adamw({ lr: 0.1, weightDecay: -1 })).toThrow(/^adamw: weightDecay/)
  })
  test('a fused adam given a state of the wrong kind, or from another model, says so', () => {
    const p = { W: T.zeros([2]) }
    const opt: GT = Optim.adam({ lr: 0.1 })
    const adamw: GT = Optim.adamw({ lr: 0.1 })
    expect(() => opt.update(p, Optim.sgd({ lr: 0.1, momentum: 0.9 }).init(p), p)).toThrow(
      "adam.update: state[0] should be Adam's moments {count: a tensor [], mu, nu: trees like the params}, got {trace: a record {W}}",
    )
    expect(() => adamw.update(p, opt.init(p), p)).toThrow("adamw.update: expected a state tuple of 3 (from adamw's init), got a tuple of 2")
    const other = opt.init({ W: T.zeros([3]) })
    expect(() => opt.update(p, other, p)).toThrow(/^adam\.update: mu does not have the gradients' structure, at W/)
  })
})

describe("13. fast equals readable: sgd's fused pass is its chain, bit for bit", () => {
  const configs: [string, Optim.SgdOptions][] = [
    ['lr only', { lr: 0.3 }],
    ['momentum', { lr: 0.1, momentum: 0.9 }],
    ['nesterov', { lr: 0.1, momentum: 0.9, nesterov: true }],
    ['weight decay', { lr: 0.2, weightDecay: 1e-2 }],
    [
      'nesterov + weight decay + cosine schedule',
      { lr: Schedule.cosineDecay({ init: 0.5, steps: 5, floor: 0.01 }), momentum: 0.8, nesterov: true, weightDecay: 5e-4 },
    ],
  ]
  for (const [name, options] of configs) {
    for (const family of FAST) {
      test(`${name}: '${family}' gives the updates, states and params of 'reference' at every step`, () =>
        runProperty('13. fast equals readable', `sgd(${name})`, [sample6], (s) =>
          OptimizerLaws.fastEqualsReadable(Optim.sgd(options), family, s),
        ))
    }
  }
  for (const [name, options] of configs) {
    test(`${name}: updateAndApply gives the params and state of update + applyUpdates, bit for bit`, () =>
      runProperty('updateAndApply = update + applyUpdates', `sgd(${name})`, [sample6], (s) =>
        OptimizerLaws.updateAndApplyIsUpdateThenApply(Optim.sgd(options), s),
      ))
  }
  test('Optim.updateAndApply runs the fused step where there is one, else update and applyUpdates', () => {
    const p = { W: T.tensor([1, 2]), b: T.tensor([3]) }
    const g = { b: T.tensor([1]), W: T.tensor([2, -4]) }
    const fused: GT = Optim.sgd({ lr: 0.5, momentum: 0.5 })
    const plain: GT = { init: fused.init, update: fused.update }
    let calls = 0
    const spy: GT = { ...fused, updateAndApply: (gr, st, pa) => (calls++, fused.updateAndApply!(gr, st, pa)) }
    const [p1, s1] = Optim.updateAndApply(spy, g, spy.init(p), p)
    const [p2, s2] = Optim.updateAndApply(plain, g, plain.init(p), p)
    expect(calls).toBe(1)
    // 1 - 0.5·2 = 0, 2 - 0.5·(-4) = 4, 3 - 0.5·1 = 2.5, in the params' key order
    expect(Object.keys(p1)).toEqual(['W', 'b'])
    expect([...(p1.W as T.Tensor).data, ...(p1.b as T.Tensor).data]).toEqual([0, 4, 2.5])
    expect(Compare.treesIdentical('params', p1, p2).holds).toBe(true)
    expect(Compare.treesIdentical('state', s1, s2).holds).toBe(true)
  })
  test('a fused sgd given a state of the wrong kind says so', () => {
    const p = { W: T.zeros([2]) }
    const opt = Optim.sgd({ lr: 0.1, momentum: 0.9 })
    expect(() => opt.update(p, Optim.adam({ lr: 0.1 }).init(p) as never, p)).toThrow(
      'sgd.update: state[0] should be the momentum buffer {trace: a tree like the params}, ' +
        'got {count: a tensor [], mu: a record {W}, nu: a record {W}}',
    )
    expect(() => opt.update(p, [] as never, p)).toThrow("sgd.update: expected a state tuple of 2 (from sgd's init), got a tuple of 0")
  })
  test("a chained transform given a state without its step count (another optimizer's, or from JSON) says so", () => {
    const p = { W: T.zeros([2]) }
    // under 'reference' the aliases run their chains, whose transforms check the state they read
    const chained =
      <A>(f: () => A) =>
      () =>
        Kernels.using('reference', f)
    expect(chained(() => Optim.amsgrad({ lr: 0.1 }).update(p, Optim.rmsprop({ lr: 0.1 }).init(p) as never, p))).toThrow(
      'amsgrad.update: the state should hold the step count {count: a tensor []}, got {nu: a record {W}}',
    )
    expect(() => Optim.scaleByLearningRate(0.1).update(p, { count: 3 } as never, p)).toThrow(
      'scaleByLearningRate.update: the state should hold the step count {count: a tensor []}, got {count: number 3}',
    )
    expect(chained(() => Optim.adamax({ lr: 0.1 }).update(p, [{}, { count: T.scalar(0) }] as never, p))).toThrow(
      'adamax.update: the state should hold the step count {count: a tensor []}, got {}',
    )
    // the fused aliases say which moments they expected
    expect(() => Optim.amsgrad({ lr: 0.1 }).update(p, Optim.rmsprop({ lr: 0.1 }).init(p) as never, p)).toThrow(
      "amsgrad.update: state[0] should be AMSGrad's moments {count: a tensor [], mu, nu, nuMax: trees like the params}, " +
        'got {nu: a record {W}}',
    )
    expect(() => Optim.amsgrad({ lr: 0.1 }).update(p, Optim.adam({ lr: 0.1 }).init(p) as never, p)).toThrow(
      "amsgrad.update: state[0] should be AMSGrad's moments {count: a tensor [], mu, nu, nuMax: trees like the params}, " +
        'got {count: a tensor [], mu: a record {W}, nu: a record {W}}',
    )
    expect(() => Optim.adamax({ lr: 0.1 }).update(p, [{}, { count: T.scalar(0) }] as never, p)).toThrow(
      "adamax.update: state[0] should be Adamax's moments {count: a tensor [], mu, nuInf: trees like the params}, got {}",
    )
    expect(() => Optim.amsgrad({ lr: 0.1 }).update(p, null as never, p)).toThrow(
      "amsgrad.update: expected a state tuple of 2 (from amsgrad's init), got null",
    )
    // another member's moments, with more trees than these need, are not taken either
    expect(() => Optim.adam({ lr: 0.1 }).update(p, Optim.amsgrad({ lr: 0.1 }).init(p) as never, p)).toThrow(
      "adam.update: state[0] should be Adam's moments {count: a tensor [], mu, nu: trees like the params}, " +
        'got {count: a tensor [], mu: a record {W}, nu: a record {W}, nuMax: a record {W}}',
    )
    expect(() => Optim.sgd({ lr: 0.1, momentum: 0.9 }).update(p, {} as never, p)).toThrow(
      "sgd.update: expected a state tuple of 2 (from sgd's init), got {}",
    )
  })
  test('a fused sgd given a null entry, or a count that is not a tensor (say, from JSON), says which', () => {
    const p = { W: T.zeros([2]) }
    const opt = Optim.sgd({ lr: 0.1, momentum: 0.9 })
    expect(() => opt.update(p, [null, { count: T.scalar(0) }] as never, p)).toThrow(
      'sgd.update: state[0] should be the momentum buffer {trace: a tree like the params}, got null',
    )
    expect(() => opt.updateAndApply!(p, [{ trace: p }, { count: 3 }] as never, p)).toThrow(
      'sgd.updateAndApply: state[1] should be the step count {count: a tensor []}, got {count: number 3}',
    )
    expect(() => Optim.adamw({ lr: 0.1 }).updateAndApply!(p, [null, [], { count: T.scalar(0) }] as never, p)).toThrow(
      "adamw.updateAndApply: state[0] should be Adam's moments {count: a tensor [], mu, nu: trees like the params}, got null",
    )
  })
  test('a copy made by spreading does not carry the fused step: overriding update in the copy is what a step runs', () => {
    const sgd = Optim.sgd({ lr: 0.1 })
    let calls = 0
    const mine: typeof sgd = { ...sgd, update: (g, s, p) => (calls++, sgd.update(g, s, p)) }
    expect(mine.updateAndApply).toBeUndefined()
    expect(sgd.updateAndApply).toBeTypeOf('function')
    const p = { W: T.tensor([1, 2]) }
    Optim.updateAndApply(mine, { W: T.tensor([1, 1]) }, mine.init(p), p)
    expect(calls).toBe(1)
  })
  test('a fused sgd given a state from another model names the problem', () => {
    const opt = Optim.sgd({ lr: 0.1, momentum: 0.9 })
    const state = opt.init({ W: T.zeros([2, 2]) })
    expect(() => opt.update({ W: T.zeros([3]) }, state, { W: T.zeros([3]) })).toThrow(
      /sgd\.update: the momentum buffer does not have the gradients' structure, at W/,
    )
  })
})
