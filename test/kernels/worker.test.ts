/**
 * The two-thread worker (src/kernels/wasm/worker.ts, bundled into src/kernels/wasm/worker-source.ts):
 * the committed bundle is what the source builds to, and the bundle also runs the way a browser
 * starts it (no `process`, no `require`: the init comes as the first message). The Node start is
 * what every test of test/kernels/gemm-threads.test.ts and conv-threads.test.ts runs.
 */
import { readFileSync } from 'node:fs'
import { Worker } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'
import { values } from '../support/gemm-data.ts'
import { GENERATED_WORKER, generatedWorker } from '../../scripts/build-wasm.ts'
import { gemmReference, view } from '../../src/kernels/gemm.ts'
import {
  ARGS,
  BY_ROWS,
  CHUNK,
  CHUNKS,
  CONTROL_BYTES,
  DONE,
  KERNEL,
  MSG_AT,
  MSG_LEN,
  NEXT,
  OP,
  PARTS,
  POSTED,
  SEQ,
  STATE,
  STATUS,
  STOPPED,
  TAKEN,
  WORKER_CHUNKS,
} from '../../src/kernels/wasm/control.ts'
import { gemmSharedWasmBase64 } from '../../src/kernels/wasm/gemm-shared-module.ts'
import { decodeBase64, wasmBlockSizes } from '../../src/kernels/wasm/gemm.ts'
import { workerSource } from '../../src/kernels/wasm/worker-source.ts'

/**
 * A Node worker that runs the bundle in a fresh V8 context holding only what a Web Worker's
 * global scope offers it (`self` with onmessage, postMessage and addEventListener, performance, TextEncoder), and
 * hands it the first message as a browser would.
 */
const BROWSER_LIKE = `
const { parentPort, workerData } = require('node:worker_threads')
const { runInNewContext } = require('node:vm')
const self = { onmessage: null, postMessage: (message) => parentPort.postMessage(message), addEventListener: () => {} }
runInNewContext(workerData, { self, performance, TextEncoder })
parentPort.once('message', (data) => self.onmessage({ data }))
`

/**
 * BROWSER_LIKE, with a browser's uncaught-error path: an error thrown out of `self.onmessage` is
 * reported to the listeners of the worker scope's 'error' event (as an ErrorEvent's message), and
 * the module's `part` export throws, at its first call, a value that cannot be turned into a
 * string (so the worker's own report of a failed job fails too, and the error leaves its loop).
 */
const BROWSER_LIKE_DYING = `
const { parentPort, workerData } = require('node:worker_threads')
const { runInNewContext } = require('node:vm')
const listeners = []
const self = {
  onmessage: null,
  postMessage: (message) => parentPort.postMessage(message),
  addEventListener: (type, listener) => type === 'error' && listeners.push(listener),
}
const Instance = function (module, imports) {
  const e = new WebAssembly.Instance(module, imports).exports
  return { exports: { ...e, part: () => { throw Object.create(null) } } }
}
runInNewContext(workerData, { self, performance, TextEncoder, WebAssembly: { Instance } })
parentPort.once('message', (data) => {
  try {
    self.onmessage({ data })
  } catch (error) {
    for (const listener of listeners) listener({ message: 'Uncaught ' + error.name + ': ' + error.message, error })
  }
})
`

