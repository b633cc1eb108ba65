/**
 * Which kernel family runs the heavy loops:
 * - 'reference': the whiteboard loops (gemmReference). Read them to learn; they are the oracle.
 * - 'js': the plain-TypeScript fast kernels (gemmBlocked: cache blocking, packed panels).
 * - 'wasm': the WebAssembly SIMD kernels (gemmWasm, the convolutions, ReLU and max-pooling on
 *   big tensors, and the fused optimizer steps on big parameter arrays). Where the engine lacks
 *   WebAssembly SIMD they run the 'js' kernels instead, with no error; `wasmSimdAvailable()`
 *   tells which.
 * - 'fast' (the default): the fastest family available here. Today that is 'wasm'.
 *
 * The promise is agreement within 1e-12 relative (property tests hold every family to the
 * reference). Today's GEMMs even round identically, because all three add the products of
 * each output element in the same k order, but later kernels (convolution, two threads) need
 * not: pick one family per run when you need exact replays.
 *
 * Threads: the 'wasm' (and 'fast') GEMM, convolutions, ReLU and max-pooling run on two cores
 * (gemmWasm2 of ./wasm/threads.ts, and the parts of ./wasm/conv.ts and ./wasm/elementwise.ts:
 * one persistent worker on a shared WebAssembly.Memory). Their results are bit-identical to
 * one thread. (The optimizer steps always run on this thread.) Two is the default: the worker
 * starts in the background at the first product big enough to split (until it is
 * ready, and where the engine cannot share memory, everything runs on one thread, with no
 * error). `useThreads(1)` keeps everything on this thread.
 *
 * These are chainrule's module-level settings. They select an implementation, never a result.
 */
import { gemmBlocked, gemmReference, type Gemm } from './gemm.ts'
import { gemm32Blocked, gemm32Reference, type Gemm32 } from './gemm32.ts'
import { gemmWasm, wasmSimdAvailable } from './wasm/gemm.ts'
import { gemm32Wasm, gemm32Wasm2 } from './wasm/gemm32.ts'
import { gemmWasm2, startThreads, stopThreads, threadsRunning, threadsUnavailable } from './wasm/threads.ts'

export { stopThreads, threadsRunning, threadsUnavailable, wasmSimdAvailable }

/** A kernel family: 'reference' (readable), 'js' (plain TS, blocked), 'wasm' (WebAssembly SIMD), 'fast' (the best available). */
export type KernelChoice = 'reference' | 'js' | 'wasm' | 'fast'

const choices: readonly KernelChoice[] = ['reference', 'js', 'wasm', 'fast']

let current: KernelChoice = 'fast'

/** The kernel family in use, as selected ('fast' unless changed). */
export const kernels = (): KernelChoice => current

/** Selects the kernel family for every later call. */
export const useKernels = (choice: KernelChoice): void => {
  if (!choices.includes(choice)) {
    throw new Error(`useKernels: expected one of ${choices.map((c) => `'${c}'`).join(', ')}, got ${String(choice)}`)
  }
  current = choice
}

/** Runs f with a kernel family selected, restoring the previous one afterwards. */
export const withKernels = <A>(choice: KernelChoice, f: () => A): A => {
  const before = current
  useKernels(choice)
  try {
    return f()
  } finally {
    current = before
  }
}

/** The family that actually runs for a choice: 'fast' and 'wasm' are 'js' where WebAssembly SIMD is missing. */
export const resolveKernels = (choice: KernelChoice = current): 'reference' | 'js' | 'wasm' =>
  choice === 'reference' ? 'reference' : choice === 'js' || !wasmSimdAvailable() ? 'js' : 'wasm'

/** How many threads the 'wasm' and 'fast' kernels (GEMM and convolution) may use. */
export type ThreadCount = 1 | 2

let threadCount: ThreadCount = 2

/** The thread count selected with `useThreads` (2 unless changed; `threadsRunning()` tells whether the worker is up). */
export const threads = (): ThreadCount => threadCount

/**
 * Selects 1 or 2 threads for the 'wasm' and 'fast' kernels (2 is the default). With 2 it starts
 * the worker (once) and resolves true when it is ready, or false where two threads are
 * unavailable (no SharedArrayBuffer, a page without cross-origin isolation;
 * `threadsUnavailable()` says why): until it is ready, and where unavailable, products run on
 * one thread, with the same results. Awaiting it is optional (the first big product starts the
 * worker anyway) but makes the first steps two-threaded. The worker never keeps a process
 * alive; `stopThreads()` ends it (and keeps it from starting again by itself).
 *
 * @example
 * await useThreads(2) // true in Node 20
 */
export const useThreads = (count: ThreadCount): Promise<boolean> => {
  if (count !== 1 && count !== 2) throw new Error(`useThreads: expected 1 or 2, got ${String(count)}`)
  threadCount = count
  return count === 1 ? Promise.resolve(true) : startThreads()
}

/**
 * The GEMM of a kernel family (all share the `Gemm` contract of ./gemm.ts), on `count` threads
 * (default: the current setting; only the WebAssembly GEMM has a two-thread version).
 *
 * @example
 * import { gemmReference, view } from './gemm.ts'
 * gemmFor('reference') === gemmReference
 * const [a, b, c] = [new Float64Array([1, 2, 3, 4, 5, 6]), new Float64Array([7, 8, 9, 10, 11, 12]), new Float64Array(4)]
 * gemmFor('fast')(2, 2, 3, view(a, 2, 3), view(b, 3, 2), c, 0, false) // c = a·b = [58, 64, 139, 154], WebAssembly where it can
 */
export const gemmFor = (choice: KernelChoice, count: ThreadCount = threadCount): Gemm =>
  choice === 'reference' ? gemmReference : choice === 'js' ? gemmBlocked : count === 2 ? gemmWasm2 : gemmWasm

/** The GEMM of the family and thread count in use: what matmul and the convolution kernels call. */
export const currentGemm = (): Gemm => gemmFor(current)

/**
 * The float32 GEMM of a kernel family (the `Gemm32` contract of ./gemm32.ts) on `count` threads.
 * Every family rounds each product and each running sum to float32 in the same k order, so all
 * of them give gemm32Reference's bits.
 */
export const gemm32For = (choice: KernelChoice, count: ThreadCount = threadCount): Gemm32 =>
  choice === 'reference' ? gemm32Reference : choice === 'js' ? gemm32Blocked : count === 2 ? gemm32Wasm2 : gemm32Wasm

/** The float32 GEMM of the family and thread count in use. */
export const currentGemm32 = (): Gemm32 => gemm32For(current)
