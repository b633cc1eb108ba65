/**
 * A gradient law that fails on a network says which layer inside is at fault: each custom layer checked alone on
 * the input it gets there, or, when every one passes alone, the custom combinator that joins them.
 */
import { describe, expect, test } from 'vitest'
import { L, T } from '../../src/index.ts'
import { checkLayer } from '../../laws/index.ts'
import { innerLayers } from '../../laws/locate.ts'

const failure = (f: () => unknown): Error => {
  try {
    f()
  } catch (e) {
    if (e instanceof Error) return e
  }
  throw new Error('expected the laws to fail')
}

/** tanh whose vjp uses 1 − x² for 1 − y². */
const badTanh = L.define({
  name: 'badTanh',
  forward: (_p, x) => ({ y: T.map(Math.tanh)(x), tape: x }),
  vjp: (_p, x, dy) => ({ dx: T.zipWith((v, d) => d * (1 - v * v), x, dy), dp: L.none }),
})
/** A correct custom layer: y = x². */
const square = L.define({
  name: 'square',
  forward: (_p, x) => ({ y: T.mul(x, x), tape: x }),
  vjp: (_p, x, dy) => ({ dx: T.scale(2, T.mul(x, dy)), dp: L.none }),
})
/** A custom combinator whose own vjp doubles dx: its children are right, the way it joins them is not. */
const twice = (f: L.AnyLayer): L.AnyLayer => {
  const inner: L.AnyLayer = L.pipe(f)
  return {
    ...inner,
    name: 'twice',
    spec: { kind: 'twice', body: f.spec },
    structure: { children: [{ label: 'twice', layer: f }], rebuild: ([g]) => twice(g!) },
    vjp: (p, tape, dy) => {
      const r = inner.vjp(p, tape, dy)
      return { dx: T.scale(2, r.dx), dp: r.dp }
    },
  }
}

describe('which layer inside a failing network', () => {
  test('innerLayers gives every layer inside with its path and the input shape it gets', () => {
    const net = L.pipe(L.dense(3), square, L.residual(L.pipe(L.dense(5), L.relu, L.dense(3))))
    expect(innerLayers(net, [4]).map((l) => `${l.path} ${l.inShape === undefined ? '?' : T.showShape(l.inShape)}`)).toEqual([
      'pipe [4]',
      'pipe[0].dense [4]',
      'pipe[1].square [3]',
      'pipe[2].residual [3]',
      'pipe[2].residual.pipe [3]',
      'pipe[2].residual.pipe[0].dense [3]',
      'pipe[2].residual.pipe[1].relu [5]',
      'pipe[2].residual.pipe[2].dense [5]',
    ])
  })

  test('a custom leaf with a wrong vjp deep inside is named, with the input shape it gets and its own failure', () => {
    const net = L.pipe(L.dense(3), square, L.residual(L.pipe(L.dense(5), badTanh, L.dense(3))), L.dense(2))
    const e = failure(() => checkLayer(net, { inShape: [4], numRuns: 30 }))
    expect(e.message).toMatch(
      /^Fix \(for "1\. vjp = central differences, per coordinate" and "2\. vjp = directional derivative"\): checked alone, on the input each gets in this network: pipe\[2\]\.residual\.pipe\[1\]\.badTanh \(input \[5\]\) fails alone: law "1\. vjp = central differences, per coordinate": dx\[/m,
    )
    expect(e.message).toContain('. Fix its vjp first')
    expect(e.message).not.toMatch(/square \(input/) // the correct custom layer is not blamed
  })

  test('when every custom layer passes alone, the custom combinator joining them is named', () => {
    const e = failure(() => checkLayer(L.pipe(L.dense(3), twice(L.pipe(square, L.dense(2)))), { inShape: [4], numRuns: 30 }))
    expect(e.message).toContain(
      'every custom layer without children inside passes laws 1 and 2 alone (pipe[1].twice.pipe[0].square), so the fault is in how ' +
        'they are joined: the vjp of the custom combinator pipe[1].twice',
    )
  })

  test('a leaf checked alone, or a network of correct layers, gets no such line', () => {
    expect(failure(() => checkLayer(badTanh, { inShape: [3], numRuns: 30 })).message).not.toContain('checked alone')
    expect(() => checkLayer(L.pipe(L.dense(3), square, L.tanh), { inShape: [4], numRuns: 30 })).not.toThrow()
  })
})
