/**
 * Example 02: learn XOR with plain gradient steps.
 *
 * No optimizer module: one training step is forward, loss, vjp, and then
 *   params ← params - lr · grads
 * written with Tree.map2 over the whole parameter tree.
 *
 * Run: npx tsx examples/02-xor.ts
 */
import { Key, L, Loss, T, Tree } from 'chainrule'
import { flags } from './cli.ts'

flags('', {}) // no flags: --help describes the example, and anything else is refused

const x = T.tensor([
  [0, 0],
  [0, 1],
  [1, 0],
  [1, 1],
])
const y = T.tensor([0, 1, 1, 0]) // XOR: class 1 when exactly one input is on

const net = L.pipe(L.dense(8), L.tanh, L.dense(2))
const init = L.initialize(net, Key.fromSeed(42), [2])
const ctx = { mode: 'train' as const, key: Key.fromSeed(0) }
const lr = 0.5

let params = init.params
for (let step = 0; step <= 2000; step++) {
  const { y: logits, tape } = net.forward(params, init.state, x, ctx)
  const { value, grad } = Loss.softmaxCrossEntropy(logits, y)
  const { dp } = net.vjp(params, tape, grad)
  params = Tree.map2(params, dp, (p, g) => T.addScaled(p, -lr, g)) // p - lr·g, leaf by leaf
  if (step % 250 === 0) console.log(`step ${String(step).padStart(4)}  loss ${value.toFixed(6)}`)
}

const logits = net.forward(params, init.state, x, { ...ctx, mode: 'eval' }).y
const predicted = Array.from(T.argmaxRows(logits))
const correct = predicted.filter((p, i) => p === y.data[i]).length
console.log('\n x1 x2 | xor | predicted')
for (let i = 0; i < 4; i++) console.log(`  ${x.data[2 * i]}  ${x.data[2 * i + 1]} |  ${y.data[i]}  |  ${predicted[i]}`)
console.log(`\naccuracy: ${((100 * correct) / 4).toFixed(0)}%`)
if (correct !== 4) process.exit(1)
