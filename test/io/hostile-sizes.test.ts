import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it, test } from 'vitest'
import { checkHostile, hostileCases, measure } from '../../bench/fuzz-decoders.ts'
import { defaultSeed, RandomNetwork } from '../../laws/index.ts'
import { Key, L, T } from '../../src/index.ts'
import * as IO from '../../src/io/index.ts'
import { isShapeLeaf, type ShapeTree } from '../../src/layer.ts'
import * as Tree from '../../src/tree.ts'
import type { Tree as TreeT } from '../../src/tree.ts'

// Every size-claiming field of every decoder set to 2^24..2^53, negative or fractional: refused
// (naming the field) in proportion to the bytes given. The limits here are generous (the failure
// they guard against takes minutes and gigabytes); `npm run fuzz` holds each case to 100 ms and 50 MB.
describe('hostile sizes are refused without building what they claim', () => {
  const cases = hostileCases()
  const slice = cases.filter((_, i) => i % 4 === 0)
  test.each(slice.map((c) => [c.name, c] as const))('%s', (_name, c) => checkHostile(c, measure(c), { ms: 2000, mb: 50 }))

  it('a 2^26-wide input to a small dense network names inShape, the spec path and the units', () => {
    const c = cases.find((k) => k.name === 'checkpoint inShape [67108864]')!
    const cost = measure(c)
    expect(cost.message).toBe(
      'params[0].W: shape [2, 3] in the checkpoint, but the spec makes [67108864, 3] (pipe[0].dense at spec.children[0]: units 3 on input [67108864]); inShape is [67108864]',
    )
    expect(cost.peakMB).toBeLessThan(50)
  })

  it("a float32 tensor's claimed shape is counted at 4 bytes a value (8 when relabelled float64), before anything is allocated", () => {
    for (const [dtype, width] of [
      ['float32', 4],
      ['float64', 8],
    ] as const) {
      const c = cases.find((k) => k.name === `float32 checkpoint tensor shape [67108864, 3]${dtype === 'float64' ? ' as float64' : ''}`)!
      const cost = measure(c)
      const values = dtype === 'float32' ? '201326592 float32 values' : '201326592 values'
      expect(cost.message).toBe(
        `params[0].W: expected ${values} (${width * 201326592} bytes) for shape [67108864, 3], got ${(4 * 6) / width} (24 bytes)`,
      )
      expect(cost.peakMB).toBeLessThan(50)
    }
  })

  it('inside a nested network the message gives full spec paths, and the layer that set the input size', () => {
    const model = L.pipe(L.dense(8), L.residual(L.pipe(L.dense(5), L.relu, L.dense(8))))
    const init = model.init(Key.fromSeed(0), [3])
    const doc = JSON.parse(IO.encodeCheckpoint(IO.modelCheckpoint(model, [3], init.params, init.state)))
    doc.spec.children[1].body.children[0].units = 2 ** 40
    const r = IO.decodeCheckpoint(doc)
    expect(E.isLeft(r) && r.left.message).toBe(
      'params[1][0].W: shape [8, 5] in the checkpoint, but the spec makes [8, 1099511627776] (pipe[1].residual.pipe[0].dense at spec.children[1].body.children[0]: units 1099511627776 on input [8]; ' +
        'that input\'s size is set by pipe[0].dense at spec.children[0], dense(units=8, init="he", bias=true)); inShape is [3]',
    )
    doc.spec.children[1].body.children[0].units = 5
    doc.spec.children[1].body.children[2].units = 2 ** 40
    const s = IO.decodeCheckpoint(doc)
    // the residual cannot take what the edited dense now gives, but the first thing wrong is that dense's W against the file
    expect(E.isLeft(s) && s.left.message).toBe(
      'params[1][2].W: shape [5, 8] in the checkpoint, but the spec makes [5, 1099511627776] ' +
        '(pipe[1].residual.pipe[2].dense at spec.children[1].body.children[2]: units 1099511627776 on input [5]); inShape is [3]; ' +
        "with the spec's shapes, the network " +
        'fails further on: pipe[1].residual: the body must keep the shape of its input: input [8], ' +
        'body output [1099511627776]; that size is set by pipe[1].residual.pipe[2], dense(units=1099511627776, init="he", bias=true), ' +
        'on an input set by pipe[1].residual.pipe[0], dense(units=5, init="he", bias=true); ' +
        'that input\'s size is set by pipe[0], dense(units=8, init="he", bias=true)',
    )
  })

  it('a custom layer without a shape rule bounds the input size before it runs init', () => {
    const custom = L.define({
      name: 'double',
      forward: (_p, x) => ({ y: T.scale(2, x), tape: null }),
      vjp: (_p, _t, dy) => ({ dx: T.scale(2, dy), dp: L.none }),
    })
    const grower = { ...custom, shapes: undefined }
    const registry = IO.extend(IO.builtins, { double: () => grower })
    const model = L.pipe(grower, L.dense(2))
    const init = model.init(Key.fromSeed(0), [3])
    const text = IO.encodeCheckpoint(IO.modelCheckpoint(model, [3], init.params, init.state))
    expect(E.isRight(IO.parseCheckpoint(text, { registry }))).toBe(true)
    const doc = JSON.parse(text)
    doc.inShape = [2 ** 26]
    const r = IO.parseCheckpoint(JSON.stringify(doc), { registry })
    expect(E.isLeft(r) && r.left.kind).toBe('too-large')
    expect(E.isLeft(r) && r.left.message).toMatch(/^inShape: \[67108864\] is 67108864 values per example; .* at most 65536/)
  })
})

