/**
 * trainStep with reuseBuffers: true. Law 13 (fast equals readable): a reusing chain of steps gives
 * the pure step's losses, params, layer state and optimizer state bit for bit, in both dtypes, for
 * an MLP and a small conv net, under SGD with momentum and Adam. And its contract: a step keeps
 * intact the state it is given and the state it returns; the intermediates of a step and the state
 * two steps back are taken (their tensors then hold no values); a broken chain takes nothing; a
 * buffer the state given still reaches (a frozen param, a constant layer state) is never taken; a
 * NonFiniteError's lastFinite is intact; a stale state is a clear error in trainStep and in the
 * checkpoint writers; fit with reuseBuffers gives fit's result, early stopping's best included.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { Data, IO, Key, L, Loss, Optim, T, Train, Tree, type DType } from '../../src/index.ts'
import { loadMnist, saveCheckpoint, saveModel } from '../../src/node/index.ts'
import { Recycler } from '../../src/train/recycler.ts'

type State = Train.TrainState
type Batch = { readonly x: T.Tensor; readonly y: T.Tensor }

const { train } = loadMnist({ train: 256, test: 10 })
/** The batches of two epochs, in float64: a float32 step casts each (an intermediate it may recycle). */
const batches: readonly Batch[] = [0, 1].flatMap((e) => [...Data.batches(Key.fromSeed(e), train, 32)])

/** Every number of a state, copied now (params, layer state, optimizer state, key, step). */
const snapshot = (ts: State) => ({
  params: Tree.leaves(ts.params).map((l) => Array.from(l.data)),
  state: Tree.leaves(ts.state).map((l) => Array.from(l.data)),
  optState: Tree.leaves(ts.optState).map((l) => Array.from(l.data)),
  key: ts.key,
  step: ts.step,
})

/** True when a tensor's buffer was taken (detached: it holds no values). */
const taken = (t: T.Tensor): boolean => t.data.length !== T.sizeOf(t.shape)
const anyTaken = (ts: State): boolean => [ts.params, ts.state, ts.optState].some((tree) => Tree.leaves(tree).some(taken))
const allTaken = (ts: State, big: (t: T.Tensor) => boolean): boolean => Tree.leaves(ts.params).filter(big).every(taken)
const bigLeaf = (t: T.Tensor): boolean => t.data.byteLength >= 16384 || t.data.length === 0

/** An identity layer that records every input its forward pass sees. */
const recordingInputs = () => {
  const seen: T.Tensor[] = []
  const probe = L.define({
    name: 'probe',
    forward: (_p, x) => {
      seen.push(x)
      return { y: x, tape: undefined }
    },
    vjp: (_p, _tape, dy) => ({ dx: dy, dp: L.none }),
  })
  return { probe, seen }
}

const mlp: L.AnyLayer = L.pipe(L.flatten, L.dense(48), L.relu, L.dense(24), L.relu, L.dense(10))
const cnn: L.AnyLayer = L.pipe(L.conv2d(4, 3, { padding: 1 }), L.relu, L.maxPool2d(2), L.flatten, L.dense(10))

/** Each step's loss and (copied right away) its resulting state, over all batches. */
const chain = (model: L.AnyLayer, optimizer: Optim.GradientTransformation<Tree.Tree>, dtype: DType, reuseBuffers: boolean) => {
  const step = Train.trainStep(model, Loss.softmaxCrossEntropy, optimizer, { reuseBuffers })
  let ts: State = Train.initState(model, optimizer, Key.fromSeed(1), [1, 28, 28], { dtype })
  const record: { loss: number; state: ReturnType<typeof snapshot> }[] = []
  for (const b of batches) {
    const [next, m] = step(ts, b)
    ts = next
    record.push({ loss: m.loss, state: snapshot(ts) })
  }
  return record
}

