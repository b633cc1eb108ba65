/**
 * What checkLayer says when a layer fails: every failure names its law (number and name); laws that
 * fail for one reason are reported once, with every law that reason broke; a part of the layer that
 * throws or returns the wrong thing is named; a missing option the layer needs is named with its fix.
 */
import { describe, expect, test } from 'vitest'
import { L, T } from '../../src/index.ts'
import { Arb as A, checkCombinators, checkLayer, distinctValues, LawFailure, layerLaws } from '../../laws/index.ts'
import { report } from '../../laws/failure.ts'

const untyped = (f: unknown) => f as (...args: unknown[]) => unknown

const failure = (f: () => unknown): Error => {
  try {
    f()
  } catch (e) {
    if (e instanceof Error) return e
    throw new Error(`expected an Error, got ${String(e)}`)
  }
  throw new Error('expected the laws to fail')
}

/** How many times `part` occurs in `text`. */
const count = (text: string, part: string): number => text.split(part).length - 1

/** The law names (number and name) that layerLaws gives for these options, without the layer's prefix. */
const lawNames = (layer: L.AnyLayer, options: Parameters<typeof layerLaws>[1]): string[] =>
  layerLaws(layer, options).map((l) => l.name.slice(l.name.indexOf(': ') + 2))

describe('batchNorm checked without the options it needs', () => {
  const message = failure(() => checkLayer(L.batchNorm(), { inShape: [4] })).message
  const refusal = 'batchNorm: train mode needs more than one value per feature to take batch statistics'

  test('the refusal is reported once, with every law it broke, each by number and name', () => {
    expect(count(message, refusal), message).toBe(1)
    expect(message).toMatch(/^(\d) law\(s\) failed, all for one reason:\n\nLaws "1\. /)
    const broken = lawNames(L.batchNorm(), { inShape: [4] }).filter((name) => message.includes(`"${name}"`))
    expect(Number(/^(\d)/.exec(message)![1])).toBe(broken.length)
    expect(broken).toEqual(expect.arrayContaining(['1. vjp = central differences, per coordinate', '2. vjp = directional derivative']))
    expect(message).toContain("Why: the layer's forward threw ShapeError: batchNorm: train mode needs")
  })

  test('the fix names the missing options: batches of two or more, and inputs with some spread', () => {
    expect(message).toMatch(
      /Fix: the layer's forward refuses a batch of one example but takes a batch of two \(.*batchNorm does in train mode\)\. Pass batch: \{ min: 2, max: 3 \}, and input: distinctValues/,
    )
  })

  test('the same inside a pipe: the refusal names the path, and the fix is given', () => {
    const inPipe = failure(() => checkLayer(L.pipe(L.dense(3), L.batchNorm()), { inShape: [4] })).message
    expect(count(inPipe, 'pipe[1].batchNorm: train mode needs'), inPipe).toBe(1)
    expect(inPipe).toContain('Pass batch: { min: 2, max: 3 }, and input: distinctValues')
  })

  test('with batch but the default inputs, a failing gradient law says it may be the inputs, and how to fix them', () => {
    const noSpread = failure(() => checkLayer(L.batchNorm(), { inShape: [4], batch: { min: 2, max: 3 } })).message
    expect(noSpread).toMatch(/Law "2\. vjp = directional derivative" failed for layer "batchNorm"/)
    expect(noSpread).toMatch(
      /Fix: this may be the inputs, not the vjp: the layer holds a batchNorm in train mode, .*Pass input: distinctValues/,
    )
  })

  test('with the options the fix names, batchNorm passes every law', () => {
    expect(() => checkLayer(L.batchNorm(), { inShape: [4], batch: { min: 2, max: 3 }, input: distinctValues })).not.toThrow()
  })
})

describe("a custom layer's faults name the part of the layer at fault, once", () => {
  const check = (layer: L.AnyLayer): string => failure(() => checkLayer(layer, { inShape: [3], numRuns: 10 })).message
  const allLaws = lawNames(L.tanh, { inShape: [3] })
  const oneReason = (message: string, why: string): void => {
    expect(message.startsWith(`${allLaws.length} law(s) failed, all for one reason:`), message).toBe(true)
    for (const name of allLaws) expect(message).toContain(`"${name}"`)
    expect(count(message, 'Why: '), message).toBe(1)
    expect(message).toContain(`Why: ${why}`)
  }

  test('a forward that throws', () => {
    const oops = new Error('index out of range in my forward')
    const layer = L.define({
      name: 'throwsInForward',
      forward: () => {
        throw oops
      },
      vjp: (_p, _t, dy) => ({ dx: dy, dp: L.none }),
    })
    const e = failure(() => checkLayer(layer, { inShape: [3], numRuns: 10 }))
    oneReason(e.message, "the layer's forward threw Error: index out of range in my forward")
    // the user's own error, with its stack, is the cause at the end of the chain
    let cause: unknown = e
    while (cause instanceof Error && cause.cause !== undefined) cause = cause.cause
    expect(cause).toBe(oops)
  })

  test('a vjp that throws', () => {
    const layer = L.define({
      name: 'throwsInVjp',
      forward: (_p, x) => ({ y: x, tape: undefined }),
      vjp: (_p, tape: { x: T.Tensor } | undefined, dy) => ({ dx: T.mul(tape!.x, dy), dp: L.none }),
    })
    oneReason(check(layer), "the layer's vjp threw TypeError: Cannot read properties of undefined (reading 'x')")
  })

  test('a vjp whose dx has the wrong shape', () => {
    const layer = L.define({
      name: 'dxSummed',
      forward: (_p, x) => ({ y: x, tape: L.none }),
      vjp: (_p, _t, dy) => ({ dx: T.sumAxis(1)(dy), dp: L.none }),
    })
    const message = check(layer)
    oneReason(message, "the layer's vjp returned dx of shape [")
    expect(message).toMatch(/returned dx of shape \[\d\]; dx must have x's shape, \[\d, 3\] \(law 5\)/)
  })

  test('a forward whose y is not the shape init declared', () => {
    const layer = L.define({
      name: 'ySummed',
      forward: (_p, x) => ({ y: T.sumAxis(1)(x), tape: L.none }),
      vjp: (_p, _t, dy) => ({ dx: dy, dp: L.none }),
    })
    const message = check(layer)
    oneReason(message, "the layer's forward returned y of shape [")
    expect(message).toMatch(/init declared the output shape \[3\], so y must be \[\d, 3\] \(law 5\)/)
  })

  test('a forward whose y is not a tensor, and a vjp that returns nothing', () => {
    const yArray = L.define({
      name: 'yArray',
      forward: (_p, x) => ({ y: untyped(Array.from)(x.data) as T.Tensor, tape: L.none }),
      vjp: (_p, _t, dy) => ({ dx: dy, dp: L.none }),
    })
    oneReason(check(yArray), "the layer's forward returned a y that is not a tensor: an array of")
    const noResult = L.define({
      name: 'vjpForgetsReturn',
      forward: (_p, x) => ({ y: x, tape: L.none }),
      vjp: untyped(() => undefined) as () => L.Backward<L.None>,
    })
    oneReason(check(noResult), "the layer's vjp returned nothing, not { dx, dp }")
  })

  test('a forward undefined on part of the inputs (a log of negative values): one reason, and where to draw x from', () => {
    const log = L.define({
      name: 'log',
      forward: (_p, x) => ({ y: T.map(Math.log)(x), tape: x }),
      vjp: (_p, x, dy) => ({ dx: T.zipWith((v, d) => d / v, x, dy), dp: L.none }),
    })
    oneReason(check(log), "the layer's forward returned NaN at element ")
    expect(check(log)).toMatch(/of y for a finite x, params and state; .*pass input to draw x from there/)
    // on the inputs it is defined on, the same layer passes
    const positive = (shape: readonly number[]) => A.tensor(shape, { min: 0.5, max: 2, awayFromZero: 0 })
    expect(() => checkLayer(log, { inShape: [3], numRuns: 20, input: positive })).not.toThrow()
  })

  test('a vjp that returns NaN where the forward is finite', () => {
    const layer = L.define({
      name: 'vjpDividesByZero',
      forward: (_p, x) => ({ y: T.scale(2, x), tape: L.none }),
      vjp: (_p, _t, dy) => ({ dx: T.map((d) => (2 * d) / 0 - Infinity)(dy), dp: L.none }),
    })
    const message = check(layer)
    expect(message).toMatch(
      /Why: the layer's vjp returned (NaN|-?Infinity) at element \d+ of dx for a finite x, params, state and cotangent/,
    )
    expect(count(message, 'Why: ')).toBe(1)
  })

  test('params that are not a tree of tensors: refused before any law runs, naming init and where', () => {
    const layer = L.define({
      name: 'plainArrays',
      init: (_key, inShape) => ({ outShape: inShape, params: untyped(Object)({ w: [1, 2, 3] }) as { w: T.Tensor } }),
      forward: (p, x) => ({ y: T.mul(x, T.concat(0)(Array.from({ length: x.shape[0]! }, () => T.reshape([1, 3])(p.w)))), tape: x }),
      vjp: (_p, _x, dy) => ({ dx: dy, dp: { w: T.zeros([3]) } }),
    })
    const e = failure(() => checkLayer(layer, { inShape: [3] }))
    expect(e).toBeInstanceOf(TypeError)
    expect(e.message).toBe(
      'checkLayer: layer "plainArrays" (input [3]): the layer\'s init returned params: not a tree of tensors (Tree.map: number 1 at w[0] is not a tree); make tensors with T.tensor or T.fromArray',
    )
  })

  test('something that is not a layer: a factory not called, a record missing parts, a number', () => {
    expect(failure(() => untyped(checkLayer)(L.dense, { inShape: [3] })).message).toBe(
      'checkLayer: its first argument is not a layer: did you forget to call dense(…)?',
    )
    const partial = { name: 'half', forward: () => undefined }
    const e = failure(() => untyped(checkLayer)(partial, { inShape: [3] }))
    expect(e).toBeInstanceOf(TypeError)
    expect(e.message).toBe(
      'checkLayer: its first argument is not a layer: it lacks a spec, an init function and a vjp function (a layer is { name, spec, init, forward, vjp }; L.define makes one from a name, a forward and a vjp)',
    )
    expect(failure(() => untyped(checkLayer)(3, { inShape: [3] })).message).toBe(
      'checkLayer: its first argument is not a layer, got number',
    )
  })
})

describe('failures with different reasons stay apart, each naming its law', () => {
  const reluWrongSign = L.define({
    name: 'reluWrongSign',
    forward: (_p, x) => ({ y: T.map((v) => (v > 0 ? v : 0))(x), tape: x }),
    vjp: (_p, x, dy) => ({ dx: T.zipWith((v, d) => (v > 0 ? -d : 0), x, dy), dp: L.none }),
  })
  test('a wrong vjp fails laws 1 and 2, each reported with its own reason and no fix', () => {
    const message = failure(() => checkLayer(reluWrongSign, { inShape: [4], numRuns: 30 })).message
    expect(message).toMatch(/^2 law\(s\) failed:\n\nLaw "1\. vjp = central differences, per coordinate" failed for layer "reluWrongSign"/)
    expect(message).toMatch(/\n\nLaw "2\. vjp = directional derivative" failed for layer "reluWrongSign"/)
    expect(message).not.toContain('Fix:')
  })
})

describe('the report groups failures by reason, and gives a fix shared by several reasons once', () => {
  const failed = (law: string, reason: string, path: string, fix?: string): LawFailure =>
    new LawFailure({
      law,
      subject: 'layer "f" (input [2])',
      reason,
      ...(fix === undefined ? {} : { fix }),
      evidence: [`  Counterexample (after 0 shrinks): sample of ${law}`],
      replay: { seed: 42, path },
    })
  const message = report([
    failed('1. first', 'the same reason', '0:1', 'the shared fix'),
    failed('2. second', 'the same reason', '0:2', 'the shared fix'),
    failed('4. fourth', 'another reason', '0', 'the shared fix'),
  ])

  test('two reasons, the first naming both its laws, its evidence from the first, and each law its replay path', () => {
    expect(message.startsWith('3 law(s) failed, for 2 reasons:\n\n'), message).toBe(true)
    expect(message).toContain(
      'Laws "1. first" and "2. second" failed for layer "f" (input [2]), all for one reason.\n  Why: the same reason\n',
    )
    expect(message).toContain('  Counterexample of "1. first" (after 0 shrinks): sample of 1. first\n')
    expect(message).not.toContain('sample of 2. second')
    expect(message).toContain('  Replay: "1. first" { seed: 42, path: "0:1" }; "2. second" { seed: 42, path: "0:2" }')
    expect(message).toContain('Law "4. fourth" failed for layer "f" (input [2]).\n  Why: another reason\n')
  })

  test('the shared fix is given once, above the reasons, with the laws it concerns', () => {
    expect(count(message, 'the shared fix')).toBe(1)
    expect(message).toContain('Fix (for "1. first", "2. second" and "4. fourth"): the shared fix')
    expect(message).not.toContain('  Fix:')
  })
})

describe("a LawFailure's fields, as a test runner prints them", () => {
  const wrong = L.define({
    name: 'wrongTanh',
    forward: (_p, x) => ({ y: T.map(Math.tanh)(x), tape: x }),
    vjp: (_p, x, dy) => ({ dx: T.zipWith((v, d) => d * (1 - v * v), x, dy), dp: L.none }), // 1 − x² instead of 1 − y²
  })
  const cause = failure(() => checkLayer(wrong, { inShape: [3], numRuns: 20 })).cause

  test('the counterexample, evidence and miss are there to read but not enumerable: a runner shows law, subject, reason, replay', () => {
    expect(cause).toBeInstanceOf(LawFailure)
    const f = cause as LawFailure
    expect(f.counterexample).toBeDefined()
    expect(f.evidence.length).toBeGreaterThan(0)
    expect(Object.keys(f).sort()).toEqual(['law', 'name', 'reason', 'replay', 'subject'])
    expect(JSON.stringify(f).length).toBeLessThan(1000) // before, every typed array's methods were listed: tens of thousands of characters
  })

  test('withFix keeps them', () => {
    const f = (cause as LawFailure).withFix('do this')
    expect(f.fix).toBe('do this')
    expect(f.counterexample).toBe((cause as LawFailure).counterexample)
    expect(f.evidence).toBe((cause as LawFailure).evidence)
    expect(f.message).toContain('  Fix: do this')
  })
})

describe("checkCombinators' counterexample", () => {
  test('shows tensors as the layer laws do, in 7 significant digits, not as JSON arrays of every digit', () => {
    // claims one more feature than it returns: pipe(f, g, h) fails at h, and the counterexample is printed
    const overclaims = L.define({
      name: 'overclaims',
      outShape: (inShape) => [inShape[0]! + 1],
      forward: (_p, x) => ({ y: x, tape: null }),
      vjp: (_p, _t, dy) => ({ dx: dy, dp: L.none }),
    })
    const message = failure(() => checkCombinators({ f: L.dense(3), g: overclaims, h: L.dense(2), inShape: [2], numRuns: 5 })).message
    expect(message).toMatch(/"W": "Tensor \[2, 3\] \[-?\d\.\d{1,6}(e-?\d+)?, /)
    expect(message).not.toMatch(/\d{10,}/) // a float64 printed in full has 15 to 17 digits
  })
})