describe('a custom layer without a shape rule: its init is bounded by the values the checkpoint holds', () => {
  /** A dense layer written without a shape rule: its init allocates whatever `units` says. */
  const looseDense = (units: number) =>
    L.define({
      name: 'looseDense',
      spec: { kind: 'looseDense', units },
      init: (key, inShape) => ({ outShape: [units], params: { W: Key.normal(key, [inShape[0]!, units]) } }),
      forward: ({ W }, x) => ({ y: T.matmul(x, W), tape: x }),
      vjp: ({ W }, x, dy) => ({ dx: T.matmulNT(dy, W), dp: { W: T.matmulTN(x, dy) } }),
    })
  const registry = IO.extend(IO.builtins, {
    looseDense: (s) => looseDense(typeof s['units'] === 'number' ? s['units'] : NaN),
  })
  const model = L.pipe(L.dense(4), looseDense(3), L.relu)
  const init = model.init(Key.fromSeed(0), [2])
  const text = IO.encodeCheckpoint(IO.modelCheckpoint(model, [2], init.params, init.state))
  const present = Tree.size(init.params) + Tree.size(init.state)
  /** The checkpoint loaded with every tensor allocation of the loader counted: at most `values` float64s. */
  const load = (doc: unknown, values: number) => T.withAllocationLimit(values, () => IO.decodeCheckpoint(doc, { registry }))
  const bound = IO.UNCHECKED_ALLOCATION_FACTOR * (present + IO.MAX_UNCHECKED_INPUT)

  it('an honest checkpoint loads, its custom init run within the bound', () => {
    const ck = load(JSON.parse(text), bound)
    expect(E.isRight(ck)).toBe(true)
  })

  it('a custom layer whose units claim 2^22 is refused as too-large, naming its spec path, before its init allocates them', () => {
    const doc = JSON.parse(text)
    doc.spec.children[1].units = 2 ** 22 // 4·2^22 weights: 128 MB
    const ck = load(doc, bound)
    expect(E.isLeft(ck) && ck.left.kind).toBe('too-large')
    expect(E.isLeft(ck) && ck.left.message).toBe(
      `spec.children[1]: looseDense(units=4194304) has no shape rule, so its init may allocate at most 4 × (the ${present} values ` +
        `stored + 65536) = ${bound} values: pipe[1].looseDense: its init on input [4] would allocate more; that input's size is set ` +
        'by pipe[0], dense(units=4, init="he", bias=true); the spec claims more than the checkpoint holds (give the layer a shape rule, ' +
        '`shapes`, to have its settings checked exactly)',
    )
  })

  it("a built-in layer's hyper-parameters in the same network go through its shape rule: the custom init then gets the size they claim, and says who set it", () => {
    const doc = JSON.parse(text)
    doc.spec.children[0].units = 2 ** 22 // the built-in dense before the custom layer
    const ck = load(doc, bound)
    expect(E.isLeft(ck) && ck.left.kind).toBe('too-large')
    expect(E.isLeft(ck) && ck.left.message).toMatch(
      /^spec\.children\[1\]: looseDense\(units=3\) has no shape rule, .*: pipe\[1\]\.looseDense: its init on input \[4194304\] would allocate more; that input's size is set by pipe\[0\], dense\(units=4194304,/,
    )
  })

  it('a custom layer with a shape rule is checked by it, its init never run (how an author protects a layer)', () => {
    let inits = 0
    const ruled = (units: number) => {
      const layer = looseDense(units)
      return {
        ...layer,
        init: (key: Key.Key, inShape: readonly number[]) => (inits++, layer.init(key, inShape)),
        shapes: (inShape: readonly number[]) => ({ outShape: [units], params: { W: { shape: [inShape[0]!, units] } }, state: L.none }),
      }
    }
    const withRule = IO.extend(IO.builtins, { looseDense: (s) => ruled(typeof s['units'] === 'number' ? s['units'] : NaN) })
    const doc = JSON.parse(text)
    doc.spec.children[1].units = 2 ** 40
    const ck = T.withAllocationLimit(1000, () => IO.decodeCheckpoint(doc, { registry: withRule }))
    expect(E.isLeft(ck) && ck.left.message).toMatch(
      /^params\[1\]\.W: shape \[4, 3\] in the checkpoint, but the spec makes \[4, 1099511627776\]/,
    )
    expect(inits).toBe(0)
  })
})

