/** Node-only helpers (files), kept out of the browser-safe core: `import { loadMnist } from 'chainrule/node'`. */
export { loadMnist, readMnist, readIdxFile, mnistDir, MNIST_FILES, type LoadMnistOptions } from './mnist.ts'
export { progress, formatEpoch, type ProgressOptions } from './progress.ts'
