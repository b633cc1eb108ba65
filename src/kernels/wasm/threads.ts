/**
 * Two threads for the WebAssembly kernels: this thread and one persistent worker (./worker.ts:
 * Node `worker_threads`, or a Web Worker in a cross-origin-isolated page), sharing one
 * WebAssembly.Memory and a control block (./control.ts). Two kinds of job go to the worker:
 * chunks of a GEMM (`gemmWasm2`, the `Gemm` contract of ../gemm.ts) and the parts of a
 * convolution or an element-wise pass (`twoThreadParts`, used through ./parts.ts).
 *
 * Starting: `startThreads()` (what `Kernels.useThreads(2)` calls) starts the worker and resolves
 * when it is ready. Two threads are also the default: the first job big enough to split starts
 * the worker in the background (`startInBackground`). The worker is created synchronously and
 * reports readiness in the control block, so even a synchronous training loop (which never lets
 * a 'ready' message through) uses it as soon as it is up. Until then, jobs run on this thread.
 *
 * How a product runs (`gemmWasm2`):
 * 1. Small products (below `minFlops`), or any product while the worker is not started, run on
 *    one thread (gemmWasm): a round trip to the worker is cheap while it spins, not once it sleeps.
 * 2. Otherwise A, B (and C when accumulating) are copied into the shared memory once, and the
 *    output is cut into about four chunks, each a multiple of 4 rows or columns. Both threads
 *    take chunks from a shared counter until none is left (./control.ts's `runChunks`), so a
 *    worker that starts late, or is descheduled on a busy machine, just takes fewer (a fixed half
 *    would make this thread wait for it). This thread then withdraws the job if the worker never
 *    took it, or spins until the worker is done; it never calls Atomics.wait (that throws on a
 *    browser's main thread).
 * 3. After each job the worker spins for `spinMicros` watching for the next one, then sleeps in
 *    Atomics.wait. A product that finds it asleep runs on one thread (and wakes it for the next
 *    one) unless it is big enough (`wakeFlops`) to pay for the wake-up.
 * 4. Back-off: after two products in a row where the worker lagged (this thread waited for it
 *    longer than its own chunks took), products run on one thread for `cooldownMs`.
 *
 * Results are bit-identical to one thread (and to gemmReference) whichever thread computes
 * which chunk: every C[i][j] is computed by exactly one thread, by the same kernel, adding the
 * products in the same k order (test/kernels/gemm-threads.test.ts).
 *
 * The worker never keeps a process alive (Node: `worker.unref()`), and an error inside it (a
 * trap in the kernel) comes back as an Error thrown by the call that posted the job.
 *
 * A worker that dies turns two threads off with one warning (`threadsUnavailable()` says why).
 * It is noticed from its 'exit', 'error' or 'messageerror' event, and at once by a thread spinning
 * for it (which no event reaches) from the control block: in Node its own exit handler sets a
 * flag, in a browser its own 'error' handler marks the block STOPPED (./worker.ts). A product it
 * was working on is computed again on this thread (gemmWasm), and so is every part of a
 * convolution or element-wise job, bit for bit the same; later jobs run on one thread. A worker
 * that stops answering without dying is given up (and terminated) at a deadline
 * (`WORKER_DEADLINE_MS`), the same way.
 *
 * Memory: one shared memory (at most 1 GiB, the maximum the module declares) that grows to
 * the largest split product and never shrinks; and a second one, the float32 arena's
 * (./arena32.ts, `sharedArena`), where operands stay resident between products, so that both
 * threads read them in place (`twoThreadParts(flops, true)` runs a job there). Growing a shared memory leaves old views
 * stale, so views are built from `memory.buffer` after the grow, in every call.
 */
import { checkArgs, type BlockSizes, type Gemm } from '../gemm.ts'
import {
  ARGS,
  BY_ROWS,
  CHUNK,
  CHUNKS,
  CONTROL_BYTES,
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
  PARTS,
  POSTED,
  SEQ,
  SPIN,
  STARTING,
  STATE,
  STATUS,
  STOPPED,
  TAKEN,
  WITHDRAWN,
  WORKER_CHUNKS,
  runChunks,
  runParts,
} from './control.ts'
import { gemmSharedWasmBase64 } from './gemm-shared-module.ts'
import {
  align,
  copyIn,
  copyOut,
  decodeBase64,
  gemmWasm,
  place,
  plan,
  reserve,
  roundUp,
  wasmBlockSizes,
  type KernelExport,
  type PartExport,
} from './gemm.ts'
import { workerSource } from './worker-source.ts'
import { recycling } from '../../tensor/tensor.ts'

