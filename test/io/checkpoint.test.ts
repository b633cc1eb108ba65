import * as E from 'fp-ts/Either'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { Data, Key, L, Loss, Optim, Schedule, T, Train, Tree, type Tensor } from '../../src/index.ts'
import * as IO from '../../src/io/index.ts'
import { loadCheckpoint, saveCheckpoint, saveModel } from '../../src/node/index.ts'
import { Compare } from '../../laws/index.ts'

const bytesOf = (x: Tensor): Uint8Array => new Uint8Array(x.data.buffer, x.data.byteOffset, x.data.byteLength)
const sameBits = (a: Tensor, b: Tensor): boolean => T.sameShape(a.shape, b.shape) && Buffer.compare(bytesOf(a), bytesOf(b)) === 0
const identical = (a: Tree.Tree, b: Tree.Tree): boolean => Compare.treesIdentical('tree', a, b).holds
const right = <L, A>(r: E.Either<L, A>): A => {
  if (E.isLeft(r)) throw r.left instanceof Error ? r.left : new Error(String(r.left))
  return r.right
}
const left = <A>(r: E.Either<IO.IoError, A>): IO.IoError => {
  if (E.isRight(r)) throw new Error('expected a Left, got a Right')
  return r.left
}

const spiral = Data.spirals(Key.fromSeed(1), { classes: 3, perClass: 40, noise: 0.1 })

describe('save → load → predict is bit-identical', () => {
  test('a trained MLP: same params bit for bit, same predictions bit for bit', () => {
    const model = L.pipe(L.dense(16), L.tanh, L.dense(3))
    const { state } = Train.fit({
      model,
      loss: Loss.softmaxCrossEntropy,
      optimizer: Optim.adam({ lr: 0.01 }),
      data: spiral,
      epochs: 3,
      batchSize: 16,
      key: Key.fromSeed(2),
    })
    const text = IO.encodeCheckpoint(IO.modelCheckpoint(model, [2], state.params, state.state, { task: 'spiral', epochs: 3 }))
    const ck = right(IO.parseCheckpoint(text))
    expect(ck.metadata).toEqual({ task: 'spiral', epochs: 3 })
    expect(ck.spec).toEqual(model.spec)
    expect(ck.training).toBeUndefined()
    expect(identical(ck.params, state.params)).toBe(true)
    const before = Train.predict(model, state.params, state.state, spiral.x)
    const after = Train.predict(ck.model, ck.params, ck.state, spiral.x)
    expect(sameBits(before, after)).toBe(true)
    // and saving what was loaded gives the same text again
    expect(IO.encodeCheckpoint({ ...ck, metadata: ck.metadata })).toBe(text)
  })
  test('a conv net with batch-norm running statistics (non-trainable state) and dropout', () => {
    const model = L.pipe(
      L.conv2d(3, 3, { padding: 'same' }),
      L.batchNorm(),
      L.relu,
      L.maxPool2d(2),
      L.dropout({ dropProb: 0.3 }),
      L.flatten,
      L.dense(2),
    )
    const x = Key.normal(Key.fromSeed(1), [6, 1, 6, 6])
    const init = L.initialize(model, Key.fromSeed(0), [1, 6, 6])
    const stepped = model.forward(init.params, init.state, x, { mode: 'train', key: Key.fromSeed(3) }) // moves the running statistics
    const ck = right(IO.parseCheckpoint(IO.encodeCheckpoint(IO.modelCheckpoint(model, [1, 6, 6], init.params, stepped.state))))
    expect(identical(ck.state, stepped.state)).toBe(true)
    const ctx = { mode: 'eval' as const, key: Key.fromSeed(0) }
    expect(sameBits(model.forward(init.params, stepped.state, x, ctx).y, ck.model.forward(ck.params, ck.state, x, ctx).y)).toBe(true)
  })
})

