// The consumer's own vitest file: chainrule/laws run on a layer the consumer wrote.
import { expect, test } from 'vitest'
import { L, T } from 'chainrule'
import { checkLayer } from 'chainrule/laws'

// square(x) = x², so dx = 2x·dy
const square = L.define({
  name: 'square',
  forward: (_p, x) => ({ y: T.mul(x, x), tape: x }),
  vjp: (_p, x, dy) => ({ dx: T.scale(2, T.mul(x, dy)), dp: L.none }),
})

// the factor 2 forgotten
const wrongSquare = L.define({
  name: 'wrongSquare',
  forward: (_p, x) => ({ y: T.mul(x, x), tape: x }),
  vjp: (_p, x, dy) => ({ dx: T.mul(x, dy), dp: L.none }),
})

test('square obeys the layer laws', () => checkLayer(square, { inShape: [3] }))

test('a square whose vjp forgot the 2 breaks them', () => {
  expect(() => checkLayer(wrongSquare, { inShape: [3], numRuns: 20 })).toThrow(/wrongSquare/)
})
