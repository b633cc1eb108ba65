import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, expect, test } from 'vitest'
import { Key, L } from '../../src/index.ts'
import { saveModel } from '../../src/node/index.ts'

const dir = mkdtempSync(join(tmpdir(), 'chainrule-05-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const run = (file: string, ...args: string[]): string =>
  execFileSync(process.execPath, ['--import', 'tsx', file, ...args], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, CI: '1' },
  })

// examples/05-mnist-mlp.ts (npm start), short: one epoch on 640 images. A float32 run and a float64 run
// into one directory keep one model each, and example 08 loads either, saying which file and dtype.
test('05-mnist-mlp: a float32 run saves beside the float64 model, not over it, and 08 loads each, naming its file and dtype', () => {
  const f64 = run('examples/05-mnist-mlp.ts', '--epochs', '1', '--train', '640', '--out', dir)
  const f32 = run('examples/05-mnist-mlp.ts', '--epochs', '1', '--train', '640', '--dtype', 'float32', '--out', dir)
  const models = { float64: join(dir, 'mnist-mlp.json'), float32: join(dir, 'mnist-mlp-float32.json') }
  expect(f64).toContain(`saved the model (float64) to ${models.float64} (try: npx tsx examples/08-load-and-predict.ts ${models.float64})`)
  expect(f32).toContain(`saved the model (float32) to ${models.float32} (try: npx tsx examples/08-load-and-predict.ts ${models.float32})`)
  expect(existsSync(models.float64) && existsSync(models.float32)).toBe(true)
  for (const [dtype, path] of Object.entries(models)) {
    const out = run('examples/08-load-and-predict.ts', path, '--count', '1')
    expect(out).toContain(`loaded ${path} (${dtype})`)
    expect(out).toContain(`"dtype":"${dtype}"`) // the metadata 05 saved with it
    expect(out).toContain('(identical)') // the accuracy 05 measured, from the params loaded bit for bit
  }
})

test('08-load-and-predict given a checkpoint of another model (not [1, 28, 28] to [10]) says so, without a stack trace', () => {
  const model = L.pipe(L.dense(3))
  const { params, state } = L.initialize(model, Key.fromSeed(0), [2])
  const path = join(dir, 'spiral.json')
  saveModel(path, { model, inShape: [2], params, state, metadata: {} })
  let failure = { status: 0, stderr: '' }
  try {
    run('examples/08-load-and-predict.ts', path)
  } catch (e) {
    const { status, stderr } = e as { status?: number; stderr?: unknown }
    failure = { status: status ?? -1, stderr: String(stderr) }
  }
  expect(failure.status).toBe(1)
  expect(failure.stderr.trim()).toBe(
    `${path} maps [2] to [3]; this example needs a digit classifier, [1, 28, 28] to [10] (as examples/05-mnist-mlp.ts saves)`,
  )
})
