/**
 * Example 01: backprop is just the chain rule.
 *
 * We build a tiny network, print its parameters (so every number below can be redone by
 * hand), run its layers forward one at a time (printing each output and what its tape
 * keeps), then walk back through the same layers calling each vjp by hand,
 * printing the cotangent as it flows. Finally a numerical gradient check compares every
 * analytic gradient with central differences.
 *
 * Run: npx tsx examples/01-backprop-by-hand.ts
 */
import { Gradcheck, Key, L, Loss, T, Tree } from 'chainrule'
import { flags } from './cli.ts'

flags('', {}) // no flags: --help describes the example, and anything else is refused

const show = (label: string, t: T.Tensor): void => console.log(`${label} = ${T.toString(t).replace(/\n/g, '\n    ')}\n`)

// A 2-3-2 classifier: dense → tanh → dense, softmax cross-entropy on the logits.
const layers: readonly L.AnyLayer[] = [L.dense(3), L.tanh, L.dense(2)]
const net = L.pipe(...layers)
const { params, state } = L.initialize(net, Key.fromSeed(2024), [2])
const ctx = { mode: 'train' as const, key: Key.fromSeed(0) }

const x = T.tensor([
  [0.5, -1.0],
  [1.5, 0.25],
]) // a batch of two examples
const labels = T.tensor([1, 0])

console.log('== the parameters: a dense layer computes y = x·W + b ==\n')
layers.forEach((layer, i) => {
  if (layer.name !== 'dense') return
  const p = params[i] as { W: T.Tensor; b: T.Tensor }
  show(`layer ${i} (dense) W`, p.W)
  show(`layer ${i} (dense) b`, p.b)
})

console.log('== forward: each layer maps its input to an output and keeps a tape ==\n')
show('x', x)
let h = x
const tapes: unknown[] = []
layers.forEach((layer, i) => {
  const r = layer.forward(params[i]!, state[i]!, h, ctx)
  tapes.push(r.tape)
  show(`layer ${i} (${layer.name}) output`, r.y)
  console.log(`    its tape keeps: ${Object.keys(r.tape as object).join(', ')}\n`)
  h = r.y
})

const { value, grad } = Loss.softmaxCrossEntropy(h, labels)
console.log(`== loss ==\n\nsoftmax cross-entropy = ${value.toFixed(6)}`)
show('dL/dlogits = (softmax(logits) - onehot) / N', grad)

console.log('== backward: walk the layers in reverse, each vjp turns dy into dx ==\n')
let d = grad
const dps: Tree.Tree[] = []
for (let i = layers.length - 1; i >= 0; i--) {
  const layer = layers[i]!
  const { dx, dp } = layer.vjp(params[i]!, tapes[i], d)
  dps[i] = dp
  show(`layer ${i} (${layer.name}) dx`, dx)
  if (layer.name === 'dense') {
    show(`layer ${i} (dense) dW = xᵀ·dy`, (dp as { W: T.Tensor }).W)
    show(`layer ${i} (dense) db = dy summed over the batch`, (dp as { b: T.Tensor }).b)
  }
  d = dx
}

// The pipe does exactly this loop; its vjp gives the same numbers.
const viaPipe = net.vjp(params, net.forward(params, state, x, ctx).tape, grad)
const sameBits = (a: T.Tensor, b: T.Tensor): boolean => a.data.every((v, i) => Object.is(v, b.data[i]))
const pipeLeaves = Tree.leaves(viaPipe.dp)
const sameDp = Tree.leaves(dps).every((g, i) => sameBits(g, pipeLeaves[i] as T.Tensor))
const same = sameBits(viaPipe.dx, d) && sameDp
console.log(`pipe's own vjp gives the same dx and dp bit for bit: ${same}\n`)

console.log('== gradient check: analytic vs central differences, every coordinate ==\n')
const report = Gradcheck.network(net, Loss.softmaxCrossEntropy, { params, state, x, target: labels })
console.log(Gradcheck.format(report))
if (!report.ok) process.exit(1)
