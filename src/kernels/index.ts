/**
 * Kernel and thread controls: `import { Kernels } from 'chainrule'`. They choose which
 * implementation runs the heavy loops, never what it computes (see ./backend.ts).
 *
 * @example
 * Kernels.use('reference')                        // the whiteboard loops, for reading and as the oracle
 * Kernels.using('js', () => Train.predict(net, state.params, state.state, x))  // one call with the plain-TypeScript kernels
 * await Kernels.useThreads(1)                     // keep everything on this thread
 */
export {
  useKernels as use,
  withKernels as using,
  kernels as current,
  resolveKernels as resolve,
  currentGemm as gemm,
  gemmFor,
  currentGemm32 as gemm32,
  gemm32For,
  wasmSimdAvailable,
  useThreads,
  threads,
  stopThreads,
  threadsRunning,
  threadsUnavailable,
  type KernelChoice as Choice,
  type ThreadCount,
} from './backend.ts'