describe('law 13: a reusing step equals the pure step, bit for bit', () => {
  const optimizers = {
    'sgd (Nesterov momentum, weight decay)': Optim.sgd({ lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 5e-4 }),
    adam: Optim.adam({ lr: 1e-3 }),
  }
  for (const [modelName, model] of [
    ['MLP', mlp],
    ['conv net', cnn],
  ] as const)
    for (const [optName, optimizer] of Object.entries(optimizers))
      for (const dtype of ['float32', 'float64'] as const)
        test(`${modelName}, ${optName}, ${dtype}: every step's loss and state`, () => {
          const pure = chain(model, optimizer, dtype, false)
          const reused = chain(model, optimizer, dtype, true)
          expect(reused.length).toBe(16)
          expect(reused).toEqual(pure)
        })
})

describe('what a reusing step takes', () => {
  const optimizer = Optim.sgd({ lr: 0.05, momentum: 0.9 })

  test('the state two steps back is taken, the state given and the state returned are intact', () => {
    const step = Train.trainStep(mlp, Loss.softmaxCrossEntropy, optimizer, { reuseBuffers: true })
    const s0 = Train.initState(mlp, optimizer, Key.fromSeed(1), [1, 28, 28], { dtype: 'float32' })
    const [s1] = step(s0, batches[0]!)
    const [s2] = step(s1, batches[1]!)
    const kept = { s1: snapshot(s1), s2: snapshot(s2) }
    const [s3] = step(s2, batches[2]!)
    expect(anyTaken(s0)).toBe(false) // the initial state: memory the step did not allocate is never taken
    expect(allTaken(s1, bigLeaf)).toBe(true) // W of both big layers
    expect(snapshot(s2)).toEqual(kept.s2) // given to the step that returned s3
    expect(anyTaken(s3)).toBe(false)
    const [s4] = step(s3, batches[3]!)
    expect(allTaken(s2, bigLeaf)).toBe(true)
    expect(anyTaken(s3) || anyTaken(s4)).toBe(false)
  })

  test("a step's intermediates (here the activations a layer saw) are taken when it returns; the pure step's are not", () => {
    for (const reuseBuffers of [true, false]) {
      const { probe, seen } = recordingInputs()
      const model = L.pipe(L.flatten, L.dense(256), probe, L.relu, L.dense(10))
      const step = Train.trainStep(model, Loss.softmaxCrossEntropy, optimizer, { reuseBuffers })
      let ts = Train.initState(model, optimizer, Key.fromSeed(1), [1, 28, 28], { dtype: 'float32' })
      for (const b of batches.slice(0, 3)) [ts] = step(ts, b)
      expect(seen.length).toBe(3)
      expect(seen.every(taken)).toBe(reuseBuffers) // 32 × 256 float32s: 32 KB each
    }
  })

  test('a broken chain takes nothing: a state not the last one returned leaves the older states intact', () => {
    const step = Train.trainStep(mlp, Loss.softmaxCrossEntropy, optimizer, { reuseBuffers: true })
    const s0 = Train.initState(mlp, optimizer, Key.fromSeed(1), [1, 28, 28], { dtype: 'float32' })
    const [s1] = step(s0, batches[0]!)
    const [s2] = step(s1, batches[1]!)
    const kept = snapshot(s1)
    // Not s2: a copy of it (other trees), then s1 again (an older state). Neither continues the chain.
    step(Train.copyState(s2), batches[2]!)
    step(s1, batches[2]!)
    const [s3] = step(s2, batches[2]!)
    expect(snapshot(s1)).toEqual(kept)
    expect(anyTaken(s2) || anyTaken(s3)).toBe(false)
  })

  test('a buffer the state given still reaches is never taken: a param frozen after the first step, a layer state passed through', () => {
    // A layer whose state is made anew in the first step (by the reusing step, then) and passed through after.
    const holdsConstant: L.Layer<L.None, { readonly c: T.Tensor }, undefined> = {
      name: 'holdsConstant',
      spec: { kind: 'holdsConstant' },
      init: (_key, inShape) => ({ outShape: inShape, params: L.none, state: { c: T.full([64, 100], 0.5) } }), // 100 KB in float32
      forward: (_p, s, x) => ({
        y: x,
        state: s.c.data[0] === 0.5 ? { c: T.asTensor(T.cast(T.full([64, 100], 0.25), T.dtypeOf(s.c))) } : s,
        tape: undefined,
      }),
      vjp: (_p, _tape, dy) => ({ dx: dy, dp: L.none }),
    }
    const model: L.AnyLayer = L.pipe(L.flatten, L.dense(48), holdsConstant, L.relu, L.dense(10))
    const sgd = Optim.sgd({ lr: 0.05, momentum: 0.9 })
    for (const dtype of ['float32', 'float64'] as const) {
      const run = (reuseBuffers: boolean) => {
        // SGD on every param; after the first step, the first dense layer's W passes through unchanged (the same tensor).
        let calls = 0
        const frozenAfterOne: Optim.GradientTransformation<Tree.Tree> = {
          init: sgd.init,
          update: sgd.update,
          updateAndApply: (grads, state, params) => {
            const [next, nextState] = Optim.updateAndApply(sgd, grads, state, params)
            if (calls++ === 0) return [next, nextState]
            const w = Tree.leavesWithPaths(params).find((l) => l.path === '[1].W')!.leaf
            return [Tree.map(next, (leaf, path) => (path === '[1].W' ? w : leaf)), nextState]
          },
        }
        const step = Train.trainStep(model, Loss.softmaxCrossEntropy, frozenAfterOne, { reuseBuffers })
        let ts: State = Train.initState(model, frozenAfterOne, Key.fromSeed(1), [1, 28, 28], { dtype })
        const losses: number[] = []
        let frozen: number[] = []
        for (const b of batches) {
          const [next, m] = step(ts, b)
          ts = next
          losses.push(m.loss)
          if (ts.step === 1) frozen = Array.from(Tree.leavesWithPaths(ts.params).find((l) => l.path === '[1].W')!.leaf.data)
        }
        const w = Tree.leavesWithPaths(ts.params).find((l) => l.path === '[1].W')!.leaf
        expect(Array.from(w.data)).toEqual(frozen)
        return { losses, state: snapshot(ts) }
      }
      const reused = run(true)
      expect(reused).toEqual(run(false))
      expect(reused.state.state.flat().every((v) => v === 0.25)).toBe(true)
    }
  })
})