const MR = 4
const NR = 4
const PAGE = 65536
/** The maximum the shared module declares for its memory (scripts/build-wasm.ts, SHARED_MAX_PAGES). */
const MAX_PAGES = 16384

/** The worker as far as this module needs it (Node's Worker and the browser's both fit). */
interface WorkerHandle {
  terminate(): unknown
  /** Node only: whether the worker keeps the process alive. */
  ref?(): void
  unref?(): void
}

interface Pool {
  readonly memory: WebAssembly.Memory
  readonly kernel: KernelExport
  readonly part: PartExport
  /** The float32 arena's shared memory, and this thread's instance on it. */
  readonly arena: WebAssembly.Memory
  readonly arenaPart: PartExport
  readonly ctl: Int32Array<SharedArrayBuffer>
  readonly worker: WorkerHandle
  /** The last job number posted. */
  seq: number
  /** True once the worker said it is up: in the control block (seen by usablePool) or by message. */
  ready: boolean
  /** True once its start settled (the 'ready' message arrived or the start failed); from then on the worker is unreferenced. */
  settled: boolean
  /** Why the worker is unusable, once it is. */
  dead: string | null
  /** Node: set to 1 by the worker's own exit handler, so a thread spinning for it sees at once that it died. */
  readonly exited: Int32Array<SharedArrayBuffer>
}

/** How long to wait for a worker that neither finishes its share nor dies, before giving up on it (plus 1 ms per MFLOP). */
export const WORKER_DEADLINE_MS = 10_000

/**
 * Run first in a Node worker: its exit handler (process.exit, an uncaught error) sets the
 * `exited` flag in shared memory, which this thread sees even while it spins, when no event can
 * reach it. "use strict" first, as the generated script's own first line.
 */
const exitHook =
  '"use strict";\n' +
  "{ const { workerData } = require('node:worker_threads'); const flag = new Int32Array(workerData.exited); " +
  'process.on("exit", () => Atomics.store(flag, 0, 1)) }\n'

/** Whether the one warning that two threads turned off was given. */
let warned = false

/**
 * Gives up on a worker that died or stopped answering: two threads off (until `startThreads()`
 * starts a new worker), `threadsUnavailable()` says why, and one console warning, the first time.
 */
function giveUp(p: Pool, why: string): void {
  if (p.dead !== null) return // stopped on purpose, or already given up
  p.dead = why
  if (!p.settled) return // still starting: settle reports it
  void p.worker.terminate()
  if (pool !== p) return
  pool = null
  starting = null
  unavailable = `${why}; products run on one thread (Kernels.useThreads(2) starts a new worker)`
  if (!warned) {
    warned = true
    console.warn(`chainrule: two threads are off: ${unavailable}`)
  }
}

let pool: Pool | null = null
/** Products split between the two threads since the module loaded. */
let splits = 0

/** How many products have been split between the two threads so far (for tests and benchmarks). */
export const splitCount = (): number => splits

/** How many chunks the current worker has computed (for tests and benchmarks; 0 without a worker). */
export const workerChunkCount = (): number => (pool === null ? 0 : Atomics.load(pool.ctl, WORKER_CHUNKS))
let starting: Promise<boolean> | null = null
/** Why two threads are unavailable here (null while they are, or before a start was tried). */
let unavailable: string | null = null

/** Settings of the two-thread GEMM (see `configureThreads`). */
export interface ThreadSettings {
  /** Products of fewer flops (2·m·n·k) run on one thread. Default 1e6. */
  minFlops: number
  /** A product of at least this many flops wakes a sleeping worker and splits; smaller ones run on one thread. Default 4e6. */
  wakeFlops: number
  /** How long the worker spins for the next job before sleeping, in µs. Default 1000. */
  spinMicros: number
  /** Fewest rows or columns per chunk (rounded up to a multiple of 4). Default 32. */
  minChunk: number
  /**
   * False: this thread waits for the worker to be free, then leaves every chunk (and every
   * convolution part) to it (tests, diagnostics). Default true.
   */
  mainComputes: boolean
  /**
   * After two products in a row where the worker lagged (this thread waited for it longer than
   * its own share took, or finished everything before the worker started: a busy machine),
   * run on one thread for this many ms. 0 turns the back-off off. Default 250.
   */
  cooldownMs: number
  /**
   * True: the float32 tensor products and big SGD steps in the arena (./arena32.ts) are split between the threads too.
   * Default false: they split only while a reusing training step runs (`float32SplitNow`).
   */
  float32Split: boolean
}