describe('a training checkpoint resumes bit for bit', () => {
  const cases = [
    [
      'SGD, Nesterov momentum, weight decay, cosine schedule',
      Optim.sgd({ lr: Schedule.cosineDecay({ init: 0.1, steps: 60 }), momentum: 0.9, nesterov: true, weightDecay: 1e-3 }),
    ],
    ['Adam', Optim.adam({ lr: 0.01 })],
    ['AdamW', Optim.adamw({ lr: 0.01, weightDecay: 1e-3 })],
    ['AMSGrad', Optim.amsgrad({ lr: 0.01 })],
    ['Adamax', Optim.adamax({ lr: 0.01 })],
  ] as const
  test.each(cases)('%s: stop mid-epoch, save, load, resume with fit = a run that never stopped', (_name, optimizer) => {
    const model = L.pipe(L.dense(12), L.relu, L.dense(3))
    const base = { model, loss: Loss.softmaxCrossEntropy, optimizer, data: spiral, batchSize: 16, validation: 0.25 }
    const runKey = Key.fromSeed(7)
    const straight = Train.fit({ ...base, epochs: 4, key: runKey })
    let mid: Train.TrainState | undefined
    Train.fit({ ...base, epochs: 2, key: runKey, callbacks: { onStep: ({ step, state }) => (step === 9 ? (mid = state) : undefined) } })
    if (mid === undefined) throw new Error('no state at step 9')
    const text = IO.encodeCheckpoint(IO.trainingCheckpoint({ model, inShape: [2], state: mid, runKey, optimizer: { name: _name } }))
    const ck = right(IO.parseCheckpoint(text))
    expect(ck.training?.step).toBe(9)
    expect(ck.training?.optimizer).toEqual({ name: _name })
    const initial = right(IO.trainState(ck, optimizer))
    const resumed = Train.fit({ ...base, model: ck.model, epochs: 4, key: ck.training?.runKey ?? Key.fromSeed(0), initial })
    expect(resumed.state.step).toBe(straight.state.step)
    expect(identical(resumed.state.params, straight.state.params)).toBe(true)
    expect(identical(resumed.state.optState, straight.state.optState)).toBe(true)
    expect(resumed.state.key).toEqual(straight.state.key)
  })
  test('resuming with an optimizer of other settings is an optimizer-mismatch naming the path', () => {
    const model = L.pipe(L.dense(4), L.relu, L.dense(3))
    const ts = Train.initState(model, Optim.sgd({ lr: 0.1 }), Key.fromSeed(0), [2])
    const ck = right(IO.parseCheckpoint(IO.encodeCheckpoint(IO.trainingCheckpoint({ model, inShape: [2], state: ts }))))
    const e = left(IO.trainState(ck, Optim.sgd({ lr: 0.1, momentum: 0.9 })))
    expect(e.kind).toBe('optimizer-mismatch')
    expect(e.message).toBe(
      'training.optState: an array of 1 in the checkpoint, but the optimizer given makes an array of 2 (was the checkpoint saved with another optimizer, or other settings such as momentum or weight decay?)',
    )
    const adam = left(
      IO.trainState(
        right(
          IO.parseCheckpoint(
            IO.encodeCheckpoint(
              IO.trainingCheckpoint({ model, inShape: [2], state: Train.initState(model, Optim.adam({ lr: 1 }), Key.fromSeed(0), [2]) }),
            ),
          ),
        ),
        Optim.adagrad({ lr: 1 }),
      ),
    )
    expect(adam.path).toBe('training.optState[0]')
    expect(E.isRight(IO.trainState(ck, Optim.sgd({ lr: 0.5 })))).toBe(true) // another lr keeps the same state structure
  })
  test('asking a model checkpoint for a training state is a not-training error', () => {
    const model = L.dense(2)
    const p = L.initialize(model, Key.fromSeed(0), [2])
    const ck = right(IO.parseCheckpoint(IO.encodeCheckpoint(IO.modelCheckpoint(model, [2], p.params, p.state))))
    expect(left(IO.trainState(ck, Optim.sgd({ lr: 0.1 }))).kind).toBe('not-training')
  })
})

