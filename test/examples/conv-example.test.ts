import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, expect, test } from 'vitest'

const made: string[] = []
/** A fresh directory for a run's plots, removed after the tests. */
const scratch = (prefix: string): string => {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  made.push(dir)
  return dir
}
afterAll(() => made.forEach((dir) => rmSync(dir, { recursive: true, force: true })))

// examples/07-mnist-cnn.ts keeps running as the README says; a short run (one epoch on 640
// images, tested on 500, given as `--epochs=1` and as `--train 640`) checks that it trains and prints what it
// promises. (The full run is the 99% claim.)
test('07-mnist-cnn: trains, and prints test accuracy, wall time, samples/s and the naive/fast ratio', () => {
  const dir = scratch('chainrule-07-')
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', 'examples/07-mnist-cnn.ts', '--epochs=1', '--train', '640', '--test=500', '--out', dir],
    {
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, CI: '1' },
    },
  )
  const accuracy = Number(/test accuracy: ([\d.]+)%/.exec(out)?.[1])
  expect(accuracy).toBeGreaterThan(50) // one epoch on 640 images: well above chance (10%)
  expect(out).toMatch(/wall time: [\d.]+s for 1 epoch \(training [\d.]+s; the rest draws the plots after each epoch\)/)
  expect(out).toMatch(/training throughput: [\d,]+ samples\/s \(640 samples in [\d.]+s of training; each epoch's line shows its own\)/)
  for (const f of ['history.png', 'confusion-matrix.png', 'conv-filters.png', 'misclassified.png'])
    expect(existsSync(join(dir, f))).toBe(true)
  expect(out).toMatch(/naive kernels \d+ ms, js [\d.]+ ms \([\d.]+x faster\), fast \((wasm|js)\) [\d.]+ ms \([\d.]+x faster\)/)
})

test('07-mnist-cnn --dtype float32: trains in float32 and prints its accuracy, samples/s and peak memory', () => {
  const dir = scratch('chainrule-07-f32-')
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', 'examples/07-mnist-cnn.ts', '--epochs=1', '--train', '640', '--test=500', '--dtype', 'float32', '--out', dir],
    { encoding: 'utf8', timeout: 120_000, env: { ...process.env, CI: '1' } },
  )
  expect(out).toMatch(/threads: \S+, dtype: float32/)
  const accuracy = Number(/test accuracy: ([\d.]+)%/.exec(out)?.[1])
  expect(accuracy).toBeGreaterThan(50) // one epoch on 640 images: well above chance (10%)
  expect(out).toMatch(/training throughput: [\d,]+ samples\/s \(640 samples in [\d.]+s of training/)
  expect(out).toMatch(/peak memory: [\d,]+ MB \(the process at its largest: data, model and runtime\)/)
})
