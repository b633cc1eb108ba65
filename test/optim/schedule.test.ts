import { describe, expect, test } from 'vitest'
import fc from 'fast-check'
import { Optim, Schedule } from '../../src/index.ts'
import { runProperty } from '../../laws/run.ts'
import { checkSchedule, scheduleHolds, scheduleLaws, type ScheduleSpec } from '../../laws/schedule-laws.ts'

// ---------------------------------------------------------------------------------------------
// The laws on fixed instances (every integer step 0..N, and random real steps up to 4N)

const fixed: [string, Schedule.Schedule, ScheduleSpec][] = [
  ['constant(0.1)', Schedule.constant(0.1), { start: 0.1, decays: true, floor: 0.1 }],
  [
    'piecewiseConstant([100, 200], [0.1, 0.01, 0.001])',
    Schedule.piecewiseConstant([100, 200], [0.1, 0.01, 0.001]),
    {
      start: 0.1,
      decays: true,
      floor: 0.001,
      boundaries: [
        { step: 99, value: 0.1 },
        { step: 100, value: 0.01 },
        { step: 199, value: 0.01 },
        { step: 200, value: 0.001 },
      ],
    },
  ],
  [
    'stepDecay',
    Schedule.stepDecay({ init: 0.1, factor: 0.5, every: 10 }),
    {
      start: 0.1,
      decays: true,
      floor: 0,
      boundaries: [
        { step: 10, value: 0.05 },
        { step: 25, value: 0.025 },
      ],
    },
  ],
  [
    'exponentialDecay',
    Schedule.exponentialDecay({ init: 1, rate: 0.5, steps: 10, floor: 0.01 }),
    {
      start: 1,
      decays: true,
      floor: 0.01,
      boundaries: [
        { step: 10, value: 0.5 },
        { step: 20, value: 0.25 },
      ],
    },
  ],
  [
    'exponentialDecay, staircase',
    Schedule.exponentialDecay({ init: 1, rate: 0.5, steps: 10, staircase: true }),
    {
      start: 1,
      decays: true,
      floor: 0,
      boundaries: [
        { step: 19, value: 0.5 },
        { step: 20, value: 0.25 },
      ],
    },
  ],
  [
    'cosineDecay',
    Schedule.cosineDecay({ init: 0.1, steps: 100, floor: 0.001 }),
    {
      start: 0.1,
      decays: true,
      floor: 0.001,
      boundaries: [
        { step: 100, value: 0.001 },
        { step: 1000, value: 0.001 },
      ],
    },
  ],
  [
    'linearWarmup',
    Schedule.linearWarmup({ from: 0, to: 0.1, steps: 10 }),
    {
      start: 0,
      decays: { from: 10 },
      floor: 0,
      boundaries: [
        { step: 5, value: 0.05 },
        { step: 10, value: 0.1 },
      ],
    },
  ],
  [
    'warmupCosine',
    Schedule.warmupCosine({ peak: 1e-3, warmupSteps: 100, decaySteps: 900, floor: 1e-5 }),
    {
      start: 0,
      decays: { from: 100 },
      floor: 0,
      boundaries: [
        { step: 100, value: 1e-3 },
        { step: 1000, value: 1e-5 },
        { step: 5000, value: 1e-5 },
      ],
    },
  ],
  [
    'polynomialDecay, power 2',
    Schedule.polynomialDecay({ init: 0.1, steps: 100, power: 2, floor: 0.001 }),
    {
      start: 0.1,
      decays: true,
      floor: 0.001,
      boundaries: [
        { step: 50, value: 0.02575 },
        { step: 100, value: 0.001 },
        { step: 500, value: 0.001 },
      ],
    },
  ],
  [
    'oneCycle',
    Schedule.oneCycle({ peak: 0.1, steps: 1000 }),
    {
      start: 0.004,
      decays: { from: 300 },
      floor: 4e-7,
      boundaries: [
        { step: 300, value: 0.1 },
        { step: 1000, value: 4e-7 },
        { step: 3000, value: 4e-7 },
      ],
    },
  ],
  [
    'cosineRestarts, cycles of 10, 20, 40',
    Schedule.cosineRestarts({ init: 0.1, period: 10, periodFactor: 2, floor: 0.01 }),
    {
      start: 0.1,
      floor: 0.01,
      boundaries: [
        { step: 10, value: 0.1 },
        { step: 20, value: 0.055 },
        { step: 30, value: 0.1 },
        { step: 70, value: 0.1 },
      ],
    },
  ],
  [
    'join(exponential, constant)',
    Schedule.join([Schedule.exponentialDecay({ init: 1, rate: 0.1, steps: 100 }), Schedule.constant(0.1)], [100]),
    {
      start: 1,
      decays: true,
      floor: 0.1,
      boundaries: [
        { step: 50, value: Math.sqrt(0.1) },
        { step: 100, value: 0.1 },
        { step: 500, value: 0.1 },
      ],
    },
  ],
]