describe('loading validates everything: each problem its own error kind, with the path', () => {
  // The MNIST MLP: params[1].W is [784, 128], 100352 values.
  const model = L.pipe(L.flatten, L.dense(128), L.relu, L.dense(10))
  const init = L.initialize(model, Key.fromSeed(0), [1, 28, 28])
  const optimizer = Optim.sgd({ lr: 0.1, momentum: 0.9 })
  const ts = { params: init.params, state: init.state, optState: optimizer.init(init.params), key: Key.fromSeed(1), step: 5 }
  const text = IO.encodeCheckpoint(
    IO.trainingCheckpoint({ model, inShape: [1, 28, 28], state: ts, runKey: Key.fromSeed(2), metadata: { note: 'ok' } }),
  )
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a test pokes at the JSON freely
  type Doc = Record<string, any>
  const doc = (): Doc => JSON.parse(text)
  const edit = (f: (d: Doc) => void): Doc => {
    const d = doc()
    f(d)
    return d
  }
  const encoded = (x: Tensor): unknown => JSON.parse(JSON.stringify(IO.encodeTensor(x)))

  const cases: readonly [string, () => E.Either<IO.IoError, IO.Checkpoint>, IO.IoErrorKind, string][] = [
    ['text that is not JSON', () => IO.parseCheckpoint('{"format": "chainrule-checkpoint", '), 'not-json', ''],
    ['an empty file', () => IO.parseCheckpoint(''), 'not-json', ''],
    ['bytes that are not UTF-8', () => IO.parseCheckpoint(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])), 'not-json', ''],
    ['a JSON array', () => IO.decodeCheckpoint([1, 2]), 'wrong-format', ''],
    ['a spec instead of a checkpoint', () => IO.decodeCheckpoint(model.spec), 'wrong-format', 'format'],
    ['another format', () => IO.decodeCheckpoint(edit((d) => (d['format'] = 'keras'))), 'wrong-format', 'format'],
    ['a newer version', () => IO.decodeCheckpoint(edit((d) => (d['version'] = 2))), 'unsupported-version', 'version'],
    ['a version as a string', () => IO.decodeCheckpoint(edit((d) => (d['version'] = '1'))), 'unsupported-version', 'version'],
    ['missing params', () => IO.decodeCheckpoint(edit((d) => delete d['params'])), 'invalid', 'params'],
    ['a misspelt top-level field', () => IO.decodeCheckpoint(edit((d) => (d['paramz'] = 1))), 'invalid', 'paramz'],
    ['a bad input shape value', () => IO.decodeCheckpoint(edit((d) => (d['inShape'] = [1, 0, 28]))), 'invalid', 'inShape'],
    ['metadata that is not an object', () => IO.decodeCheckpoint(edit((d) => (d['metadata'] = 'x'))), 'invalid', 'metadata'],
    [
      'an unknown layer kind',
      () => IO.decodeCheckpoint(edit((d) => (d['spec']['children'][2]['kind'] = 'swish'))),
      'unknown-kind',
      'spec.children[2]',
    ],
    [
      'a bad hyper-parameter',
      () => IO.decodeCheckpoint(edit((d) => (d['spec']['children'][1]['units'] = -1))),
      'bad-spec',
      'spec.children[1].units',
    ],
    [
      'an input shape the network cannot take',
      () => IO.decodeCheckpoint(edit((d) => (d['inShape'] = [1, 28]))),
      'shape-mismatch',
      'params[1].W',
    ],
    [
      'a spec that cannot init on the input shape',
      () => IO.decodeCheckpoint(edit((d) => (d['spec'] = { kind: 'dense', units: 10, init: 'he', bias: true }))),
      'bad-input-shape',
      'inShape',
    ],
    [
      'a character outside base64',
      () => IO.decodeCheckpoint(edit((d) => (d['params'][1]['b']['data'] = `!${d['params'][1]['b']['data'].slice(1)}`))),
      'bad-base64',
      'params[1].b',
    ],
    [
      'base64 cut short',
      () => IO.decodeCheckpoint(edit((d) => (d['params'][3]['W']['data'] = d['params'][3]['W']['data'].slice(0, -1)))),
      'bad-base64',
      'params[3].W',
    ],
    [
      'one value too few',
      () => IO.decodeCheckpoint(edit((d) => (d['params'][1]['W']['data'] = IO.encodeTensor(T.zeros([100351])).data))),
      'wrong-length',
      'params[1].W',
    ],
    [
      'a NaN in the params',
      () => IO.decodeCheckpoint(edit((d) => (d['params'][3]['b'] = encoded(T.tensor([1, 2, 3, 4, 5, 6, 7, NaN, 9, 10]))))),
      'non-finite',
      'params[3].b',
    ],
    [
      'an Infinity in the optimizer state',
      () => IO.decodeCheckpoint(edit((d) => (d['training']['optState'][0]['trace'][3]['b'] = encoded(T.full([10], Infinity))))),
      'non-finite',
      'training.optState[0].trace[3].b',
    ],
    [
      'params of another network (no bias)',
      () => IO.decodeCheckpoint(edit((d) => delete d['params'][3]['b'])),
      'structure-mismatch',
      'params[3]',
    ],
    [
      'params for a different width',
      () => IO.decodeCheckpoint(edit((d) => (d['spec']['children'][3]['units'] = 9))),
      'shape-mismatch',
      'params[3].W',
    ],
    ['a missing layer', () => IO.decodeCheckpoint(edit((d) => d['params'].pop())), 'structure-mismatch', 'params'],
    [
      'state that should be empty',
      () => IO.decodeCheckpoint(edit((d) => (d['state'] = [[], [], [], { x: d['params'][3]['b'] }]))),
      'structure-mismatch',
      'state[3]',
    ],
    [
      'a bad key in the training part',
      () => IO.decodeCheckpoint(edit((d) => (d['training']['key']['k0'] = -1))),
      'invalid',
      'training.key.k0',
    ],
    ['a fractional step', () => IO.decodeCheckpoint(edit((d) => (d['training']['step'] = 1.5))), 'invalid', 'training.step'],
  ]
  test.each(cases)('%s', (_name, run, kind, path) => {
    const e = left(run())
    expect(e).toBeInstanceOf(IO.IoError)
    expect({ kind: e.kind, path: e.path }).toEqual({ kind, path })
    expect(e.message.length).toBeGreaterThan(10)
  })
  test('the messages say what was wrong and where', () => {
    const short = edit((d) => (d['params'][1]['W']['data'] = IO.encodeTensor(T.zeros([100351])).data))
    expect(left(IO.decodeCheckpoint(short)).message).toBe(
      'params[1].W: expected 100352 values (802816 bytes) for shape [784, 128], got 100351 (802808 bytes)',
    )
    expect(left(IO.decodeCheckpoint(edit((d) => (d['version'] = 2)))).message).toBe(
      'version: version 2 is newer than this chainrule reads (1); upgrade chainrule',
    )
    expect(left(IO.decodeCheckpoint(model.spec)).message).toBe(
      'format: expected "chainrule-checkpoint", got nothing: this is not a chainrule checkpoint (this looks like a layer spec: rebuild it with IO.fromSpec)',
    )
    expect(left(IO.decodeCheckpoint(edit((d) => delete d['params'][3]['b']))).message).toBe(
      'params[3]: a record {W} in the checkpoint, but the spec makes a record {W, b} (pipe[3].dense at spec.children[3])',
    )
    expect(left(IO.decodeCheckpoint(edit((d) => (d['spec']['children'][3]['units'] = 9)))).message).toBe(
      'params[3].W: shape [128, 10] in the checkpoint, but the spec makes [128, 9] (pipe[3].dense at spec.children[3]: units 9 on input [128]; that input\'s size is set by pipe[1].dense at spec.children[1], dense(units=128, init="he", bias=true)); inShape is [1, 28, 28]',
    )
    const nan = edit((d) => (d['params'][3]['b'] = encoded(T.tensor([1, 2, 3, 4, 5, 6, 7, NaN, 9, 10]))))
    expect(left(IO.decodeCheckpoint(nan)).message).toBe('params[3].b: value 7 (flat index) is NaN; a checkpoint holds only finite numbers')
  })
  test('the valid document itself loads, with its training part', () => {
    const ck = right(IO.decodeCheckpoint(doc()))
    expect(ck.training?.step).toBe(5)
    expect(ck.training?.runKey).toEqual(Key.fromSeed(2))
    expect(identical(ck.training?.optState ?? [], ts.optState)).toBe(true)
  })
  test('encoding refuses what would not load back, before producing any text', () => {
    const nanParams = Tree.map(init.params, (p, path) => (path === '[3].b' ? T.full(p.shape, NaN) : p))
    expect(() => IO.encodeCheckpoint(IO.modelCheckpoint(model, [1, 28, 28], nanParams, init.state))).toThrow(
      'params[3].b: value 0 (flat index) is NaN',
    )
    const other = L.initialize(L.pipe(L.flatten, L.dense(64), L.relu, L.dense(10)), Key.fromSeed(0), [1, 28, 28])
    expect(() => IO.encodeCheckpoint(IO.modelCheckpoint(model, [1, 28, 28], other.params, init.state))).toThrow(IO.IoError)
    expect(() => IO.encodeCheckpoint(IO.modelCheckpoint(model, [1, 28, 28], init.params, init.state, { bad: NaN }))).toThrow(
      'metadata.bad: NaN is not a JSON number',
    )
    const badRecord = { dtype: T.zeros([1]) }
    const training = { optState: badRecord, key: Key.fromSeed(0), step: 0 }
    const input = { model: L.identity, inShape: [1], params: [], state: [], training }
    expect(() => IO.encodeCheckpoint(input)).toThrow("a record key may not be named 'dtype'")
  })
  test('custom layers load through a registry passed to the decoder', () => {
    const swish = L.define({
      name: 'swish',
      forward: (_p, x) => ({ y: T.map((v) => v * L.logistic(v))(x), tape: x }),
      vjp: (_p, _x, dy) => ({ dx: dy, dp: L.none }),
    })
    const net = L.pipe(L.dense(3), swish)
    const p = L.initialize(net, Key.fromSeed(0), [2])
    const saved = IO.encodeCheckpoint(IO.modelCheckpoint(net, [2], p.params, p.state))
    expect(left(IO.parseCheckpoint(saved)).kind).toBe('unknown-kind')
    const ck = right(IO.parseCheckpoint(saved, { registry: IO.extend(IO.builtins, { swish: () => swish }) }))
    const x = T.tensor([[1, -2]])
    const ctx = { mode: 'eval' as const, key: Key.fromSeed(0) }
    expect(sameBits(ck.model.forward(ck.params, ck.state, x, ctx).y, net.forward(p.params, p.state, x, ctx).y)).toBe(true)
  })
})

