import { describe, expect, test } from 'vitest'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

// The teaching examples must keep running as the README says (npx tsx examples/…).
const run = (file: string, ...args: string[]): string =>
  execFileSync(process.execPath, ['--import', 'tsx', file, ...args], { encoding: 'utf8', timeout: 120_000 })

/** What an example prints, and its exit code, when it stops. */
const refused = (file: string, ...args: string[]): { status: number; stdout: string; stderr: string } => {
  try {
    run(file, ...args)
  } catch (e) {
    const { status, stdout, stderr } = e as { status?: number; stdout?: unknown; stderr?: unknown }
    return { status: status ?? -1, stdout: String(stdout), stderr: String(stderr) }
  }
  throw new Error(`${file} ${args.join(' ')} ran`)
}

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
    [
      'examples/07-mnist-cnn.ts',
      ['--epochs=x'],
      "--epochs must be an integer >= 1, got 'x'",
      '[--epochs N] [--train N] [--test N] [--lr X]',
    ],
    ['examples/08-load-and-predict.ts', ['--count'], '--count needs a value', '[path, default out/mnist-mlp.json] [--count N] [--from I]'],
    ['examples/04-spiral.ts', ['--outdir', 'x'], 'unknown flag --outdir', '[--out DIR]'],
    ['examples/06-optimizers.ts', ['x'], "unexpected argument 'x'", '[--out DIR]'],
    ['examples/01-backprop-by-hand.ts', ['--epochs', '3'], 'unknown flag --epochs', ''],
    ['examples/02-xor.ts', ['x'], "unexpected argument 'x'", ''],
    ['examples/03-custom-layer.ts', ['--seed=1'], 'unknown flag --seed', ''],
  ])('%s %j stops before any work, naming the flag and listing the flags', (file, args, why, usage) => {
    const { status, stdout, stderr } = refused(file, ...args)
    expect(status).toBe(2)
    expect(stdout).toBe('')
    expect(stderr).toContain(`${file.slice('examples/'.length)}: ${why}`)
    expect(stderr).toContain(`usage: npx tsx ${file}${usage === '' ? '\n' : ` ${usage}`}`)
  })
})

describe('the examples refuse an out-of-range value by name, with the usage line, before any work', () => {
  const mlp = '[--epochs N] [--train N] [--threads 1|2] [--dtype float64|float32] [--out DIR]'
  const cnn = '[--epochs N] [--train N] [--test N] [--lr X] [--threads 1|2] [--dtype float64|float32] [--out DIR]'
  const load = '[path, default out/mnist-mlp.json] [--count N] [--from I]'
  test.each([
    ['examples/05-mnist-mlp.ts', ['--epochs', '0'], "--epochs must be an integer >= 1, got '0'", mlp],
    ['examples/05-mnist-mlp.ts', ['--epochs=-2'], "--epochs must be an integer >= 1, got '-2'", mlp],
    ['examples/05-mnist-mlp.ts', ['--epochs', '1.5'], "--epochs must be an integer >= 1, got '1.5'", mlp],
    ['examples/05-mnist-mlp.ts', ['--train', '10'], "--train must be an integer from 64 to 60000, got '10'", mlp],
    ['examples/05-mnist-mlp.ts', ['--threads', '3'], "--threads must be 1 or 2, got '3'", mlp],
    ['examples/07-mnist-cnn.ts', ['--lr', '0'], "--lr must be a number > 0, got '0'", cnn],
    ['examples/07-mnist-cnn.ts', ['--lr', 'NaN'], "--lr must be a number > 0, got 'NaN'", cnn],
    ['examples/07-mnist-cnn.ts', ['--test', '0'], "--test must be an integer from 1 to 10000, got '0'", cnn],
    ['examples/07-mnist-cnn.ts', ['--train', '70000'], "--train must be an integer from 64 to 60000, got '70000'", cnn],
    ['examples/08-load-and-predict.ts', ['--count', '0'], "--count must be an integer from 1 to 10000, got '0'", load],
    ['examples/08-load-and-predict.ts', ['--from', '-1'], "--from must be an integer from 0 to 9999, got '-1'", load],
    ['examples/08-load-and-predict.ts', ['--from', '9999', '--count', '2'], '--from 9999 --count 2 runs past the 10000 test images', load],
  ])('%s %j', (file, args, why, usage) => {
    const { status, stdout, stderr } = refused(file, ...args)
    expect(status).toBe(2)
    expect(stdout).toBe('') // nothing loaded, nothing trained
    expect(stderr).toContain(`${file.slice('examples/'.length)}: ${why}`)
    expect(stderr).toContain(`usage: npx tsx ${file} ${usage}`)
  })
})

describe('--help describes each example: its header, the usage line its header shows, each flag with its range and default', () => {
  const files = readdirSync('examples').filter((f) => /^\d\d-.*\.ts$/.test(f))
  test('every numbered example is here', () => expect(files).toHaveLength(8))
  test.each(files)('%s --help', (file) => {
    const source = readFileSync(join('examples', file), 'utf8')
    const title = /^\/\*\*\n \* (Example \d\d.*)$/m.exec(source)?.[1]
    const runLine = /^ \* Run: (npx tsx .*)$/m.exec(source)?.[1]
    expect(title).toBeDefined()
    expect(runLine).toBeDefined()
    const out = run(join('examples', file), '--help') // exits 0: execFileSync throws otherwise
    expect(out.startsWith(`${title}\n`)).toBe(true)
    expect(out).toContain(`\nusage: ${runLine}\n`)
    expect(out).not.toContain('Run: ')
    for (const flag of runLine!.match(/--[a-z]+/g) ?? []) expect(out).toMatch(new RegExp(`^  ${flag} +\\S`, 'm'))
  })
  test('05-mnist-mlp --help: the ranges its refusals use', () => {
    const out = run('examples/05-mnist-mlp.ts', '--help')
    expect(out).toMatch(/^ {2}--epochs +an integer >= 1 \(default 12\)$/m)
    expect(out).toMatch(/^ {2}--threads +1 or 2 \(default 2\)$/m)
    expect(out).toMatch(/^ {2}--dtype +float64 or float32 \(default float64\)$/m)
  })
})
