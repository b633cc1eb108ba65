/**
 * Waiting for the worker to have seen every job posted so far, so that the next job is shared
 * with it (a job posted while it has not runs on this thread alone: the same bits, no split).
 * Tests that count splits call this before each job they count.
 */
import { twoThreadParts } from '../../src/kernels/wasm/threads.ts'

/** Spins until the worker is free (up to `deadlineMs`); throws if it is not running or never frees. */
export function untilWorkerFree(deadlineMs = 10_000): void {
  const runner = twoThreadParts(Infinity)
  if (runner === null) throw new Error('untilWorkerFree: the worker is not running')
  const start = performance.now()
  while (!runner.free()) if (performance.now() - start > deadlineMs) throw new Error(`untilWorkerFree: not free after ${deadlineMs} ms`)
}
