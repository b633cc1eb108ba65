import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { Gradcheck, Key, L, T, Train, Tree } from 'chainrule'
import { defaults, type Config, type OptimizerConfig } from '../../playground/core/config.ts'
import { batchAt, build, firstBatch, initialState, type Built } from '../../playground/core/build.ts'
import { layerKinds, readingOf, shownFiles, sourceFileOf, sourceLines } from '../../playground/core/layers.ts'
import { lossGradientOf, MAX_TERMS, stepThrough, stageTitle, type BackwardStage, type ForwardStage } from '../../playground/core/step.ts'
import { mnistBytes } from './support.ts'

const bits = (t: T.Tensor): string => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).toString('hex')
const treeBits = (tree: Tree.Tree): string[] => Tree.leaves(tree).map(bits)

const configs: [string, Config][] = [
  ['spiral (dense, relu)', defaults('spiral')],
  [
    'xor with dropout, batchNorm, elu, leakyRelu and sgd with Nesterov momentum',
    {
      ...defaults('xor'),
      layers: [
        { kind: 'dense', units: 6 },
        { kind: 'batchNorm' },
        { kind: 'elu', alpha: 1 },
        { kind: 'dropout', rate: 0.4 },
        { kind: 'dense', units: 5 },
        { kind: 'leakyRelu', alpha: 0.1 },
        { kind: 'dense', units: 2 },
      ],
      optimizer: { name: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 1e-3 },
      lr: { kind: 'cosineDecay', init: 0.1, floor: 0 },
    },
  ],
  [
    'blobs with sigmoid, softmax and crossEntropy, rmsprop with momentum',
    {
      ...defaults('blobs'),
      layers: [{ kind: 'dense', units: 7 }, { kind: 'sigmoid' }, { kind: 'dense', units: 3 }, { kind: 'softmax' }],
      loss: 'crossEntropy',
      optimizer: { name: 'rmsprop', decay: 0.9, eps: 1e-8, momentum: 0.5 },
    },
  ],
  [
    'circles with tanh and mse, adamw',
    { ...defaults('circles'), loss: 'mse', optimizer: { name: 'adamw', b1: 0.9, b2: 0.999, eps: 1e-8, weightDecay: 1e-2 } },
  ],
  [
    'mnist conv net (conv2d then relu, fused in the pipe), batchNorm on images, avgPool, amsgrad',
    {
      ...defaults('mnist'),
      data: { set: 'mnist', size: 64, testSize: 10 },
      layers: [
        { kind: 'conv2d', filters: 4, kernel: 3, stride: 1, padding: 'same' },
        { kind: 'relu' },
        { kind: 'maxPool2d', size: 2, stride: 2 },
        { kind: 'conv2d', filters: 3, kernel: 3, stride: 2, padding: 1 },
        { kind: 'batchNorm' },
        { kind: 'tanh' },
        { kind: 'avgPool2d', size: 2, stride: 2 },
        { kind: 'flatten' },
        { kind: 'dense', units: 10 },
      ],
      optimizer: { name: 'amsgrad', b1: 0.9, b2: 0.999, eps: 1e-8 },
    },
  ],
]

const built = new Map<string, Built>(configs.map(([name, c]) => [name, build(c, c.data.set === 'mnist' ? mnistBytes() : undefined)]))

