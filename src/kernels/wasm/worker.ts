/**
 * The worker of ./threads.ts. scripts/build-wasm.ts bundles this file (with ./control.ts) into
 * the string of ./worker-source.ts, which ./threads.ts starts as a Node `worker_threads` worker
 * (the init as workerData) or as a Web Worker (the init as its first message).
 *
 * `serve` instantiates the module on each of the two shared memories (the kernels' and the float32
 * arena's, ./arena32.ts), reports ready, then loops forever: spin for a job, else sleep in
 * Atomics.wait; run it (a PARTS job on the instance of the memory it names); publish its number in DONE.
 */
import type { KernelExport, PartExport } from './gemm.ts'
import {
  ARGS,
  DONE,
  HOT,
  IN_ARENA,
  KERNEL,
  MSG_AT,
  MSG_LEN,
  NEXT,
  NO_MORE,
  NOOP,
  OP,
  POSTED,
  SEQ,
  SLEEPING,
  SPIN,
  STATE,
  STATUS,
  STOPPED,
  TAKEN,
  WORKER_TOOK,
  runChunks,
  runParts,
} from './control.ts'

/** What the worker is started with. */
export interface WorkerInit {
  readonly module: WebAssembly.Module
  readonly memory: WebAssembly.Memory
  /** The float32 arena's shared memory. */
  readonly arena: WebAssembly.Memory
  readonly control: SharedArrayBuffer
}

/** Marks the control block STOPPED, with why (the worker will serve no more jobs). */
export function stopped(control: SharedArrayBuffer, why: string): void {
  const ctl = new Int32Array(control)
  const bytes = new TextEncoder().encode(why).subarray(0, control.byteLength - MSG_AT)
  new Uint8Array(control, MSG_AT).set(bytes)
  Atomics.store(ctl, MSG_LEN, bytes.length)
  Atomics.store(ctl, STATE, STOPPED)
}

/** Serves jobs posted in the control block, forever; `post` sends the one message, whether the worker is ready. */
export function serve(init: WorkerInit, post: (message: { ready: boolean }) => void): void {
  const ctl = new Int32Array(init.control)
  const text = new Uint8Array(init.control, MSG_AT)
  const fail = (e: unknown): void => {
    const what = e instanceof Error ? `${e.name}: ${e.message}` : String(e)
    const bytes = new TextEncoder().encode(what).subarray(0, text.length)
    text.set(bytes)
    Atomics.store(ctl, MSG_LEN, bytes.length)
    Atomics.store(ctl, STATUS, 1)
  }
  let kernel: KernelExport
  let part: PartExport
  let arenaPart: PartExport
  try {
    const exports = new WebAssembly.Instance(init.module, { env: { memory: init.memory } }).exports
    kernel = exports['gemm'] as KernelExport
    part = exports['part'] as PartExport
    arenaPart = new WebAssembly.Instance(init.module, { env: { memory: init.arena } }).exports['part'] as PartExport
  } catch (e) {
    fail(e)
    Atomics.store(ctl, STATE, STOPPED)
    post({ ready: false })
    return
  }
  Atomics.store(ctl, STATE, HOT)
  post({ ready: true })
  let last = 0 // a fresh control block: jobs are numbered from 1 (read before 'ready' went out, a job could be missed)
  for (;;) {
    let seq = Atomics.load(ctl, SEQ)
    if (seq === last) {
      const spinMs = Atomics.load(ctl, SPIN) / 1000
      const t0 = performance.now()
      for (let i = 1; (seq = Atomics.load(ctl, SEQ)) === last; i++) {
        if ((i & 255) === 0 && performance.now() - t0 > spinMs) break
      }
      if (seq === last) {
        Atomics.store(ctl, STATE, SLEEPING)
        Atomics.wait(ctl, SEQ, last)
        Atomics.store(ctl, STATE, HOT)
        continue
      }
    }
    last = seq
    // Take the job unless the posting thread withdrew it (it finished every chunk before we woke).
    const op = Atomics.load(ctl, OP)
    if (op !== NOOP && Atomics.compareExchange(ctl, TAKEN, POSTED, WORKER_TOOK) === POSTED) {
      try {
        if (op === KERNEL) runChunks(ctl, kernel, ctl[ARGS + 15]!, ctl[ARGS + 16]!, true)
        else runParts(ctl, ctl[IN_ARENA] === 1 ? arenaPart : part, ctl[ARGS]!, ctl[ARGS + 1]!, ctl[ARGS + 2]!, true)
      } catch (e) {
        Atomics.store(ctl, NEXT, NO_MORE)
        fail(e)
      }
    }
    Atomics.store(ctl, DONE, seq)
    Atomics.notify(ctl, DONE) // a posting thread that waited long may sleep on DONE
  }
}

/** Node's `worker_threads` when this script runs as a Node worker (an eval'd CommonJS script, so `require` is there), else null. */
const nodeHost = (): typeof import('node:worker_threads') | null =>
  typeof process === 'object' && typeof process.versions?.node === 'string'
    ? (require('node:worker_threads') as typeof import('node:worker_threads'))
    : null

const host = nodeHost()
if (host !== null) {
  serve(host.workerData, (message) => host.parentPort?.postMessage(message))
} else {
  self.onmessage = (event: MessageEvent<WorkerInit>) => {
    // An error nobody caught ends the loop below: say so in the control block, where a thread
    // spinning for this job (which no event reaches) sees it at once.
    self.addEventListener('error', (e) => stopped(event.data.control, e.message || 'an uncaught error'))
    serve(event.data, (message) => self.postMessage(message))
  }
}
