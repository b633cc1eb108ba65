/**
 * What the float32 optimizer steps share (asm/sgd32.ts, asm/adam32.ts, asm/rms32.ts): their job block's layout, which
 * src/kernels/wasm/step32.ts writes, and how a part reads it. i32 fields first: the elements, the elements per part,
 * the flags, the finiteness sums' address, then the inputs' byte addresses (g, p, then the state's previous values) and
 * from S_OUT the outputs' (out, then the new state); float32 scalars from byte 64.
 */

export const S_N = 0 //      elements
export const S_CHUNK = 1 //  elements per part (a multiple of 4)
export const S_FLAGS = 2 //  the step's flag bits (FLAG_APPLY and its own)
export const S_FINITE = 3 // byte address of the parts' finiteness sums (16 bytes a part)
export const S_G = 4 //      byte addresses: the gradient g,
export const S_P = 5 //      the params p, then the state's previous values (S_P + 1, …),
export const S_OUT = 9 //    u, or p + u, then the new state (S_OUT + 1, …)

/** Every step's first flag: write p + u, not u. */
export const FLAG_APPLY = 1

/** The i32 field i of the job block at `job`. */
@inline export function field(job: usize, i: i32): i32 {
  return load<i32>(job + (<usize>i << 2))
}

/** The float32 scalar i of the job block at `job`, in all four lanes. */
@inline export function scalar(job: usize, i: i32): v128 {
  return v128.load32_splat(job + 64 + (<usize>i << 2))
}
