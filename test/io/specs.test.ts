import * as E from 'fp-ts/Either'
import fc from 'fast-check'
import * as t from 'io-ts'
import { describe, expect, test } from 'vitest'
import { Key, L, T, Tree, type Tensor } from '../../src/index.ts'
import * as IO from '../../src/io/index.ts'
import { Compare, defaultSeed, RandomNetwork, runProperty, fails, holds, all } from '../../laws/index.ts'

const seed = defaultSeed()
const bytesOf = (x: Tensor): Uint8Array => new Uint8Array(x.data.buffer, x.data.byteOffset, x.data.byteLength)
const sameBits = (a: Tensor, b: Tensor): boolean => T.sameShape(a.shape, b.shape) && Buffer.compare(bytesOf(a), bytesOf(b)) === 0
const json = <A>(v: A): A => JSON.parse(JSON.stringify(v)) as A
const left = <A>(r: E.Either<IO.IoError, A>): IO.IoError => {
  if (E.isRight(r)) throw new Error('expected a Left, got a Right')
  return r.left
}
const right = <L, A>(r: E.Either<L, A>): A => {
  if (E.isLeft(r)) throw r.left instanceof Error ? r.left : new Error(String(r.left))
  return r.right
}

describe('base64', () => {
  test('agrees with Node Buffer on random bytes, and decodes back', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 70 }), (b) => {
        const s = IO.encodeBase64(b)
        expect(s).toBe(Buffer.from(b).toString('base64'))
        expect(Buffer.compare(right(IO.decodeBase64(s)), b)).toBe(0)
      }),
      { seed, numRuns: 200 },
    )
  })
  test('rejects bad length, bad characters, padding in the middle and non-canonical bits, naming the position', () => {
    expect(E.isLeft(IO.decodeBase64('AQI'))).toBe(true)
    expect(IO.decodeBase64('AQ!D')).toEqual(E.left("invalid base64 '!' at character 2"))
    expect(IO.decodeBase64('AQ==AQID')).toEqual(E.left("invalid base64 '=' (padding before the end) at character 2"))
    expect(E.isLeft(IO.decodeBase64('AR=='))).toBe(true) // 'R' leaves non-zero unused bits
    expect(E.isLeft(IO.decodeBase64('AQ\u00e9D'))).toBe(true)
    expect(right(IO.decodeBase64(''))).toHaveLength(0)
  })
})

