/** The training namespace: `import { Train } from 'chainrule'`. */
export * from './state.ts'
export * from './metrics.ts'
export * from './step.ts'
export * from './evaluate.ts'
export * from './fit.ts'