/**
 * Whether the float32 products and SGD steps in the arena split between the threads now: when `float32Split` is
 * set, or while a reusing training step draws on its recycler (`recycling()`). A step that allocates fresh buffers
 * keeps V8's garbage collector busy on the second core, and split it ran slower on a 2-core machine; a reusing
 * step leaves that core to the worker, and split it ran faster (docs/kernels.md has the figures).
 */
export const float32SplitNow = (): boolean => settings.float32Split || recycling()

const settings: ThreadSettings = {
  minFlops: 1e6,
  wakeFlops: 4e6,
  spinMicros: 1000,
  minChunk: 32,
  mainComputes: true,
  cooldownMs: 250,
  float32Split: false,
}
/** Consecutive products where the worker lagged. */
let strikes = 0
/** performance.now() until which products run on one thread (the worker lagged). */
let coolUntil = 0

/** Changes the thresholds and the worker's spin window (for tuning and tests); returns the settings now in force. */
export function configureThreads(change: Partial<ThreadSettings> = {}): Readonly<ThreadSettings> {
  for (const [key, value] of Object.entries(change)) {
    const flag = key === 'mainComputes' || key === 'float32Split'
    if (flag ? typeof value !== 'boolean' : !(key in settings) || typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value)) {
      throw new RangeError(`configureThreads: ${key} must be ${flag ? 'a boolean' : 'a finite number ≥ 0'}, got ${String(value)}`)
    }
  }
  Object.assign(settings, change)
  settings.spinMicros = Math.min(Math.round(settings.spinMicros), 2 ** 31 - 1)
  if (pool !== null) Atomics.store(pool.ctl, SPIN, settings.spinMicros)
  return { ...settings }
}

function sharedModule(): WebAssembly.Module {
  const bytes = decodeBase64(gemmSharedWasmBase64)
  return new WebAssembly.Module(bytes)
}

interface NodeWorkerCtor {
  new (
    code: string,
    options: { eval: true; workerData: unknown; execArgv: string[] },
  ): WorkerHandle & {
    unref(): void
    once(event: 'message' | 'error' | 'exit', listener: (value: unknown) => void): void
    on(event: 'error' | 'exit', listener: (value: unknown) => void): void
    off(event: 'message' | 'error' | 'exit', listener: (value: unknown) => void): void
  }
}

/** Node's Worker through process.getBuiltinModule (Node ≥ 20.16); null outside Node, undefined where only the async import works. */
function nodeWorkerSync(): NodeWorkerCtor | null | undefined {
  const proc = globalThis.process
  if (proc?.versions?.node === undefined) return null
  const mod = proc.getBuiltinModule?.(['node', 'worker_threads'].join(':')) as { Worker: NodeWorkerCtor } | undefined
  return mod?.Worker
}

/** Node's Worker, or null outside Node. Never a static import: the core must bundle for browsers. */
async function nodeWorker(): Promise<NodeWorkerCtor | null> {
  const proc = globalThis.process
  if (proc?.versions?.node === undefined) return null
  const name = ['node', 'worker_threads'].join(':') // hidden from bundlers
  const mod: { Worker: NodeWorkerCtor } = proc.getBuiltinModule?.(name) ?? (await import(/* @vite-ignore */ name))
  return mod.Worker
}

/**
 * Starts the worker (once; later calls return the same promise). Resolves true when it is
 * ready, false when two threads are unavailable here (no SharedArrayBuffer, a page that is
 * not cross-origin isolated, no WebAssembly threads, no workers): then `threadsUnavailable()`
 * says why, and gemmWasm2 runs on one thread. Never rejects.
 */
export function startThreads(): Promise<boolean> {
  autoStart = true
  awaited = true
  if (pool !== null && !pool.settled) pool.worker.ref?.() // a background start in flight: keep the process alive until it settles
  return begin()
}

