/**
 * A shape error names the layer that broke its word: a child whose forward returns another shape than the
 * outShape its init declared is named (not the layer after it, which only received the wrong y), and the
 * layers a message names besides its own carry full paths, however deep the network.
 */
import { describe, expect, test } from 'vitest'
import { Key, L, T, Train } from '../../src/index.ts'
import { thrown } from '../support/thrown.ts'

const key = Key.fromSeed(3)
/** Declares y like x (no init: it keeps the shape) but returns [x, x] side by side: twice the features. */
const widen = L.define({
  name: 'widen',
  forward: (_p, x) => ({ y: T.concat(1)([x, x]), tape: null }),
  vjp: (_p, _t, dy) => ({ dx: dy, dp: L.none }),
})

/** Declares one more feature than it returns. */
const overclaims = L.define({
  name: 'overclaims',
  outShape: (inShape) => [inShape[0]! + 1],
  forward: (_p, x) => ({ y: x, tape: null }),
  vjp: (_p, _t, dy) => ({ dx: dy, dp: L.none }),
})

const predictThrown = (net: L.AnyLayer, x: number[][]): Error => {
  const { params, state } = L.initialize(net, key, [x[0]!.length])
  return thrown(Error, () => Train.predict(net, params, state, T.tensor(x)))
}

describe("a child whose y disagrees with its init's outShape", () => {
  test('in a pipe: that child is named, with both shapes, and what the layer after it said', () => {
    const e = predictThrown(L.pipe(L.dense(4), widen, L.dense(2)), [[1, 2, 3]])
    expect(e).toBeInstanceOf(L.ShapeError)
    expect(e.message).toBe(
      'pipe[1].widen: its forward returned y of shape [1, 8] for x of shape [1, 4], but its init declares the output shape [4] ' +
        'for the input [4], so y must be [1, 4]: make forward return the shape init declares (law 5 checks it: checkLayer from ' +
        'chainrule/laws); the layer after it refused that y: pipe[2].dense, input shape: expected [N, 4], got [1, 8]',
    )
  })

  test('an init that declares a shape its forward does not give is named, not the dense it misled', () => {
    const e = predictThrown(L.pipe(L.dense(4), overclaims, L.relu, L.dense(2)), [[1, 2, 3]])
    expect(e.message).toMatch(/^pipe\[1\]\.overclaims: its forward returned y of shape \[1, 4\] .* output shape \[5\] for the input \[4\]/)
    expect(e.message).toMatch(/a later layer refused that y: pipe\[3\]\.dense, input shape: expected \[N, 5\], got \[1, 4\]$/)
  })

  test('deep inside: the full path to the child, and to the layer that refused its y', () => {
    const net = L.pipe(L.dense(4), L.pipe(L.relu, L.residual(L.pipe(widen, L.relu, L.dense(4)))), L.dense(2))
    const e = predictThrown(net, [[1, 2, 3]])
    expect((e as L.ShapeError).path).toEqual(['pipe[1]', 'pipe[1]', 'residual', 'pipe[0]', 'widen'])
    expect(e.message).toMatch(/a later layer refused that y: pipe\[1\]\.pipe\[1\]\.residual\.pipe\[2\]\.dense, input shape/)
  })

  test("a residual's body that returns another shape is named", () => {
    const e = predictThrown(L.pipe(L.dense(4), L.residual(widen)), [[1, 2, 3]])
    expect(e.message).toMatch(/^pipe\[1\]\.residual\.widen: its forward returned y of shape \[1, 8\] for x of shape \[1, 4\]/)
  })

  test('in branches: the branch whose y is not what its init declares is named, with what the merge said', () => {
    const e = predictThrown(L.pipe(L.dense(4), L.branches('sum', L.relu, widen)), [[1, 2, 3]])
    expect(e.message).toBe(
      'pipe[1].branches[1].widen: its forward returned y of shape [1, 8] for x of shape [1, 4], but its init declares the output ' +
        'shape [4] for the input [4], so y must be [1, 4]: make forward return the shape init declares (law 5 checks it: ' +
        'checkLayer from chainrule/laws); so the merge failed: pipe[1].branches, add: shapes differ, [1, 4] vs [1, 8]',
    )
  })

  test('children that keep their word are not blamed: a wrong param is named at its own layer', () => {
    const net = L.pipe(L.dense(4), L.relu, L.dense(2))
    const { params, state } = L.initialize(net, key, [3])
    const bad = [params[0], params[1], { ...params[2], W: T.zeros([5, 2]) }] as const
    const e = thrown(Error, () => net.forward(bad, state, T.tensor([[1, 2, 3]]), { mode: 'eval', key }))
    expect(e.message).toMatch(/^pipe\[2\]\.dense: /)
  })

  test("a fused conv2d + relu + max-pool is judged as one layer (its y is the pool's), so it is not blamed", () => {
    const net = L.pipe(L.conv2d(2, 3, { padding: 1 }), L.relu, L.maxPool2d(2), L.flatten, L.dense(3))
    const { params, state } = L.initialize(net, key, [1, 4, 4])
    const bad = [params[0], params[1], params[2], params[3], { ...params[4], W: T.zeros([7, 3]) }] as const
    const e = thrown(Error, () => net.forward(bad, state, T.zeros([2, 1, 4, 4]), { mode: 'eval', key }))
    expect(e.message).toMatch(/^pipe\[4\]\.dense: /)
  })
})