describe('tensors and trees are stored exactly', () => {
  test('every float64 (NaN payloads, -0, subnormals, ±Infinity) round-trips bit for bit', () => {
    const shaped = fc.array(fc.double(), { maxLength: 24 }).map((vs) => T.fromArray([vs.length], vs))
    fc.assert(
      fc.property(shaped, (x) => {
        const enc = json(IO.encodeTensor(x))
        expect(sameBits(right(IO.decodeTensor(enc, 'x')), x)).toBe(true)
      }),
      { seed, numRuns: 200 },
    )
    const odd = new Float64Array([NaN, -0, 5e-324, -Infinity, Infinity, 1 / 3])
    new DataView(odd.buffer).setUint32(0, 0x7ff80001, true) // a NaN with a payload
    const x = T.fromData([2, 3], odd)
    expect(sameBits(right(IO.decodeTensor(json(IO.encodeTensor(x)), 'x')), x)).toBe(true)
  })
  test('law 12: every float32 (NaN payloads, -0, subnormals, ±Infinity) round-trips bit for bit, 4 bytes a value, never widened', () => {
    const shaped = fc.float32Array({ maxLength: 24 }).map((vs) => T.asTensor({ shape: [vs.length], data: vs }))
    fc.assert(
      fc.property(shaped, (x) => {
        const enc = json(IO.encodeTensor(x))
        expect(enc.dtype).toBe('float32')
        expect(right(IO.decodeBase64(enc.data))).toHaveLength(4 * x.data.length)
        const back = right(IO.decodeTensor(enc, 'x'))
        expect(back.data).toBeInstanceOf(Float32Array)
        expect(sameBits(back, x)).toBe(true)
      }),
      { seed, numRuns: 200 },
    )
    const odd = new Float32Array([NaN, -0, 2 ** -149, -Infinity, Infinity, 1 / 3])
    new DataView(odd.buffer).setUint32(0, 0x7fc00001, true) // a NaN with a payload
    const x = T.asTensor({ shape: [2, 3], data: odd })
    expect(sameBits(right(IO.decodeTensor(json(IO.encodeTensor(x)), 'x')), x)).toBe(true)
  })
  test('law 12: a float32 tree keeps its structure, dtypes and bits (a float64 count beside float32 moments too)', () => {
    fc.assert(
      fc.property(fc.array(fc.float32Array({ maxLength: 9 }), { maxLength: 4 }), fc.double(), (arrays, c) => {
        const tree: Tree.Tree = [arrays.map((data) => T.asTensor({ shape: [data.length], data })), { count: T.scalar(c) }]
        const back = right(IO.decodeTree(json(IO.encodeTree(tree)), 'optState'))
        expect(Tree.structureDiff(tree, back)).toBeUndefined()
        const [a, b] = [Tree.leaves(tree), Tree.leaves(back)]
        expect(b.map(T.dtypeOf)).toEqual(a.map(T.dtypeOf))
        expect(a.every((t, i) => sameBits(t, b[i]!))).toBe(true)
      }),
      { seed, numRuns: 100 },
    )
  })
  test('a tree keeps its structure, key order and scalars', () => {
    const tree: Tree.Tree = [{ W: T.tensor([[1, 2]]), b: T.tensor([3]) }, [], { count: T.scalar(7) }, T.zeros([0, 3])]
    const back = right(IO.decodeTree(json(IO.encodeTree(tree)), 'params'))
    expect(Tree.structureDiff(tree, back)).toBeUndefined()
    expect(Compare.treesIdentical('tree', tree, back).holds).toBe(true)
  })
  test('wrong lengths, bad base64 and bad shapes are errors at the tensor path', () => {
    const enc = IO.encodeTensor(T.zeros([2, 3])) // 48 bytes → 64 characters
    expect(left(IO.decodeTensor({ ...enc, shape: [2, 4] }, 'params[2].W')).message).toBe(
      'params[2].W: expected 8 values (64 bytes) for shape [2, 4], got 6 (48 bytes)',
    )
    expect(left(IO.decodeTensor({ ...enc, data: enc.data.slice(0, 60) }, 'p')).kind).toBe('wrong-length')
    expect(left(IO.decodeTensor({ ...enc, data: enc.data.slice(0, 63) }, 'p')).kind).toBe('bad-base64')
    expect(left(IO.decodeTensor({ ...enc, data: `${enc.data.slice(0, 10)}*${enc.data.slice(11)}` }, 'p')).message).toBe(
      "p: invalid base64 '*' at character 10",
    )
    expect(left(IO.decodeTensor({ ...enc, shape: [2, -3] }, 'p')).message).toBe(
      'p.shape[1]: expected a non-negative integer (a dimension), got -3',
    )
    expect(left(IO.decodeTensor({ ...enc, dtype: 'float32' }, 'p')).message).toBe(
      'p: expected 6 float32 values (24 bytes) for shape [2, 3], got 12 (48 bytes)',
    )
    expect(left(IO.decodeTensor({ ...enc, dtype: 'bfloat16' }, 'p')).message).toBe(
      'p.dtype: expected "float64" or "float32", got "bfloat16"',
    )
    const enc32 = IO.encodeTensor(T.asTensor(T.zeros32([2, 3]))) // 24 bytes → 32 characters
    expect(left(IO.decodeTensor({ ...enc32, dtype: 'float64' }, 'p')).message).toBe(
      'p: expected 6 values (48 bytes) for shape [2, 3], got 3 (24 bytes)',
    )
    expect(left(IO.decodeTensor({ ...enc32, data: enc32.data.slice(0, 28) }, 'p')).message).toBe(
      'p: expected 6 float32 values (24 bytes) for shape [2, 3], got 21 bytes, not a whole number of float32 values',
    )
    expect(left(IO.decodeTensor({ ...enc, extra: 1 }, 'p')).kind).toBe('invalid')
    expect(left(IO.decodeTree({ a: 3 }, 'state')).message).toBe(
      'state.a: expected a tensor { dtype, shape, data }, an array or a record, got 3',
    )
  })
  test('the io-ts tensor and tree codecs decode and encode', () => {
    const x = T.tensor([[1.5, -2]])
    const back = IO.TensorCodec.decode(json(IO.TensorCodec.encode(x)))
    expect(E.isRight(back) && sameBits(back.right, x)).toBe(true)
    expect(IO.TreeCodec.is([x, { a: x }])).toBe(true)
    expect(E.isLeft(IO.TreeCodec.decode({ a: 'no' }))).toBe(true)
  })
})

