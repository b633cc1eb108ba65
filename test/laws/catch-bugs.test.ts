import { describe, expect, test } from 'vitest'
import { L, T } from '../../src/index.ts'
import { checkFusion, checkLayer, layerLaws } from '../../laws/index.ts'
import { ratioAbove } from '../../laws/optimizer-laws.ts'

// Each layer below has one planted bug in its vjp. The law kit must reject every one.

const reluWrongSign = L.define({
  name: 'reluWrongSign',
  forward: (_p, x) => ({ y: T.map((v) => (v > 0 ? v : 0))(x), tape: x }),
  vjp: (_p, x, dy) => ({ dx: T.zipWith((v, d) => (v > 0 ? -d : 0), x, dy), dp: L.none }),
})

/** dense whose dx forgets the transpose: dy·W instead of dy·Wᵀ (only shape-correct for square W). */
const denseMissingTranspose = (() => {
  const d = L.dense(3)
  return {
    ...d,
    vjp: (p: L.DenseParams, tape: L.DenseTape, dy: T.Tensor) => ({ ...d.vjp(p, tape, dy), dx: T.matmul(dy, p.W) }),
  }
})()

/** dense whose dW is scaled by the batch size (a classic averaging mix-up). */
const denseScaledDW = (() => {
  const d = L.dense(2)
  return {
    ...d,
    vjp: (p: L.DenseParams, tape: L.DenseTape, dy: T.Tensor) => {
      const r = d.vjp(p, tape, dy)
      const n = dy.shape[0]!
      return { ...r, dp: { ...r.dp, W: T.scale(1 / n, r.dp.W) } }
    },
  }
})()

const softmaxDiagonalOnly = L.define({
  name: 'softmaxDiagonalOnly',
  forward: (_p, x) => {
    const y = L.softmaxRows(x)
    return { y, tape: y }
  },
  vjp: (_p, y, dy) => ({ dx: T.zipWith((s, d) => d * s * (1 - s), y, dy), dp: L.none }),
})

/** tanh whose vjp ignores the cotangent's zero (adds a constant): breaks linearity. */
const tanhAffineVjp = L.define({
  name: 'tanhAffineVjp',
  forward: (_p, x) => ({ y: T.map(Math.tanh)(x), tape: T.map(Math.tanh)(x) }),
  vjp: (_p, y, dy) => ({ dx: T.zipWith((t, d) => d * (1 - t * t) + 1e-3, y, dy), dp: L.none }),
})

/** A layer that writes into its input: breaks purity. */
const mutatesInput = L.define({
  name: 'mutatesInput',
  forward: (_p, x) => {
    x.data[0] = 0
    return { y: x, tape: L.none }
  },
  vjp: (_p, _t, dy) => ({ dx: dy, dp: L.none }),
})

/** y = γ ⊙ x with γ starting at 1, whose dx forgets γ: invisible at init's values, so the laws jitter params. */
const scaleForgetsGamma = L.define({
  name: 'scaleForgetsGamma',
  init: (_key, inShape) => ({ outShape: inShape, params: { gamma: T.ones(inShape) } }),
  forward: (p, x) => ({ y: T.generate(x.shape, (i) => x.data[i]! * p.gamma.data[i % p.gamma.data.length]!), tape: x }),
  vjp: (p, x, dy) => ({
    dx: dy, // should be dy ⊙ γ
    dp: { gamma: T.sumAxis(0)(T.mul(dy, x)) },
  }),
})

/** dense whose dW goes wrong when asked to skip dx (a shortcut that dropped a term): law 6 compares the two vjps. */
const denseSkipChangesDW = (() => {
  const d = L.dense(3)
  return {
    ...d,
    vjp: (p: L.DenseParams, tape: L.DenseTape, dy: T.Tensor, options?: L.VjpOptions) => {
      const r = d.vjp(p, tape, dy, options)
      return options?.dx === false ? { dx: L.noDx, dp: { ...r.dp, W: T.scale(0.5, r.dp.W) } } : r
    },
  }
})()

/** dense whose vjp forgets b in dp: the gradient laws pair dp with the params and must say why they cannot. */
const denseForgetsDb = (() => {
  const d = L.dense(2)
  return {
    ...d,
    vjp: (p: L.DenseParams, tape: L.DenseTape, dy: T.Tensor) => {
      const r = d.vjp(p, tape, dy)
      return { ...r, dp: { W: r.dp.W } }
    },
  }
})()

