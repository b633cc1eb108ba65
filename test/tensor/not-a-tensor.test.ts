/**
 * Every exported T function that takes tensors, given a number, an array, undefined or another non-tensor in the
 * place of one, throws a NotATensorError (a TensorError) naming the function and the argument; the list of exports
 * is checked to be complete, so a new function cannot be left out.
 */
import { describe, expect, test } from 'vitest'
import { Key, L, T } from '../../src/index.ts'

const x = T.ones([2, 2])
const v = T.ones([2])

/** A call of a T function with `bad` in one tensor's place, and the words that name that place. */
type Call = readonly [argument: string, call: (bad: T.Tensor) => unknown]

/** Each exported function that takes tensors, with a call per tensor argument. */
const takesTensors: Record<string, readonly Call[]> = {
  abs: [['argument', (b) => T.abs(b)]],
  add: [
    ['first argument', (b) => T.add(b, x)],
    ['second argument', (b) => T.add(x, b)],
  ],
  addRowVector: [
    ['first argument', (b) => T.addRowVector(b, v)],
    ['second argument', (b) => T.addRowVector(x, b)],
  ],
  addScalar: [['second argument', (b) => T.addScalar(1, b)]],
  addScaled: [
    ['first argument', (b) => T.addScaled(b, 2, x)],
    ['third argument', (b) => T.addScaled(x, 2, b)],
  ],
  allFinite: [['argument', (b) => T.allFinite(b)]],
  argmaxRows: [['argument', (b) => T.argmaxRows(b)]],
  asTensor: [['argument', (b) => T.asTensor(b)]],
  assertShape: [['first argument', (b) => T.assertShape(b, [2, 2], 'here')]],
  cast: [['first argument', (b) => T.cast(b, 'float32')]],
  checkDTypes: [
    ['second argument', (b) => T.checkDTypes('here', b, x)],
    ['third argument', (b) => T.checkDTypes('here', x, b)],
  ],
  concat: [['argument', (b) => T.concat(0)([x, b])]],
  copy: [['argument', (b) => T.copy(b)]],
  div: [
    ['first argument', (b) => T.div(b, x)],
    ['second argument', (b) => T.div(x, b)],
  ],
  dot: [
    ['first argument', (b) => T.dot(b, x)],
    ['second argument', (b) => T.dot(x, b)],
  ],
  dtypeMismatch: [
    ['second argument', (b) => T.dtypeMismatch('here', b, x)],
    ['third argument', (b) => T.dtypeMismatch('here', x, b)],
  ],
  dtypeOf: [['argument', (b) => T.dtypeOf(b)]],
  exp: [['argument', (b) => T.exp(b)]],
  float32Of: [['argument', (b) => T.float32Of(b)]],
  fullLike: [['first argument', (b) => T.fullLike(b, 2)]],
  gatherRows: [['first argument', (b) => T.gatherRows(b, [0])]],
  get: [['first argument', (b) => T.get(b, [0, 0])]],
  isFloat32: [['argument', (b) => T.isFloat32(b)]],
  log: [['argument', (b) => T.log(b)]],
  map: [['argument', (b) => T.map((u) => u)(b)]],
  matmul: [
    ['first argument', (b) => T.matmul(b, x)],
    ['second argument', (b) => T.matmul(x, b)],
  ],
  matmulNT: [
    ['first argument', (b) => T.matmulNT(b, x)],
    ['second argument', (b) => T.matmulNT(x, b)],
  ],
  matmulTN: [
    ['first argument', (b) => T.matmulTN(b, x)],
    ['second argument', (b) => T.matmulTN(x, b)],
  ],
  max: [['argument', (b) => T.max(b)]],
  maxAxis: [['argument', (b) => T.maxAxis(0)(b)]],
  mean: [['argument', (b) => T.mean(b)]],
  meanAxis: [['argument', (b) => T.meanAxis(0)(b)]],
  mul: [
    ['first argument', (b) => T.mul(b, x)],
    ['second argument', (b) => T.mul(x, b)],
  ],
  neg: [['argument', (b) => T.neg(b)]],
  norm: [['argument', (b) => T.norm(b)]],
  reshape: [['argument', (b) => T.reshape([4])(b)]],
  scale: [['second argument', (b) => T.scale(2, b)]],
  sliceRows: [['first argument', (b) => T.sliceRows(b, 0, 1)]],
  split: [['argument', (b) => T.split(0, [1, 1])(b)]],
  sqrt: [['argument', (b) => T.sqrt(b)]],
  square: [['argument', (b) => T.square(b)]],
  stack: [['argument', (b) => T.stack([x, b])]],
  sub: [
    ['first argument', (b) => T.sub(b, x)],
    ['second argument', (b) => T.sub(x, b)],
  ],
  sum: [['argument', (b) => T.sum(b)]],
  sumAxis: [['argument', (b) => T.sumAxis(0)(b)]],
  toNested: [['argument', (b) => T.toNested(b)]],
  toString: [['first argument', (b: T.Tensor) => T.toString(b)] as const], // the name Object.prototype has: tsc needs the tuple stated
  transpose: [['argument', (b) => T.transpose()(b)]],
  zipWith: [
    ['second argument', (b) => T.zipWith((p, q) => p + q, b, x)],
    ['third argument', (b) => T.zipWith((p, q) => p + q, x, b)],
  ],
}

