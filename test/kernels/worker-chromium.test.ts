/**
 * The two-thread worker in a real browser (headless Chromium): a page served with the isolation
 * headers starts the worker as a Web Worker, and the worker dies in the middle of a convolution.
 * This thread spins for the worker while the job runs, so no event reaches it: it must learn of
 * the death from the control block, which the worker's own 'error' handler marks, at once rather
 * than at the deadline; the job then completes on this thread with the one-thread bits.
 *
 * The page wraps `Worker` so the worker's script starts with a wrapper of the module's `part`
 * export: after its first part it throws a value that cannot be turned into a string, so the
 * worker's report of the failure fails too and the error leaves its loop uncaught.
 */
import { build } from 'esbuild'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { serve, type Asset } from '../../scripts/browser.ts'
import { launchChromium } from '../support/chromium.ts'

const root = new URL('../../', import.meta.url).pathname

/** The page's script: one convolution with a worker that dies in it, then the same on one thread. */
const ENTRY = `
import { Kernels, Key, L } from './src/index.ts'
import * as W from './src/kernels/wasm/threads.ts'
globalThis.dyingConv = async () => {
  W.configureThreads({ minFlops: 0, wakeFlops: 0, minChunk: 4, cooldownMs: 0, mainComputes: false })
  const started = await Kernels.useThreads(2)
  const conv = L.conv2d(4, 3, { padding: 1 })
  const { params, state } = conv.init(Key.fromSeed(1), [2, 12, 12])
  const x = Key.normal(Key.fromSeed(2), [8, 2, 12, 12])
  const ctx = { mode: 'eval', key: Key.fromSeed(3) }
  const run = () => conv.forward(params, state, x, ctx).y.data
  const before = W.splitCount()
  const t0 = performance.now()
  let error = ''
  let y = new Float64Array(0)
  try { y = run() } catch (e) { error = e instanceof Error ? e.message : String(e) }
  const ratio = (performance.now() - t0) / W.WORKER_DEADLINE_MS
  const split = W.splitCount() - before
  const running = W.threadsRunning()
  const why = W.threadsUnavailable()
  await Kernels.useThreads(1)
  const one = run()
  const identical = y.length === one.length && y.every((v, i) => Object.is(v, one[i]))
  return { isolated: crossOriginIsolated, started, error, ratio, split, running, why, identical }
}
`

/** Wraps Worker: the worker's script runs after a wrapper of WebAssembly.Instance whose `part` dies after one part. */
const DYING_WORKER = `
const Base = Worker
const dieInPart =
  '{ const I = WebAssembly.Instance; WebAssembly.Instance = function (m, imports) { const e = new I(m, imports).exports; ' +
  'return { exports: { ...e, part: (...a) => { e.part(...a); throw Object.create(null) } } } } }\\n'
globalThis.Worker = class extends Base {
  constructor(url, options) {
    const code = dieInPart + 'importScripts(' + JSON.stringify(String(url)) + ')'
    super(URL.createObjectURL(new Blob([code], { type: 'text/javascript' })), options)
  }
}
`

let browser: Browser
let server: Server

beforeAll(async () => {
  const bundle = await build({
    stdin: { contents: ENTRY, resolveDir: root, loader: 'ts' },
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'esm',
    logLevel: 'silent',
  })
  const main = bundle.outputFiles[0]!.text
  const page = `<!doctype html><script>${DYING_WORKER}</script><script type="module" src="/main.js"></script>`
  const table = new Map<string, Asset>([
    ['/', { type: 'text/html; charset=utf-8', text: () => page }],
    ['/main.js', { type: 'text/javascript; charset=utf-8', text: () => main }],
  ])
  server = await serve(table, 0)
  browser = await launchChromium()
})

afterAll(async () => {
  await browser?.close()
  await new Promise((resolve) => server?.close(resolve))
})

test('a Web Worker that dies mid-convolution: noticed at once from its error handler, the job completes here bit for bit, one warning', async () => {
  const page = await browser.newPage()
  const warnings: string[] = []
  page.on('console', (m) => void (m.type() === 'warning' && warnings.push(m.text())))
  await page.goto(`http://localhost:${(server.address() as AddressInfo).port}/`)
  await page.waitForFunction(() => 'dyingConv' in globalThis)
  const got = await page.evaluate(() => (globalThis as unknown as { dyingConv: () => Promise<Record<string, unknown>> }).dyingConv())
  await page.close()
  expect(got['isolated']).toBe(true)
  expect(got['started']).toBe(true)
  expect(got['error']).toBe('')
  expect(got['split']).toBe(1) // the job went to the worker, which died in it
  expect(got['identical']).toBe(true)
  expect(got['ratio']).toBeLessThan(0.2) // a small fraction of the deadline
  expect(got['running']).toBe(false)
  expect(got['why']).toMatch(/^the GEMM worker stopped during a job: Uncaught TypeError: .+; products run on one thread/)
  expect(warnings.filter((w) => w.startsWith('chainrule: two threads are off: '))).toHaveLength(1)
}, 30_000)
