import { describe, expect, test } from 'vitest'
import { pipe as fpPipe } from 'fp-ts/function'
import { Key, L, T } from '../../src/index.ts'
import { checkCombinators, checkRandomNetworks } from '../../laws/index.ts'

describe('combinator laws (8, 9)', () => {
  test('dense, tanh, dense: identity, associativity, fan-out, residual', () =>
    checkCombinators({ f: L.dense(3), g: L.tanh, h: L.dense(2), inShape: [2] }))
  test('relu, dense, softmax (shape-keeping pipe exercises residual)', () =>
    checkCombinators({ f: L.relu, g: L.dense(4), h: L.softmax, inShape: [4] }))
  test('flatten, dense, sigmoid on a 2x2 input', () => checkCombinators({ f: L.flatten, g: L.dense(3), h: L.sigmoid, inShape: [2, 2] }))
})

describe('law 10: random well-shaped networks', () => {
  test('pass the directional gradient check', () => checkRandomNetworks({ maxDepth: 3 }))
})

describe('combinator behaviour', () => {
  const key = Key.fromSeed(7)
  const ctx = { mode: 'eval' as const, key }
  test('fp-ts pipe with andThen builds a network computing the same as L.pipe', () => {
    const a = L.dense(3)
    const b = L.dense(2)
    const viaFp = fpPipe(a, L.andThen(L.tanh), L.andThen(b))
    const flat = L.pipe(a, L.tanh, b)
    const init = L.initialize(flat, key, [4])
    const [pa, pt, pb] = init.params
    const x = Key.normal(Key.fromSeed(1), [2, 4])
    const y1 = flat.forward(init.params, init.state, x, ctx).y
    const y2 = viaFp.forward([[pa, pt], pb], [[L.none, L.none], L.none], x, ctx).y
    expect(Array.from(y2.data)).toEqual(Array.from(y1.data))
  })
  test('pipe threads shapes at init and reports the path of a mismatch', () => {
    // @ts-expect-error the compile-time shape rule rejects this too (test/types); here the run-time check is under test
    const net = L.pipe(L.dense(8), L.relu, L.residual(L.pipe(L.dense(8), L.flatten, L.dense(5))))
    // @ts-expect-error the compile-time shape rule rejects this too (test/types); here the run-time check is under test
    expect(() => L.initialize(net, key, [3])).toThrow(
      'pipe[2].residual: the body must keep the shape of its input: input [8], body output [5]',
    )
    expect(() => L.initialize(L.pipe(L.flatten, L.dense(2)), key, [1, 2, 2])).not.toThrow()
    // @ts-expect-error the compile-time shape rule rejects this too (test/types); here the run-time check is under test
    expect(() => L.initialize(L.pipe(L.relu, L.dense(2)), key, [2, 2])).toThrow(/pipe\[1\]\.dense: input shape: expected \[features\]/)
  })
  test('a forward with the wrong input shape names the layer path and both shapes', () => {
    const net = L.pipe(L.dense(4), L.relu, L.pipe(L.dense(3), L.tanh))
    const { params, state } = L.initialize(net, key, [5])
    expect(() => net.forward(params, state, T.zeros([2, 6]), ctx)).toThrow('pipe[0].dense: input shape: expected [N, 5], got [2, 6]')
    expect(() => net.forward(params, state, T.zeros([5]), ctx)).toThrow(
      'pipe[0].dense: the input has shape [5]: forward takes a batch [N, 5]; add a batch axis, e.g. T.reshape([1, 5])',
    )
  })
  test('a vjp with a wrong cotangent shape names the layer', () => {
    const net = L.pipe(L.dense(4), L.tanh, L.dense(3))
    const { params, state } = L.initialize(net, key, [2])
    const { tape } = net.forward(params, state, T.ones([2, 2]), ctx)
    expect(() => net.vjp(params, tape, T.ones([2, 4]))).toThrow(/pipe\[2\]\.dense: .*expected \[N, 3\], got \[2, 4\]/)
  })
  test('pipe splits the key once per child: children see different keys', () => {
    const seen: string[] = []
    const spy = {
      ...L.identity,
      forward: (p: L.None, s: L.None, x: T.Tensor, c: L.Ctx) => {
        seen.push(Key.show(c.key))
        return L.identity.forward(p, s, x, c)
      },
    }
    const net = L.pipe(spy, spy, spy)
    net.forward([L.none, L.none, L.none], [L.none, L.none, L.none], T.zeros([1, 1]), ctx)
    expect(new Set(seen).size).toBe(3)
  })
  test('branches(sum) with different output widths is rejected at init', () => {
    // @ts-expect-error the compile-time shape rule rejects this too (test/types); here the run-time check is under test
    expect(() => L.initialize(L.branches('sum', L.dense(2), L.dense(3)), key, [4])).toThrow(/branches: sum needs equal shapes/)
  })
  test('the pipe tape is a printable tuple of the children’s tapes', () => {
    const net = L.pipe(L.dense(2), L.relu)
    const { params, state } = L.initialize(net, key, [2])
    const x = T.tensor([[1, -1]])
    const { tape } = net.forward(params, state, x, ctx)
    expect(tape).toHaveLength(2)
    expect(tape[0].x).toBe(x)
  })
})