// Networks nesting the built-in kinds in every combinator (each kind alone is checked by law 12 in test/layers/laws.test.ts).
const everyKind: readonly { readonly layer: L.AnyLayer; readonly inShape: readonly number[] }[] = [
  {
    layer: L.pipe(
      L.flatten,
      L.dense(5, { init: 'glorot', bias: false }),
      L.relu,
      L.leakyRelu(0.2),
      L.sigmoid,
      L.tanh,
      L.softmax,
      L.identity,
    ),
    inShape: [2, 3],
  },
  { layer: L.residual(L.pipe(L.dense(4), L.tanh, L.dense(4, { init: 'lecun' }))), inShape: [4] },
  { layer: L.branches('concat', L.dense(2, { init: 'zeros' }), L.branches('sum', L.identity, L.relu)), inShape: [3] },
  { layer: L.compose(L.dense(3), L.relu), inShape: [2] },
  {
    layer: L.pipe(
      L.conv2d(3, [3, 2], { stride: 1, padding: 'same', dilation: [1, 2], bias: false, init: 'glorot' }),
      L.batchNorm({ momentum: 0.9, eps: 1e-3 }),
      L.relu,
      L.maxPool2d(2, { stride: [1, 2] }),
      L.avgPool2d([1, 2], { padding: [0, 1] }),
      L.dropout({ dropProb: 0.25 }),
      L.conv2d(2, 1, { padding: 1 }),
      L.globalAvgPool,
      L.reshape([1, -1]),
      L.flatten,
    ),
    inShape: [2, 6, 6],
  },
]