/** True until `stopThreads()`, and again after `startThreads()`: while two threads may start by themselves. */
let autoStart = true
/** Whether someone awaits the start in flight (then the worker keeps the process alive until it is ready). */
let awaited = false

/**
 * Starts the worker in the background, if no start was tried yet and `stopThreads()` was not
 * called: what the default of two threads does at the first product big enough to split. Nobody
 * awaits it, so the worker never keeps the process alive, not even while it starts; until it is
 * ready, and where two threads are unavailable, products run on one thread, with the same results.
 */
export function startInBackground(): void {
  if (autoStart && pool === null && starting === null && unavailable === null) void begin()
}

function begin(): Promise<boolean> {
  if (pool !== null && pool.ready && pool.dead === null) return Promise.resolve(true)
  if (starting !== null) return starting
  starting = launch().catch((e: unknown) => {
    unavailable = e instanceof Error ? e.message : String(e)
    return false
  })
  return starting
}

async function launch(): Promise<boolean> {
  unavailable = null
  if (typeof SharedArrayBuffer !== 'function' || typeof Atomics !== 'object' || typeof WebAssembly !== 'object') {
    throw new Error('no SharedArrayBuffer (in a browser: the page must be cross-origin isolated, COOP/COEP headers)')
  }
  const module = sharedModule()
  const memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES, shared: true })
  const exports = new WebAssembly.Instance(module, { env: { memory } }).exports
  const kernel = exports['gemm'] as KernelExport
  const part = exports['part'] as PartExport
  const arena = new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES, shared: true })
  const arenaPart = new WebAssembly.Instance(module, { env: { memory: arena } }).exports['part'] as PartExport
  const control = new SharedArrayBuffer(CONTROL_BYTES)
  const ctl = new Int32Array(control)
  Atomics.store(ctl, SPIN, settings.spinMicros)
  const init = { module, memory, arena, control }
  // Synchronously where the engine allows (Node ≥ 20.16, browsers), so a background start from a
  // synchronous training loop creates the worker before the loop goes on (see usablePool).
  const sync = nodeWorkerSync()
  const Worker = sync !== undefined ? sync : await nodeWorker()
  if (Worker !== null) {
    // Referenced while it starts when someone awaits the start (so the promise below can
    // settle), unreferenced once ready: from then on it never keeps the process alive.
    // execArgv []: the worker's bundled script needs no loader, and must not inherit flags such
    // as --input-type=module (which would make it an ES module without `require`).
    const exited = new Int32Array(new SharedArrayBuffer(4))
    const worker = new Worker(exitHook + workerSource, { eval: true, workerData: { ...init, exited: exited.buffer }, execArgv: [] })
    if (!awaited) worker.unref() // a background start: the process may end before the worker is ready
    const p: Pool = { memory, kernel, part, arena, arenaPart, ctl, worker, seq: 0, ready: false, settled: false, dead: null, exited }
    pool = p
    worker.on('error', (e) => giveUp(p, `the GEMM worker crashed: ${e instanceof Error ? e.message : String(e)}`))
    worker.on('exit', (code) => giveUp(p, `the GEMM worker exited (code ${String(code)})`))
    const ok = await new Promise<boolean>((resolve) => {
      worker.once('message', (m) => resolve((m as { ready?: boolean }).ready === true))
      worker.once('exit', () => resolve(false))
    })
    worker.unref()
    return settle(p, ok)
  }
  const g = globalThis
  if (g.Worker === undefined || g.crossOriginIsolated !== true) {
    throw new Error('no Web Worker with shared memory here (the page must be cross-origin isolated)')
  }
  const url = URL.createObjectURL(new Blob([workerSource], { type: 'text/javascript' }))
  const worker = new g.Worker(url)
  const p: Pool = {
    memory,
    kernel,
    part,
    arena,
    arenaPart,
    ctl,
    worker,
    seq: 0,
    ready: false,
    settled: false,
    dead: null,
    exited: new Int32Array(new SharedArrayBuffer(4)),
  }
  pool = p
  const ok = await new Promise<boolean>((resolve) => {
    worker.onmessage = (e) => resolve((e.data as { ready?: boolean }).ready === true)
    worker.onerror = () => resolve(false)
    worker.postMessage(init)
  })
  URL.revokeObjectURL(url)
  const result = settle(p, ok)
  worker.onerror = (e) => giveUp(p, `the GEMM worker crashed${e.message ? `: ${e.message}` : ''}`)
  worker.onmessageerror = () => giveUp(p, 'the GEMM worker sent a message that could not be read')
  return result
}

