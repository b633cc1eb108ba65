// The values an @example may use without defining them (see ./doc-examples.ts): what a training
// script has at hand. One declaration a line; types are written import('chainrule')... so they
// hold whichever names the example's own module brings into scope.
export {}

/** A random key. */
declare const key: import('chainrule').Key.Key
/** The key a training run started from (fit's `key`). */
declare const runKey: import('chainrule').Key.Key
/** An epoch and a step number. */
declare const epoch: number
declare const step: number
/** A batch of inputs, its labels, and the two as a batch. */
declare const x: import('chainrule').Tensor
declare const y: import('chainrule').Tensor
declare const batch: import('chainrule').Data.Batch
/** Data sets: one to train on, one to test on, and any. */
declare const train: import('chainrule').Data.Dataset
declare const test: import('chainrule').Data.Dataset
declare const data: import('chainrule').Data.Dataset
/** A network (the two names the examples use), its params, and gradients shaped like them. */
declare const model: import('chainrule').Layer
declare const net: import('chainrule').Layer
declare const params: import('chainrule').Tree.Tree
declare const grads: import('chainrule').Tree.Tree
/** A custom layer (examples/03's swish). */
declare const swish: import('chainrule').Layer
/** A training state and history, as Train.fit returns them, and a loss and optimizer. */
declare const state: import('chainrule').Train.TrainState
declare const history: import('chainrule').Train.History
declare const loss: import('chainrule').Loss.Loss
declare const optimizer: import('chainrule').Optim.GradientTransformation<import('chainrule').Tree.Tree>
/** The options of a run (model, loss, optimizer, data, epochs, batchSize, key), to spread into Train.fit. */
declare const run: Parameters<typeof import('chainrule').Train.fit>[0]
/** A chart spec, and true and predicted classes. */
declare const spec: import('chainrule').Plot.VegaLiteSpec
declare const labels: readonly number[]
declare const predictions: readonly number[]
/** A checkpoint's JSON text, and a file's bytes. */
declare const text: string
declare const bytes: Uint8Array