/** stack and concat take an array of tensors: the bad value is its element 1. */
const inArray = new Set(['stack', 'concat'])

/** The exported functions that take no tensor (classes, constructors from shapes and numbers, buffers, the checks themselves). */
const takesNoTensor = new Set([
  'AllocationLimitError',
  'DTypeError',
  'NotATensorError',
  'TensorError',
  'assertConfig',
  'assertTensor',
  'assertTensors',
  'buffer',
  'buffer32',
  'fromArray',
  'fromData',
  'fromData32',
  'full',
  'generate',
  'indexBuffer',
  'knownFinite',
  'markFinite',
  'ones',
  'recycling',
  'sameShape',
  'scalar',
  'showIndex',
  'showShape',
  'sizeOf',
  'tensor',
  'withAllocationLimit',
  'withAllocator',
  'zeros',
  'zeros32',
])

/** Things that are not tensors, with how the message describes them. */
const notTensors: readonly (readonly [unknown, string])[] = [
  [2, 'a number (2)'],
  [undefined, 'undefined'],
  [null, 'null'],
  [[1, 2], 'an array of 2'],
  [{ x, y: v }, 'an object {x, y}'],
  [{ shape: [2], data: [1, 2] }, 'an object whose data is an array'],
  [{ shape: [2], data: new Int32Array(2) }, 'an object whose data is a typed array (Int32Array)'],
  [T.exp, 'a function'],
  ['x', 'a string'],
]