/** Marks the pool ready, or (the worker did not start) ends it, forgets it and throws why. */
function settle(p: Pool, ok: boolean): boolean {
  p.settled = true
  if (!ok) {
    const why = p.dead ?? workerMessage(p.ctl)
    void p.worker.terminate()
    if (pool === p) pool = null
    starting = null
    throw new Error(`the GEMM worker did not start${why === '' ? '' : `: ${why}`}`)
  }
  p.ready = true
  return true
}

/**
 * Stops the worker (Node: terminates it) and returns to one thread. `startThreads` may start
 * a new one later. Not needed before exiting: the worker never keeps a process alive.
 */
export async function stopThreads(): Promise<void> {
  autoStart = false
  const p = pool
  if (p !== null && !p.settled) p.worker.ref?.() // a background start: keep the process alive while we wait for it
  if (starting !== null) await starting
  pool = null
  starting = null
  if (p !== null) {
    p.ready = false
    p.dead ??= 'stopped'
    await p.worker.terminate()
  }
}

/** True while the worker is started and usable (so gemmWasm2 may split products). */
export const threadsRunning = (): boolean => usablePool() !== null

/** Why two threads are unavailable here, or null (none tried yet, or they are available). */
export const threadsUnavailable = (): string | null => unavailable

function workerMessage(ctl: Int32Array<SharedArrayBuffer>): string {
  const length = Atomics.load(ctl, MSG_LEN)
  // Copied out first: TextDecoder refuses views on shared memory in browsers.
  return new TextDecoder().decode(new Uint8Array(ctl.buffer, MSG_AT, length).slice())
}

/** Posts a job (its arguments already written) and wakes the worker if it sleeps. */
function post(p: Pool, op: number): number {
  const seq = (p.seq + 1) | 0
  p.seq = seq
  Atomics.store(p.ctl, OP, op)
  Atomics.store(p.ctl, TAKEN, POSTED)
  Atomics.store(p.ctl, STATUS, 0)
  Atomics.store(p.ctl, SEQ, seq)
  Atomics.notify(p.ctl, SEQ, 1)
  return seq
}

/**
 * Spins (never Atomics.wait: it throws on a browser's main thread) until the worker finishes job
 * `seq`, and throws what it threw; false when the worker died or stopped answering instead (then
 * two threads are off and the job is to be done again on this thread).
 */
function finish(p: Pool, seq: number, flops: number): boolean {
  if (!waitDone(p, seq, flops)) return false
  if (Atomics.load(p.ctl, STATUS) !== 0) {
    throw new Error(`chainrule: the GEMM worker failed: ${workerMessage(p.ctl)}`)
  }
  return true
}

/**
 * Spins until the worker finishes job `seq`: true once it has, false (having given up on the
 * worker) as soon as it died, or at a generous deadline if it neither finishes nor dies.
 */
function waitDone(p: Pool, seq: number, flops: number): boolean {
  const ctl = p.ctl
  if (Atomics.load(ctl, DONE) === seq) return true
  // Generous: the deadline plus 1 ms per MFLOP (as if the worker ran at 1 GFLOP/s).
  const t0 = performance.now()
  const deadline = t0 + WORKER_DEADLINE_MS + flops / 1e6
  for (let i = 1; ; i++) {
    const done = Atomics.load(ctl, DONE)
    if (done === seq) return true
    if (p.dead !== null || Atomics.load(p.exited, 0) === 1) {
      giveUp(p, 'the GEMM worker exited during a job')
      return false
    }
    if (Atomics.load(ctl, STATE) === STOPPED) {
      giveUp(p, `the GEMM worker stopped during a job: ${workerMessage(ctl)}`)
      return false
    }
    if ((i & 0xff) !== 0) continue
    const now = performance.now()
    if (now > deadline) {
      giveUp(p, `the GEMM worker stopped answering (no reply in ${WORKER_DEADLINE_MS / 1000} s)`)
      return false
    }
    // A worker this late was descheduled (a busy machine): sleep, leaving this core to it, until it posts DONE (1 ms at most).
    if (mayBlock && now - t0 > BLOCK_AFTER_MS) Atomics.wait(ctl, DONE, done, 1)
  }
}