describe("a NonFiniteError's lastFinite", () => {
  test("is intact and equals the pure step's, and training resumes from it as the pure step does", () => {
    const optimizer: Optim.GradientTransformation<Tree.Tree> = Optim.sgd({ lr: 0.05, momentum: 0.9 })
    const bad = {
      ...batches[5]!,
      x: T.fromArray(
        batches[5]!.x.shape,
        batches[5]!.x.data.map((v, i) => (i === 7 ? NaN : v)),
      ),
    }
    const run = (reuseBuffers: boolean) => {
      const step = Train.trainStep(mlp, Loss.softmaxCrossEntropy, optimizer, { reuseBuffers })
      let ts: State = Train.initState(mlp, optimizer, Key.fromSeed(1), [1, 28, 28], { dtype: 'float32' })
      for (const b of batches.slice(0, 5)) [ts] = step(ts, b)
      let error: unknown
      try {
        step(ts, bad)
      } catch (e) {
        error = e
      }
      expect(error).toBeInstanceOf(Train.NonFiniteError)
      const lastFinite = (error as Train.NonFiniteError).lastFinite
      expect(lastFinite).toBe(ts)
      const atError = snapshot(lastFinite)
      for (const b of batches.slice(6, 9)) [ts] = step(ts, b) // on from lastFinite, skipping the bad batch
      return { atError, after: snapshot(ts) }
    }
    expect(run(true)).toEqual(run(false))
  })
})

