/**
 * Which kernel family runs the heavy loops. 'reference' is the whiteboard version (read it to
 * learn); 'fast' is the cache-blocked one. The promise is agreement within 1e-12 relative
 * (property tests hold them to it). Today's GEMM pair even rounds identically, because both add
 * the products of each output element in the same k order, but later kernels (convolution,
 * WebAssembly) need not: pick one family per run when you need exact replays.
 *
 * This is chainrule's one module-level setting. It selects an implementation, never a result.
 */
export type KernelChoice = 'reference' | 'fast'

let current: KernelChoice = 'fast'

/** The kernel family in use. */
export const kernels = (): KernelChoice => current

/** Selects the kernel family for every later call. */
export const useKernels = (choice: KernelChoice): void => {
  if (choice !== 'reference' && choice !== 'fast') {
    throw new Error(`useKernels: expected 'reference' or 'fast', got ${String(choice)}`)
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