/** Whether this thread may sleep in Atomics.wait: in Node, yes; on a browser's main thread it throws. */
const mayBlock = typeof globalThis.process?.versions?.node === 'string'
/** How long a thread waiting for the worker spins before it sleeps (ms). */
const BLOCK_AFTER_MS = 0.1

/**
 * Runs one raw kernel call on the worker and waits for it (tests and diagnostics: arguments
 * as asm/gemm.ts's `gemm` takes them, byte addresses into the shared memory). Throws what
 * the worker threw, as an Error. Needs a started worker.
 */
export function runOnWorker(args: readonly number[]): void {
  const p = usablePool()
  if (p === null) throw new Error('runOnWorker: the GEMM worker is not running (await startThreads() first)')
  if (args.length !== 17) throw new RangeError(`runOnWorker: the kernel takes 17 arguments, got ${args.length}`)
  if (!waitDone(p, p.seq, 0)) throw new Error(`runOnWorker: ${p.dead ?? 'the GEMM worker died'}`) // a wake-up or withdrawn job may still be in flight
  for (let i = 0; i < 17; i++) p.ctl[ARGS + i] = args[i]!
  p.ctl[BY_ROWS] = 1
  p.ctl[CHUNK] = args[0]!
  p.ctl[CHUNKS] = 1
  p.ctl[NEXT] = 0
  if (!finish(p, post(p, KERNEL), 0)) throw new Error(`runOnWorker: ${p.dead ?? 'the GEMM worker died'}`)
}

function usablePool(): Pool | null {
  const p = pool
  if (p === null) return null
  // Ready as soon as the worker says so in the control block: a synchronous loop (training, with
  // no await) never lets the 'ready' message through, but sees this.
  if (!p.ready && p.dead === null && Atomics.load(p.ctl, STATE) !== STARTING && Atomics.load(p.ctl, STATE) !== STOPPED) p.ready = true
  if (!p.ready) return null
  if (Atomics.load(p.exited, 0) === 1) giveUp(p, 'the GEMM worker exited')
  if (p.dead === null && Atomics.load(p.ctl, STATE) === STOPPED) giveUp(p, `the GEMM worker stopped: ${workerMessage(p.ctl)}`)
  return p.dead === null ? p : null
}

/**
 * Builds a two-thread GEMM with the given cache blocks (default `wasmBlockSizes`). Until the
 * worker is up it runs gemmWasm (a product over `minFlops` starts the worker in the background),
 * and so below the thresholds of `configureThreads`.
 */