describe('a stale state (its buffers taken) is a clear error', () => {
  const optimizer = Optim.sgd({ lr: 0.05, momentum: 0.9 })
  const stale = () => {
    const step = Train.trainStep(mlp, Loss.softmaxCrossEntropy, optimizer, { reuseBuffers: true })
    const s0 = Train.initState(mlp, optimizer, Key.fromSeed(1), [1, 28, 28], { dtype: 'float32' })
    const [s1] = step(s0, batches[0]!)
    const [s2] = step(s1, batches[1]!)
    const [s3] = step(s2, batches[2]!)
    return { s1, s3 }
  }
  const dir = mkdtempSync(join(tmpdir(), 'chainrule-reuse-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  test('in trainStep, reusing or not, naming the leaf and the fix', () => {
    const { s1 } = stale()
    for (const reuseBuffers of [true, false]) {
      const step = Train.trainStep(mlp, Loss.softmaxCrossEntropy, optimizer, { reuseBuffers })
      expect(() => step(s1, batches[3]!)).toThrow(Train.StaleStateError)
      expect(() => step(s1, batches[3]!)).toThrow(/trainStep: params\[1\]\.W holds 0 values .*reuseBuffers: true.*Train\.copyState/)
    }
  })

  test('in the checkpoint writers, before any file is touched; a copy kept in time saves', () => {
    const { s1, s3 } = stale()
    const training = IO.trainingCheckpoint({ model: mlp, inShape: [1, 28, 28], state: s1 })
    expect(() => IO.encodeCheckpoint(training)).toThrow(/^params\[1\]\.W: holds 0 values .*reuseBuffers: true/)
    expect(() => saveCheckpoint(join(dir, 'run.json'), training)).toThrow(IO.IoError)
    expect(() => saveModel(join(dir, 'model.json'), { model: mlp, inShape: [1, 28, 28], params: s1.params, state: s1.state })).toThrow(
      /params\[1\]\.W: holds 0 values/,
    )
    expect(readdirSync(dir)).toEqual([])
    saveCheckpoint(join(dir, 'run.json'), IO.trainingCheckpoint({ model: mlp, inShape: [1, 28, 28], state: s3 }))
    expect(readdirSync(dir)).toEqual(['run.json'])
  })

  test('Train.copyState keeps a state past the steps that would take it', () => {
    const step = Train.trainStep(mlp, Loss.softmaxCrossEntropy, optimizer, { reuseBuffers: true })
    let ts = Train.initState(mlp, optimizer, Key.fromSeed(1), [1, 28, 28], { dtype: 'float32' })
    ;[ts] = step(ts, batches[0]!)
    const kept = Train.copyState(ts)
    const before = snapshot(ts)
    for (const b of batches.slice(1, 5)) [ts] = step(ts, b)
    expect(snapshot(kept)).toEqual(before)
  })
})

describe('fit with reuseBuffers', () => {
  const optimizer = Optim.sgd({ lr: 0.05, momentum: 0.9 })
  const run = (reuseBuffers: boolean, dtype: DType) => {
    const onStep: State[] = []
    const result = Train.fit({
      model: mlp,
      loss: Loss.softmaxCrossEntropy,
      optimizer,
      data: train,
      epochs: 6,
      batchSize: 32,
      key: Key.fromSeed(4),
      validation: 0.25,
      dtype,
      reuseBuffers,
      // Stops after a few epochs: an improvement must be large; the best epoch's state is handed back.
      earlyStopping: { monitor: 'valLoss', patience: 1, minDelta: 0.05 },
      callbacks: { onStep: ({ state }) => void onStep.push(state) },
    })
    return { result, onStep }
  }

  for (const dtype of ['float32', 'float64'] as const)
    test(`${dtype}: the same history and state as without, early stopping's restored best epoch included`, () => {
      const pure = run(false, dtype)
      const reused = run(true, dtype)
      expect(reused.result.stoppedAt).toBeDefined()
      expect(reused.result.stoppedAt).toBe(pure.result.stoppedAt)
      expect(reused.result.state.step).toBeLessThan(pure.onStep.at(-1)!.step) // the best epoch, not the last
      expect(snapshot(reused.result.state)).toEqual(snapshot(pure.result.state))
      const strip = (h: Train.History) => ({ steps: h.steps, epochs: h.epochs.map(({ seconds: _, ...e }) => e) })
      expect(strip(reused.result.history)).toEqual(strip(pure.result.history))
      // What a callback may keep: the state of a step, until two steps later; older ones were taken.
      expect(anyTaken(reused.onStep.at(-1)!)).toBe(false)
      expect(reused.onStep.slice(0, -3).some(anyTaken)).toBe(true)
      expect(pure.onStep.some(anyTaken)).toBe(false)
    })
})

