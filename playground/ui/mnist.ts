/** The four MNIST files, fetched from the server that serves the page (at mnist/NAME) once, when a configuration first asks for them. */
import type { MnistBytes } from '../core/build.ts'

const NAMES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const

const bytes = async (name: string): Promise<Uint8Array> => {
  const response = await fetch(`mnist/${name}`)
  if (!response.ok) throw new Error(`fetching mnist/${name}: HTTP ${response.status} ${response.statusText}`)
  return new Uint8Array(await response.arrayBuffer())
}

let pending: Promise<MnistBytes> | undefined

/** The MNIST files' bytes (fetched on the first call; later calls share that fetch). A failed fetch is retried on the next call. */
export const mnistBytes = (): Promise<MnistBytes> => {
  pending ??= (async () => {
    const [trainImages, trainLabels, testImages, testLabels] = await Promise.all(Object.values(NAMES).map(bytes))
    return { trainImages: trainImages!, trainLabels: trainLabels!, testImages: testImages!, testLabels: testLabels! }
  })()
  pending.catch(() => (pending = undefined))
  return pending
}
