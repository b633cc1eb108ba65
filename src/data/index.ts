/** The data namespace: `import { Data } from 'chainrule'`, then `Data.batches(key, ds, 32)`. */
export * from './error.ts'
export * from './dataset.ts'
export * from './idx.ts'
export * from './toy.ts'
export * as Mnist from './mnist.ts'
