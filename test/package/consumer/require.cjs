// CommonJS: require() of chainrule's ES modules (Node's require of ESM, no flag on the engines' versions).
const { Key, L, T } = require('chainrule')
const { checkLayer } = require('chainrule/laws')

const { params, state } = L.initialize(L.pipe(L.dense(3), L.relu), Key.fromSeed(1), [2])
const y = L.pipe(L.dense(3), L.relu).forward(params, state, T.ones([4, 2]), { mode: 'eval', key: Key.fromSeed(0) }).y
checkLayer(L.relu, { inShape: [3], numRuns: 5 })
console.log(`require: output shape ${JSON.stringify(y.shape)}; checkLayer ${typeof checkLayer}`)

try {
  require('chainrule/node')
  console.log('require chainrule/node: loaded')
} catch (e) {
  console.log(`require chainrule/node: ${e.code}`)
}
