/** checkOptions' "did you mean": the known key a misspelt one most likely meant, and none for a key far from every one. */
import { describe, expect, test } from 'vitest'
import { Optim, Schedule } from '../src/index.ts'
import { checkOptions } from '../src/options.ts'

describe('an unknown option gets the key it most likely meant', () => {
  const known = ['numRuns', 'seed', 'inShape', 'momentum', 'lr'] as const
  const message = (options: object): string => {
    try {
      checkOptions('f', options as Record<(typeof known)[number], unknown>, [...known])
    } catch (e) {
      return (e as Error).message
    }
    return 'no error'
  }
  test('case only, one letter, two letters (long keys), a transposition', () => {
    expect(message({ inshape: [2] })).toBe(
      "f: unknown option 'inshape' (did you mean 'inShape'?); the options are numRuns, seed, inShape, momentum, lr",
    )
    expect(message({ numRun: 3 })).toMatch(/^f: unknown option 'numRun' \(did you mean 'numRuns'\?\);/)
    expect(message({ momentun: 0.9 })).toMatch(/\(did you mean 'momentum'\?\)/)
    expect(message({ mometnum: 0.9 })).toMatch(/\(did you mean 'momentum'\?\)/)
  })
  test('no guess for a key far from every known one, or two letters off a short key', () => {
    expect(message({ weights: true })).toBe("f: unknown option 'weights'; the options are numRuns, seed, inShape, momentum, lr")
    expect(message({ xy: 1 })).not.toContain('did you mean')
    expect(message({ seeds: 1 })).toMatch(/\(did you mean 'seed'\?\)/)
  })
})

describe("another library's name for an option gets the name it has in the function called", () => {
  const message = (f: () => unknown): string => {
    try {
      f()
    } catch (e) {
      return (e as Error).message
    }
    return 'no error'
  }
  test("optax's schedule names: init_value is init in one schedule and from in another", () => {
    expect(message(() => Schedule.cosineDecay({ init_value: 0.1, steps: 10 } as never))).toMatch(/'init_value' \(here init\);/)
    expect(message(() => Schedule.warmupCosine({ init_value: 0, peak: 0.1, warmupSteps: 5, decaySteps: 50 } as never))).toMatch(
      /'init_value' \(here from\); the options are peak, warmupSteps, decaySteps, floor, from/,
    )
    expect(message(() => Schedule.linearWarmup({ init_value: 0, to: 0.1, steps: 5 } as never))).toMatch(/'init_value' \(here from\);/)
    expect(message(() => Schedule.linearWarmup({ from: 0, end_value: 0.1, steps: 5 } as never))).toMatch(/'end_value' \(here to\);/)
    expect(message(() => Schedule.cosineDecay({ init: 0.1, steps: 10, end_value: 0 } as never))).toMatch(/'end_value' \(here floor\);/)
    expect(message(() => Schedule.exponentialDecay({ init: 0.1, transitionSteps: 10, rate: 0.9 } as never))).toMatch(
      /'transitionSteps' \(here steps\);/,
    )
    expect(message(() => Schedule.exponentialDecay({ init: 0.1, steps: 10, decayRate: 0.9 } as never))).toMatch(
      /'decayRate' \(here rate\);/,
    )
  })
  test("alpha: rmsprop's decay, cosineDecay's floor", () => {
    expect(message(() => Optim.rmsprop({ lr: 0.1, alpha: 0.9 } as never))).toMatch(/'alpha' \(here decay \(PyTorch's alpha/)
    expect(message(() => Schedule.cosineDecay({ init: 0.1, steps: 10, alpha: 0.1 } as never))).toMatch(
      /'alpha' \(here floor, a learning rate/,
    )
  })
  test('Adam names: beta1, learning_rate inside the optimizer, betas and weightDecay where they do not belong', () => {
    expect(message(() => Optim.scaleByAdam({ beta1: 0.9 } as never))).toMatch(/'beta1' \(here b1\);/)
    expect(message(() => Optim.adam({ learning_rate: 0.1 } as never))).toMatch(/'learning_rate' \(here lr\);/)
    expect(message(() => Optim.sgd({ lr: 0.1, betas: [0.9, 0.99] } as never))).toMatch(/'betas' \(b1 and b2 belong to the Adam family/)
    expect(message(() => Optim.adam({ lr: 0.1, weightDecay: 0.01 } as never))).toMatch(
      /'weightDecay' \(weight decay is an option of Optim.sgd/,
    )
  })
  test('a key named like an Object.prototype member gets no hint from the prototype', () => {
    expect(message(() => checkOptions('f', { toString: 1 } as { lr?: number }, ['lr']))).toBe(
      "f: unknown option 'toString'; the options are lr",
    )
  })
})
