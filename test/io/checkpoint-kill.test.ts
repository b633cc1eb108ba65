import * as E from 'fp-ts/Either'
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { Key, L } from '../../src/index.ts'
import { loadCheckpoint, saveModel } from '../../src/node/index.ts'

// A child process saves a ~43 MB checkpoint over an existing small one; we SIGKILL it at several
// moments: while it encodes, just as it starts writing, and a little later. Whatever the moment,
// the file at the target path must load: the old checkpoint, whole, or the new one, whole.

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
      const small = L.pipe(L.dense(3))
      const p = L.initialize(small, Key.fromSeed(0), [2])
      saveModel(target, { model: small, inShape: [2], params: p.params, state: p.state, metadata: { version: 'old' } })
      const out = await runAndKill(target, when, delay)
      const ck = loadCheckpoint(target)
      if (E.isLeft(ck)) throw ck.left
      const version = ck.right.metadata['version']
      expect(['old', 'new']).toContain(version)
      if (version === 'new') expect(statSync(target).size).toBeGreaterThan(40_000_000)
      const leftovers = readdirSync(dir).filter((f) => f.startsWith(`.model-${when}-${delay}.json.`))
      const left = leftovers.length > 0 ? `, temp file of ${statSync(join(dir, leftovers[0]!)).size} bytes left` : ''
      outcomes.push(`${when}+${delay}ms: ${version}${out.includes('done') ? ' (finished)' : ''}${left}`)
    },
    60_000,
  )
  test('at least one kill landed mid-write (a partial temp file was left beside the old checkpoint)', () => {
    // Evidence that the test exercised the dangerous window, not just before or after it.
    expect(
      outcomes.some((o) => o.includes(': old') && /temp file of [1-9]\d* bytes/.test(o)),
      outcomes.join('\n'),
    ).toBe(true)
    expect(
      outcomes.some((o) => o.includes(': new')),
      outcomes.join('\n'),
    ).toBe(true)
  })
})