describe('checkpoint files (Node)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'chainrule-ck-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const model = L.pipe(L.dense(4), L.relu, L.dense(2))
  const p = L.initialize(model, Key.fromSeed(0), [3])

  test('saveModel then loadCheckpoint gives the same params; the directory is created; no temp file is left', () => {
    const path = join(dir, 'nested', 'model.json')
    saveModel(path, { model, inShape: [3], params: p.params, state: p.state, metadata: { accuracy: 0.5 } })
    const ck = right(loadCheckpoint(path))
    expect(identical(ck.params, p.params)).toBe(true)
    expect(ck.metadata).toEqual({ accuracy: 0.5 })
    expect(readdirSync(join(dir, 'nested'))).toEqual(['model.json'])
  })
  test('a failed save (invalid params) throws before touching the old file', () => {
    const path = join(dir, 'keep.json')
    saveModel(path, { model, inShape: [3], params: p.params, state: p.state })
    const before = readFileSync(path)
    const bad = Tree.map(p.params, (x) => T.full(x.shape, Infinity))
    expect(() => saveModel(path, { model, inShape: [3], params: bad, state: p.state })).toThrow(IO.IoError)
    expect(Buffer.compare(readFileSync(path), before)).toBe(0)
  })
  test('a save that cannot write is an io error and leaves the old file whole', () => {
    const path = join(dir, 'blocked.json')
    writeFileSync(join(dir, 'file-not-dir'), 'x')
    let caught: unknown
    try {
      saveCheckpoint(join(dir, 'file-not-dir', 'model.json'), IO.modelCheckpoint(model, [3], p.params, p.state))
    } catch (e) {
      caught = e
    }
    expect(caught).toBeInstanceOf(IO.IoError)
    expect((caught as IO.IoError).kind).toBe('io')
    saveModel(path, { model, inShape: [3], params: p.params, state: p.state })
    expect(E.isRight(loadCheckpoint(path))).toBe(true)
  })
  test('loading a missing or corrupt file is a Left naming the file', () => {
    const missing = left(loadCheckpoint(join(dir, 'nope.json')))
    expect(missing.kind).toBe('io')
    expect(missing.message).toContain('nope.json')
    const path = join(dir, 'truncated.json')
    saveModel(path, { model, inShape: [3], params: p.params, state: p.state })
    writeFileSync(path, readFileSync(path).subarray(0, 500))
    const e = left(loadCheckpoint(path))
    expect(e.kind).toBe('not-json')
    expect(e.message).toContain('truncated.json')
  })
})