describe('fit with reuseBuffers gathers each batch into the memory of the one before', () => {
  test('a batch is taken once its step is done (here the inputs a layer saw); without reuseBuffers it is not', () => {
    for (const reuseBuffers of [true, false]) {
      const { probe, seen } = recordingInputs()
      const model = L.pipe(probe, L.flatten, L.dense(10))
      const optimizer = Optim.sgd({ lr: 0.05 })
      const common = { model, loss: Loss.softmaxCrossEntropy, optimizer, data: train, epochs: 1, batchSize: 32, key: Key.fromSeed(4) }
      Train.fit({ ...common, dtype: 'float32', reuseBuffers })
      expect(seen.length).toBe(8)
      expect(seen.every(taken)).toBe(reuseBuffers) // 32 × 784 float32s: 100 KB each
    }
  })
})

describe('the recycler', () => {
  test('hands back the memory of a buffer it let go of (zero-filled by buffer), detaching the old one; small and foreign buffers are left alone', () => {
    const r = new Recycler()
    const [big, small] = r.run(() => [T.zeros32([8192]), T.zeros32([16])]) // 32 KB and 64 B
    const foreign = new Float32Array(8192)
    big!.data.fill(3)
    r.releaseMade(new Set())
    r.release([foreign.buffer], new Set())
    expect(big!.data.length).toBe(0)
    expect(small!.data.length).toBe(16)
    expect(foreign.length).toBe(8192)
    const again = r.run(() => T.zeros32([8192]))
    expect(r.counts).toEqual({ reused: 1, released: 1 })
    expect(Array.from(again.data).every((v) => v === 0)).toBe(true)
    expect(r.run(() => T.zeros32([8192])).data).not.toBe(again.data) // the pool is empty: fresh memory
    expect(r.counts.reused).toBe(1)
  })

  test('buffer, buffer32 and indexBuffer zero-fill the memory they are handed again', () => {
    const r = new Recycler()
    const [a, b, i] = r.run(() => [T.buffer(4096), T.buffer32(8192), T.indexBuffer(8192)]) // 32 KB each
    a!.fill(1)
    b!.fill(2)
    i!.fill(3)
    r.releaseMade(new Set())
    const [c, d, j] = r.run(() => [T.buffer(4096), T.buffer32(8192), T.indexBuffer(8192)])
    expect(r.counts.reused).toBe(3)
    expect(c!.every((v) => v === 0) && d!.every((v) => v === 0) && j!.every((v) => v === 0)).toBe(true)
    expect([c, d, j].map((v) => v!.constructor)).toEqual([Float64Array, Float32Array, Int32Array])
  })

  test('keeps what it is told to keep, and what a throw left behind', () => {
    const r = new Recycler()
    const kept = r.run(() => T.zeros([4096]))
    r.releaseMade(new Set([kept.data.buffer]))
    expect(kept.data.length).toBe(4096)
    let lost: T.Tensor | undefined
    expect(() =>
      r.run(() => {
        lost = T.zeros([4096])
        throw new Error('boom')
      }),
    ).toThrow('boom')
    r.releaseMade(new Set())
    expect(lost!.data.length).toBe(4096)
    expect(r.counts.released).toBe(0)
  })
})