export function makeGemmWasm2(blocks: BlockSizes = wasmBlockSizes): Gemm {
  const { mc, kc: kcMax, nc } = blocks
  return (m, n, k, a, b, c, cOffset, accumulate) => {
    const flops = 2 * m * n * k
    const p = flops < settings.minFlops || (coolUntil !== 0 && performance.now() < coolUntil) ? null : usablePool()
    if (p === null || m === 0 || n === 0 || k === 0) {
      if (flops >= settings.minFlops) startInBackground() // worth two threads: start the worker for the next ones
      return gemmWasm(m, n, k, a, b, c, cOffset, accumulate)
    }
    checkArgs(m, n, k, a, b, c, cOffset)
    // Chunks of rows when m > 128, else of columns, else of rows: about four, each a multiple
    // of 4 (a row chunk's last tile writes 4 whole rows: only the last chunk may have scratch
    // rows below it; column chunks of 4 keep the kernels' tiles whole) and at least minChunk wide
    // (each chunk repacks the other operand: a chunk of w rows or columns does 2·w flops
    // per element it packs).
    const minChunk = Math.max(MR, roundUp(settings.minChunk, MR))
    const byRows = m > 128 || (n < 2 * minChunk && m >= 2 * minChunk)
    const dim = byRows ? m : n
    const chunk = Math.max(roundUp(Math.ceil(dim / 4), MR), minChunk)
    const chunks = Math.ceil(dim / chunk)
    if (chunks < 2) return gemmWasm(m, n, k, a, b, c, cOffset, accumulate)
    const ctl = p.ctl
    // The worker computes everything: wait until it is free (or, if it died, compute on this thread).
    if (!settings.mainComputes && !waitDone(p, p.seq, 0)) return gemmWasm(m, n, k, a, b, c, cOffset, accumulate)
    const idle = Atomics.load(ctl, DONE) === p.seq
    if (!idle || (Atomics.load(ctl, STATE) !== HOT && flops < settings.wakeFlops)) {
      if (idle) post(p, NOOP) // wake it for the next product
      return gemmWasm(m, n, k, a, b, c, cOffset, accumulate)
    }
    // Layout in f64 elements, each region on a cache line; a packing workspace per thread.
    const pa = plan(a, m, k)
    const pb = plan(b, k, n)
    const mPad = roundUp(m, MR)
    const kc = Math.min(kcMax, k)
    const aAt = 0
    const bAt = aAt + align(pa.elements)
    const cAt = bAt + align(pb.elements)
    const packA = align(Math.min(mc, mPad) * kc)
    const packB = align(Math.min(nc, roundUp(n, NR)) * kc)
    const packA0 = cAt + align(mPad * n)
    const packB0 = packA0 + packA
    const packA1 = packB0 + packB
    const packB1 = packA1 + packA
    const end = packB1 + packB
    if (!reserve(p.memory, end * 8, MAX_PAGES * PAGE)) return gemmWasm(m, n, k, a, b, c, cOffset, accumulate)
    const heap = new Float64Array(p.memory.buffer) // after any grow: a view from before it is stale
    const [a0, aRs, aCs] = place(pa, heap, aAt)
    const [b0, bRs, bCs] = place(pb, heap, bAt)
    if (accumulate) copyIn(c, cOffset, m, n, heap, cAt, mPad)
    const args = [m, n, k, a0 * 8, aRs, aCs, b0 * 8, bRs, bCs, cAt * 8, n, accumulate ? 1 : 0, mc, kcMax, nc, packA1 * 8, packB1 * 8]
    for (let i = 0; i < 17; i++) ctl[ARGS + i] = args[i]!
    ctl[BY_ROWS] = byRows ? 1 : 0
    ctl[CHUNK] = chunk
    ctl[CHUNKS] = chunks
    ctl[NEXT] = 0
    const seq = post(p, KERNEL)
    splits++
    let failure: unknown = null
    const t0 = performance.now()
    try {
      if (settings.mainComputes) runChunks(ctl, p.kernel, packA0 * 8, packB0 * 8, false)
    } catch (e) {
      Atomics.store(ctl, NEXT, NO_MORE) // stop the worker taking chunks
      failure = e
    }
    const t1 = performance.now()
    // Withdraw the job if the worker has not taken it yet (then it never will); else wait for
    // it: it must not be writing when this call returns.
    const withdrawn = settings.mainComputes && Atomics.compareExchange(ctl, TAKEN, POSTED, WITHDRAWN) === POSTED
    const answered = withdrawn || finish(p, seq, flops)
    if (failure !== null) throw failure
    // The worker died with chunks of this product unfinished: c is untouched (the result is still
    // in the shared memory), so the whole product runs again here, with the same bits.
    if (!answered) return gemmWasm(m, n, k, a, b, c, cOffset, accumulate)
    if (settings.mainComputes && settings.cooldownMs > 0) backOff(withdrawn || performance.now() - t1 > t1 - t0)
    copyOut(heap, cAt, m, n, c, cOffset)
  }
}

/** Counts products where the worker lagged; two in a row start a cool-down on one thread. */
function backOff(lagged: boolean): void {
  if (!lagged) {
    strikes = 0
    return
  }
  strikes++
  if (strikes >= 2) {
    strikes = 0
    coolUntil = performance.now() + settings.cooldownMs
  }
}

/**
 * The two-thread WebAssembly GEMM: same contract and same result (bit for bit) as gemmWasm and
 * gemmReference. Runs gemmWasm until the worker is up, and for small products.
 */
export const gemmWasm2: Gemm = makeGemmWasm2()

/**
 * Both threads on the parts of one job (a convolution product or an element-wise pass; asm/index.ts's
 * `part`): the shared memory, and a
 * `run` that posts the job to the worker and takes parts on this thread too, each thread with
 * its own scratch area, until none is left. Which thread runs a part never changes its result.
 */
