/**
 * The control block the two threads of ./threads.ts share, and the loops both of them run.
 * ./threads.ts (this thread) and ./worker.ts (the worker, bundled into ./worker-source.ts by
 * scripts/build-wasm.ts) import it, so the worker's code and this thread's are the same code.
 *
 * The block is an Int32Array on a SharedArrayBuffer: the slots below, then the worker's error
 * message as UTF-8 bytes at MSG_AT. A job's arguments are written first, then its number is
 * bumped in SEQ (Atomics.store and Atomics.notify); the worker publishes the number in DONE
 * when it is done.
 */
import type { KernelExport, PartExport } from './gemm.ts'

/** Job number, bumped by this thread to post a job. */
export const SEQ = 0
/** The last job number the worker finished. */
export const DONE = 1
/** 0 ok, 1 the worker's last job threw (message at MSG_AT). */
export const STATUS = 2
/** STARTING, HOT, SLEEPING or STOPPED. */
export const STATE = 3
/** What the posted job is: NOOP (just wake up), KERNEL (GEMM chunks) or PARTS (the parts of a job). */
export const OP = 4
/** How long the worker spins after a job, in µs. */
export const SPIN = 5
/** Bytes of the error message. */
export const MSG_LEN = 6
/**
 * KERNEL: the 17 kernel arguments of the whole product (packing workspaces: the worker's); PARTS: op, job, the worker's scratch,
 * and IN_ARENA.
 */
export const ARGS = 8
/** PARTS: 1 when the job is in the float32 arena's memory (the second shared memory), 0 in the first. */
export const IN_ARENA = ARGS + 3
/** 1: chunks are row blocks; 0: column blocks. */
export const BY_ROWS = 25
/** Rows or columns per chunk (a multiple of 4). */
export const CHUNK = 26
/** How many chunks (or parts). */
export const CHUNKS = 27
/** The next chunk to take (Atomics.add by both threads). */
export const NEXT = 28
/** POSTED, WORKER_TOOK, or WITHDRAWN by this thread (the worker never saw it). */
export const TAKEN = 29
/** Chunks and parts the worker has computed since it started. */
export const WORKER_CHUNKS = 30
/** Byte offset of the error message. */
export const MSG_AT = 128
export const CONTROL_BYTES = 1024

export const STARTING = 0
export const HOT = 1
export const SLEEPING = 2
export const STOPPED = 3

export const NOOP = 0
export const KERNEL = 1
export const PARTS = 2

export const POSTED = 0
export const WORKER_TOOK = 1
export const WITHDRAWN = 2

/** Written into NEXT to stop the other thread taking chunks (after a failure). */
export const NO_MORE = 0x3fffffff

/**
 * Runs chunks of the posted product until none is left, with the given packing workspaces:
 * each thread takes the next chunk index with Atomics.add, so a thread that starts late or is
 * descheduled simply computes fewer chunks. Which thread computes a chunk never changes its
 * result. `counted` (the worker) adds each chunk to WORKER_CHUNKS.
 */
export function runChunks(ctl: Int32Array<SharedArrayBuffer>, kernel: KernelExport, packA: number, packB: number, counted: boolean): void {
  const chunks = ctl[CHUNKS]!
  const chunk = ctl[CHUNK]!
  const byRows = ctl[BY_ROWS] === 1
  const m = ctl[ARGS]!,
    n = ctl[ARGS + 1]!,
    k = ctl[ARGS + 2]!
  const a = ctl[ARGS + 3]!,
    aRs = ctl[ARGS + 4]!,
    aCs = ctl[ARGS + 5]!
  const b = ctl[ARGS + 6]!,
    bRs = ctl[ARGS + 7]!,
    bCs = ctl[ARGS + 8]!
  const c = ctl[ARGS + 9]!,
    ldc = ctl[ARGS + 10]!,
    acc = ctl[ARGS + 11]!
  const mc = ctl[ARGS + 12]!,
    kc = ctl[ARGS + 13]!,
    nc = ctl[ARGS + 14]!
  for (let i = Atomics.add(ctl, NEXT, 1); i < chunks; i = Atomics.add(ctl, NEXT, 1)) {
    const at = i * chunk
    if (counted) Atomics.add(ctl, WORKER_CHUNKS, 1)
    if (byRows) {
      kernel(Math.min(chunk, m - at), n, k, a + at * aRs * 8, aRs, aCs, b, bRs, bCs, c + at * ldc * 8, ldc, acc, mc, kc, nc, packA, packB)
    } else {
      kernel(m, Math.min(chunk, n - at), k, a, aRs, aCs, b + at * bCs * 8, bRs, bCs, c + at * 8, ldc, acc, mc, kc, nc, packA, packB)
    }
  }
}

/**
 * Runs part(op, job, i, scratch) for the parts of the posted job until none is left (the same
 * shared counter as runChunks). `counted` (the worker) adds each part to WORKER_CHUNKS.
 */
export function runParts(
  ctl: Int32Array<SharedArrayBuffer>,
  part: PartExport,
  op: number,
  job: number,
  scratch: number,
  counted: boolean,
): void {
  const parts = ctl[CHUNKS]!
  for (let i = Atomics.add(ctl, NEXT, 1); i < parts; i = Atomics.add(ctl, NEXT, 1)) {
    if (counted) Atomics.add(ctl, WORKER_CHUNKS, 1)
    part(op, job, i, scratch)
  }
}