const rejects = (layer: L.AnyLayer, inShape: number[], lawPattern: RegExp, extra: object = {}): void => {
  expect(() => checkLayer(layer, { inShape, numRuns: 30, ...extra })).toThrow(lawPattern)
}

describe('the law kit catches planted vjp bugs', () => {
  test('a ReLU vjp with the wrong sign fails the gradient laws', () => {
    rejects(reluWrongSign, [4], /vjp = central differences, per coordinate/)
    rejects(reluWrongSign, [4], /vjp = directional derivative/)
  })
  test('a dense vjp missing the transpose of W fails the gradient and adjoint laws', () => {
    rejects(denseMissingTranspose, [3], /per coordinate[\s\S]*Why: dx\[/)
    rejects(denseMissingTranspose, [3], /exact adjoint in x/, { affineInInput: true })
  })
  test('a dense dW divided by the batch size fails the gradient law on batches > 1', () => {
    rejects(denseScaledDW, [3], /Why: dparams\.W/, { batch: { min: 2, max: 3 } })
  })
  test('a diagonal-only softmax Jacobian fails the gradient laws', () => {
    rejects(softmaxDiagonalOnly, [4], /vjp = central differences, per coordinate/)
  })
  test('a dp missing a param fails every law for one reason, which names the vjp, dp and the missing key', () => {
    rejects(
      denseForgetsDb,
      [3],
      /Laws "1\. vjp = central differences, per coordinate", "2\. vjp = directional derivative", .*"5\. shapes of y, dx, dp".* failed for layer "dense" \(input \[3\]\), all for one reason\.\n {2}Why: the layer's vjp returned a dp that does not match the params \(params vs dp at root: a record \{W, b\} vs a record \{W\}\)/,
    )
    const [, law2] = layerLaws(denseForgetsDb, { inShape: [3], numRuns: 10 })
    expect(() => law2!.check()).toThrow(
      /^Law "2\. vjp = directional derivative" failed[\s\S]*Why: the layer's vjp returned a dp that does not match/,
    )
    const law5 = layerLaws(denseForgetsDb, { inShape: [3], numRuns: 10 }).find((l) => l.name.includes('5.'))!
    expect(() => law5.check()).toThrow(
      /^Law "5\. shapes of y, dx, dp" failed[\s\S]*Why: the layer's vjp returned a dp that does not match the params/,
    )
  })
  test('a shape rule that disagrees with init fails law 5, naming the rule, the leaf and both shapes', () => {
    const scale = L.dense(3, { bias: false })
    const ruleFor = (wrong: 'params' | 'outShape'): L.AnyLayer => ({
      ...scale,
      fuseNext: undefined,
      shapes: (inShape) => {
        const right = scale.shapes!(inShape)
        return wrong === 'outShape' ? { ...right, outShape: [4] } : { ...right, params: { W: { shape: [inShape[0]!, 4] } } }
      },
    })
    rejects(
      ruleFor('params'),
      [2],
      /Law "5\. shapes of y, dx, dp" failed[\s\S]*Why: the shape rule \(layer\.shapes\) does not give init's params at W: shape \[2, 4\] vs \[2, 3\] \(rule vs init\)/,
    )
    rejects(ruleFor('outShape'), [2], /Why: the shape rule \(layer\.shapes\) gives outShape \[4\], init \[3\]/)
  })
  test('a forward or vjp that returns a bare tensor is told what to return', () => {
    const bareForward: L.AnyLayer = { ...L.tanh, fuseNext: undefined, forward: (_p, _s, x) => x as never }
    rejects(
      bareForward,
      [3],
      /Why: the layer's forward returned a tensor \[1, 3\], not \{ y, state, tape \} \(L\.define's forward returns \{ y, tape \}\)/,
    )
    const bareVjp: L.AnyLayer = { ...L.tanh, fuseNext: undefined, vjp: (_p, _tape, dy) => dy as never }
    rejects(bareVjp, [3], /Why: the layer's vjp returned a tensor \[\d+, 3\], not \{ dx, dp \}/)
  })
  test('a descent that misses its fraction by a hair shows the ratio to the digit that tells it from the limit', () => {
    expect(ratioAbove(0.1000003, 0.1)).toBe('0.1000003') // three digits alone would read 0.100, as if it met the limit
    expect(ratioAbove(0.0534708, 0.05)).toBe('0.0535')
    expect(ratioAbove(0.99002501, 0.99002)).toBe('0.99003')
  })
  test('a vjp that is not linear in the cotangent fails law 4', () => {
    rejects(tanhAffineVjp, [3], /vjp linear in the cotangent/)
  })
  test('a vjp whose dp changes when told { dx: false } fails law 6', () => {
    rejects(denseSkipChangesDW, [3], /purity and determinism[\s\S]*dp of a vjp with \{ dx: false \} vs without/)
  })
  test('a forward that writes into its input fails the purity law', () => {
    rejects(mutatesInput, [3], /purity and determinism[\s\S]*Why: the x given to forward: forward or vjp wrote into it/)
  })
  test('a forward that writes into the state it was given fails the purity law, which says so', () => {
    // a running sum kept by writing into the state given, instead of returning a new one
    const count: L.Layer<L.None, { readonly n: T.Tensor }, null> = {
      name: 'count',
      spec: { kind: 'count' },
      init: (_key, inShape) => ({ outShape: inShape, params: L.none, state: { n: T.zeros([]) } }),
      forward: (_p, s, x) => {
        ;(s.n.data as Float64Array)[0]! += 1
        return { y: x, state: s, tape: null }
      },
      vjp: (_p, _t, dy) => ({ dx: dy, dp: L.none }),
    }
    rejects(
      count,
      [3],
      /Why: the state given to forward: forward or vjp wrote into it \(a layer computes new tensors, returns a new state,/,
    )
  })
  test('a vjp that is only right at init (γ = 1) fails once the laws move the params off init', () => {
    rejects(scaleForgetsGamma, [3], /per coordinate[\s\S]*Why: dx\[/)
    // why the jitter is on by default
    expect(() => checkLayer(scaleForgetsGamma, { inShape: [3], numRuns: 30, paramJitter: 0 })).not.toThrow()
  })
  test('a fused layer that is not the two layers fails the fusion law (law 13); conv2d and dense with relu pass it', () => {
    // the planted bug: a dense whose fuseNext offers relu(dense) with the vjp of the dense alone
    const d = L.dense(3)
    const reluBlind = {
      ...d,
      forward: (p: L.DenseParams, s: L.None, x: T.Tensor, ctx: L.Ctx) => {
        const z = d.forward(p, s, x, ctx)
        return { ...z, y: T.map((v) => Math.max(v, 0))(z.y) }
      },
    }
    const wrongFusion = { ...d, fuseNext: () => reluBlind }
    expect(() => checkFusion(wrongFusion, L.relu, { inShape: [4], numRuns: 30 })).toThrow(
      /fused with relu = the two layers[\s\S]*fused dx vs the two vjps/,
    )
    const noOffer = L.tanh
    expect(() => checkFusion(noOffer, L.relu, { inShape: [4], numRuns: 5 })).toThrow(/layer "tanh" offers no fused layer for "relu"/)
    checkFusion(L.conv2d(3, 3, { padding: 1 }), L.relu, { inShape: [2, 5, 5], numRuns: 50 })
    checkFusion(L.dense(3), L.relu, { inShape: [4], numRuns: 50 })
    checkFusion(L.dense(3, { bias: false }), L.relu, { inShape: [4], numRuns: 50 })
  })
  test('a failure report names the law, the reason, the counterexample and the replay seed', () => {
    const law = layerLaws(reluWrongSign, { inShape: [2], numRuns: 10 }).find((l) => l.name.includes('per coordinate'))
    expect(law).toBeDefined()
    let message = ''
    try {
      law?.check()
    } catch (e) {
      message = e instanceof Error ? e.message : String(e)
    }
    expect(message).toMatch(/Law "1\. vjp = central differences, per coordinate" failed for layer "reluWrongSign"/)
    expect(message).toMatch(/Why: /)
    expect(message).toMatch(
      /Counterexample \(after \d+ shrinks\):\n {4}x = Tensor \[\d, 2\] \[.*\]\n {4}params = \(none\)\n {4}state = \(none\)\n {4}cotangent c = Tensor/,
    )
    expect(message).not.toContain('initKey') // the sample's bookkeeping is not printed
    expect(message).toMatch(/Replay: \{ seed: -?\d+, path: "[\d:]*" \}/)
  })
  test('the correct layers pass the same checks (the kit is not rejecting everything)', () => {
    expect(() => checkLayer(L.relu, { inShape: [4], numRuns: 30 })).not.toThrow()
    expect(() => checkLayer(L.dense(3), { inShape: [3], numRuns: 30, affineInInput: true, linearInParams: true })).not.toThrow()
    expect(() => checkLayer(L.softmax, { inShape: [4], numRuns: 30 })).not.toThrow()
  })
})
