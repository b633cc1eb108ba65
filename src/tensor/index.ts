/** The tensor namespace: `import { T } from 'chainrule'`. */
export * from './tensor.ts'
export * from './elementwise.ts'
export * from './reduce.ts'
export * from './layout.ts'
export * from './matmul.ts'
export { toString } from './show.ts'