describe('step: one SGD step as stages, from the library’s own numbers', () => {
  test.each(configs.map(([name]) => name))(
    '%s: the step’s params, layer state and optimizer state equal Train.trainStep’s, bit for bit',
    (name) => {
      const run = built.get(name)!
      const ts = initialState(run)
      const batch = firstBatch(run)
      const step = stepThrough(run, ts, batch)
      const [after, metrics] = Train.trainStep(run.model, run.loss, run.optimizer)(ts, batch)
      expect(treeBits(step.after.params)).toEqual(treeBits(after.params))
      expect(treeBits(step.after.state)).toEqual(treeBits(after.state))
      expect(treeBits(step.after.optState)).toEqual(treeBits(after.optState))
      expect(step.metrics.loss).toBe(metrics.loss)
      const update = step.stages.at(-1)!
      if (update.kind !== 'update') throw new Error('the last stage is not the update')
      expect(update.params.map((p) => bits(p.after))).toEqual(treeBits(after.params))
      expect(update.params.map((p) => bits(p.before))).toEqual(treeBits(ts.params))
      for (const p of update.params) expect(bits(p.change)).toBe(bits(T.sub(p.after, p.before)))
    },
  )

  test.each(configs.map(([name]) => name))(
    '%s: the stages chain: forward outputs feed the next layer, the loss gradient and each dx feed the vjp before',
    (name) => {
      const run = built.get(name)!
      const batch = firstBatch(run)
      const step = stepThrough(run, initialState(run), batch)
      const n = run.layers.length
      expect(step.stages.map((s) => s.kind)).toEqual([
        ...Array<string>(n).fill('forward'),
        'loss',
        ...Array<string>(n).fill('backward'),
        'update',
      ])
      const forward = step.stages.filter((s): s is ForwardStage => s.kind === 'forward')
      const backward = step.stages.filter((s): s is BackwardStage => s.kind === 'backward')
      expect(forward.map((s) => s.name)).toEqual(run.shapes.map((s) => s.name))
      expect(backward.map((s) => s.layer)).toEqual([...Array(n).keys()].reverse())
      expect(bits(forward[0]!.x)).toBe(bits(batch.x))
      for (let i = 1; i < n; i++) expect(bits(forward[i]!.x)).toBe(bits(forward[i - 1]!.y))
      const loss = step.stages[n]!
      if (loss.kind !== 'loss') throw new Error('no loss stage')
      expect(bits(loss.prediction)).toBe(bits(forward[n - 1]!.y))
      expect(bits(backward[0]!.dy)).toBe(bits(loss.grad))
      for (let k = 1; k < n; k++) expect(bits(backward[k]!.dy)).toBe(bits(backward[k - 1]!.dx!))
      expect(backward[n - 1]!.dx).toBeUndefined() // the first layer's input is data: the step does not compute its dx
    },
  )

  test.each(configs.map(([name]) => name))(
    '%s: each backward stage shows the tape its vjp reads, the forward’s own; with it a learner can redo the vjp (dropout: dx = dy ⊙ mask)',
    (name) => {
      const run = built.get(name)!
      const step = stepThrough(run, initialState(run), firstBatch(run))
      const forward = step.stages.filter((s): s is ForwardStage => s.kind === 'forward')
      for (const s of step.stages) {
        if (s.kind !== 'backward') continue
        expect(s.tape).toEqual(forward[s.layer]!.tape)
        if (s.layerKind === 'dropout') {
          const mask = s.tape.find((e) => e.name === 'mask')!.value
          if (typeof mask === 'string') throw new Error('dropout in train mode keeps a mask')
          expect(bits(s.dx!)).toBe(bits(T.mul(s.dy, mask)))
        }
      }
    },
  )

  test('a step from the middle of a run (a schedule, momentum, dropout) equals trainStep there, and its learning rate is the schedule’s at that step', () => {
    const name = configs[1]![0]
    const run = built.get(name)!
    const step = Train.trainStep(run.model, run.loss, run.optimizer)
    let ts = initialState(run)
    for (let k = 0; k < 17; k++) ts = step(ts, batchAt(run, k))[0]
    const through = stepThrough(run, ts, batchAt(run, 17))
    const [after] = step(ts, batchAt(run, 17))
    expect(treeBits(through.after.params)).toEqual(treeBits(after.params))
    expect(treeBits(through.after.optState)).toEqual(treeBits(after.optState))
    const update = through.stages.at(-1)!
    if (update.kind !== 'update' || typeof run.lr === 'number') throw new Error('expected an update stage and a schedule')
    expect(update.lr).toBe(run.lr(17))
    expect(update.lr).toBeLessThan(run.lr(0))
  })

  test.each(configs.map(([name]) => name))('%s: the dparams are those of the pipe’s own vjp, bit for bit', (name) => {
    const run = built.get(name)!
    const ts = initialState(run)
    const batch = firstBatch(run)
    const step = stepThrough(run, ts, batch)
    const [stepKey] = Key.split2(ts.key)
    const { y, tape } = run.model.forward(ts.params, ts.state, batch.x, { mode: 'train', key: stepKey })
    const { dp } = run.model.vjp(ts.params, tape, run.loss(y, batch.y).grad, { dx: false })
    const stepDp = step.stages
      .filter((s): s is BackwardStage => s.kind === 'backward')
      .reverse()
      .flatMap((s) => s.dp.map((d) => bits(d.tensor)))
    expect(stepDp).toEqual(treeBits(dp))
  })

  test.each(configs.map(([name]) => name))(
    '%s: every layer’s gradient check passes (law 1 on sampled coordinates of dx and each param)',
    (name) => {
      const run = built.get(name)!
      const step = stepThrough(run, initialState(run), firstBatch(run), { samples: 4 })
      for (const s of step.stages) {
        if (s.kind !== 'backward') continue
        // the first layer's input is the data: no dx there (the stage says so), so none in its check either
        const dx = s.layer === 0 ? [] : ['dx']
        expect(s.check.rows.filter((r) => r.where === 'dx').length > 0, s.name).toBe(s.layer > 0)
        expect(new Set(s.check.rows.map((r) => r.where))).toEqual(new Set([...dx, ...s.dp.map((d) => d.name)]))
        expect(s.check.ok, `${s.name}: max error ${s.check.maxError}`).toBe(true)
        for (const r of s.check.rows)
          if (!r.kink) expect(r.error).toBe(Math.abs(r.analytic - r.numeric) / Math.max(1, Math.abs(r.analytic), Math.abs(r.numeric)))
      }
    },
  )

  test('kinks are found where they are and nowhere else: ties in max-pool windows after a relu, none in smooth layers', () => {
    const run = built.get(configs[4]![0])!
    const step = stepThrough(run, initialState(run), firstBatch(run), { samples: 40 })
    const backward = step.stages.filter((s): s is BackwardStage => s.kind === 'backward')
    const smooth = new Set(['dense', 'sigmoid', 'tanh', 'softmax', 'batchNorm', 'dropout', 'avgPool2d', 'flatten', 'conv2d'])
    for (const s of backward)
      if (smooth.has(s.layerKind))
        expect(
          s.check.rows.filter((r) => r.kink),
          s.name,
        ).toEqual([])
    const pool = backward.find((s) => s.layerKind === 'maxPool2d')!
    const kinks = pool.check.rows.filter((r) => r.kink)
    expect(kinks.length).toBeGreaterThan(0) // zeros from the relu tie in many windows
    for (const r of kinks) expect(r.error).toBeLessThanOrEqual(pool.check.tolerance) // the vjp takes one side's slope
  })

  test('the loss formula names what it divides by: mse’s K is N·C, every entry of the prediction, as the gradient shows', () => {
    const run = built.get(configs[3]![0])!
    const loss = stepThrough(run, initialState(run), firstBatch(run)).stages.find((s) => s.kind === 'loss')!
    expect(loss.formula).toContain('K = N·C')
    const K = loss.prediction.data.length
    loss.grad.data.forEach((g, i) => expect(g).toBeCloseTo((2 * (loss.prediction.data[i]! - loss.target.data[i]!)) / K, 15))
  })

  test('a tape’s indices are marked as indices: max-pool’s argmax, each a flat index into x whose value is the window’s max', () => {
    const run = built.get(configs[4]![0])!
    const step = stepThrough(run, initialState(run), firstBatch(run))
    const pool = step.stages.find((s): s is ForwardStage => s.kind === 'forward' && s.layerKind === 'maxPool2d')!
    const argmax = pool.tape.find((e) => e.name === 'argmax')!
    expect(argmax.indices).toBe(true)
    const at = argmax.value as T.Tensor
    at.data.forEach((k, q) => expect(pool.x.data[k]).toBe(pool.y.data[q]))
    for (const s of step.stages)
      if (s.kind === 'forward') for (const e of s.tape) if (e.name !== 'argmax') expect(e.indices, `${s.name} ${e.name}`).toBeUndefined()
  })

  test('a check row carries its one-sided differences: they disagree exactly at a kink, and a kink’s error is the vjp against the nearer one', () => {
    const run = built.get(configs[4]![0])!
    const step = stepThrough(run, initialState(run), firstBatch(run), { samples: 40 })
    const rows = step.stages.flatMap((s) => (s.kind === 'backward' ? s.check.rows.map((r) => ({ r, tolerance: s.check.tolerance })) : []))
    expect(rows.some(({ r }) => r.kink)).toBe(true)
    for (const { r, tolerance } of rows) {
      expect(r.kink).toBe(Gradcheck.mixedError(r.left, r.right) > tolerance)
      expect(r.numeric).toBeCloseTo((r.left + r.right) / 2, 6) // the central difference is the two slopes' mean
      if (r.kink)
        expect(r.error).toBe(
          Math.min(
            Gradcheck.mixedError(r.analytic, r.numeric),
            Gradcheck.mixedError(r.analytic, r.left),
            Gradcheck.mixedError(r.analytic, r.right),
          ),
        )
    }
  })

  test('the gradient check catches a wrong vjp: a tanh whose vjp forgets the (1 − y²) factor fails its check', () => {
    const run = built.get(configs[3]![0])!
    const wrongTanh = L.define({
      name: 'tanh',
      forward: (_p, x) => ({ y: T.map(Math.tanh)(x), tape: null }),
      vjp: (_p, _tape, dy) => ({ dx: dy, dp: L.none }),
    })
    const layers = run.layers.map((l) => (l.name === 'tanh' ? wrongTanh : l))
    const bad: Built = { ...run, layers, model: L.pipe(...layers) }
    const step = stepThrough(bad, initialState(bad), firstBatch(bad))
    const tanh = step.stages.find((s): s is BackwardStage => s.kind === 'backward' && s.layerKind === 'tanh')!
    expect(tanh.check.ok).toBe(false)
    expect(tanh.check.maxError).toBeGreaterThan(1e-3)
  })

  test('stages carry the names, maths and optimizer state people read', () => {
    const run = built.get(configs[0]![0])!
    const step = stepThrough(run, initialState(run), firstBatch(run))
    expect(step.stages.map(stageTitle)).toEqual([
      'forward: dense 1 (2→16)',
      'forward: relu 1',
      'forward: dense 2 (16→16)',
      'forward: relu 2',
      'forward: dense 3 (16→3)',
      'loss: softmaxCrossEntropy',
      'backward: dense 3 (16→3)',
      'backward: relu 2',
      'backward: dense 2 (16→16)',
      'backward: relu 1',
      'backward: dense 1 (2→16)',
      'update: adam',
    ])
    const dense = step.stages[0] as ForwardStage
    expect(dense.formula).toBe('y = x·W + b')
    expect(dense.tape.map((e) => e.name)).toEqual(['x'])
    const update = step.stages.at(-1)!
    if (update.kind !== 'update') throw new Error('no update')
    expect(update.lr).toBe(0.01)
    expect(update.optState.map((o) => o.name)).toContain('mu of dense 1 (2→16) W')
    expect(update.optState.map((o) => o.name)).toContain('nu of dense 3 (16→3) b')
    // adam = chain(scaleByAdam, scaleByLearningRate): each keeps its own count, and each is named by its transform
    const counts = update.optState.filter((o) => o.name.startsWith('count'))
    expect(counts.map((o) => [o.name, o.before.data[0], o.after.data[0]])).toEqual([
      ['count of scaleByAdam', 0, 1],
      ['count of scaleByLearningRate', 0, 1],
    ])
    expect(new Set(update.optState.map((o) => o.name)).size).toBe(update.optState.length) // no two leaves share a name
  })

  test.each(layerKinds)('every piece of source shown for %s’s forward and vjp is found in its file', (kind) => {
    for (const property of ['forward', 'vjp'] as const)
      for (const e of readingOf(kind, property).excerpts) {
        expect(shownFiles()).toContain(e.file)
        const lines = sourceLines(readFileSync(join(import.meta.dirname, '../..', e.file), 'utf8'), e.name)
        expect(lines, `${e.name} in ${e.file}`).toBeDefined()
        expect(lines).toMatch(new RegExp(`(${e.name}: |(const|function) ${e.name}\\b)`))
      }
  })

  test.each(['conv2d', 'maxPool2d', 'avgPool2d'] as const)(
    '%s: what is shown is the reference kernel’s loops, not the layer file’s float32/float64 plumbing, and the page says so',
    (kind) => {
      for (const property of ['forward', 'vjp'] as const) {
        const reading = readingOf(kind, property)
        const text = reading.excerpts
          .map((e) => sourceLines(readFileSync(join(import.meta.dirname, '../..', e.file), 'utf8'), e.name))
          .join('\n')
        expect(reading.excerpts.every((e) => e.file.startsWith('src/kernels/'))).toBe(true)
        expect(text).not.toMatch(/float32Of|buffer32|Kernels\(\)/)
        expect(text).toMatch(/for \(let/) // the loops that define it
        expect(reading.note).toContain(sourceFileOf(kind))
        expect(reading.note).toContain("Kernels.use('reference')")
      }
    },
  )

  test('sourceLines takes a declaration with its doc comment, and a one-line one whole', () => {
    const text = [
      '/** twice. */',
      'const twice = (v: number): number => 2 * v',
      '',
      '/**',
      ' * thrice:',
      ' */',
      'export function thrice(v: number) {',
      '  return 3 * v',
      '}',
    ].join('\n')
    expect(sourceLines(text, 'twice')).toBe('/** twice. */\nconst twice = (v: number): number => 2 * v')
    expect(sourceLines(text, 'thrice')).toBe('/**\n * thrice:\n */\nexport function thrice(v: number) {\n  return 3 * v\n}')
    expect(sourceLines(text, 'tw')).toBeUndefined()
  })

  test.each(layerKinds)('the source of %s’s forward and vjp is found in its file', (kind) => {
    const text = readFileSync(join(import.meta.dirname, '../..', sourceFileOf(kind)), 'utf8')
    const vjp = sourceLines(text, 'vjp')
    const forward = sourceLines(text, 'forward')
    expect(vjp?.startsWith('vjp: ')).toBe(true)
    expect(forward?.startsWith('forward: ')).toBe(true)
    expect(vjp).toMatch(/dx/)
    expect(text).toContain(vjp!.split('\n').at(-1)!)
  })
})

describe('step: the chain rule at each checked coordinate', () => {
  test.each(configs.map(([name]) => name))(
    '%s: each checked row keeps its largest terms dy[k]·∂y[k]/∂θ, and when it keeps them all they sum to the vjp’s value',
    (name) => {
      const run = built.get(name)!
      const step = stepThrough(run, initialState(run), firstBatch(run))
      for (const s of step.stages.filter((t): t is BackwardStage => t.kind === 'backward'))
        for (const r of s.check.rows) {
          expect(r.terms.length).toBe(Math.min(r.termCount, MAX_TERMS))
          const flat = r.terms.map((t) => t.index.reduce((f, i, d) => f * s.dy.shape[d]! + i, 0))
          expect(flat).toEqual([...flat].sort((a, b) => a - b)) // in the order of k
          for (const [j, t] of r.terms.entries()) expect(t.dy).toBe(s.dy.data[flat[j]!])
          if (r.termCount <= MAX_TERMS && !r.kink) {
            const sum = r.terms.reduce((a, t) => a + t.dy * t.local, 0)
            expect(Gradcheck.mixedError(r.analytic, sum), `${s.name} ${r.where}[${r.index.join(', ')}]`).toBeLessThanOrEqual(1e-6)
          }
        }
    },
  )

  test('dense: x[n, i] moves each y[n, j] by W[i, j], W[i, j] moves y[n, j] by x[n, i]; tanh: x[k] moves y[k] alone, by 1 − y[k]²', () => {
    const stagesOf = (name: string) => {
      const run = built.get(name)!
      return stepThrough(run, initialState(run), firstBatch(run)).stages
    }
    let stages = stagesOf('spiral (dense, relu)')
    const stage = (title: string): BackwardStage => stages.find((s) => stageTitle(s) === title) as BackwardStage
    const forward = (title: string): ForwardStage => stages.find((s) => stageTitle(s) === title) as ForwardStage
    const dense = stage('backward: dense 2 (16→16)')
    expect(dense.check.rows.length).toBeGreaterThan(3)
    const W = forward('forward: dense 2 (16→16)').params.find((p) => p.name === 'W')!.tensor
    const x = forward('forward: dense 2 (16→16)').x
    for (const r of dense.check.rows) {
      if (r.where === 'dx') {
        const [n, i] = r.index
        expect(r.termCount).toBe(16)
        for (const t of r.terms) {
          expect(t.index[0]).toBe(n)
          expect(t.local).toBeCloseTo(W.data[i! * 16 + t.index[1]!]!, 6)
        }
      } else if (r.where === 'W') {
        const [i, j] = r.index
        for (const t of r.terms) {
          expect(t.index[1]).toBe(j)
          expect(t.local).toBeCloseTo(x.data[t.index[0]! * 16 + i!]!, 6)
        }
      }
    }
    stages = stagesOf('circles with tanh and mse, adamw') // dense 8, tanh, dense 2
    const tanh = stage('backward: tanh 1')
    const y = forward('forward: tanh 1').y
    expect(tanh.check.rows.length).toBe(3)
    for (const r of tanh.check.rows) {
      expect(r.termCount).toBe(1)
      expect(r.terms[0]!.index).toEqual(r.index)
      const k = r.index[0]! * 8 + r.index[1]!
      expect(r.terms[0]!.local).toBeCloseTo(1 - y.data[k]! ** 2, 6)
    }
  })
})

describe('step: the loss’s gradient in the factors of its formula', () => {
  test.each([
    ['spiral (dense, relu)', 'softmaxCrossEntropy'],
    ['blobs with sigmoid, softmax and crossEntropy, rmsprop with momentum', 'crossEntropy'],
    ['circles with tanh and mse, adamw', 'mse'],
  ])('%s: each example’s gradient is its formula of the factors the page shows (%s)', (name, loss) => {
    const run = built.get(name)!
    const s = stepThrough(run, initialState(run), firstBatch(run)).stages.find((t) => t.kind === 'loss')!
    if (s.kind !== 'loss') throw new Error('no loss stage')
    expect(s.loss).toBe(loss)
    expect(s.probabilities === undefined).toBe(loss !== 'softmaxCrossEntropy')
    const [N, C] = s.prediction.shape as [number, number]
    for (let n = 0; n < N; n++) {
      const entries = lossGradientOf(s, n)
      expect(entries.map((e) => e.c)).toEqual([...Array(C).keys()])
      expect(entries.reduce((a, e) => a + e.t, 0)).toBe(1) // one class per example, as a one-hot row
      if (s.probabilities !== undefined) expect(Math.abs(entries.reduce((a, e) => a + e.p, 0) - 1)).toBeLessThan(1e-12)
      for (const e of entries) {
        const formula = loss === 'crossEntropy' ? -e.t / e.d : (e.p - e.t) / e.d
        expect(Gradcheck.mixedError(formula, e.grad), `${name} [${n}, ${e.c}]`).toBeLessThanOrEqual(1e-12)
      }
    }
  })
})

describe('step: one coordinate’s update by hand', () => {
  const optimizers: [string, OptimizerConfig][] = [
    ['sgd', { name: 'sgd', momentum: 0, nesterov: false, weightDecay: 0 }],
    ['sgd with momentum', { name: 'sgd', momentum: 0.9, nesterov: false, weightDecay: 0 }],
    ['sgd with Nesterov momentum and weight decay', { name: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 1e-2 }],
    ['adam', { name: 'adam', b1: 0.9, b2: 0.999, eps: 1e-8 }],
  ]
  test.each(optimizers)('%s: the rule’s lines recompute p after the update, at the second step (state not zero)', (_, optimizer) => {
    const run = build({ ...defaults('xor'), optimizer })
    const first = stepThrough(run, initialState(run), firstBatch(run))
    const second = stepThrough(run, first.after, batchAt(run, 1))
    for (const step of [first, second]) {
      const u = step.stages.at(-1)!
      if (u.kind !== 'update') throw new Error('no update stage')
      const h = u.byHand!
      expect(h.param).toBe(u.params[0]!.name)
      const g = u.params[0]!.grad
      const k = h.index.reduce((f, i, d) => f * g.shape[d]! + i, 0)
      expect(Math.abs(g.data[k]!)).toBe(Math.max(...[...g.data].map(Math.abs))) // the coordinate of largest |g|
      expect(h.after).toBe(u.params[0]!.after.data[k])
      expect(Gradcheck.mixedError(h.recomputed, h.after), h.lines.join('\n')).toBeLessThanOrEqual(1e-12)
      expect(h.lines.at(-1)).toMatch(/^p ← p − lr·/)
    }
  })

  test('the other optimizers have none', () => {
    const run = build({ ...defaults('xor'), optimizer: { name: 'rmsprop', decay: 0.9, eps: 1e-8, momentum: 0 } })
    const u = stepThrough(run, initialState(run), firstBatch(run)).stages.at(-1)!
    expect(u.kind === 'update' && u.byHand).toBeUndefined()
  })
})