/** Resolves when `done()` holds, polling; rejects after `ms`. */
const until = async (done: () => boolean, ms: number): Promise<void> => {
  const deadline = Date.now() + ms
  while (!done()) {
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

describe('the worker', () => {
  it(`bundling src/kernels/wasm/worker.ts gives ${GENERATED_WORKER} byte for byte (the committed bundle is current)`, async () => {
    const rebuilt = await generatedWorker()
    const committed = readFileSync(new URL(`../../${GENERATED_WORKER}`, import.meta.url), 'utf8')
    expect(rebuilt).toBe(committed)
  })

  it('started as a browser starts it, says it is ready and computes a posted product bit for bit as the reference', async () => {
    const [m, n, k] = [6, 7, 5]
    const module = new WebAssembly.Module(decodeBase64(gemmSharedWasmBase64))
    const memory = new WebAssembly.Memory({ initial: 4, maximum: 16384, shared: true })
    const arena = new WebAssembly.Memory({ initial: 1, maximum: 16384, shared: true })
    const control = new SharedArrayBuffer(CONTROL_BYTES)
    const ctl = new Int32Array(control)
    const worker = new Worker(BROWSER_LIKE, { eval: true, workerData: workerSource, execArgv: [] })
    try {
      let ready: unknown = null
      worker.once('message', (message) => (ready = message))
      worker.postMessage({ module, memory, arena, control })
      await until(() => ready !== null, 10_000)
      expect(ready).toEqual({ ready: true })

      // A (m×k), B (k×n) and C (m rows rounded up to 4, × n) in f64 elements, then the two packing workspaces.
      const heap = new Float64Array(memory.buffer)
      const a = values(m * k, 11)
      const b = values(k * n, 12)
      const [aAt, bAt, cAt, packA, packB] = [0, 64, 128, 1024, 16384]
      heap.set(a, aAt)
      heap.set(b, bAt)
      const { mc, kc, nc } = wasmBlockSizes
      const args = [m, n, k, aAt * 8, k, 1, bAt * 8, n, 1, cAt * 8, n, 0, mc, kc, nc, packA * 8, packB * 8]
      args.forEach((arg, i) => (ctl[ARGS + i] = arg))
      ctl[BY_ROWS] = 1
      ctl[CHUNK] = 8
      ctl[CHUNKS] = 1
      ctl[NEXT] = 0
      Atomics.store(ctl, OP, KERNEL)
      Atomics.store(ctl, TAKEN, POSTED)
      Atomics.store(ctl, SEQ, 1)
      Atomics.notify(ctl, SEQ, 1)
      await until(() => Atomics.load(ctl, DONE) === 1, 10_000)

      expect(Atomics.load(ctl, STATUS)).toBe(0)
      expect(Atomics.load(ctl, WORKER_CHUNKS)).toBe(1)
      const expected = new Float64Array(m * n)
      gemmReference(m, n, k, view(a, m, k), view(b, k, n), expected, 0, false)
      const got = heap.slice(cAt, cAt + m * n)
      expect(got.every((x, i) => Object.is(x, expected[i]))).toBe(true)
    } finally {
      await worker.terminate()
    }
  })

  it('started as a browser starts it, an uncaught error that ends its loop mid-job marks the control block STOPPED, with the message', async () => {
    const module = new WebAssembly.Module(decodeBase64(gemmSharedWasmBase64))
    const memory = new WebAssembly.Memory({ initial: 4, maximum: 16384, shared: true })
    const arena = new WebAssembly.Memory({ initial: 1, maximum: 16384, shared: true })
    const control = new SharedArrayBuffer(CONTROL_BYTES)
    const ctl = new Int32Array(control)
    const worker = new Worker(BROWSER_LIKE_DYING, { eval: true, workerData: workerSource, execArgv: [] })
    try {
      let ready: unknown = null
      worker.once('message', (message) => (ready = message))
      worker.postMessage({ module, memory, arena, control })
      await until(() => ready !== null, 10_000)
      expect(ready).toEqual({ ready: true })

      ctl[ARGS] = 0
      ctl[CHUNKS] = 2
      ctl[NEXT] = 0
      Atomics.store(ctl, OP, PARTS)
      Atomics.store(ctl, TAKEN, POSTED)
      Atomics.store(ctl, SEQ, 1)
      Atomics.notify(ctl, SEQ, 1)
      await until(() => Atomics.load(ctl, STATE) === STOPPED, 5_000)

      expect(Atomics.load(ctl, DONE)).toBe(0) // it never finished the job
      const text = new TextDecoder().decode(new Uint8Array(control, MSG_AT, Atomics.load(ctl, MSG_LEN)).slice())
      expect(text).toBe('Uncaught TypeError: Cannot convert object to primitive value')
    } finally {
      await worker.terminate()
    }
  })
})