for (const [name, schedule, spec] of fixed) {
  describe(`${name} obeys the schedule laws`, () => {
    for (const law of scheduleLaws(schedule, { name, ...spec })) test(law.name, law.check)
  })
}

// ---------------------------------------------------------------------------------------------
// The laws as properties over random hyper-parameters

const rate = fc.double({ min: 1e-4, max: 1, noNaN: true })
const fraction = fc.double({ min: 0, max: 1, noNaN: true })
const steps = (max: number) => fc.integer({ min: 1, max })

const property = <A>(law: string, arb: fc.Arbitrary<A>, make: (a: A) => [Schedule.Schedule, ScheduleSpec]) =>
  test(law, () =>
    runProperty(law, 'the built-in schedules', [arb], (a) => {
      const [s, spec] = make(a)
      return scheduleHolds(s, spec)
    }),
  )

describe('schedule laws hold for random hyper-parameters', () => {
  property(
    'stepDecay: starts at init, drops by factor at every, decays, stays >= 0',
    fc.tuple(rate, rate, steps(50)),
    ([init, factor, every]) => [
      Schedule.stepDecay({ init, factor, every }),
      {
        start: init,
        decays: true,
        floor: 0,
        boundaries: [
          { step: every - 1, value: init },
          { step: every, value: init * factor },
        ],
        steps: 5 * every,
      },
    ],
  )
  property(
    'exponentialDecay: starts at init, is init·rate at steps, decays, never below the floor',
    fc.tuple(rate, rate, steps(200), fc.boolean(), fraction),
    ([init, r, n, staircase, f]) => [
      Schedule.exponentialDecay({ init, rate: r, steps: n, staircase, floor: f * init }),
      { start: init, decays: true, floor: f * init, boundaries: [{ step: n, value: Math.max(f * init, init * r) }] },
    ],
  )
  property(
    'cosineDecay: starts at init, reaches the floor at steps and stays, decays',
    fc.tuple(rate, steps(500), fraction),
    ([init, n, f]) => [
      Schedule.cosineDecay({ init, steps: n, floor: f * init }),
      {
        start: init,
        decays: true,
        floor: f * init,
        boundaries: [
          { step: n, value: f * init },
          { step: 3 * n, value: f * init },
        ],
      },
    ],
  )
  property('linearWarmup: starts at from, reaches to at steps and stays', fc.tuple(rate, rate, steps(500)), ([from, to, n]) => [
    Schedule.linearWarmup({ from, to, steps: n }),
    {
      start: from,
      decays: from >= to ? true : { from: n },
      floor: Math.min(from, to),
      boundaries: [
        { step: n, value: to },
        { step: 2 * n, value: to },
      ],
    },
  ])
  property(
    'piecewiseConstant with falling values: each value from its boundary on, decays',
    fc.uniqueArray(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 4 }).chain((bs) =>
      fc.tuple(
        fc.constant([...bs].sort((a, b) => a - b)),
        fc.array(rate, { minLength: bs.length + 1, maxLength: bs.length + 1 }).map((vs) => [...vs].sort((a, b) => b - a)),
      ),
    ),
    ([bs, vs]) => [
      Schedule.piecewiseConstant(bs, vs),
      {
        start: vs[0]!,
        decays: true,
        floor: vs[vs.length - 1]!,
        boundaries: bs.flatMap((b, i) => [
          { step: b - 1, value: vs[i]! },
          { step: b, value: vs[i + 1]! },
        ]),
      },
    ],
  )
  property(
    'polynomialDecay: starts at init, reaches the floor at steps and stays, decays',
    fc.tuple(rate, steps(500), fc.double({ min: 0.1, max: 5, noNaN: true }), fraction),
    ([init, n, power, f]) => [
      Schedule.polynomialDecay({ init, steps: n, power, floor: f * init }),
      {
        start: init,
        decays: true,
        floor: f * init,
        boundaries: [
          { step: n, value: f * init },
          { step: 2 * n, value: f * init },
        ],
      },
    ],
  )
  property(
    'oneCycle: starts at peak/div, peaks at ⌊pctStart·steps⌋, ends at peak/(div·finalDiv), decays after the peak',
    fc.tuple(
      rate,
      fc.integer({ min: 2, max: 2000 }),
      fc.double({ min: 0.01, max: 0.99, noNaN: true }),
      fc.double({ min: 1, max: 100, noNaN: true }),
      fc.double({ min: 1, max: 1e4, noNaN: true }),
    ),
    ([peak, n, pct, div, finalDiv]) => {
      const rise = Math.min(n - 1, Math.max(1, Math.floor(pct * n)))
      return [
        Schedule.oneCycle({ peak, steps: n, pctStart: pct, divFactor: div, finalDivFactor: finalDiv }),
        {
          start: peak / div,
          decays: { from: rise },
          floor: peak / div / finalDiv,
          boundaries: [
            { step: rise, value: peak },
            { step: n, value: peak / div / finalDiv },
          ],
          tolerance: 1e-12,
        },
      ]
    },
  )
  property(
    'cosineRestarts: init at step 0 and at every restart, never below the floor',
    fc.tuple(rate, steps(50), fc.integer({ min: 1, max: 3 }), fraction),
    ([init, period, factor, f]) => [
      Schedule.cosineRestarts({ init, period, periodFactor: factor, floor: f * init }),
      {
        start: init,
        floor: f * init,
        boundaries: [
          { step: period, value: init },
          { step: period + period * factor, value: init },
        ],
      },
    ],
  )
  property(
    'warmupCosine (a join): from at 0, peak after the warm-up, floor after the decay, decays after the warm-up',
    fc.tuple(rate, fc.integer({ min: 0, max: 50 }), steps(500), fraction, fraction),
    ([peak, w, d, f, f0]) => [
      Schedule.warmupCosine({ peak, warmupSteps: w, decaySteps: d, floor: f * peak, from: f0 * peak }),
      {
        start: w === 0 ? peak : f0 * peak,
        decays: { from: w },
        floor: Math.min(f * peak, f0 * peak),
        boundaries: [
          { step: w, value: peak },
          { step: w + d, value: f * peak },
        ],
      },
    ],
  )
})