describe('T functions given something that is not a tensor', () => {
  test('every exported function is listed as taking tensors or not (a new export must be added to one list)', () => {
    const functions = Object.entries(T)
      .filter(([, f]) => typeof f === 'function')
      .map(([name]) => name)
    const unlisted = functions.filter((name) => !(name in takesTensors) && !takesNoTensor.has(name))
    expect(unlisted).toEqual([])
    expect(functions.filter((name) => name in takesTensors && takesNoTensor.has(name))).toEqual([])
    expect([...Object.keys(takesTensors), ...takesNoTensor].filter((name) => !functions.includes(name))).toEqual([]) // no stale entry
  })

  const cases = Object.entries(takesTensors).flatMap(([name, calls]) =>
    calls.flatMap(([argument, call]) => notTensors.map(([bad, what]) => [name, argument, what, call, bad] as const)),
  )
  test.each(cases)('T.%s, its %s %s: a NotATensorError naming the function and the argument', (name, argument, what, call, bad) => {
    let e: unknown
    try {
      call(bad as T.Tensor) // the cast stands for plain JavaScript, or data typed any
    } catch (err) {
      e = err
    }
    expect(e).toBeInstanceOf(T.NotATensorError)
    expect(e).toBeInstanceOf(T.TensorError)
    const place = inArray.has(name) ? `element 1 of its ${argument}` : `its ${argument}`
    expect((e as Error).message.startsWith(`T.${name}: ${place} is ${what}, not a tensor; `), (e as Error).message).toBe(true)
  })

  test('the messages say what to write instead', () => {
    const bad = (f: () => unknown): string => {
      try {
        f()
      } catch (e) {
        if (e instanceof T.NotATensorError) return e.message
        throw e
      }
      throw new Error('expected a NotATensorError')
    }
    const loose = T as unknown as Record<string, (...args: unknown[]) => unknown> // plain JavaScript's view of T
    expect(bad(() => loose['add']!(x, 2))).toBe(
      'T.add: its second argument is a number (2), not a tensor; ' +
        "for x + 2 use T.addScalar(2, x); T.fullLike(x, 2) is a tensor of x's shape and dtype",
    )
    expect(bad(() => loose['mul']!(x, 3))).toMatch(/; for 3·x use T\.scale\(3, x\);/)
    expect(bad(() => loose['scale']!(x, 2))).toBe(
      'T.scale: its second argument is a number (2), not a tensor; T.scale takes the number first: T.scale(2, x)',
    )
    expect(bad(() => loose['sliceRows']!(0, 4))).toBe(
      'T.sliceRows: its first argument is a number (0), not a tensor; the tensor comes first, not curried: T.sliceRows(x, start, end)',
    )
    expect(bad(() => loose['gatherRows']!(2, [0]))).toMatch(/; the tensor comes first, not curried: T\.gatherRows\(x, indices\)$/)
    expect(() => loose['scale']!(x, x)).toThrow(
      new T.TensorError('T.scale: its first argument must be a number, got object; for two tensors use T.mul(x, y)'),
    )
    expect(() => loose['addScalar']!('1', x)).toThrow(new T.TensorError('T.addScalar: its first argument must be a number, got string'))
    expect(bad(() => loose['sum']!([1, 2]))).toBe(
      'T.sum: its argument is an array of 2, not a tensor; make one from nested numbers with T.tensor([...])',
    )
    expect(bad(() => loose['matmul']!(x))).toMatch(
      /^T\.matmul: its second argument is undefined, not a tensor; a tensor is \{ shape, data \}/,
    )
    expect(bad(() => loose['exp']!(T.ones))).toBe('T.exp: its argument is a function, not a tensor; did you forget to call it?')
    expect(bad(() => loose['stack']!(x))).toBe(
      'T.stack: its argument is a tensor [2, 2], not an array of tensors; pass an array of tensors, e.g. T.stack([t])',
    )
    expect(bad(() => T.concat(0)(undefined as unknown as T.Tensor[]))).toBe(
      'T.concat: its argument is undefined, not an array of tensors; pass an array of tensors',
    )
  })

  test('a T function given a non-tensor inside a layer: a NotATensorError, not a ShapeError, with the layer path', () => {
    const plusTwo = L.define({
      name: 'plusTwo',
      forward: (_p, input) => ({ y: T.add(input, 2 as unknown as T.Tensor), tape: null }), // as plain JavaScript would
      vjp: (_p, _tape, dy) => ({ dx: dy, dp: L.none }),
    })
    const net = L.pipe(L.dense(2), plusTwo)
    const { params, state } = L.initialize(net, Key.fromSeed(0), [2])
    let e: unknown
    try {
      net.forward(params, state, x, { mode: 'eval', key: Key.fromSeed(1) })
    } catch (err) {
      e = err
    }
    expect(e).toBeInstanceOf(T.NotATensorError)
    expect(e).not.toBeInstanceOf(L.ShapeError)
    expect((e as T.NotATensorError).path).toEqual(['pipe[1]', 'plusTwo'])
    expect((e as Error).message).toMatch(/^pipe\[1\]\.plusTwo: T\.add: its second argument is a number \(2\), not a tensor; /)
  })
})