describe('specs: fromSpec rebuilds every built-in kind (law 12: codecs round-trip bit for bit)', () => {
  test.each(everyKind.map((c, i) => [i, c] as const))('network %i: same spec, bit-identical init and forward', (_i, { layer, inShape }) => {
    const rebuilt = right(IO.fromSpec(json(layer.spec)))
    expect(rebuilt.spec).toEqual(layer.spec)
    const a = L.initialize(layer, Key.fromSeed(3), inShape)
    const b = L.initialize(rebuilt, Key.fromSeed(3), inShape)
    expect(Compare.treesIdentical('params', a.params, b.params).holds).toBe(true)
    const x = Key.normal(Key.fromSeed(4), [2, ...inShape])
    for (const mode of ['train', 'eval'] as const) {
      const ctx = { mode, key: Key.fromSeed(5) }
      expect(sameBits(layer.forward(a.params, a.state, x, ctx).y, rebuilt.forward(b.params, b.state, x, ctx).y)).toBe(true)
    }
  })
  test('law 12: random networks round-trip through JSON specs to the same function', () => {
    const arb = fc.tuple(RandomNetwork.randomNetwork(3), fc.integer({ min: 1, max: 3 }), fc.integer())
    runProperty(
      '12. codecs round-trip bit for bit',
      'random networks through fromSpec',
      [arb],
      ([net, n, s]) => {
        const rebuilt = IO.fromSpec(json(net.layer.spec))
        if (E.isLeft(rebuilt)) return fails(rebuilt.left.message)
        const inShape = [net.inDim]
        const a = L.initialize(net.layer, Key.fromSeed(s), inShape)
        const b = L.initialize(rebuilt.right, Key.fromSeed(s), inShape)
        const x = Key.normal(Key.fromSeed(s + 1), [n, net.inDim])
        const ctx = { mode: 'train' as const, key: Key.fromSeed(0) }
        const ya = net.layer.forward(a.params, a.state, x, ctx)
        const yb = rebuilt.right.forward(b.params, b.state, x, ctx)
        const dy = Key.normal(Key.fromSeed(s + 2), ya.y.shape)
        return all(
          () => (JSON.stringify(rebuilt.right.spec) === JSON.stringify(net.layer.spec) ? holds : fails('specs differ')),
          () => Compare.treesIdentical('params', a.params, b.params),
          () => Compare.tensorsIdentical('y', ya.y, yb.y),
          () => Compare.treesIdentical('dp', net.layer.vjp(a.params, ya.tape, dy).dp, rebuilt.right.vjp(b.params, yb.tape, dy).dp),
        )
      },
      { numRuns: 60 },
    )
  })
  test('the io-ts layer and spec codecs decode through the registry', () => {
    const net = L.pipe(L.dense(3), L.relu)
    const codec = IO.layerCodec()
    const decoded = codec.decode(json(net.spec))
    expect(E.isRight(decoded) && decoded.right.spec).toEqual(net.spec)
    expect(codec.encode(net)).toEqual(net.spec)
    expect(IO.specCodec().is(net.spec)).toBe(true)
    const bad = IO.specCodec().decode({ kind: 'dense', units: 2.5, init: 'he', bias: true })
    expect(E.isLeft(bad) && bad.left[0]?.message).toBe('spec.units: expected a positive integer, got 2.5')
    // composes with other io-ts codecs
    const Saved = t.type({ name: t.string, net: codec })
    expect(E.isRight(Saved.decode({ name: 'mlp', net: json(net.spec) }))).toBe(true)
  })
})