// ---------------------------------------------------------------------------------------------
// Worked values

describe('worked values', () => {
  test('constant', () => expect(Schedule.constant(0.1)(1000)).toBe(0.1))

  test('piecewiseConstant: a boundary b means "from step b on"', () => {
    const s = Schedule.piecewiseConstant([100, 200], [0.1, 0.01, 0.001])
    expect([0, 99, 100, 199, 200, 1e6].map(s)).toEqual([0.1, 0.1, 0.01, 0.01, 0.001, 0.001])
  })

  test('stepDecay: 0.1 · 0.5^⌊step/10⌋', () => {
    const s = Schedule.stepDecay({ init: 0.1, factor: 0.5, every: 10 })
    expect([0, 9, 10, 25].map(s)).toEqual([0.1, 0.1, 0.05, 0.025])
  })

  test('exponentialDecay: 1 · 0.5^(step/10), smooth, staircase, and floored', () => {
    expect(Schedule.exponentialDecay({ init: 1, rate: 0.5, steps: 10 })(5)).toBeCloseTo(Math.SQRT1_2, 15)
    expect(Schedule.exponentialDecay({ init: 1, rate: 0.5, steps: 10 })(20)).toBe(0.25)
    expect(Schedule.exponentialDecay({ init: 1, rate: 0.5, steps: 10, staircase: true })(15)).toBe(0.5)
    expect(Schedule.exponentialDecay({ init: 1, rate: 0.5, steps: 10, floor: 0.3 })(20)).toBe(0.3)
  })

  test('cosineDecay: half-way is the mean of init and floor; the floor is absolute and exact at steps', () => {
    expect(Schedule.cosineDecay({ init: 1, steps: 100 })(50)).toBeCloseTo(0.5, 15)
    const s = Schedule.cosineDecay({ init: 1, steps: 100, floor: 0.1 })
    expect(s(0)).toBe(1)
    expect(s(50)).toBeCloseTo(0.55, 15)
    expect(s(100)).toBe(0.1)
    expect(s(1e9)).toBe(0.1)
    expect(s(0.5)).toBeLessThan(1) // fractional steps interpolate
  })

  test('linearWarmup: a straight line, then flat', () => {
    const s = Schedule.linearWarmup({ from: 0, to: 0.1, steps: 10 })
    expect([0, 5, 10, 20].map(s)).toEqual([0, 0.05, 0.1, 0.1])
  })

  test('join restarts the next schedule’s clock at its boundary', () => {
    const s = Schedule.join([Schedule.constant(1), Schedule.linearWarmup({ from: 0, to: 1, steps: 10 })], [5])
    expect([0, 4, 5, 10, 15].map(s)).toEqual([1, 1, 0, 0.5, 1])
  })

  test("polynomialDecay: (init - floor)·(1 - step/steps)^power + floor, optax's polynomial_schedule", () => {
    expect(Schedule.polynomialDecay({ init: 1, steps: 100 })(25)).toBe(0.75)
    expect(Schedule.polynomialDecay({ init: 1, steps: 100, power: 2 })(25)).toBe(0.5625) // 0.75²
    expect(Schedule.polynomialDecay({ init: 0.1, steps: 100, power: 2, floor: 0.001 })(50)).toBeCloseTo(0.099 * 0.25 + 0.001, 17)
    expect(Schedule.polynomialDecay({ init: 1, steps: 10, floor: 0.2 })(1e6)).toBe(0.2)
  })

  test("oneCycle: cosine up from peak/25 to peak over 30% of the steps, down to peak/25/1e4 (optax's cosine_onecycle_schedule)", () => {
    // optax: piecewise cosine interpolation, init peak/div, ×div at ⌊0.3·steps⌋, ×1/(div·finalDiv) at steps;
    // cos-interpolation from a to b at fraction t: b + (a - b)·(1 + cos πt)/2
    const cosInterp = (a: number, b: number, t: number) => b + ((a - b) * (1 + Math.cos(Math.PI * t))) / 2
    const lr = Schedule.oneCycle({ peak: 0.1, steps: 1000 })
    for (const step of [0, 1, 150, 299, 300, 301, 650, 999, 1000, 5000]) {
      const expected = step < 300 ? cosInterp(0.004, 0.1, step / 300) : cosInterp(0.1, 4e-7, Math.min(step - 300, 700) / 700)
      expect(lr(step)).toBeCloseTo(expected, 16)
    }
    expect(lr(0)).toBe(0.004)
    expect(lr(300)).toBe(0.1)
    expect(lr(1000)).toBe(0.004 / 1e4)
  })

  test("cosineRestarts: PyTorch's CosineAnnealingWarmRestarts, cycle lengths 10, 20, 40, ...", () => {
    // PyTorch: n = ⌊log_Tm(t/T0·(Tm - 1) + 1)⌋, T_cur = t - T0·(Tmⁿ - 1)/(Tm - 1), T_i = T0·Tmⁿ;
    // lr = η_min + (η_max - η_min)·(1 + cos(π·T_cur/T_i))/2
    const T0 = 10,
      Tm = 2,
      max = 0.1,
      min = 0.01
    const lr = Schedule.cosineRestarts({ init: max, period: T0, periodFactor: Tm, floor: min })
    for (let t = 0; t < 300; t++) {
      const n = Math.floor(Math.log((t / T0) * (Tm - 1) + 1) / Math.log(Tm) + 1e-12)
      const cur = t - (T0 * (Tm ** n - 1)) / (Tm - 1)
      const Ti = T0 * Tm ** n
      expect(lr(t)).toBeCloseTo(min + ((max - min) * (1 + Math.cos((Math.PI * cur) / Ti))) / 2, 15)
    }
    const flat = Schedule.cosineRestarts({ init: 1, period: 4 })
    // period 4, no growth: restarts at 4, 8, ...
    ;[1, 0.5, 1, 0.5, 1, 0.5].forEach((v, i) => expect(flat([0, 2, 4, 6, 8, 1002][i]!)).toBeCloseTo(v, 15))
  })

  test('warmupCosine: decaySteps counts the steps after the warm-up', () => {
    const s = Schedule.warmupCosine({ peak: 1e-3, warmupSteps: 100, decaySteps: 900 })
    expect(s(0)).toBe(0)
    expect(s(50)).toBe(5e-4)
    expect(s(100)).toBe(1e-3)
    expect(s(550)).toBeCloseTo(5e-4, 18)
    expect(s(1000)).toBe(0)
    expect(s(5000)).toBe(0)
    expect(Schedule.warmupCosine({ peak: 1, warmupSteps: 0, decaySteps: 10 })(0)).toBe(1)
  })
})