describe('the layers a shape message names besides its own have full paths', () => {
  test('a residual whose body changes the size, inside pipes: the body layer that set it, by its full path', () => {
    // @ts-expect-error the compiler sees it too (docs/shapes.md); this is what run time says
    const net = L.pipe(L.dense(3), L.pipe(L.flatten, L.residual(L.pipe(L.dense(5), L.relu))))
    const e = thrown(Error, () => net.shapes!([4]))
    expect(e.message).toBe(
      'pipe[1].pipe[1].residual: the body must keep the shape of its input: input [3], body output [5]; that size is set by ' +
        'pipe[1].pipe[1].residual.pipe[0], dense(units=5, init="he", bias=true); that input\'s size is set by pipe[0], ' +
        'dense(units=3, init="he", bias=true)',
    )
  })

  test('nested pipes: each setter is named from the root', () => {
    // @ts-expect-error the compiler sees it too (docs/shapes.md); this is what run time says
    const net = L.pipe(L.dense(3), L.pipe(L.dense(5), L.pipe(L.relu, L.conv2d(2, 3))))
    const e = thrown(Error, () => net.shapes!([4]))
    expect(e.message).toBe(
      "pipe[1].pipe[1].pipe[1].conv2d: input shape: expected [channels, height, width], got [5]; that input's size is set by " +
        'pipe[1].pipe[0], dense(units=5, init="he", bias=true); that input\'s size is set by pipe[0], dense(units=3, init="he", bias=true)',
    )
  })
})

describe('a layer made with define that wraps another', () => {
  // y = 2·dense(x): the dense's own errors name it, and now the wrapper around it too
  const inner = L.dense(3)
  const doubled = L.define({
    name: 'doubled',
    init: (k, inShape) => {
      const r = inner.init(k, inShape)
      return { outShape: r.outShape, params: r.params }
    },
    forward: (p: L.DenseParams, x) => {
      const r = inner.forward(p, L.none, x, { mode: 'eval', key })
      return { y: T.scale(2, r.y), tape: r.tape }
    },
    vjp: (p: L.DenseParams, tape, dy) => inner.vjp(p, tape, T.scale(2, dy)),
  })

  test("the inner layer's shape error names the wrapper first, as the summary and the other errors name it", () => {
    expect(() => L.initialize(L.pipe(L.flatten, L.relu, doubled), key, [2, 2])).not.toThrow()
    expect(() => doubled.init(key, [2, 2])).toThrow(/^doubled\.dense: input shape: expected \[features\]/)
    const net = L.pipe(L.dense(4), doubled)
    const { params, state } = L.initialize(net, key, [2])
    const bad = [params[0], { ...params[1], b: T.zeros([5]) }] as const
    expect(() => net.forward(bad, state, T.zeros([1, 2]), { mode: 'eval', key })).toThrow(
      /^pipe\[1\]\.doubled\.dense: param b has shape \[5\]/,
    )
  })
})