export interface PartsRunner {
  readonly memory: WebAssembly.Memory
  /** The most bytes the memory may grow to. */
  readonly maxBytes: number
  /** How many threads run the parts (each needs its own scratch area). */
  readonly threads: 1 | 2
  /**
   * Runs part(op, job, i, scratch) for i = 0 … parts − 1: on this thread with scratch0, on
   * the worker with scratch1. A worker that dies meanwhile is given up and every part runs
   * again here. `flops` (the job's size) sets how long to wait for a worker that stopped
   * answering before giving up on it the same way. True when the worker took the job (its parts
   * may have been split), false when this thread ran every part.
   */
  run(op: number, job: number, parts: number, scratch0: number, scratch1: number, flops: number): boolean
  /**
   * Whether the worker has seen every job posted so far, so that one posted now may be shared at once
   * (else `run` does every part on this thread; a caller may rather cut the job for one thread).
   */
  free(): boolean
}

/** The float32 arena's shared memory (./arena32.ts), this thread's instance on it and its cap, while the worker is up; else null. */
export function sharedArena(): { readonly memory: WebAssembly.Memory; readonly part: PartExport; readonly maxBytes: number } | null {
  const p = usablePool()
  return p === null ? null : { memory: p.arena, part: p.arenaPart, maxBytes: MAX_PAGES * PAGE }
}

/**
 * The two-thread runner for a job of `flops` FLOPs, or null: below `minFlops` (not worth a
 * round trip), or while the worker is not up (then this starts it in the background, for the
 * next jobs). Either way the caller runs the same parts on one thread, with the same result.
 * `inArena`: the job is in the float32 arena's memory (`sharedArena`), not in the kernels' one.
 */
export function twoThreadParts(flops: number, inArena = false): PartsRunner | null {
  if (flops < settings.minFlops) return null
  const p = usablePool()
  if (p === null) {
    startInBackground() // for the next products
    return null
  }
  const part = inArena ? p.arenaPart : p.part
  return {
    memory: inArena ? p.arena : p.memory,
    maxBytes: MAX_PAGES * PAGE,
    threads: 2,
    free: () => Atomics.load(p.ctl, DONE) === p.seq,
    run: (op, job, parts, scratch0, scratch1, flops) => {
      const ctl = p.ctl
      // The worker has not yet seen the last job (a wake-up, or a job withdrawn because it never
      // came): it sleeps or is descheduled, so this thread runs every part rather than wait for it
      // (the same result). Or, leaving every part to the worker: let that job end first. If the
      // worker died, none of this job went to it: this thread runs every part.
      if ((settings.mainComputes && Atomics.load(ctl, DONE) !== p.seq) || !waitDone(p, p.seq, 0)) {
        for (let i = 0; i < parts; i++) part(op, job, i, scratch0)
        return false
      }
      ctl[ARGS] = op
      ctl[ARGS + 1] = job
      ctl[ARGS + 2] = scratch1
      ctl[IN_ARENA] = inArena ? 1 : 0
      ctl[CHUNKS] = parts
      ctl[NEXT] = 0
      const seq = post(p, PARTS)
      splits++
      let failure: unknown = null
      try {
        if (settings.mainComputes) runParts(ctl, part, op, job, scratch0, false)
      } catch (e) {
        Atomics.store(ctl, NEXT, NO_MORE) // stop the worker taking parts
        failure = e
      }
      // Withdraw the job if the worker never took it; else wait: it must not be writing when this
      // returns. A worker that died mid-job (now terminated) may have left a part half written:
      // every part runs again here. A part reads only the job's inputs and writes only its own
      // outputs, so this gives the bits two threads give. (A worker given up at the deadline is
      // terminated too, but may still be inside a part while this runs: it takes no new one.)
      const withdrawn = settings.mainComputes && Atomics.compareExchange(ctl, TAKEN, POSTED, WITHDRAWN) === POSTED
      const answered = withdrawn || finish(p, seq, flops)
      if (failure !== null) throw failure
      if (!answered) {
        Atomics.store(ctl, NEXT, NO_MORE)
        for (let i = 0; i < parts; i++) part(op, job, i, scratch0)
      }
      return answered && !withdrawn
    },
  }
}
