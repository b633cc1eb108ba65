import { describe, expect, test } from 'vitest'
import { execFileSync } from 'node:child_process'

// The teaching examples must keep running as the README says (npx tsx examples/…).
const run = (file: string): string => execFileSync(process.execPath, ['--import', 'tsx', file], { encoding: 'utf8', timeout: 120_000 })

describe('the examples run and reach what they claim', () => {
  test('01-backprop-by-hand: the pipe vjp equals the hand walk, and the gradient check passes', () => {
    const out = run('examples/01-backprop-by-hand.ts')
    expect(out).toContain("pipe's own vjp gives the same dx and dp bit for bit: true")
    expect(out).toMatch(/OK: max error \S+ \(tolerance 1e-6\) over 21 coordinates/)
  })
  test('02-xor: 100% accuracy from a fixed seed', () => {
    expect(run('examples/02-xor.ts')).toContain('accuracy: 100%')
  })
  test('03-custom-layer: swish passes the laws and the wrong swish is rejected', () => {
    const out = run('examples/03-custom-layer.ts')
    expect(out).toContain('swish passes every layer law.')
    expect(out).toContain('The wrong swish is rejected')
  })
})
