/**
 * Example 03: write your own layer, then let the laws test it.
 *
 * swish(x) = x · σ(x). By the product rule, d swish/dx = σ(x) + x · σ(x)(1 - σ(x)),
 * so the vjp is dx = dy ⊙ (s + x s (1 - s)) with s = σ(x) kept on the tape.
 *
 * Run: npx tsx examples/03-custom-layer.ts
 */
import { Key, L, T } from 'chainrule'
import { checkLayer } from 'chainrule/laws'
import { flags } from './cli.ts'

flags('', {}) // no flags: --help describes the example, and anything else is refused

// The whole layer: a forward, its vjp, side by side.
const swish = L.define({
  name: 'swish',
  forward: (_p, x) => {
    const s = T.map(L.logistic)(x)
    return { y: T.mul(x, s), tape: { x, s } }
  },
  vjp: (_p, { x, s }, dy) => ({
    dx: T.mul(
      dy,
      T.zipWith((xi, si) => si + xi * si * (1 - si), x, s),
    ), // dy ⊙ (s + x s (1 - s))
    dp: L.none,
  }),
})

// Use it like any built-in.
const net = L.pipe(L.dense(4), swish, L.dense(1))
const { params, state } = L.initialize(net, Key.fromSeed(1), [3])
const y = net.forward(params, state, T.ones([2, 3]), { mode: 'eval', key: Key.fromSeed(0) }).y
console.log('swish network output:\n' + T.toString(y))

// And law-test it: gradient (per coordinate and directional), linearity, shapes, purity, batches,
// and (float32: true) that in float32 it keeps the dtype and agrees with float64: T's operations
// follow their inputs' dtype, so the same code runs in both.
checkLayer(swish, { inShape: [5], float32: true })
console.log('\nswish passes every layer law, in float32 too.')

// A subtly wrong vjp (forgetting the product rule's second term) is caught:
const wrong = L.define({
  name: 'swishWrong',
  forward: (_p, x) => {
    const s = T.map(L.logistic)(x)
    return { y: T.mul(x, s), tape: { s } }
  },
  vjp: (_p, { s }, dy) => ({ dx: T.mul(dy, s), dp: L.none }),
})
try {
  checkLayer(wrong, { inShape: [5], numRuns: 20 })
  console.log('the wrong swish passed?!')
  process.exit(1)
} catch (e) {
  // The report holds one block per failed law; print the count and the first block whole.
  const [count, first] = (e as Error).message.split('\n\n')
  console.log(`\nThe wrong swish is rejected: ${(count ?? '').replace(/:$/, '')}. The first:\n${first}`)
  console.log('\nThe shrunk input x is tiny, so the missing term x·σ(x)·(1 − σ(x)) is tiny too, but the laws still see it.')
}
