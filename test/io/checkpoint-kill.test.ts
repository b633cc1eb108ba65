import * as E from 'fp-ts/Either'
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join, resolve } from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { Key, L } from '../../src/index.ts'
import { loadCheckpoint, saveModel } from '../../src/node/index.ts'

// A child process saves a ~43 MB checkpoint over an existing small one; we SIGKILL it at several
// moments: while it encodes, just as it starts writing, a little later, and as soon as its temp
// file holds bytes. Whatever the moment, the file at the target path must load: the old
// checkpoint, whole, or the new one, whole.

const dir = mkdtempSync(join(tmpdir(), 'chainrule-kill-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const source = resolve('src')
const child = join(dir, 'writer.mts') // .mts: an ES module wherever the temp directory is
writeFileSync(
  child,
  `import { Key, L } from ${JSON.stringify(join(source, 'index.ts'))}
import * as IO from ${JSON.stringify(join(source, 'io', 'index.ts'))}
import { writeFileAtomic } from ${JSON.stringify(join(source, 'node', 'checkpoint.ts'))}
const target = process.argv[2]!
// 2000 x 2000 zero-initialised weights: 4M float64, ~43 MB of JSON
const model = L.pipe(L.dense(2000, { init: 'zeros' }))
const { params, state } = L.initialize(model, Key.fromSeed(0), [2000])
process.stdout.write('encoding\\n')
const text = IO.encodeCheckpoint(IO.modelCheckpoint(model, [2000], params, state, { version: 'new' }))
process.stdout.write('writing\\n')
writeFileAtomic(target, text)
process.stdout.write('done\\n')
`,
)

/** Runs the writer and kills it `delay` ms after it prints `when`; resolves with what it printed. */
const runAndKill = (target: string, when: 'encoding' | 'writing', delay: number): Promise<string> =>
  new Promise((done, fail) => {
    const p = spawn(process.execPath, ['--import', 'tsx', child, target], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    let armed = false
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      if (!armed && out.includes(when)) {
        armed = true
        setTimeout(() => p.kill('SIGKILL'), delay)
      }
    })
    p.stderr.on('data', (d: Buffer) => (err += d.toString()))
    p.on('error', fail)
    p.on('close', (code, signal) =>
      signal === 'SIGKILL' || code === 0 ? done(out) : fail(new Error(`writer exited with ${code}: ${err}`)),
    )
  })

/**
 * Runs the writer and kills it as soon as its temp file beside `target` holds bytes (polling, so
 * the kill follows the write however slow the machine is); resolves with the size it saw (0: the
 * writer finished before any was seen).
 */
const killMidWrite = (target: string): Promise<number> =>
  new Promise((done, fail) => {
    const p = spawn(process.execPath, ['--import', 'tsx', child, target], { stdio: ['ignore', 'pipe', 'pipe'] })
    const prefix = `.${basename(target)}.`
    let out = ''
    let err = ''
    let polling = false
    let seen = 0
    const poll = (): void => {
      if (p.exitCode !== null || p.signalCode !== null) return
      const tmp = readdirSync(dir).find((f) => f.startsWith(prefix))
      const size = tmp === undefined ? 0 : (statSync(join(dir, tmp), { throwIfNoEntry: false })?.size ?? 0)
      if (size > 0) {
        seen = size
        p.kill('SIGKILL')
      } else setImmediate(poll)
    }
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      if (!polling && out.includes('writing')) {
        polling = true
        poll()
      }
    })
    p.stderr.on('data', (d: Buffer) => (err += d.toString()))
    p.on('error', fail)
    p.on('close', (code, signal) =>
      signal === 'SIGKILL' || code === 0 ? done(seen) : fail(new Error(`writer exited with ${code}: ${err}`)),
    )
  })

/** Saves the small 'old' checkpoint at `target`. */
const saveOld = (target: string): void => {
  const small = L.pipe(L.dense(3))
  const p = L.initialize(small, Key.fromSeed(0), [2])
  saveModel(target, { model: small, inShape: [2], params: p.params, state: p.state, metadata: { version: 'old' } })
}

/** The version a checkpoint file holds; throws unless it loads, whole. */
const versionAt = (target: string): unknown => {
  const ck = loadCheckpoint(target)
  if (E.isLeft(ck)) throw ck.left
  return ck.right.metadata['version']
}

describe('a save killed at any moment never leaves a broken checkpoint', () => {
  const moments: readonly ['encoding' | 'writing', number][] = [
    ['encoding', 0],
    ['writing', 0],
    ['writing', 30],
    ['writing', 80],
    ['writing', 160],
    ['writing', 5000], // long enough to finish: the new checkpoint, whole
  ]
  const outcomes: string[] = []
  test.each(moments)(
    'SIGKILL %s + %i ms: the target loads, whole, as the old or the new checkpoint',
    async (when, delay) => {
      const target = join(dir, `model-${when}-${delay}.json`)
      saveOld(target)
      const out = await runAndKill(target, when, delay)
      const version = versionAt(target)
      expect(['old', 'new']).toContain(version)
      if (version === 'new') expect(statSync(target).size).toBeGreaterThan(40_000_000)
      outcomes.push(`${when}+${delay}ms: ${String(version)}${out.includes('done') ? ' (finished)' : ''}`)
    },
    60_000,
  )
  test('a writer left to finish leaves the new checkpoint, whole', () => {
    expect(
      outcomes.some((o) => o.includes(': new')),
      outcomes.join('\n'),
    ).toBe(true)
  })

  test('killed while its temp file is partly written: the old checkpoint loads, whole, beside the partial temp file', async () => {
    // Evidence that the dangerous window itself is exercised, not just before or after it. A writer that
    // renames its file between our look and our kill is no evidence either way: try again, up to five times.
    const tries: string[] = []
    for (let attempt = 0; attempt < 5 && !tries.some((t) => t.startsWith('old')); attempt++) {
      const target = join(dir, `model-midwrite-${attempt}.json`)
      saveOld(target)
      const seen = await killMidWrite(target)
      const version = versionAt(target)
      expect(['old', 'new']).toContain(version)
      const leftover = readdirSync(dir).find((f) => f.startsWith(`.${basename(target)}.`))
      tries.push(
        `${String(version)}, ${seen} bytes seen, ${leftover === undefined ? 'no temp file' : `a temp file of ${statSync(join(dir, leftover)).size} bytes`} left`,
      )
    }
    expect(
      tries.some((t) => /^old, [1-9]\d* bytes seen, a temp file of [1-9]\d* bytes left$/.test(t)),
      tries.join('\n'),
    ).toBe(true)
  }, 120_000)
})