// ---------------------------------------------------------------------------------------------
// Bad arguments

describe('bad schedule arguments throw an OptimError naming the schedule, the argument and the value', () => {
  const cases: [string, () => unknown, string][] = [
    ['constant NaN', () => Schedule.constant(NaN), 'constant: value must be a finite number, got NaN'],
    [
      'piecewiseConstant boundaries not increasing',
      () => Schedule.piecewiseConstant([10, 10], [1, 2, 3]),
      'piecewiseConstant: boundaries must increase, got boundaries[0] = 10 then boundaries[1] = 10',
    ],
    [
      'piecewiseConstant boundary 0',
      () => Schedule.piecewiseConstant([0], [1, 2]),
      'piecewiseConstant: boundaries[0] must be an integer >= 1, got 0',
    ],
    [
      'piecewiseConstant boundary 1.5',
      () => Schedule.piecewiseConstant([1.5], [1, 2]),
      'piecewiseConstant: boundaries[0] must be an integer >= 1, got 1.5',
    ],
    [
      'piecewiseConstant too few values',
      () => Schedule.piecewiseConstant([10], [1]),
      'piecewiseConstant: needs one more value than boundaries (2), got 1',
    ],
    [
      'piecewiseConstant NaN value',
      () => Schedule.piecewiseConstant([10], [1, NaN]),
      'piecewiseConstant: values[1] must be a finite number, got NaN',
    ],
    ['stepDecay factor 0', () => Schedule.stepDecay({ init: 1, factor: 0, every: 10 }), 'stepDecay: factor must be in (0, 1], got 0'],
    ['stepDecay factor 2', () => Schedule.stepDecay({ init: 1, factor: 2, every: 10 }), 'stepDecay: factor must be in (0, 1], got 2'],
    ['stepDecay every 0', () => Schedule.stepDecay({ init: 1, factor: 0.5, every: 0 }), 'stepDecay: every must be an integer >= 1, got 0'],
    ['stepDecay init -1', () => Schedule.stepDecay({ init: -1, factor: 0.5, every: 1 }), 'stepDecay: init must be finite and >= 0, got -1'],
    [
      'exponentialDecay rate 1.1',
      () => Schedule.exponentialDecay({ init: 1, rate: 1.1, steps: 10 }),
      'exponentialDecay: rate must be in (0, 1], got 1.1',
    ],
    [
      'exponentialDecay floor above init',
      () => Schedule.exponentialDecay({ init: 1, rate: 0.5, steps: 10, floor: 2 }),
      'exponentialDecay: floor must be <= init (1), got 2',
    ],
    ['cosineDecay steps 0', () => Schedule.cosineDecay({ init: 1, steps: 0 }), 'cosineDecay: steps must be an integer >= 1, got 0'],
    [
      'cosineDecay floor -1',
      () => Schedule.cosineDecay({ init: 1, steps: 10, floor: -1 }),
      'cosineDecay: floor must be finite and >= 0, got -1',
    ],
    [
      'linearWarmup to Infinity',
      () => Schedule.linearWarmup({ from: 0, to: Infinity, steps: 10 }),
      'linearWarmup: to must be finite and >= 0, got Infinity',
    ],
    [
      'join boundaries count',
      () => Schedule.join([Schedule.constant(1), Schedule.constant(2)], []),
      'join: needs one boundary fewer than schedules (1), got 0',
    ],
    ['join no schedules', () => Schedule.join([], []), 'join: needs at least one schedule, got 0'],
    [
      'join a non-function',
      () => Schedule.join([Schedule.constant(1), 2 as unknown as Schedule.Schedule], [3]),
      'join: schedules[1] must be a function step => value, got number',
    ],
    [
      'warmupCosine decaySteps 0',
      () => Schedule.warmupCosine({ peak: 1, warmupSteps: 10, decaySteps: 0 }),
      'warmupCosine: decaySteps must be an integer >= 1, got 0',
    ],
    [
      'warmupCosine peak NaN',
      () => Schedule.warmupCosine({ peak: NaN, warmupSteps: 10, decaySteps: 10 }),
      'warmupCosine: peak must be finite and >= 0, got NaN',
    ],
    [
      'warmupCosine floor above peak',
      () => Schedule.warmupCosine({ peak: 1, warmupSteps: 10, decaySteps: 10, floor: 2 }),
      'warmupCosine: floor must be <= peak (1), got 2',
    ],
    [
      'warmupCosine warmupSteps -1',
      () => Schedule.warmupCosine({ peak: 1, warmupSteps: -1, decaySteps: 10 }),
      'warmupCosine: warmupSteps must be an integer >= 0, got -1',
    ],
    [
      'polynomialDecay power 0',
      () => Schedule.polynomialDecay({ init: 1, steps: 10, power: 0 }),
      'polynomialDecay: power must be finite and > 0, got 0',
    ],
    [
      'polynomialDecay floor above init',
      () => Schedule.polynomialDecay({ init: 1, steps: 10, floor: 1.5 }),
      'polynomialDecay: floor must be <= init (1), got 1.5',
    ],
    ['oneCycle steps 1', () => Schedule.oneCycle({ peak: 1, steps: 1 }), 'oneCycle: steps must be an integer >= 2, got 1'],
    ['oneCycle pctStart 1', () => Schedule.oneCycle({ peak: 1, steps: 10, pctStart: 1 }), 'oneCycle: pctStart must be in (0, 1), got 1'],
    ['oneCycle peak 0', () => Schedule.oneCycle({ peak: 0, steps: 10 }), 'oneCycle: peak must be finite and > 0, got 0'],
    [
      'oneCycle divFactor 0.5',
      () => Schedule.oneCycle({ peak: 1, steps: 10, divFactor: 0.5 }),
      'oneCycle: divFactor must be finite and >= 1, got 0.5',
    ],
    [
      'cosineRestarts periodFactor 1.5',
      () => Schedule.cosineRestarts({ init: 1, period: 10, periodFactor: 1.5 }),
      'cosineRestarts: periodFactor must be an integer >= 1, got 1.5',
    ],
    [
      'cosineRestarts period 0',
      () => Schedule.cosineRestarts({ init: 1, period: 0 }),
      'cosineRestarts: period must be an integer >= 1, got 0',
    ],
    [
      "cosineDecay with optax's alpha",
      () => Schedule.cosineDecay({ init: 1, steps: 10, alpha: 0.1 } as never),
      "cosineDecay: unknown option 'alpha' (here floor, a learning rate: optax's alpha is a fraction of init, so floor = alpha·init); " +
        'the options are init, steps, floor',
    ],
    [
      "cosineRestarts with PyTorch's T_0",
      () => Schedule.cosineRestarts({ init: 1, T_0: 10 } as never),
      "cosineRestarts: unknown option 'T_0' (here period); the options are init, period, periodFactor, floor",
    ],
    [
      'oneCycle with no options',
      () => (Schedule.oneCycle as (o?: unknown) => unknown)(),
      'oneCycle: expected an options object { peak, steps, pctStart, divFactor, finalDivFactor }, got undefined',
    ],
    ['a negative step', () => Schedule.cosineDecay({ init: 1, steps: 10 })(-1), 'cosineDecay: step must be finite and >= 0, got -1'],
    ['a NaN step', () => Schedule.constant(1)(NaN), 'constant: step must be finite and >= 0, got NaN'],
  ]
  for (const [name, thunk, message] of cases) {
    test(name, () => {
      expect(thunk).toThrow(Optim.OptimError)
      expect(thunk).toThrow(message)
    })
  }
})

