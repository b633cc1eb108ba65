/**
 * Waiting for the worker to have seen every job posted so far, so that the next job is shared
 * with it (a job posted while it has not runs on this thread alone: the same bits, no split).
 * Tests that count splits call this before each job they count.
 */
import { afterAll, beforeAll, expect } from 'vitest'
import { configureThreads, startThreads, twoThreadParts, type ThreadSettings } from '../../src/kernels/wasm/threads.ts'

/** Spins until the worker is free (up to `deadlineMs`); throws if it is not running or never frees. */
export function untilWorkerFree(deadlineMs = 10_000): void {
  const runner = twoThreadParts(Infinity)
  if (runner === null) throw new Error('untilWorkerFree: the worker is not running')
  const start = performance.now()
  while (!runner.free()) if (performance.now() - start > deadlineMs) throw new Error(`untilWorkerFree: not free after ${deadlineMs} ms`)
}

/**
 * For a describe block of float32 split tests: starts the worker and turns the float32 split on with no back-off
 * (`cooldownMs: 0`) before its tests, and restores the thread settings in force before them after.
 */
export function splittingFloat32(): void {
  let before: Readonly<ThreadSettings>
  beforeAll(async () => {
    expect(await startThreads()).toBe(true)
    before = configureThreads()
    configureThreads({ cooldownMs: 0, float32Split: true })
  })
  afterAll(() => {
    configureThreads(before)
  })
}
