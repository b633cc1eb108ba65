/**
 * A 30-layer network, for the cost of the compile-time shape rules: type-checking this file on
 * its own (`npx tsc --noEmit --extendedDiagnostics -p test/types/pipe-30.tsconfig.json`) takes
 * well under a second more than a file that only imports chainrule.
 */
import { expectTypeOf } from 'vitest'
import { Key, L } from 'chainrule'

const block = L.pipe(L.conv2d(8, 3, { padding: 'same' }), L.batchNorm(), L.relu)
const deep = L.pipe(
  L.conv2d(8, 3, { padding: 1 }),
  L.relu,
  L.residual(block),
  L.conv2d(8, 3, { padding: 'same' }),
  L.batchNorm(),
  L.relu,
  L.maxPool2d(2),
  L.conv2d(16, 3, { padding: 1 }),
  L.relu,
  L.residual(L.pipe(L.conv2d(16, 3, { padding: 'same' }), L.relu)),
  L.dropout({ dropProb: 0.1 }),
  L.conv2d(16, 3, { padding: 'same', stride: 1 }),
  L.leakyRelu(0.1),
  L.maxPool2d(2),
  L.branches('concat', L.conv2d(8, 1), L.conv2d(8, 3, { padding: 'same' })),
  L.elu(),
  L.avgPool2d(3, { stride: 1, padding: 1 }),
  L.conv2d(32, 3, { dilation: 2, padding: 2 }),
  L.tanh,
  L.identity,
  L.flatten,
  L.dense(256),
  L.relu,
  L.dropout({ dropProb: 0.5 }),
  L.dense(64),
  L.sigmoid,
  L.reshape([4, -1]),
  L.flatten,
  L.dense(10),
  L.softmax,
)
expectTypeOf(L.initialize(deep, Key.fromSeed(0), [1, 28, 28]).outShape).toEqualTypeOf<[10]>()
