import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { writeFileAtomic } from '../../src/node/checkpoint.ts'

const made: string[] = []
const fresh = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'chainrule-atomic-'))
  made.push(dir)
  return dir
}
afterAll(() => made.forEach((dir) => rmSync(dir, { recursive: true, force: true })))

/** A pid no process has (pids are below 2^22 on Linux). */
const deadPid = 2 ** 30

describe('writeFileAtomic whatever temp files lie around', () => {
  it('saves when a stale temp file of this very pid (a restarted container) sits where the first save would write', () => {
    const dir = fresh()
    const target = join(dir, 'run.json')
    const stale = [0, 1, 2, 3].map((n) => join(dir, `.run.json.${process.pid}.${n}.tmp`))
    for (const s of stale) writeFileSync(s, 'left by a killed process')
    writeFileAtomic(target, 'new')
    expect(readFileSync(target, 'utf8')).toBe('new')
    for (const s of stale) expect(existsSync(s)).toBe(false) // cleaned, not left to grow one per crash
  })

  it('cleans the stale temp files of a dead process and deletes nothing else', () => {
    const dir = fresh()
    const target = join(dir, 'run.json')
    const stale = join(dir, `.run.json.${deadPid}.7.tmp`)
    const staleNew = join(dir, `.run.json.${deadPid}.5d6f1c2e-4b1a-4c1e-9a0b-0d1e2f3a4b5c.tmp`)
    const foreign = [
      join(dir, 'notes.txt'),
      join(dir, `.other.json.${deadPid}.1.tmp`), // another target's temp file
      join(dir, `.run.json.${process.ppid}.1.tmp`), // a live process's temp file: it may be saving right now
      join(dir, `.run.json.backup`),
    ]
    for (const f of [stale, staleNew, ...foreign]) writeFileSync(f, 'x')
    writeFileAtomic(target, 'new')
    expect(readFileSync(target, 'utf8')).toBe('new')
    expect(existsSync(stale)).toBe(false)
    expect(existsSync(staleNew)).toBe(false)
    for (const f of foreign) expect(existsSync(f)).toBe(true)
  })

  it('a failed save removes only its own temp file', () => {
    const dir = fresh()
    const target = join(dir, 'sub') // a directory where the file should go: the rename fails
    writeFileAtomic(join(target, 'x'), 'make the directory')
    const stale = join(dir, `.sub.${process.ppid}.0.tmp`)
    writeFileSync(stale, 'a live process')
    expect(() => writeFileAtomic(target, 'new')).toThrow(/cannot save/)
    expect(existsSync(stale)).toBe(true)
    expect(readdirSync(dir).sort()).toEqual([`.sub.${process.ppid}.0.tmp`, 'sub'])
  })

  it('many saves leave exactly the target behind', () => {
    const dir = fresh()
    const target = join(dir, 'run.json')
    for (let i = 0; i < 5; i++) writeFileAtomic(target, `v${i}`)
    expect(readdirSync(dir)).toEqual(['run.json'])
  })
})
