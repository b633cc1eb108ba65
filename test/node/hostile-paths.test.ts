import { execFileSync } from 'node:child_process'
import { lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as E from 'fp-ts/Either'
import { afterAll, describe, expect, it } from 'vitest'
import { IO, Key, L } from '../../src/index.ts'
import { loadCheckpoint, saveCheckpoint, writeFileAtomic } from '../../src/node/checkpoint.ts'

const made: string[] = []
const fresh = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'chainrule-paths-'))
  made.push(dir)
  return dir
}
afterAll(() => made.forEach((dir) => rmSync(dir, { recursive: true, force: true })))

const model = L.pipe(L.dense(2))
const { params, state } = L.initialize(model, Key.fromSeed(0), [2])
const ck = IO.modelCheckpoint(model, [2], params, state)
const leftOf = <A>(r: E.Either<IO.IoError, A>): IO.IoError => {
  if (E.isRight(r)) throw new Error('expected a Left')
  return r.left
}

describe('paths that are not files', () => {
  it('loading a named pipe is refused at once, not read forever (a device such as /dev/zero the same)', () => {
    const fifo = join(fresh(), 'run.json')
    execFileSync('mkfifo', [fifo])
    const e = leftOf(loadCheckpoint(fifo))
    expect(e.kind).toBe('io')
    expect(e.message).toBe(`${fifo}: cannot read the checkpoint file: it is a named pipe (FIFO), not a file`)
    expect(leftOf(loadCheckpoint('/dev/zero')).message).toBe(
      '/dev/zero: cannot read the checkpoint file: it is a character device, not a file',
    )
  })

  it('saving over a named pipe is refused and leaves it there (a rename would have replaced it with a file)', () => {
    const fifo = join(fresh(), 'run.json')
    execFileSync('mkfifo', [fifo])
    expect(() => saveCheckpoint(fifo, ck)).toThrow(`cannot save: ${fifo} is a named pipe (FIFO), not a file: give the path of a file`)
    expect(lstatSync(fifo).isFIFO()).toBe(true)
  })

  it('saving through a symbolic link writes the file it points to and keeps the link', () => {
    const dir = fresh()
    const real = join(dir, 'run-5.json')
    const link = join(dir, 'latest.json')
    writeFileSync(real, 'old')
    symlinkSync('run-5.json', link)
    writeFileAtomic(link, 'new')
    expect(lstatSync(link).isSymbolicLink()).toBe(true)
    expect(readlinkSync(link)).toBe('run-5.json')
    expect(readFileSync(real, 'utf8')).toBe('new')
  })

  it('a path that is not a string, is empty, holds a NUL or ends in a slash: a Left when loading (never a throw), an IoError when saving', () => {
    const bad = (p: unknown): string => p as string
    expect(leftOf(loadCheckpoint(bad(3))).message).toBe('3: cannot read the checkpoint file: a path is a string, got the number 3')
    expect(leftOf(loadCheckpoint(bad(undefined))).message).toContain('a path is a string, got undefined')
    expect(leftOf(loadCheckpoint('')).message).toContain('the path is empty')
    expect(() => saveCheckpoint(bad(5), ck)).toThrow('5: cannot save: a path is a string, got the number 5; nothing was written')
    expect(() => saveCheckpoint('out\0.json', ck)).toThrow('cannot save: the path holds a NUL character')
    expect(() => saveCheckpoint(join(fresh(), 'out/'), ck)).toThrow("cannot save: the path ends in '/', so it names a directory")
  })
})