// ---------------------------------------------------------------------------------------------
// The laws can fail

describe('the schedule laws reject broken schedules', () => {
  test('a cosine run past its half period rises again and fails "never increases"', () => {
    const overshoot: Schedule.Schedule = (step) => 0.05 * (1 + Math.cos((Math.PI * step) / 50))
    expect(() => checkSchedule(overshoot, { name: 'overshoot', start: 0.1, decays: true, floor: 0 })).toThrow(
      /schedule rises from .* at step 50 to .* at step 51/,
    )
  })
  test('a linear decay that passes its floor fails "never below the floor"', () => {
    const through: Schedule.Schedule = (step) => 0.1 - 0.001 * step
    expect(() => checkSchedule(through, { name: 'through', start: 0.1, decays: true, floor: 0 })).toThrow(/below the floor 0/)
  })
  test('a warm-up that peaks one step late fails its boundary', () => {
    const late = Schedule.join([Schedule.linearWarmup({ from: 0, to: 1, steps: 11 }), Schedule.constant(1)], [11])
    expect(() => checkSchedule(late, { name: 'late', start: 0, boundaries: [{ step: 10, value: 1 }] })).toThrow(/schedule\(10\) is 0.909/)
  })
  test('a schedule that blows up fails "finite"', () => {
    const blowUp: Schedule.Schedule = (step) => 1 / (500 - step)
    expect(() => checkSchedule(blowUp, { name: 'blowUp', start: 1 / 500 })).toThrow(/schedule\(500\) is Infinity/)
  })
  test('a wrong start fails "start"', () => {
    expect(() => checkSchedule(Schedule.constant(0.2), { name: 'constant', start: 0.1 })).toThrow(/schedule\(0\) is 0.2, expected 0.1/)
  })
})