const shapesOf = (tree: TreeT): unknown =>
  Array.isArray(tree)
    ? tree.map(shapesOf)
    : 'shape' in tree && 'data' in tree
      ? tree.shape
      : Object.fromEntries(Object.entries(tree).map(([k, v]) => [k, shapesOf(v as TreeT)]))
const bare = (tree: ShapeTree): unknown =>
  isShapeLeaf(tree)
    ? tree.shape
    : Array.isArray(tree)
      ? tree.map(bare)
      : Object.fromEntries(Object.entries(tree).map(([k, v]) => [k, bare(v)]))

describe('law 5 (shapes): a shape rule says what init makes, without making it', () => {
  it("random networks: shapes(inShape) has init(key, inShape)'s output shape and param and state shapes", () => {
    fc.assert(
      fc.property(RandomNetwork.randomNetwork(3), ({ layer, inDim }) => {
        const rule = layer.shapes
        expect(rule).toBeDefined()
        const s = rule!([inDim])
        const i = layer.init(Key.fromSeed(1), [inDim])
        expect(s.outShape).toEqual(i.outShape)
        expect(bare(s.params)).toEqual(shapesOf(i.params))
        expect(bare(s.state)).toEqual(shapesOf(i.state))
      }),
      { numRuns: 200, seed: defaultSeed() },
    )
  })

  it('conv networks and every built-in kind agree too, and reject the same shapes', () => {
    const net = L.pipe(
      L.conv2d(3, 3, { padding: 'same', stride: 2 }),
      L.batchNorm(),
      L.relu,
      L.residual(L.pipe(L.conv2d(3, [1, 3], { padding: 'same', bias: false }), L.elu())),
      L.branches('concat', L.avgPool2d(2), L.maxPool2d(2, { padding: 1 })),
      L.globalAvgPool,
      L.reshape([2, 3]),
      L.flatten,
      L.dropout({ dropProb: 0.5 }),
      L.dense(4, { bias: false }),
      L.softmax,
    )
    for (const inShape of [
      [2, 9, 9],
      [1, 4, 4],
      [2, 9],
      [3, 3, 3],
    ]) {
      let init: ReturnType<typeof net.init> | Error
      try {
        init = net.init(Key.fromSeed(0), inShape)
      } catch (e) {
        init = e as Error
      }
      if (init instanceof Error) {
        expect(() => net.shapes!(inShape)).toThrow(init.message.split(';')[0]!)
        continue
      }
      const s = net.shapes!(inShape)
      expect(s.outShape).toEqual(init.outShape)
      expect(bare(s.params)).toEqual(shapesOf(init.params))
      expect(bare(s.state)).toEqual(shapesOf(init.state))
    }
  })
})
