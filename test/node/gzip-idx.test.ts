import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { afterAll, describe, expect, it } from 'vitest'
import { Data } from '../../src/index.ts'
import { loadMnist, readIdxFile, readMnist } from '../../src/node/mnist.ts'

const dir = mkdtempSync(join(tmpdir(), 'chainrule-gzip-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const file = (name: string, bytes: Uint8Array): string => {
  const path = join(dir, name)
  writeFileSync(path, bytes)
  return path
}

describe('gzipped IDX files inflate no further than their header says', () => {
  it('a small gzip file expanding to far more than its header claims (a zip bomb) is refused after inflating the header', () => {
    const header = Data.encodeIdx({ type: 'ubyte', shape: [10], data: new Array<number>(10).fill(7) })
    const bomb = new Uint8Array(header.length + 64 * 2 ** 20) // 64 MiB of zeros after 10 pixels: gzip makes it ~64 KB
    bomb.set(header)
    const path = file('bomb.gz', gzipSync(bomb))
    expect(() => readIdxFile(path)).toThrow(
      `readIdxFile: ${path} decompresses to more than the 18 bytes its IDX header says the file holds (dims [10]); refused without ` +
        'inflating the rest (a corrupt header, data appended, or a "zip bomb")',
    )
  })

  it('a gzipped file whose header is bad is named by its header, as the plain file would be', () => {
    const path = file('notidx.gz', gzipSync(new Uint8Array(2 ** 20).fill(0x41)))
    expect(() => readIdxFile(path)).toThrow(`readIdxFile: ${path}: bad magic number at bytes 0-1`)
  })

  it('a well-formed gzipped pair reads as the plain files do, and a cut-off one says so', () => {
    const images = Data.encodeIdx({ type: 'ubyte', shape: [2, 2, 2], data: [0, 1, 2, 3, 4, 5, 6, 255] })
    const labels = Data.encodeIdx({ type: 'ubyte', shape: [2], data: [1, 9] })
    const ds = readMnist(file('i.gz', gzipSync(images)), file('l.gz', gzipSync(labels)))
    expect(ds.x.shape).toEqual([2, 1, 2, 2])
    expect(Array.from(ds.y.data)).toEqual([1, 9])
    const cut = file('cut.gz', gzipSync(images.subarray(0, images.length - 3)))
    expect(() => readIdxFile(cut)).toThrow('truncated data')
  })

  it('a dir that is not a string is named', () => {
    expect(() => loadMnist({ dir: 5 as unknown as string })).toThrow(
      'loadMnist: dir must be the path of a directory (a string), got number',
    )
  })
})

describe('IDX paths that are not files', () => {
  it('a device or a named pipe is refused at once, not read forever', () => {
    expect(() => readIdxFile('/dev/zero')).toThrow(
      'readIdxFile: cannot read /dev/zero: it is not a regular file (a directory, a pipe or a device)',
    )
    expect(() => readMnist('/dev/zero', '/dev/zero')).toThrow('readMnist: cannot read /dev/zero: it is not a regular file')
  })
})
