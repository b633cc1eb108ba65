import { describe, expect, test } from 'vitest'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

// The teaching examples must keep running as the README says (npx tsx examples/…).
const run = (file: string, ...args: string[]): string =>
  execFileSync(process.execPath, ['--import', 'tsx', file, ...args], { encoding: 'utf8', timeout: 120_000 })

describe('the examples run and reach what they claim', () => {
  test('01-backprop-by-hand: the pipe vjp equals the hand walk, and the gradient check passes', () => {
    const out = run('examples/01-backprop-by-hand.ts')
    expect(out).toContain("pipe's own vjp gives the same dx and dp bit for bit: true")
    expect(out).toMatch(/OK: max error \S+ \(tolerance 1e-6\) over 21 coordinates/)
  })
  test('02-xor: 100% accuracy from a fixed seed', () => {
    expect(run('examples/02-xor.ts')).toContain('accuracy: 100%')
  })
  test('06-optimizers: a row of losses per optimizer, and the chart of their curves', () => {
    const dir = mkdtempSync(join(tmpdir(), 'chainrule-06-'))
    try {
      const out = run('examples/06-optimizers.ts', '--out', dir)
      for (const name of ['SGD', 'SGD + momentum', 'SGD + Nesterov', 'Adam', 'AdamW', 'AMSGrad', 'NAdam', 'Adamax', 'RMSprop', 'Adagrad']) {
        expect(out).toMatch(new RegExp(`^${name.replace(/[+]/g, '\\+')} +(\\d\\.\\d{4} +){3}\\d\\.\\d{4}$`, 'm'))
      }
      expect(out).toContain(`the loss curves: ${join(dir, 'compare.png')}`)
      expect(statSync(join(dir, 'compare.png')).size).toBeGreaterThan(20_000)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
  test('03-custom-layer: swish passes the laws and the wrong swish is rejected', () => {
    const out = run('examples/03-custom-layer.ts')
    expect(out).toContain('swish passes every layer law, in float32 too.')
    expect(out).toContain('The wrong swish is rejected')
  })
})

describe('the examples refuse flags they do not know', () => {
  /** What an example prints to stderr, and its exit code, when it stops. */
  const refused = (file: string, ...args: string[]): { status: number; stderr: string } => {
    try {
      run(file, ...args)
    } catch (e) {
      const { status, stderr } = e as { status?: number; stderr?: unknown }
      return { status: status ?? -1, stderr: String(stderr) }
    }
    throw new Error(`${file} ${args.join(' ')} ran`)
  }
  test.each([
    [
      'examples/05-mnist-mlp.ts',
      ['--epoch', '1'],
      'unknown flag --epoch',
      '[--epochs N] [--train N] [--threads 1|2] [--dtype float64|float32] [--out DIR]',
    ],
    [
      'examples/05-mnist-mlp.ts',
      ['--dtype', 'f32'],
      "--dtype must be one of float64, float32, got 'f32'",
      '[--epochs N] [--train N] [--threads 1|2] [--dtype float64|float32] [--out DIR]',
    ],
    ['examples/07-mnist-cnn.ts', ['--epochs=x'], "--epochs must be a number, got 'x'", '[--epochs N] [--train N] [--test N] [--lr X]'],
    ['examples/08-load-and-predict.ts', ['--count'], '--count needs a value', '[path, default out/mnist-mlp.json] [--count N] [--from I]'],
    ['examples/04-spiral.ts', ['--outdir', 'x'], 'unknown flag --outdir', '[--out DIR]'],
    ['examples/06-optimizers.ts', ['x'], "unexpected argument 'x'", '[--out DIR]'],
  ])('%s %j stops before any work, naming the flag and listing the flags', (file, args, why, usage) => {
    const { status, stderr } = refused(file, ...args)
    expect(status).toBe(2)
    expect(stderr).toContain(`${file.slice('examples/'.length)}: ${why}`)
    expect(stderr).toContain(`usage: npx tsx ${file} ${usage}`)
  })
})