describe('every kind of the built-in registry checks its own fields', () => {
  test.each(Object.keys(IO.builtins))('%s: an unexpected field is a bad-spec error at that field', (kind) => {
    const e = left(IO.fromSpec({ kind, zzz: 1 }))
    expect([e.kind, e.path]).toEqual(['bad-spec', 'spec.zzz'])
    expect(e.detail).toMatch(/^unexpected field \(allowed: kind\b/)
  })
  test.each(Object.keys(IO.builtins))('%s: { kind } alone builds the layer, or is a bad-spec error naming a missing field', (kind) => {
    const r = IO.fromSpec({ kind })
    if (E.isRight(r)) expect(r.right.spec).toEqual({ kind })
    else
      expect([r.left.kind, r.left.path, r.left.detail.endsWith(', got nothing')]).toEqual([
        'bad-spec',
        expect.stringMatching(/^spec\.\w+$/),
        true,
      ])
  })
})

describe('spec errors name the kind of problem and the path', () => {
  const cases: readonly [string, unknown, IO.IoErrorKind, string][] = [
    ['not an object', 3, 'invalid', 'spec: expected a layer spec { kind, ... }, got 3'],
    ['no kind', { units: 3 }, 'invalid', 'spec.kind: expected a layer kind (a string), got nothing'],
    [
      'unknown kind',
      { kind: 'pipe', children: [{ kind: 'relu' }, { kind: 'swish' }] },
      'unknown-kind',
      'spec.children[1]: unknown layer kind "swish"',
    ],
    [
      'bad hyper-parameter',
      { kind: 'pipe', children: [{ kind: 'dense', units: 0, init: 'he', bias: true }] },
      'bad-spec',
      'spec.children[0].units: expected a positive integer, got 0',
    ],
    [
      'misspelt field',
      { kind: 'dense', unit: 3, units: 3, init: 'he', bias: true },
      'bad-spec',
      'spec.unit: unexpected field (allowed: kind, units, init, bias)',
    ],
    ['missing field', { kind: 'dense', units: 3, init: 'he' }, 'bad-spec', 'spec.bias: expected true or false, got nothing'],
    [
      'bad enum',
      { kind: 'residual', body: { kind: 'dense', units: 3, init: 'xavier', bias: true } },
      'bad-spec',
      "spec.body.init: expected one of 'he', 'glorot', 'lecun', 'zeros', got \"xavier\"",
    ],
    [
      'bad merge',
      { kind: 'branches', merge: 'max', children: [{ kind: 'relu' }] },
      'bad-spec',
      "spec.merge: expected one of 'sum', 'concat', got \"max\"",
    ],
    [
      'empty branches',
      { kind: 'branches', merge: 'sum', children: [] },
      'bad-spec',
      'spec.children: expected a non-empty list of layer specs, got an array of 0',
    ],
    [
      'child not a spec',
      { kind: 'pipe', children: [{ kind: 'relu' }, 'dense'] },
      'invalid',
      'spec.children[1]: expected a layer spec { kind, ... }, got "dense"',
    ],
    [
      'NaN hyper-parameter',
      { kind: 'leakyRelu', alpha: NaN },
      'invalid',
      'spec.alpha: NaN is not a JSON number (only finite numbers are allowed)',
    ],
    ['dropProb 1', { kind: 'dropout', dropProb: 1 }, 'bad-spec', 'spec.dropProb: expected a number in [0, 1), got 1'],
    ['inherited key as kind', { kind: 'toString' }, 'unknown-kind', 'spec: unknown layer kind "toString"'],
  ]
  test.each(cases)('%s', (_name, spec, kind, message) => {
    const e = left(IO.fromSpec(spec))
    expect(e).toBeInstanceOf(IO.IoError)
    expect(e.kind).toBe(kind)
    expect(e.message.startsWith(message)).toBe(true)
  })
  test('a spec nested beyond the depth limit is an error, not a stack overflow', () => {
    let s: unknown = { kind: 'relu' }
    for (let i = 0; i < 5000; i++) s = { kind: 'residual', body: s }
    expect(E.isLeft(IO.fromSpec(s))).toBe(true)
  })
})

describe('custom layers join through a registry value', () => {
  const swish = L.define({
    name: 'swish',
    forward: (_p, x) => {
      const s = T.map(L.logistic)(x)
      return { y: T.mul(x, s), tape: { x, s } }
    },
    vjp: (_p, { x, s }, dy) => ({
      dx: T.generate(x.shape, (i) => dy.data[i]! * (s.data[i]! + x.data[i]! * s.data[i]! * (1 - s.data[i]!))),
      dp: L.none,
    }),
  })
  const scaled = (factor: number): L.AnyLayer =>
    L.define({
      name: 'scaled',
      spec: { kind: 'scaled', factor },
      forward: (_p, x) => ({ y: T.scale(factor, x), tape: null }),
      vjp: (_p, _t, dy) => ({ dx: T.scale(factor, dy), dp: L.none }),
    })
  const twice = (body: L.AnyLayer): L.AnyLayer => ({ ...L.pipe(body, body), name: 'twice', spec: { kind: 'twice', body: body.spec } })
  const registry = IO.extend(IO.builtins, {
    swish: () => swish,
    scaled: IO.entry(IO.closed('a scaled spec { kind, factor }', { kind: t.literal('scaled'), factor: IO.FiniteNumber }), (s) =>
      scaled(s.factor),
    ),
    twice: (s, build) => twice(build(s['body'], 'body')),
  })
  const net = L.pipe(L.dense(3), swish, scaled(2), twice(L.tanh))

  test('fromSpec rebuilds a network with custom leaves and a custom combinator', () => {
    const rebuilt = right(IO.fromSpec(json(net.spec), registry))
    expect(rebuilt.spec).toEqual(net.spec)
    const p = L.initialize(net, Key.fromSeed(0), [2])
    const x = T.tensor([[0.5, -1]])
    const ctx = { mode: 'eval' as const, key: Key.fromSeed(0) }
    expect(sameBits(rebuilt.forward(p.params, p.state, x, ctx).y, net.forward(p.params, p.state, x, ctx).y)).toBe(true)
  })
  test('without the registry the custom kind is an unknown-kind error, and extend leaves builtins as they were', () => {
    expect(left(IO.fromSpec(json(net.spec))).kind).toBe('unknown-kind')
    expect(Object.keys(IO.builtins)).not.toContain('swish')
  })
  test("a custom entry's codec checks its fields", () => {
    expect(left(IO.fromSpec({ kind: 'scaled', factor: 'two' }, registry)).message).toBe('spec.factor: expected a finite number, got "two"')
  })
  test('a builder that ignores a hyper-parameter is caught: the rebuilt spec must equal the input', () => {
    const sloppy = IO.extend(IO.builtins, { scaled: () => scaled(1) })
    const e = left(IO.fromSpec({ kind: 'scaled', factor: 3 }, sloppy))
    expect(e.kind).toBe('bad-spec')
    expect(e.path).toBe('spec.factor')
  })
  test('a builder that throws or returns a non-layer is a bad-spec error, not an exception', () => {
    const reg = IO.extend(IO.builtins, {
      boom: () => {
        throw new RangeError('boom: nope')
      },
      notALayer: () => ({}) as L.AnyLayer, // a builder breaking its contract on purpose: the cast is the bug under test
    })
    expect(left(IO.fromSpec({ kind: 'boom' }, reg)).message).toBe('spec: the "boom" builder rejected this spec: boom: nope')
    expect(left(IO.fromSpec({ kind: 'notALayer' }, reg)).kind).toBe('bad-spec')
  })
})

describe('summary', () => {
  const mlp = L.pipe(L.flatten, L.dense(128), L.relu, L.dense(64), L.relu, L.dense(10))
  test('rows give each layer its path, kind, output shape and parameter count, with the totals', () => {
    const s = right(IO.summarize(mlp, [1, 28, 28]))
    expect(s.params).toBe(784 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10) // 109,386, as Keras counts it
    expect(s.rows.map((r) => [r.path, r.kind, r.outShape, r.params])).toEqual([
      ['pipe', 'pipe', [10], 109386],
      ['pipe[0].flatten', 'flatten', [784], 0],
      ['pipe[1].dense', 'dense', [128], 100480],
      ['pipe[2].relu', 'relu', [128], 0],
      ['pipe[3].dense', 'dense', [64], 8256],
      ['pipe[4].relu', 'relu', [64], 0],
      ['pipe[5].dense', 'dense', [10], 650],
    ])
  })
  test('the text table lists nested layers indented, with totals; a spec works as well as a layer', () => {
    const net = L.pipe(L.dense(4), L.residual(L.pipe(L.dense(4), L.relu)), L.batchNorm())
    const text = IO.summary(json(net.spec), [3])
    expect(text).toContain('    pipe[1].residual.pipe[0].dense')
    expect(text).toContain('dense(units=4, init=he, bias=true)')
    expect(text).toContain('Trainable params: 44 (0.3 KB as float64, 0.2 KB as float32)')
    expect(text).toContain('Non-trainable state: 8')
    expect(text).toBe(IO.summary(net, [3]))
  })
  test('a shape the network cannot take is the ShapeError with the layer path', () => {
    const r = IO.summarize(L.pipe(L.flatten, L.residual(L.dense(3))), [4])
    expect(E.isLeft(r) && r.left.message).toBe('pipe[1].residual: the body must keep the shape of its input: input [4], body output [3]')
  })
})
